import { formatZodError, isShopifyTopic, parseTopicPayload, ShopifyMeta } from '../contract';
import type { EventRecord, OrderJournal, RecordEventResult } from '../journal/journal';
import { evaluateDelivery, parseJsonBody } from './webhook';
import type { DeliveryPolicy, HeaderBag, TriggerEvent, TriggerMessage } from './webhook';
import { isOwnWriteBack } from './webhook-own-writes';

/**
 * Custody of events: an accepted event is committed to the journal before the caller may answer
 * 200 and emitted after. It stays unsettled until custody ends — at the emit ('emitted'), or when the
 * writer or router has recorded the order ('settled': msg.shopify.eventKey, see journal/custody.ts).
 * Whatever dies in between, the journal still lists the event and `replayUnemitted` sends it again on
 * the next start — at least once, never lost.
 */

export type CustodyMode = 'settled' | 'emitted';

export type EventRecordSummary = Pick<EventRecord, 'seq' | 'topic' | 'resourceId' | 'receivedAt'>;

export type IntakeOutcome = 'received' | 'reconciled' | 'duplicate' | 'stale' | 'ignored' | 'rejected';

export interface IntakeOptions {
  journal: OrderJournal;
  /** Read per delivery, so secrets are never cached here. */
  policy: () => DeliveryPolicy;
  ignoreOwnWriteBacks: boolean;
  /** When custody of an emitted event ends (default 'emitted'). */
  custody?: CustodyMode;
  emit: (msg: TriggerMessage) => void;
  onOutcome?: (outcome: IntakeOutcome, reason?: string) => void;
  /** An emitted event could not be marked emitted, or a recorded event could not be replayed. */
  onError?: (err: Error, msg?: Record<string, unknown>) => void;
}

export interface IntakeAnswer {
  status: number;
  message: string;
  /** For a new event: emits it; run after the HTTP answer has been sent. */
  after?: () => Promise<void>;
  /** Set with a 503: what failed (for node.error; never sent to the caller). */
  error?: Error;
}

export class WebhookIntake {
  constructor(private readonly opts: IntakeOptions) {}

  /** Judges and commits one delivery. Never throws: a journal failure is a 503 so Shopify retries. */
  async receive(headers: HeaderBag, raw: Buffer): Promise<IntakeAnswer> {
    const verdict = evaluateDelivery(headers, raw, this.opts.policy());
    if (verdict.kind === 'reject') {
      this.opts.onOutcome?.('rejected', verdict.reason);
      return { status: verdict.status, message: verdict.reason };
    }
    if (verdict.kind === 'ignore') {
      this.opts.onOutcome?.('ignored', verdict.reason);
      return { status: 200, message: `ignored: ${verdict.reason}` };
    }
    const { event } = verdict;
    let result: RecordEventResult;
    try {
      if (this.opts.ignoreOwnWriteBacks && event.msg.topic === 'orders/updated' && event.record.resourceId !== undefined
        && await isOwnWriteBack(this.opts.journal, event.record.shop, event.record.resourceId, (event.msg.payload as Record<string, unknown>).updated_at)) {
        this.opts.onOutcome?.('ignored', 'own write-back');
        return { status: 200, message: 'ignored: caused by our own write-back' };
      }
      result = await this.opts.journal.recordEvent(event.record);
    } catch (e) {
      // Not recorded, so not acknowledged: Shopify retries the delivery later.
      return { status: 503, message: 'order journal unavailable, retry later', error: new JournalUnavailableError(e) };
    }
    if (result.status === 'duplicate') {
      this.opts.onOutcome?.('duplicate');
      return { status: 200, message: 'duplicate: already received' };
    }
    if (result.status === 'stale') {
      this.opts.onOutcome?.('stale');
      return { status: 200, message: 'stale: a newer version of this order was already received' };
    }
    this.opts.onOutcome?.('received');
    const seq = result.seq;
    return { status: 200, message: 'ok', after: () => this.emitRecorded(seq, event.record.dedupeKey, event.msg) };
  }

  /** The reconciliation path: commit and emit at once (no HTTP answer in between). */
  async ingest(event: TriggerEvent): Promise<RecordEventResult> {
    const result = await this.opts.journal.recordEvent(event.record);
    if (result.status === 'new') {
      this.opts.onOutcome?.('reconciled');
      await this.emitRecorded(result.seq, event.record.dedupeKey, event.msg);
    }
    return result;
  }

  async emitRecorded(seq: number, dedupeKey: string, msg: TriggerMessage): Promise<void> {
    if (this.opts.custody === 'settled') {
      // Custody passes with the message: the writer or router settles the event by this key.
      this.opts.emit({ ...msg, shopify: { ...msg.shopify, eventKey: dedupeKey }, _shopifyEventSeq: seq });
      return;
    }
    this.opts.emit({ ...msg, _shopifyEventSeq: seq });
    try {
      await this.opts.journal.markEmitted(seq);
    } catch (e) {
      // Emitted but not marked: it will be emitted again after a restart (at least once).
      this.opts.onError?.(new Error(`order journal: could not mark event ${seq} emitted: ${(e as Error).message}`));
    }
  }

  /**
   * Emits this shop's events that were recorded before `receivedBefore` but never settled (the
   * process stopped between the 200 and the end of custody). With `windowMs`, events older than the
   * window are given up instead (settled and counted): a flow that never settles (nothing downstream
   * ends custody) must not replay its whole history at every start.
   */
  async replayUnemitted(shop: string, receivedBefore: number, o: { pageSize?: number; windowMs?: number } = {}):
    Promise<{ replayed: number; expired: EventRecordSummary[] }> {
    const pageSize = o.pageSize ?? 500;
    const oldest = o.windowMs === undefined ? -Infinity : receivedBefore - o.windowMs;
    const mine = shop.toLowerCase();
    let replayed = 0;
    const expired: EventRecordSummary[] = [];
    let after = 0;
    for (;;) {
      const page = await this.opts.journal.unemittedEvents(pageSize, after);
      for (const e of page) {
        after = e.seq;
        if (e.shop !== mine || e.receivedAt >= receivedBefore) continue;
        if (e.receivedAt < oldest) {
          await this.opts.journal.markEmitted(e.seq);
          expired.push({ seq: e.seq, topic: e.topic, resourceId: e.resourceId, receivedAt: e.receivedAt });
          continue;
        }
        const msg = this.restore(e.topic, e.body, e.meta);
        if (msg.ok) {
          await this.emitRecorded(e.seq, e.dedupeKey, msg.msg);
          replayed++;
        } else {
          // Recorded (and acknowledged) but no longer valid, e.g. after a schema change: surface it
          // to Catch nodes with the raw body rather than drop it silently, then stop replaying it.
          this.opts.onError?.(new Error(`recorded event ${e.seq} (${e.topic}) cannot be replayed: ${msg.error}`),
            { topic: e.topic, payload: e.body, shopify: e.meta, _shopifyEventSeq: e.seq });
          await this.opts.journal.markEmitted(e.seq);
        }
      }
      if (page.length < pageSize) return { replayed, expired };
    }
  }

  private restore(topic: string, body: string, meta: Record<string, unknown>):
    { ok: true; msg: TriggerMessage } | { ok: false; error: string } {
    if (!isShopifyTopic(topic)) return { ok: false, error: `unknown topic ${topic}` };
    const json = parseJsonBody(Buffer.from(body, 'utf8'));
    if (!json.ok) return { ok: false, error: json.error };
    const parsed = parseTopicPayload(topic, json.value);
    if (!parsed.ok) return { ok: false, error: parsed.error };
    const m = ShopifyMeta.safeParse(meta);
    if (!m.success) return { ok: false, error: `stored msg.shopify: ${formatZodError(m.error)}` };
    return { ok: true, msg: { topic, payload: parsed.payload, shopify: m.data } };
  }
}

/** The journal could not record an event; the delivery must not be acknowledged. */
export class JournalUnavailableError extends Error {
  constructor(cause: unknown) {
    super(`order journal unavailable: ${cause instanceof Error ? cause.message : String(cause)}`);
    this.name = 'JournalUnavailableError';
  }
}
