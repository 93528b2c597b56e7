import { odataString } from '../d365/bc-api';
import type { BcApi } from '../d365/bc-api';
import type { OrderJournal } from '../journal/journal';

export const CUSTOM_API = 'shopifyD365/integration/v1.0';

/** Durable position in a lastModifiedDateTime-ordered feed: the timestamp, and the ids already emitted at exactly it. */
export interface Cursor { t: string; ids: string[] }

export interface D365Event {
  topic: 'd365/shipment' | 'd365/order-status';
  payload: Record<string, unknown>;
}

export interface PollerDeps {
  bc: BcApi;
  journal: OrderJournal;
  /** Cursor/lease name prefix, e.g. `d365-trigger:<node id>` (identical across instances running the same flow). */
  name: string;
  owner: string;
  leaseMs: number;
  orderStatus: boolean;
  tracking: boolean;
  /** Where a feed without a cursor starts: now (only new events) or the beginning. */
  startFrom: 'now' | 'beginning';
  /** Hands an event on; the cursor moves past it only after this resolved. */
  emit: (e: D365Event) => Promise<void> | void;
  now?: () => Date;
}

export interface PollResult { skipped?: 'lease'; shipments: number; orders: number }

/**
 * Polls BC for posted shipments (and optionally sales order changes) newer than a durable cursor. The filter
 * is `ge` the cursor time and ids already emitted at that exact time are skipped, so records sharing a
 * timestamp are neither lost nor doubled; the cursor is saved after each emit (at-least-once: a crash between
 * emit and save repeats one event, which the fulfillment sender's marker absorbs).
 */
export class D365EventPoller {
  constructor(private readonly d: PollerDeps) {}

  async poll(): Promise<PollResult> {
    if (!(await this.d.journal.acquireLease(`${this.d.name}:lease`, this.d.owner, this.d.leaseMs))) return { skipped: 'lease', shipments: 0, orders: 0 };
    const shipments = await this.feed('shipments', 'salesShipments', 'salesShipmentLines', async (s) => {
      const tracking = this.d.tracking ? await this.trackingOf(String(s.number)) : undefined;
      return { topic: 'd365/shipment', payload: {
        shipment: s, tracking: tracking ?? null, orderNumber: s.orderNumber ?? '', externalDocumentNumber: s.externalDocumentNumber ?? '',
      } };
    });
    const orders = this.d.orderStatus ? await this.feed('orders', 'salesOrders', undefined, async (o) => ({
      topic: 'd365/order-status',
      payload: { salesOrder: { id: o.id, number: o.number, status: o.status, fullyShipped: o.fullyShipped, externalDocumentNumber: o.externalDocumentNumber,
        customerNumber: o.customerNumber, lastModifiedDateTime: o.lastModifiedDateTime }, orderNumber: o.number, externalDocumentNumber: o.externalDocumentNumber ?? '' },
    })) : 0;
    return { shipments, orders };
  }

  private async feed(kind: string, entitySet: string, expand: string | undefined, toEvent: (r: Record<string, unknown>) => Promise<D365Event>): Promise<number> {
    const name = `${this.d.name}:${kind}`;
    let cursor = parseCursor(await this.d.journal.getCursor(name));
    if (!cursor) {
      cursor = { t: this.d.startFrom === 'now' ? (this.d.now?.() ?? new Date()).toISOString() : '1970-01-01T00:00:00Z', ids: [] };
      await this.d.journal.setCursor(name, JSON.stringify(cursor));
    }
    const rows = await this.d.bc.list<Record<string, unknown>>(entitySet, {
      filter: `lastModifiedDateTime ge ${cursor.t}`, orderby: 'lastModifiedDateTime asc', expand, top: 500,
    });
    let n = 0;
    for (const r of rows) {
      const t = String(r.lastModifiedDateTime ?? '');
      const id = String(r.id ?? r.number);
      if (!t || t < cursor.t || (t === cursor.t && cursor.ids.includes(id))) continue;
      await this.d.emit(await toEvent(r));
      n++;
      cursor = t === cursor.t ? { t, ids: [...cursor.ids, id] } : { t, ids: [id] };
      await this.d.journal.setCursor(name, JSON.stringify(cursor));
    }
    return n;
  }

  private async trackingOf(shipmentNumber: string): Promise<Record<string, unknown> | undefined> {
    try {
      const rows = await this.d.bc.list<Record<string, unknown>>('shipmentTrackings', { filter: `shipmentNumber eq ${odataString(shipmentNumber)}`, top: 1 }, { api: CUSTOM_API });
      return rows[0];
    } catch (e) {
      // The companion extension is optional: without it shipments go out without tracking.
      if ((e as { status?: unknown }).status === 404) return undefined;
      throw e;
    }
  }
}

export function parseCursor(text: string | undefined): Cursor | undefined {
  if (!text) return undefined;
  try {
    const c = JSON.parse(text) as Cursor;
    return typeof c.t === 'string' && Array.isArray(c.ids) ? c : undefined;
  } catch {
    return undefined;
  }
}
