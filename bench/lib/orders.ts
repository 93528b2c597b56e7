import type { Order } from '../../nodes/lib/contract';
import { buildCatalogue, type Catalogue } from '../../sim/catalogue';
import type { ShopifySim } from '../../sim/shopify';

/** A message as shopify-trigger emits it for an orders/create delivery (payload already parsed). */
export interface OrderMsg extends Record<string, unknown> {
  topic: string;
  payload: Order;
  shopify: { shop: string; topic: string; webhookId: string; source: 'webhook' };
}

/**
 * Clean, ERP-ready orders placed in the Shopify simulator: catalogue customers, a mapped shipping
 * method, paid, no deliberate faults. (Which of them the checks pass is measured, not assumed.)
 */
export function placeCleanOrders(shop: ShopifySim, count: number): Order[] {
  const out: Order[] = [];
  for (let i = 0; i < count; i++) {
    out.push(shop.placeOrder({ customer: 'random', shippingCode: i % 3 === 0 ? 'Express' : 'Standard', lineCount: 1 + (i % 4), financialStatus: 'paid' }));
  }
  return out;
}

let seq = 0;
/** A fresh message around a (shared, never copied) order payload. */
export function orderMsg(shop: string, order: Order, topic = 'orders/create'): OrderMsg {
  return { topic, payload: order, shopify: { shop, topic, webhookId: `bench-${++seq}`, source: 'webhook' } };
}

/** New Shopify orders by the same customers for the same lines as `templates`: the catalogue a warm cache already knows. */
export function placeRepeatOrders(shop: ShopifySim, templates: readonly Order[], count: number): Order[] {
  const out: Order[] = [];
  for (let i = 0; i < count; i++) {
    const t = templates[i % templates.length]!;
    const email = t.email ?? undefined;
    out.push(shop.placeOrder({
      customer: email ? { email } : 'random',
      shippingCode: t.shipping_lines?.[0]?.code ?? 'Standard',
      lines: t.line_items.map((l) => ({ sku: String(l.sku), quantity: l.quantity })),
      financialStatus: 'paid',
    }));
  }
  return out;
}

/**
 * The simulators' default catalogue with every stock figure multiplied: a benchmark that reserves
 * units for thousands of new orders measures the happy path (a reservation per order), not a store
 * running out of stock part-way through and holding orders.
 */
export function deepStockCatalogue(factor: number): Catalogue {
  const c = buildCatalogue();
  for (const item of c.items) {
    for (const k of Object.keys(item.stock)) item.stock[k] = item.stock[k]! * factor;
  }
  return c;
}

let nextId = 8_000_000_000;
/**
 * A new order as Shopify would send it for the same customer and lines: a deep copy of `template`
 * with a fresh order id, name and number (line ids stay: they are unique within an order). What is
 * keyed by order (the inventory gate's reservation, the journal) sees a new order every time.
 */
export function renumbered(template: Order): Order {
  return renumber(structuredClone(template));
}

/** Gives an order a fresh id, name and number in place (a benchmark reuses its orders instead of making garbage). */
export function renumber(o: Order): Order {
  const id = ++nextId;
  return Object.assign(o, { id, name: `#B${id}`, order_number: id, admin_graphql_api_id: `gid://shopify/Order/${id}` });
}
