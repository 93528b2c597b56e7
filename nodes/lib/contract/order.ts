import { z } from 'zod';
import { MoneySet, MoneyString, ShopifyId } from './money';

// Shopify's REST Order resource as delivered by orders/* webhooks. Objects are loose (unknown fields
// are kept) so Shopify's docs apply to msg.payload and a newer API version does not break parsing.
// Fields we never rely on are left to the loose catch-all rather than listed.

const nullableString = z.string().nullable().optional();

export const TaxLine = z.looseObject({
  title: z.string(),
  rate: z.number().nonnegative(),
  price: MoneyString,
  price_set: MoneySet.optional(),
  channel_liable: z.boolean().nullable().optional(),
});
export type TaxLine = z.infer<typeof TaxLine>;

export const DiscountAllocation = z.looseObject({
  amount: MoneyString,
  amount_set: MoneySet.optional(),
  discount_application_index: z.number().int().nonnegative(),
});

export const Address = z.looseObject({
  first_name: nullableString,
  last_name: nullableString,
  name: nullableString,
  company: nullableString,
  address1: nullableString,
  address2: nullableString,
  city: nullableString,
  province: nullableString,
  province_code: nullableString,
  zip: nullableString,
  country: nullableString,
  country_code: nullableString,
  phone: nullableString,
});
export type Address = z.infer<typeof Address>;

export const LineItem = z.looseObject({
  id: ShopifyId,
  admin_graphql_api_id: z.string().optional(),
  variant_id: ShopifyId.nullable().optional(),
  product_id: ShopifyId.nullable().optional(),
  sku: z.string().nullable().optional(),
  title: z.string(),
  variant_title: nullableString,
  name: nullableString,
  vendor: nullableString,
  // Shopify never sends a zero/negative ordered quantity; treat one as a malformed payload.
  quantity: z.number().int().positive(),
  current_quantity: z.number().int().nonnegative().optional(),
  fulfillable_quantity: z.number().int().nonnegative().optional(),
  fulfillment_status: z.enum(['partial', 'fulfilled', 'restocked']).nullable().optional(),
  requires_shipping: z.boolean().optional(),
  taxable: z.boolean().optional(),
  gift_card: z.boolean().optional(),
  grams: z.number().nonnegative().optional(),
  price: MoneyString,
  price_set: MoneySet.optional(),
  total_discount: MoneyString.optional(),
  discount_allocations: z.array(DiscountAllocation).default([]),
  tax_lines: z.array(TaxLine).default([]),
  properties: z.array(z.looseObject({ name: z.string(), value: z.unknown() })).optional(),
  location_id: ShopifyId.nullable().optional(),
});
export type LineItem = z.infer<typeof LineItem>;

export const ShippingLine = z.looseObject({
  id: ShopifyId.optional(),
  code: nullableString,
  title: z.string(),
  source: nullableString,
  carrier_identifier: nullableString,
  price: MoneyString,
  price_set: MoneySet.optional(),
  discounted_price: MoneyString.optional(),
  is_removed: z.boolean().optional(),
  tax_lines: z.array(TaxLine).default([]),
  discount_allocations: z.array(DiscountAllocation).default([]),
});
export type ShippingLine = z.infer<typeof ShippingLine>;

export const Customer = z.looseObject({
  id: ShopifyId,
  admin_graphql_api_id: z.string().optional(),
  email: nullableString,
  first_name: nullableString,
  last_name: nullableString,
  phone: nullableString,
  state: nullableString,
  tags: z.string().optional(),
  currency: nullableString,
  tax_exempt: z.boolean().optional(),
  default_address: Address.nullable().optional(),
});
export type Customer = z.infer<typeof Customer>;

export const FinancialStatus = z.enum([
  'pending', 'authorized', 'partially_paid', 'paid', 'partially_refunded', 'refunded', 'voided', 'expired',
]);
export type FinancialStatus = z.infer<typeof FinancialStatus>;

export const CancelReason = z.enum(['customer', 'fraud', 'inventory', 'declined', 'staff', 'other']);

export const Order = z.looseObject({
  id: ShopifyId,
  admin_graphql_api_id: z.string().optional(),
  name: z.string().min(1),
  order_number: z.number().int().optional(),
  number: z.number().int().optional(),
  email: nullableString,
  contact_email: nullableString,
  phone: nullableString,
  created_at: z.string(),
  updated_at: z.string(),
  processed_at: nullableString,
  closed_at: nullableString,
  cancelled_at: nullableString,
  cancel_reason: CancelReason.nullable().optional(),
  currency: z.string().length(3),
  presentment_currency: z.string().length(3).optional(),
  financial_status: FinancialStatus.nullable().optional(),
  fulfillment_status: z.enum(['partial', 'fulfilled', 'restocked', 'unfulfilled']).nullable().optional(),
  taxes_included: z.boolean().default(false),
  tax_exempt: z.boolean().optional(),
  test: z.boolean().default(false),
  source_name: nullableString,
  location_id: ShopifyId.nullable().optional(),
  tags: z.string().default(''),
  note: nullableString,
  note_attributes: z.array(z.looseObject({ name: z.string(), value: z.unknown() })).default([]),
  discount_codes: z.array(z.looseObject({ code: z.string(), amount: MoneyString, type: z.string() })).default([]),
  discount_applications: z.array(z.looseObject({
    target_type: z.string(),
    type: z.string(),
    value: z.string(),
    value_type: z.string(),
    allocation_method: z.string(),
    target_selection: z.string(),
    code: z.string().optional(),
    title: z.string().optional(),
  })).default([]),
  total_line_items_price: MoneyString.optional(),
  total_discounts: MoneyString.optional(),
  subtotal_price: MoneyString.optional(),
  total_shipping_price_set: MoneySet.optional(),
  total_tax: MoneyString.optional(),
  total_price: MoneyString,
  total_outstanding: MoneyString.optional(),
  total_price_set: MoneySet.optional(),
  tax_lines: z.array(TaxLine).default([]),
  customer: Customer.nullable().optional(),
  billing_address: Address.nullable().optional(),
  shipping_address: Address.nullable().optional(),
  line_items: z.array(LineItem).min(1, 'an order has at least one line item').max(5000),
  shipping_lines: z.array(ShippingLine).default([]),
  fulfillments: z.array(z.looseObject({})).default([]),
  refunds: z.array(z.looseObject({})).default([]),
  payment_gateway_names: z.array(z.string()).default([]),
  po_number: nullableString,
});
export type Order = z.infer<typeof Order>;

/**
 * Objects that came out of Order's parser in this process. An order passes six or more nodes; parsing
 * it once (usually in the trigger) and recognising the result afterwards keeps validation off the hot
 * path. A node that edits msg.payload in place keeps the mark, so a flow that rewrites orders should
 * assign a new object (msg.payload = {...}) to have it validated again.
 */
const parsedOrders = new WeakSet<object>();

export function safeParseOrder(value: unknown): z.ZodSafeParseResult<Order> {
  if (typeof value === 'object' && value !== null && parsedOrders.has(value)) {
    return { success: true, data: value as Order };
  }
  const r = Order.safeParse(value);
  if (r.success) parsedOrders.add(r.data);
  return r;
}
