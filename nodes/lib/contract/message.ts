import { z } from 'zod';
import { Finding } from './finding';
import { Fulfillment } from './fulfillment';
import { InventoryLevel } from './inventory-level';
import { Order, safeParseOrder } from './order';
import { Refund } from './refund';

/** The Shopify webhook topics this package understands, and the schema of each payload. */
export const TOPIC_SCHEMAS = {
  'orders/create': Order,
  'orders/updated': Order,
  'orders/paid': Order,
  'orders/cancelled': Order,
  'orders/fulfilled': Order,
  'orders/partially_fulfilled': Order,
  'orders/edited': z.looseObject({ order_edit: z.looseObject({ id: z.union([z.number(), z.string()]), order_id: z.union([z.number(), z.string()]) }) }),
  'refunds/create': Refund,
  'fulfillments/create': Fulfillment,
  'fulfillments/update': Fulfillment,
  'inventory_levels/update': InventoryLevel,
} as const;
export type ShopifyTopic = keyof typeof TOPIC_SCHEMAS;
export const SHOPIFY_TOPICS = Object.keys(TOPIC_SCHEMAS) as ShopifyTopic[];

export function isShopifyTopic(t: string): t is ShopifyTopic {
  return Object.prototype.hasOwnProperty.call(TOPIC_SCHEMAS, t);
}

/** Topics whose payload is an Order (and so carry an order id for dedupe/ordering). */
export const ORDER_TOPICS: readonly ShopifyTopic[] = SHOPIFY_TOPICS.filter((t) => TOPIC_SCHEMAS[t] === Order);

/** msg.shopify: delivery metadata of the event. */
export const ShopifyMeta = z.object({
  shop: z.string(),
  topic: z.string(),
  webhookId: z.string().optional(),
  eventId: z.string().optional(),
  apiVersion: z.string().optional(),
  triggeredAt: z.string().optional(),
  /** How the event reached us: a webhook delivery, the reconciliation poll, or a release from hold. */
  source: z.enum(['webhook', 'reconcile', 'release', 'retry']).default('webhook'),
  /** The journal event this message stands for, while the trigger keeps custody until it is settled
   * (the writer recorded the order, or the router held it); absent when custody ends at the emit. */
  eventKey: z.string().optional(),
});
export type ShopifyMeta = z.infer<typeof ShopifyMeta>;

/** One order line as the D365 document will carry it; each check fills its part. */
export const ErpLine = z.object({
  lineItemId: z.string(),
  sku: z.string().nullable().optional(),
  quantity: z.number().int().positive(),
  itemNumber: z.string().optional(),
  itemId: z.string().optional(),
  variantCode: z.string().optional(),
  variantId: z.string().optional(),
  locationCode: z.string().optional(),
  unitPrice: z.string().optional(),
  discountAmount: z.string().optional(),
  taxCode: z.string().optional(),
});
export type ErpLine = z.infer<typeof ErpLine>;

/** msg.erp: what the D365 sales order will be built from. */
export const Erp = z.object({
  customer: z.object({
    number: z.string(),
    id: z.string().optional(),
    name: z.string().optional(),
    matchedBy: z.string().optional(),
    taxLiable: z.boolean().optional(),
  }).optional(),
  lines: z.array(ErpLine).optional(),
  shipmentMethod: z.object({ code: z.string(), agent: z.string().optional(), service: z.string().optional() }).optional(),
  taxAreaCode: z.string().optional(),
  pricesIncludeTax: z.boolean().optional(),
  currencyCode: z.string().optional(),
  salesOrder: z.object({ id: z.string(), number: z.string() }).optional(),
  creditMemo: z.object({ id: z.string(), number: z.string() }).optional(),
});
export type Erp = z.infer<typeof Erp>;

/** The message every node of this package reads and writes. */
export interface OrderMessage {
  _msgid?: string;
  topic: string;
  payload: unknown;
  shopify?: ShopifyMeta;
  erp?: Erp;
  findings?: Finding[];
  [key: string]: unknown;
}

export type TopicPayload<T extends ShopifyTopic> = z.infer<(typeof TOPIC_SCHEMAS)[T]>;

/** Parses a payload for a topic; returns zod's issues as one readable message on failure. */
export function parseTopicPayload(topic: ShopifyTopic, body: unknown):
  { ok: true; payload: TopicPayload<typeof topic> } | { ok: false; error: string } {
  const r = TOPIC_SCHEMAS[topic] === Order ? safeParseOrder(body) : TOPIC_SCHEMAS[topic].safeParse(body);
  if (r.success) return { ok: true, payload: r.data };
  return { ok: false, error: formatZodError(r.error) };
}

/** "line_items[0].quantity: Too small: expected number to be >0; email: …" — short, path first, no values echoed. */
export function formatZodError(err: z.ZodError, max = 5): string {
  const parts = err.issues.slice(0, max).map((i) => `${formatPath(i.path)}: ${i.message}`);
  if (err.issues.length > max) parts.push(`… and ${err.issues.length - max} more`);
  return parts.join('; ');
}

export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${String(p)}` : String(p);
  return out || '(root)';
}
