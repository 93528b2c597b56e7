import { z } from 'zod';
import { OrderFault, ORDER_FAULTS, type OrderSpecInput } from './order-spec';
import { rng } from '../catalogue';
import { pick, type Rng } from './rng';
import type { ShopStore } from './store';

export const GeneratorOptions = z.object({
  ratePerSecond: z.number().positive().max(1000).default(2),
  /** Hard bound: the generator stops by itself after this many orders. */
  maxOrders: z.number().int().positive().max(1_000_000).default(100),
  /** Share of orders that carry one deliberate fault. */
  faultRate: z.number().min(0).max(1).default(0.3),
  faults: z.array(OrderFault).min(1).default([...ORDER_FAULTS]),
  /** Share of ticks that also act on an earlier order (update, fulfil, partial refund or cancel). */
  lifecycleRate: z.number().min(0).max(1).default(0),
  seed: z.number().int().default(7),
});
export type GeneratorOptionsInput = z.input<typeof GeneratorOptions>;

export interface GeneratorStats { placed: number; faulty: number; byFault: Record<string, number>; lifecycle: number; errors: number; running: boolean }

/** Places a realistic mix of clean and faulty orders at a steady rate, bounded and stoppable. */
export class OrderGenerator {
  readonly stats: GeneratorStats = { placed: 0, faulty: 0, byFault: {}, lifecycle: 0, errors: 0, running: false };
  readonly finished: Promise<void>;
  private timer?: NodeJS.Timeout;
  private resolveFinished!: () => void;
  private readonly rand: Rng;
  private readonly o: z.infer<typeof GeneratorOptions>;

  constructor(private readonly store: ShopStore, opts: GeneratorOptionsInput = {}) {
    this.o = GeneratorOptions.parse(opts);
    this.rand = rng(this.o.seed);
    this.finished = new Promise((r) => (this.resolveFinished = r));
  }

  start(): this {
    if (this.stats.running || this.stats.placed >= this.o.maxOrders) return this;
    this.stats.running = true;
    this.timer = setInterval(() => this.tick(), Math.max(1, Math.round(1000 / this.o.ratePerSecond)));
    return this;
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stats.running = false;
    this.resolveFinished();
  }

  /** The spec of the next order (exposed so tests can check the mix without timers). */
  nextSpec(): OrderSpecInput {
    const spec: OrderSpecInput = {};
    if (this.rand() < this.o.faultRate) spec.faults = [pick(this.rand, this.o.faults)];
    const r = this.rand();
    spec.customer = r < 0.6 ? 'random' : r < 0.8 ? 'new' : 'guest';
    if (this.rand() < 0.2) spec.discount = this.rand() < 0.5 ? { code: 'WELCOME10', type: 'percentage', value: '10' } : { code: 'FIVEOFF', type: 'fixed_amount', value: '5.00' };
    if (this.rand() < 0.1) spec.financialStatus = 'pending';
    return spec;
  }

  private tick(): void {
    try {
      const spec = this.nextSpec();
      this.store.placeOrder(spec);
      this.stats.placed++;
      const fault = spec.faults?.[0];
      if (fault) {
        this.stats.faulty++;
        this.stats.byFault[fault] = (this.stats.byFault[fault] ?? 0) + 1;
      }
      if (this.rand() < this.o.lifecycleRate) this.lifecycleStep();
    } catch {
      this.stats.errors++;
    }
    if (this.stats.placed >= this.o.maxOrders) this.stop();
  }

  private lifecycleStep(): void {
    const open = [...this.store.orders.values()].filter((o) => !o.json.cancelled_at);
    if (open.length === 0) return;
    const order = pick(this.rand, open);
    const id = order.json.id as number;
    const r = this.rand();
    if (r < 0.35) this.store.updateOrder(id, { note: `Customer called at ${new Date().toISOString()}` });
    else if (r < 0.7) this.store.fulfillOrder(id, { tracking: { company: 'UPS', number: `1Z${Math.floor(this.rand() * 1e12)}` } });
    else if (r < 0.85) {
      const line = order.lines.find((l) => l.built.json.quantity > l.refunded);
      if (line) this.store.refundOrder(id, { lines: [{ lineItemId: line.built.json.id as number, quantity: 1, restockType: 'return' }] });
    } else if (this.store.cancelErrors(id).length === 0) this.store.cancelOrder(id, { reason: 'customer', restock: true, refund: true });
    this.stats.lifecycle++;
  }
}
