import { readFileSync } from 'fs';
import path from 'path';
import type { Erp, OrderMessage } from '../../nodes/lib/contract';

export const SHOP = 'demo-shop.myshopify.com';
export const order1001 = (): any => JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'order-1001.json'), 'utf8'));

/** What the checks put on msg.erp for order #1001. */
export const erp1001 = (): Erp => ({
  customer: { number: 'C10000' },
  lines: [
    { lineItemId: '466157049', sku: 'IPOD2008GREEN', quantity: 2, itemNumber: 'IPOD2008GREEN', locationCode: 'EAST' },
    { lineItemId: '518995019', sku: 'IPOD2008RED', quantity: 1, itemNumber: 'IPOD2008RED', locationCode: 'EAST' },
  ],
  shipmentMethod: { code: 'STANDARD' },
});

export const createMsg = (over: Partial<OrderMessage> = {}): OrderMessage => ({
  topic: 'orders/create', payload: order1001(), shopify: { shop: SHOP, topic: 'orders/create', source: 'webhook' }, erp: erp1001(), findings: [], ...over,
});

/** A refunds/create payload for order #1001. */
export const refund = (id: number, lines: { line_item_id: number; quantity: number; restock_type: string; subtotal?: string }[], shipping?: string): any => ({
  id, order_id: 450789469, created_at: '2026-03-12T10:00:00-05:00',
  refund_line_items: lines.map((l, i) => ({ id: id * 10 + i, line_item_id: l.line_item_id, quantity: l.quantity, restock_type: l.restock_type,
    subtotal_set: l.subtotal ? { shop_money: { amount: l.subtotal, currency_code: 'USD' }, presentment_money: { amount: l.subtotal, currency_code: 'USD' } } : undefined })),
  transactions: [], order_adjustments: [],
  refund_shipping_lines: shipping ? [{ id: 1, shipping_line_id: 369256396, subtotal_amount_set: { shop_money: { amount: shipping, currency_code: 'USD' }, presentment_money: { amount: shipping, currency_code: 'USD' } } }] : [],
});
