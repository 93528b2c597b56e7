import { fromMinor, toMinor } from '../contract';
import type { Refund, RefundLineItem } from '../contract';
import { bcMoney, shopAmount } from './build-sales-order';
import type { LineMap, ShippingRef, WriterFinding } from './build-sales-order';
import type { WriterSettings } from './settings';

/** The fields of a BC sales order line the lifecycle rules look at. */
export interface BcLine {
  id: string;
  sequence: number;
  lineType?: string;
  lineObjectNumber?: string;
  description?: string;
  quantity: number;
  shippedQuantity?: number;
  unitPrice?: number;
  discountAmount?: number;
  '@odata.etag'?: string;
}

export interface LineChange { lineId: string; sequence: number; etag?: string; from: number; to: number }
export interface PriceChange { lineId: string; sequence: number; etag?: string; unitPrice: number }

export interface RefundPlan {
  /** Open-order lines to reduce (to = 0: delete the line). */
  reduce: LineChange[];
  /** The shipping line of an unshipped open order, lowered by the refunded shipping (delete when it reaches 0). */
  shipping?: PriceChange | { lineId: string; sequence: number; etag?: string; remove: true };
  /** Lines of the sales credit memo (empty: no credit memo needed). */
  creditLines: Record<string, unknown>[];
  findings: WriterFinding[];
}

const RESTOCKED = new Set(['cancel', 'return', 'legacy_restock']);

function lineAmount(r: RefundLineItem): bigint | undefined {
  const plain = r.subtotal_set?.shop_money.amount ?? (r.subtotal === undefined ? undefined : String(r.subtotal));
  return plain === undefined ? undefined : toMinor(plain);
}

/** Refunded shipping (shop money): refund_shipping_lines when present, else shipping_refund order adjustments. */
export function refundedShipping(refund: Refund): bigint {
  const fromLines = refund.refund_shipping_lines.reduce((s, l) => s + toMinor(shopAmount(undefined, l.subtotal_amount_set)), 0n);
  if (fromLines !== 0n) return fromLines;
  return refund.order_adjustments.filter((a) => a.kind === 'shipping_refund').reduce((s, a) => s - toMinor(a.amount), 0n);
}

/**
 * Decides what a Shopify refund does to D365 (pure). Per refunded unit: while the open sales order still has
 * unshipped units of that line, the line is reduced (Shopify takes refunded unfulfilled units out of
 * fulfilment whatever the restock type, so the warehouse must not ship them); units already shipped become
 * credit-memo lines — item lines when restocked (the goods come back), and per `noRestockMode` otherwise.
 * `bcLines` undefined means the sales order is gone from D365 (fully shipped and invoiced).
 */
export function planRefund(refund: Refund, lines: LineMap, shipping: readonly ShippingRef[], bcLines: readonly BcLine[] | undefined,
  settings: WriterSettings): RefundPlan {
  const plan: RefundPlan = { reduce: [], creditLines: [], findings: [] };
  const bySeq = new Map((bcLines ?? []).map((l) => [l.sequence, l]));
  refund.refund_line_items.forEach((r, i) => {
    const ref = lines[String(r.line_item_id)];
    if (!ref) {
      plan.findings.push({ code: 'REFUND_UNMATCHED', severity: 'error', path: `refund_line_items[${i}]`,
        message: `refunded line ${r.line_item_id} is not a line of the D365 sales order` });
      return;
    }
    const bc = bySeq.get(ref.seq);
    const open = bc ? Math.max(0, bc.quantity - (bc.shippedQuantity ?? 0)) : 0;
    const cut = Math.min(r.quantity, open);
    if (bc && cut > 0) plan.reduce.push({ lineId: bc.id, sequence: bc.sequence, etag: bc['@odata.etag'], from: bc.quantity, to: bc.quantity - cut });
    const shipped = r.quantity - cut;
    if (shipped === 0) return;
    const unit = toMinor(ref.unitPrice);
    const total = lineAmount(r);
    // The refunded money for the shipped units: all of it when every refunded unit was shipped, else pro rata.
    const amount = total === undefined ? unit * BigInt(shipped) : (total * BigInt(shipped) * 2n + BigInt(r.quantity)) / (2n * BigInt(r.quantity));
    const restocked = RESTOCKED.has(r.restock_type);
    const mode = restocked ? 'item' : settings.noRestockMode;
    if (mode === 'skip') {
      plan.findings.push({ code: 'REFUND_NOT_POSTED', severity: 'warning', path: `refund_line_items[${i}]`,
        message: `${shipped} shipped unit(s) of ${ref.item} were refunded without restock; no credit memo line by setting` });
      return;
    }
    if (mode === 'item') {
      const gross = unit * BigInt(shipped);
      const line: Record<string, unknown> = { lineType: 'Item', lineObjectNumber: ref.item, quantity: shipped, unitPrice: bcMoney(unit),
        discountAmount: bcMoney(gross > amount ? gross - amount : 0n) };
      if (ref.variantId) line.itemVariantId = ref.variantId;
      if (ref.locationId) line.locationId = ref.locationId;
      plan.creditLines.push(line);
    } else {
      plan.creditLines.push({ lineType: 'Account', lineObjectNumber: settings.noRestockAccountNo, quantity: 1, unitPrice: bcMoney(amount),
        description: `Refund without return: ${shipped} x ${ref.item}`.slice(0, 100) });
    }
  });

  const ship = refundedShipping(refund);
  if (ship > 0n) {
    const nothingShipped = !!bcLines && bcLines.every((l) => !l.shippedQuantity);
    const bcShip = shipping.map((s) => bySeq.get(s.seq)).find((l): l is BcLine => !!l);
    if (nothingShipped && bcShip) {
      const net = toMinor(String(bcShip.unitPrice ?? 0)) - toMinor(String(bcShip.discountAmount ?? 0)) - ship;
      plan.shipping = net <= 0n
        ? { lineId: bcShip.id, sequence: bcShip.sequence, etag: bcShip['@odata.etag'], remove: true }
        : { lineId: bcShip.id, sequence: bcShip.sequence, etag: bcShip['@odata.etag'], unitPrice: bcMoney(net + toMinor(String(bcShip.discountAmount ?? 0))) };
    } else if (settings.shippingMode === 'none') {
      plan.findings.push({ code: 'REFUND_NOT_POSTED', severity: 'warning', message: `refunded shipping ${fromMinor(ship)} is not posted: shipping is not carried to D365 by setting` });
    } else {
      plan.creditLines.push({ lineType: settings.shippingMode === 'account' ? 'Account' : 'Charge',
        lineObjectNumber: settings.shippingMode === 'account' ? settings.shippingAccountNo : settings.shippingChargeNo,
        description: 'Shipping refund', quantity: 1, unitPrice: bcMoney(ship) });
    }
  }
  return plan;
}
