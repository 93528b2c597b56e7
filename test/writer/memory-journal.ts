import type { OrderJournal, OrderRecord, OrderState } from '../../nodes/lib/journal/journal';

type Orders = Pick<OrderJournal, 'getOrder' | 'transitionOrder' | 'appendHistory' | 'release' | 'handOver' | 'reservationsOf' | 'acquireLease' | 'releaseLease' | 'getCursor' | 'setCursor' | 'deleteCursor'>;

/**
 * In-memory stand-in for the parts of OrderJournal the writer, trigger and sender use (same CAS, merge
 * and lease semantics as the interface documents). The other methods are not part of these nodes' work.
 */
export class MemoryJournal implements Orders {
  orders = new Map<string, OrderRecord>();
  reservations = new Map<string, { item: string; location: string; quantity: number }[]>();
  leases = new Map<string, { owner: string; until: number }>();
  cursors = new Map<string, string>();
  now = () => Date.now();

  async getOrder(shop: string, orderId: string) {
    const r = this.orders.get(`${shop}:${orderId}`);
    return r && JSON.parse(JSON.stringify(r)) as OrderRecord;
  }

  async transitionOrder(shop: string, orderId: string, from: readonly (OrderState | undefined)[], to: OrderState,
    change: { orderName?: string; documents?: Record<string, string>; event?: string; detail?: string } = {}) {
    const key = `${shop}:${orderId}`;
    const cur = this.orders.get(key);
    if (!from.includes(cur?.state)) return undefined;
    const next: OrderRecord = {
      shop, orderId, orderName: change.orderName ?? cur?.orderName, state: to,
      documents: { ...(cur?.documents ?? {}), ...(change.documents ?? {}) },
      history: [...(cur?.history ?? []), { at: this.now(), event: change.event ?? `state:${to}`, detail: change.detail }],
      updatedAt: this.now(),
    };
    this.orders.set(key, next);
    return JSON.parse(JSON.stringify(next)) as OrderRecord;
  }

  async appendHistory(shop: string, orderId: string, event: string, detail?: string) {
    this.orders.get(`${shop}:${orderId}`)?.history.push({ at: this.now(), event, detail });
  }

  /** Orders handed over, in order. */
  handedOver: string[] = [];

  /** Handed over = gone from what this stand-in reports (it keeps no stock read times). */
  async handOver(orderKey: string) {
    this.handedOver.push(orderKey);
    return this.release(orderKey);
  }

  async release(orderKey: string) {
    const n = (this.reservations.get(orderKey) ?? []).length;
    this.reservations.delete(orderKey);
    return n;
  }

  async reservationsOf(orderKey: string) {
    return this.reservations.get(orderKey) ?? [];
  }

  async acquireLease(name: string, owner: string, ttlMs: number) {
    const l = this.leases.get(name);
    if (l && l.owner !== owner && l.until > this.now()) return false;
    this.leases.set(name, { owner, until: this.now() + ttlMs });
    return true;
  }

  async releaseLease(name: string, owner: string) {
    if (this.leases.get(name)?.owner === owner) this.leases.delete(name);
  }

  async getCursor(name: string) { return this.cursors.get(name); }
  async setCursor(name: string, value: string) { this.cursors.set(name, value); }
  async deleteCursor(name: string) { this.cursors.delete(name); }

  asJournal(): OrderJournal {
    return this as unknown as OrderJournal;
  }
}
