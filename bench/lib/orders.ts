import type { Order } from '../../nodes/lib/contract';
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
