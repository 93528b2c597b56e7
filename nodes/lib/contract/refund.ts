import { z } from 'zod';
import { MoneySet, MoneyString, ShopifyId } from './money';
import { LineItem } from './order';

/** refunds/create webhook payload (REST Refund). */
export const RestockType = z.enum(['no_restock', 'cancel', 'return', 'legacy_restock']);
export type RestockType = z.infer<typeof RestockType>;

export const RefundLineItem = z.looseObject({
  id: ShopifyId,
  line_item_id: ShopifyId,
  location_id: ShopifyId.nullable().optional(),
  quantity: z.number().int().positive(),
  restock_type: RestockType,
  subtotal: z.union([z.number(), MoneyString]).optional(),
  subtotal_set: MoneySet.optional(),
  total_tax: z.union([z.number(), MoneyString]).optional(),
  total_tax_set: MoneySet.optional(),
  line_item: LineItem.partial().optional(),
});
export type RefundLineItem = z.infer<typeof RefundLineItem>;

export const RefundTransaction = z.looseObject({
  id: ShopifyId,
  order_id: ShopifyId.optional(),
  kind: z.string(),
  gateway: z.string().nullable().optional(),
  status: z.string(),
  amount: MoneyString,
  currency: z.string().optional(),
});

export const OrderAdjustment = z.looseObject({
  id: ShopifyId.optional(),
  amount: MoneyString,
  tax_amount: MoneyString.optional(),
  kind: z.string(),
  reason: z.string().nullable().optional(),
});

export const Refund = z.looseObject({
  id: ShopifyId,
  admin_graphql_api_id: z.string().optional(),
  order_id: ShopifyId,
  created_at: z.string(),
  processed_at: z.string().nullable().optional(),
  note: z.string().nullable().optional(),
  restock: z.boolean().optional(),
  refund_line_items: z.array(RefundLineItem).default([]),
  transactions: z.array(RefundTransaction).default([]),
  order_adjustments: z.array(OrderAdjustment).default([]),
  refund_shipping_lines: z.array(z.looseObject({
    id: ShopifyId.optional(),
    shipping_line_id: ShopifyId.optional(),
    subtotal_amount_set: MoneySet.optional(),
  })).default([]),
});
export type Refund = z.infer<typeof Refund>;
