import { z } from 'zod';
import { FinancialStatus, MoneyString } from '../../nodes/lib/contract';

/** Deliberate defects an order can carry, each one a real-world reason an order is not ERP-ready. */
export const OrderFault = z.enum([
  'unknown_sku', 'missing_shipping_address', 'odd_shipping_method', 'tax_mismatch',
  'blocked_item', 'ambiguous_customer', 'zero_price', 'missing_email',
]);
export type OrderFault = z.infer<typeof OrderFault>;
export const ORDER_FAULTS = OrderFault.options;

export const OrderSpec = z.object({
  lines: z.array(z.object({
    sku: z.string().min(1),
    quantity: z.number().int().positive().max(10000),
    /** Unit price override in shop currency; default is the catalogue price. */
    price: MoneyString.optional(),
  })).min(1).max(250).optional(),
  /** Number of random lines when `lines` is not given. */
  lineCount: z.number().int().min(1).max(50).optional(),
  /** 'random' (a catalogue customer), 'guest' (no customer record), 'new' (first-time customer),
   * a catalogue customer number (e.g. 'C10000') or { email } of a catalogue customer. */
  customer: z.union([z.enum(['random', 'guest', 'new']), z.string().regex(/^[A-Z0-9-]+$/), z.object({ email: z.string().min(1) })]).default('random'),
  /** Tax area code of the ship-to (catalogue taxAreas); default the customer's area. */
  shipTo: z.string().optional(),
  currency: z.enum(['USD', 'EUR', 'CAD']).optional(),
  discount: z.object({
    code: z.string().min(1),
    type: z.enum(['fixed_amount', 'percentage']),
    /** fixed_amount: shop-currency amount; percentage: 0–100. */
    value: MoneyString,
  }).optional(),
  /** A catalogue shipping rate code ('Standard', 'Express', 'Local Pickup'). */
  shippingCode: z.string().optional(),
  financialStatus: FinancialStatus.default('paid'),
  test: z.boolean().default(false),
  tags: z.array(z.string()).default([]),
  note: z.string().nullable().optional(),
  noteAttributes: z.array(z.object({ name: z.string(), value: z.string() })).default([]),
  poNumber: z.string().optional(),
  faults: z.array(OrderFault).default([]),
});
export type OrderSpecInput = z.input<typeof OrderSpec>;
export type OrderSpec = z.infer<typeof OrderSpec>;
