import express, { type NextFunction, type Request, type Response } from 'express';
import { z } from 'zod';
import { RestockType } from '../../nodes/lib/contract';
import { ChaosOptions, ThrottleOptions } from './options';
import { GeneratorOptions } from './generator';
import { OrderSpec } from './order-spec';
import type { ShopifySim } from './server';

const Id = z.coerce.number().int().positive();
const LineRef = z.object({ lineItemId: z.number().int().positive().optional(), sku: z.string().optional(), quantity: z.number().int().positive() });

/** The simulator's own control API under /_sim: not Shopify, no Shopify auth (optional X-Sim-Control-Token). */
export function controlRouter(sim: ShopifySim, controlToken: string | undefined): express.Router {
  const r = express.Router();
  r.use((req, res, next) => {
    if (controlToken && req.get('X-Sim-Control-Token') !== controlToken) return void res.status(401).json({ error: 'control token required' });
    next();
  });
  const route = (fn: (req: Request) => unknown) => (req: Request, res: Response, next: NextFunction) => {
    try {
      const out = fn(req);
      res.status(out === undefined ? 204 : 200).json(out ?? undefined);
    } catch (e) {
      if (e instanceof z.ZodError) return void res.status(400).json({ error: z.prettifyError(e) });
      if (e instanceof RangeError) return void res.status(400).json({ error: e.message });
      next(e);
    }
  };
  const order = (req: Request) => {
    const id = Id.parse(req.params.id);
    if (!sim.store.order(id)) throw new RangeError(`unknown order ${id}`);
    return id;
  };

  r.get('/stats', route(() => sim.counters()));
  r.get('/orders', route(() => [...sim.store.orders.values()].map((o) => ({ id: o.json.id, name: o.json.name, updated_at: o.json.updated_at, financial_status: o.json.financial_status, fulfillment_status: o.json.fulfillment_status, cancelled_at: o.json.cancelled_at }))));
  r.post('/orders', route((req) => sim.placeOrder(OrderSpec.parse(req.body ?? {}))));
  r.get('/orders/:id', route((req) => sim.store.orderJson(order(req))));
  r.post('/orders/:id/update', route((req) => sim.updateOrder(order(req), z.object({
    note: z.string().nullable().optional(), email: z.string().nullable().optional(), tags: z.array(z.string()).optional(),
    shippingAddress: z.record(z.string(), z.union([z.string(), z.null()])).optional(),
  }).parse(req.body ?? {}))));
  r.post('/orders/:id/cancel', route((req) => {
    const b = z.object({ reason: z.enum(['customer', 'fraud', 'inventory', 'declined', 'staff', 'other']).default('customer'), restock: z.boolean().default(true), refund: z.boolean().default(true), staffNote: z.string().optional() }).parse(req.body ?? {});
    return { userErrors: sim.cancelOrder(order(req), b) };
  }));
  r.post('/orders/:id/refund', route((req) => sim.refundOrder(order(req), z.object({
    lines: z.array(LineRef.extend({ restockType: RestockType.optional() })).optional(),
    shipping: z.object({ fullRefund: z.boolean().optional(), amount: z.string().optional() }).optional(), note: z.string().optional(),
  }).parse(req.body ?? {}))));
  r.post('/orders/:id/fulfill', route((req) => sim.fulfillOrder(order(req), z.object({
    lines: z.array(LineRef).optional(),
    tracking: z.object({ company: z.string().optional(), number: z.string().optional(), url: z.string().optional() }).optional(),
  }).parse(req.body ?? {}))));
  r.get('/webhooks', route(() => sim.webhooks.subscriptions()));
  r.post('/webhooks', route((req) => {
    const b = z.object({ topic: z.string(), url: z.string().url(), name: z.string().optional(), managed: z.boolean().optional() }).parse(req.body ?? {});
    return sim.subscribe(b.topic, b.url, { name: b.name, managed: b.managed });
  }));
  r.delete('/webhooks/:id', route((req) => ({ deleted: sim.webhooks.unsubscribe(Id.parse(req.params.id)) })));
  r.get('/deliveries', route((req) => sim.webhooks.log.slice(-z.coerce.number().int().positive().max(2000).default(100).parse(req.query.limit))));
  r.get('/chaos', route(() => sim.webhooks.chaos));
  r.put('/chaos', route((req) => sim.setChaos(ChaosOptions.partial().parse(req.body ?? {}))));
  r.put('/throttle', route((req) => sim.setThrottle(ThrottleOptions.partial().parse(req.body ?? {}))));
  r.get('/inventory/:sku', route((req) => sim.available(String(req.params.sku))));
  r.post('/generator/start', route((req) => sim.startGenerator(GeneratorOptions.partial().parse(req.body ?? {})).stats));
  r.post('/generator/stop', route(() => sim.stopGenerator()));
  r.get('/generator', route(() => sim.generatorStats() ?? { running: false }));
  return r;
}
