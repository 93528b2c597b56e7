import express from 'express';
import type { AddressInfo } from 'net';
import type { Server } from 'http';
import { buildCatalogue, rng } from '../catalogue';
import type { Order } from '../../nodes/lib/contract';
import { controlRouter } from './control';
import type { SimCore } from './core';
import { OrderGenerator, type GeneratorOptionsInput, type GeneratorStats } from './generator';
import { graphqlHandler, type GraphqlCounters } from './graphql-handler';
import { ChaosOptions, ShopifySimOptions, ThrottleOptions, type ResolvedSimOptions } from './options';
import type { OrderSpecInput } from './order-spec';
import { ShopStore, type CancelRequest, type FulfillmentRequest, type RefundRequest } from './store';
import { WebhookEngine, type WebhookCounters } from './webhooks';

export interface SimCounters {
  graphql: GraphqlCounters;
  webhooks: WebhookCounters;
  orders: number;
}

/** A running Shopify simulator: HTTP endpoints plus programmatic control of the shop. */
export class ShopifySim {
  readonly url: string;
  readonly graphqlUrl: string;
  readonly store: ShopStore;
  readonly webhooks: WebhookEngine;
  private generator?: OrderGenerator;

  constructor(private readonly core: SimCore, private readonly server: Server, private readonly gqlCounters: GraphqlCounters) {
    const { port } = server.address() as AddressInfo;
    this.url = `http://${core.opts.host}:${port}`;
    this.graphqlUrl = `${this.url}/admin/api/${core.opts.apiVersion}/graphql.json`;
    this.store = core.store;
    this.webhooks = core.webhooks;
  }

  get options(): Readonly<ResolvedSimOptions> {
    return this.core.opts;
  }

  placeOrder(spec: OrderSpecInput = {}): Order {
    return this.store.placeOrder(spec);
  }

  updateOrder(id: number, patch: Parameters<ShopStore['updateOrder']>[1]): Order {
    return this.store.updateOrder(id, patch);
  }

  cancelOrder(id: number, req: Partial<CancelRequest> = {}) {
    return this.store.cancelOrder(id, { reason: 'customer', restock: true, refund: true, ...req });
  }

  refundOrder(id: number, opts: Parameters<ShopStore['refundOrder']>[1] = {}) {
    return this.store.refundOrder(id, opts);
  }

  /** Lower-level refund (exact transactions; an empty list records a refund without money, like refundCreate without transactions). */
  refund(id: number, req: RefundRequest) {
    return this.store.refund(id, req);
  }

  fulfillOrder(id: number, opts: Parameters<ShopStore['fulfillOrder']>[1] = {}) {
    return this.store.fulfillOrder(id, opts);
  }

  createFulfillment(req: FulfillmentRequest) {
    return this.store.createFulfillment(req);
  }

  order(id: number): Order | undefined {
    return this.store.orderJson(id);
  }

  /** Available units of a SKU per location code. */
  available(sku: string): Record<string, number> {
    const inv = [...this.store.inventoryItems.entries()].find(([, i]) => i.sku === sku)?.[0];
    if (inv === undefined) throw new RangeError(`unknown SKU ${sku}`);
    const out: Record<string, number> = {};
    for (const l of this.store.catalogue.locations) {
      const level = this.store.level(inv, l.shopifyLocationId);
      if (level) out[l.code] = level.available;
    }
    return out;
  }

  subscribe(topic: string, url: string, opts: { name?: string; managed?: boolean } = {}) {
    return this.webhooks.subscribe(topic, url, opts);
  }

  unsubscribe(id: number): boolean {
    return this.webhooks.unsubscribe(id);
  }

  setChaos(chaos: Partial<ChaosOptions>): ChaosOptions {
    const next = ChaosOptions.parse({ ...this.webhooks.chaos, ...chaos });
    this.webhooks.setChaos(next);
    this.core.opts.chaos = next;
    return next;
  }

  setThrottle(t: Partial<ThrottleOptions>): ThrottleOptions {
    this.core.opts.bucket = ThrottleOptions.parse({ ...this.core.opts.bucket, ...t });
    return this.core.opts.bucket;
  }

  /** Resolves when no webhook delivery or retry is pending. */
  settled(): Promise<void> {
    return this.webhooks.settled();
  }

  counters(): SimCounters {
    return { graphql: { ...this.gqlCounters }, webhooks: { ...this.webhooks.counters }, orders: this.store.orders.size };
  }

  /** Starts (replacing any running one) a bounded order generator. */
  startGenerator(opts: GeneratorOptionsInput = {}): OrderGenerator {
    this.generator?.stop();
    this.generator = new OrderGenerator(this.store, opts).start();
    return this.generator;
  }

  stopGenerator(): GeneratorStats | undefined {
    this.generator?.stop();
    return this.generator?.stats;
  }

  generatorStats(): GeneratorStats | undefined {
    return this.generator?.stats;
  }

  async close(): Promise<void> {
    this.generator?.stop();
    for (const t of this.core.timers) clearTimeout(t);
    this.core.timers.clear();
    this.webhooks.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}

export async function startShopifySim(input: ShopifySimOptions = {}): Promise<ShopifySim> {
  const opts = ShopifySimOptions.parse(input);
  const rand = rng(opts.seed);
  const catalogue = opts.catalogue ?? buildCatalogue();
  const webhooks = new WebhookEngine({
    shop: opts.shop, secret: opts.webhookSecret, apiVersion: opts.apiVersion, timeScale: opts.timeScale,
    deliveryTimeoutMs: opts.deliveryTimeoutMs, connectTimeoutMs: opts.connectTimeoutMs, retryScheduleMinutes: opts.retryScheduleMinutes,
    chaos: opts.chaos, rand,
  });
  const store = new ShopStore(catalogue, opts.seed, opts.utcOffsetMinutes, (topic, payload) => webhooks.emit(topic, payload), opts.now);
  const core: SimCore = { opts, store, webhooks, rand, jobs: new Map(), idempotency: new Map(), timers: new Set() };
  const counters: GraphqlCounters = { requests: 0, pointsSpent: 0, throttled: 0, maxCostExceeded: 0, unauthorized: 0 };

  const app = express();
  app.disable('x-powered-by');
  const handler = graphqlHandler(core, counters);
  app.post('/admin/api/:version/graphql.json', express.json({ limit: '2mb' }), (req, res, next) => {
    handler(req, res).catch(next);
  });
  let control: express.Router | undefined;
  app.use('/_sim', express.json({ limit: '1mb' }), (req, res, next) => (control ? control(req, res, next) : next()));
  // Malformed JSON and other errors: a JSON answer, never a stack trace.
  app.use((err: Error & { status?: number; type?: string }, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = err.status && err.status >= 400 && err.status < 500 ? err.status : 500;
    res.status(status).json({ errors: status === 500 ? 'Internal error' : err.message });
  });

  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(opts.port, opts.host, () => resolve(s));
    s.once('error', reject);
  });
  const sim = new ShopifySim(core, server, counters);
  control = controlRouter(sim, opts.controlToken);
  return sim;
}
