import { z } from 'zod';

/** Editor booleans arrive as booleans, but flows written by hand may carry "true"/"false". */
const Flag = (dflt: boolean) => z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).default(dflt);

/** Settings of the d365-order-writer (parsed once from the node's config; numbers arrive as strings). */
export const WriterSettings = z.object({
  /** How Shopify shipping charges become BC lines: a G/L account line, an item charge line, or not at all. */
  shippingMode: z.enum(['account', 'charge', 'none']).default('account'),
  shippingAccountNo: z.string().trim().min(1).max(20).default('6610'),
  shippingChargeNo: z.string().trim().max(20).default(''),
  /** Refuse to create an order that carries blocking findings unless the router released it. */
  blockOnFindings: Flag(true),
  /** The company's local currency: BC wants an empty currencyCode for it. */
  localCurrency: z.string().trim().length(3).default('USD'),
  /** Write the D365 order number back to the Shopify order as a metafield. */
  writeBack: Flag(true),
  /** What a refund of already shipped units without restock becomes on the credit memo. */
  noRestockMode: z.enum(['account', 'item', 'skip']).default('account'),
  noRestockAccountNo: z.string().trim().min(1).max(20).default('6620'),
  /** Which orders/updated changes may be applied to the open sales order. */
  applyAddress: Flag(true),
  applyNote: Flag(true),
  /** When to ask D365 for an order with the same externalDocumentNumber before creating: only after an
   * earlier attempt the journal recorded (its intent is written before every POST, so an order it has never
   * seen cannot exist in D365 through us: one call per order), or always (also catches orders keyed in by
   * hand, or a journal restored from an old backup: two calls per order). */
  verifyBeforeCreate: z.enum(['after-attempt', 'always']).default('after-attempt'),
  /** Attempts for a transient D365 failure (first try included). */
  attempts: z.coerce.number().int().min(1).max(10).default(3),
  retryBaseMs: z.coerce.number().int().min(0).max(60_000).default(1000),
});
export type WriterSettings = z.infer<typeof WriterSettings>;
export type WriterSettingsInput = z.input<typeof WriterSettings>;
