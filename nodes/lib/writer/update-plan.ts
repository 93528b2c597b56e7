import type { Order } from '../contract';
import { NOTE_PREFIX, fitFields, noteLines, shipToFields } from './build-sales-order';
import type { LineMap, WriterFinding } from './build-sales-order';
import type { BcLine } from './refund-plan';
import type { WriterSettings } from './settings';

export interface UpdatePlan {
  /** Ship-to fields to PATCH on the sales order header: all of them when any changed (empty: unchanged). */
  header: Record<string, string>;
  /** Note comment lines to replace (undefined: the note is unchanged). */
  note?: { remove: BcLine[]; add: string[] };
  findings: WriterFinding[];
}

/**
 * Compares an orders/updated payload with the open D365 sales order (pure). Address and note changes are
 * applied when the settings allow them; anything else that differs (lines added or quantities that no
 * refund explains) is a conflict for a person, never applied silently and never ignored.
 */
export function planUpdate(order: Order, bcHeader: Record<string, unknown>, bcLines: readonly BcLine[], lines: LineMap,
  settings: WriterSettings): UpdatePlan {
  const findings: WriterFinding[] = [];
  const header: Record<string, string> = {};
  const wanted = fitFields(shipToFields(order.shipping_address ?? order.billing_address), []);
  const changed = Object.entries(wanted).filter(([k, v]) => String(bcHeader[k] ?? '') !== v);
  if (changed.length) {
    // The whole ship-to address, not just the changed fields: BC's API takes ship-to fields in a request as the
    // complete custom address and blanks the ones left out.
    if (settings.applyAddress) Object.assign(header, wanted);
    else findings.push({ code: 'UPDATE_CONFLICT', severity: 'error', path: 'shipping_address',
      message: `the ship-to address changed in Shopify (${changed.map(([k]) => k).join(', ')}) and address updates are off` });
  }

  const noteNow = currentNoteLines(bcLines);
  const wantedNote = noteLines(order.note);
  const noteDiffers = wantedNote.join('\n') !== noteNow.map((l) => l.description ?? '').join('\n');
  let note: UpdatePlan['note'];
  if (noteDiffers) {
    if (settings.applyNote) note = { remove: noteNow, add: wantedNote };
    else findings.push({ code: 'UPDATE_CONFLICT', severity: 'error', path: 'note', message: 'the order note changed in Shopify and note updates are off' });
  }

  const bySeq = new Map(bcLines.map((l) => [l.sequence, l]));
  order.line_items.forEach((li, i) => {
    const want = li.current_quantity ?? li.quantity;
    const ref = lines[String(li.id)];
    if (!ref) {
      if (want > 0) findings.push({ code: 'UPDATE_CONFLICT', severity: 'error', path: `line_items[${i}]`,
        message: `line ${li.id} (${li.sku ?? li.title}) was added in Shopify after the D365 order was created` });
      return;
    }
    const have = bySeq.get(ref.seq)?.quantity ?? 0;
    if (want > have) findings.push({ code: 'UPDATE_CONFLICT', severity: 'error', path: `line_items[${i}].current_quantity`,
      message: `line ${li.id} (${ref.item}): Shopify has ${want}, D365 has ${have}` });
    // Fewer units in Shopify than in D365 is what a refund does; its refunds/create (possibly still on its way)
    // reduces the line, so flag it as retryable: a retry after the refund finds them equal.
    else if (want < have) findings.push({ code: 'UPDATE_CONFLICT', severity: 'error', retryable: true, path: `line_items[${i}].current_quantity`,
      message: `line ${li.id} (${ref.item}): Shopify has ${want}, D365 has ${have} (a refund not yet applied?)` });
  });
  return { header, note, findings };
}

/** The note as the writer put it on the order: the comment lines from the first "Note: " line on (the writer adds them last). */
export function currentNoteLines(bcLines: readonly BcLine[]): BcLine[] {
  const comments = bcLines.filter((l) => l.lineType === 'Comment').sort((a, b) => a.sequence - b.sequence);
  const first = comments.findIndex((l) => (l.description ?? '').startsWith(NOTE_PREFIX));
  return first < 0 ? [] : comments.slice(first);
}
