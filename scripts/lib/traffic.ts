import { ORDER_FAULTS, type OrderFault, type OrderSpecInput } from '../../sim/shopify';
import type { Sims } from './sims';

export interface TrafficCounts {
  clean: number;
  faulty: number;
  byFault: Partial<Record<OrderFault, number>>;
  cancelled: number;
  refunded: number;
  shipped: number;
  errors: number;
}

export interface TrafficOptions {
  /** One step every intervalMs (an order, a cancellation or a refund), plus at most one shipment. */
  intervalMs: number;
  /** A D365 sales order is shipped this long after it first appears. */
  shipAfterMs?: number;
  /** What happened, one line per event (the demo prints them). */
  log?: (line: string) => void;
}

// One cycle of 12 steps: 7 clean orders, 3 faulty ones (the kinds rotate), a cancellation and a refund.
const CYCLE = ['clean', 'faulty', 'clean', 'clean', 'cancel', 'clean', 'faulty', 'clean', 'refund', 'clean', 'faulty', 'clean'] as const;
// Clean buyers: mostly known customers, some first-time customers and guests (the matcher creates or defaults them).
const BUYERS: OrderSpecInput['customer'][] = ['random', 'random', 'random', 'new', 'random', 'guest', 'random'];

/**
 * Shop activity for the demo: places orders in the Shopify simulator (its webhooks reach Node-RED), cancels
 * and refunds some, and posts shipments in the BC simulator for the sales orders the flow created, so
 * fulfillments flow back to Shopify.
 */
export class DemoTraffic {
  readonly counts: TrafficCounts = { clean: 0, faulty: 0, byFault: {}, cancelled: 0, refunded: 0, shipped: 0, errors: 0 };
  private timer?: NodeJS.Timeout;
  private step = 0;
  private faultIndex = 0;
  private buyerIndex = 0;
  /** Orders this generator placed: id → name, placed at, clean or not. */
  private readonly placed = new Map<number, { name: string; at: number; clean: boolean }>();
  /** BC sales order number → when it was first seen. */
  private readonly seen = new Map<string, number>();
  private readonly shipped = new Set<string>();
  private readonly refunded = new Set<number>();

  constructor(private readonly sims: Sims, private readonly o: TrafficOptions) {}

  start(): this {
    this.timer ??= setInterval(() => this.tick(), this.o.intervalMs);
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** One step now (the timer calls this; tests may too). */
  tick(): void {
    const kind = CYCLE[this.step++ % CYCLE.length]!;
    try {
      if (kind === 'clean') this.placeClean();
      else if (kind === 'faulty') this.placeFaulty();
      else if (kind === 'cancel') this.cancelOne() || this.placeClean();
      else this.refundOne() || this.placeClean();
      this.shipOne();
    } catch (e) {
      this.counts.errors++;
      this.o.log?.(`  ! ${(e as Error).message}`);
    }
  }

  placeClean(): void {
    const customer = BUYERS[this.buyerIndex++ % BUYERS.length];
    const o = this.sims.shopify.placeOrder({ customer, financialStatus: 'paid' });
    this.placed.set(o.id as number, { name: String(o.name), at: Date.now(), clean: true });
    this.counts.clean++;
    this.o.log?.(`  order ${o.name} placed (clean, ${customer === 'random' ? 'known customer' : customer === 'new' ? 'first-time customer' : 'guest'})`);
  }

  placeFaulty(): void {
    const fault = ORDER_FAULTS[this.faultIndex++ % ORDER_FAULTS.length]!;
    const o = this.sims.shopify.placeOrder({ faults: [fault], financialStatus: 'paid' });
    this.placed.set(o.id as number, { name: String(o.name), at: Date.now(), clean: false });
    this.counts.faulty++;
    this.counts.byFault[fault] = (this.counts.byFault[fault] ?? 0) + 1;
    this.o.log?.(`  order ${o.name} placed with a fault: ${fault}`);
  }

  /** Cancels the newest clean order that is not shipped (before shipment: the D365 order is deleted). */
  private cancelOne(): boolean {
    const candidates = [...this.placed.entries()].filter(([id, p]) => p.clean && !this.refunded.has(id)
      && this.sims.shopify.store.cancelErrors(id).length === 0 && !this.shipped.has(this.bcNumberOf(p.name) ?? ''));
    const pick = candidates.pop();
    if (!pick) return false;
    // Cancelled without an automatic refund (the merchant refunds separately), as for an unpaid or disputed order.
    const errs = this.sims.shopify.cancelOrder(pick[0], { reason: 'customer', refund: false });
    if (errs.length) return false;
    this.placed.delete(pick[0]);
    this.counts.cancelled++;
    this.o.log?.(`  order ${pick[1].name} cancelled by the customer`);
    return true;
  }

  /** Refunds one unit of a line of an order that reached D365 (after shipment: a credit memo). */
  private refundOne(): boolean {
    for (const [id, p] of this.placed) {
      if (!p.clean || this.refunded.has(id) || !this.bcNumberOf(p.name)) continue;
      const order = this.sims.shopify.order(id);
      const line = order?.line_items.find((l) => l.quantity > 0);
      if (!order || order.cancelled_at || !line) continue;
      this.sims.shopify.refundOrder(id, { lines: [{ lineItemId: Number(line.id), quantity: 1, restockType: 'return' }], note: 'Returned one unit' });
      this.refunded.add(id);
      this.counts.refunded++;
      this.o.log?.(`  order ${p.name}: one unit of ${line.sku ?? line.title} refunded`);
      return true;
    }
    return false;
  }

  /** Posts the shipment of one D365 sales order that has been there for a while (tracking included). */
  private shipOne(): void {
    const now = Date.now();
    for (const so of this.sims.bc.db.all('salesOrders')) {
      const number = String(so.number);
      if (!this.seen.has(number)) this.seen.set(number, now);
    }
    for (const [number, at] of this.seen) {
      if (this.shipped.has(number) || now - at < (this.o.shipAfterMs ?? 8000)) continue;
      this.shipped.add(number);
      // Deleted (cancelled) meanwhile, or every unit refunded: nothing to ship.
      const open = this.sims.bc.order(number)?.salesOrderLines.some((l) => Number(l.quantity) > Number(l.shippedQuantity ?? 0));
      if (!open) continue;
      const tracking = `1Z${String(100000000 + this.counts.shipped * 7919).padStart(9, '0')}`;
      const s = this.sims.bc.postShipment(number, { trackingNumber: tracking, shippingAgentCode: 'UPS' });
      this.counts.shipped++;
      this.o.log?.(`  D365 order ${number} shipped (shipment ${String(s.number)}, UPS ${tracking})`);
      return;
    }
  }

  private bcNumberOf(orderName: string): string | undefined {
    const so = this.sims.bc.db.by('salesOrders', 'externalDocumentNumber', orderName);
    return so ? String(so.number) : undefined;
  }
}
