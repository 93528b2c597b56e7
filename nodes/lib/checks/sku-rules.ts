import { z } from 'zod';
import { CheckMode } from '../node-red/check-node';
import { ApiRoute, configInt, enabledStrategies } from './rule-settings';

/** Ways to map a Shopify SKU to a D365 item, tried in the configured order. */
export const SkuStrategyName = z.enum(['mapping', 'itemNumber', 'itemVariant', 'gtin', 'vendorItem']);
export type SkuStrategyName = z.infer<typeof SkuStrategyName>;

export const SKU_STRATEGY_LABELS: Record<SkuStrategyName, string> = {
  mapping: 'mapping table',
  itemNumber: 'SKU = item number',
  itemVariant: 'item number + variant code',
  gtin: 'barcode (GTIN)',
  vendorItem: 'vendor item number (custom API)',
};

const identifier = z.string().trim().regex(/^[A-Za-z][A-Za-z0-9]*$/, 'must be a BC field or entity set name (letters and digits)');

export const SkuMapping = z.object({
  sku: z.string().min(1, 'Shopify SKU is required').max(255),
  itemNumber: z.string().trim().min(1, 'item number is required').max(20, 'BC item numbers have at most 20 characters'),
  variantCode: z.string().trim().max(10, 'BC variant codes have at most 10 characters').default(''),
});
export type SkuMapping = z.infer<typeof SkuMapping>;

export const SkuRules = z.object({
  mode: CheckMode.default('annotate'),
  strategies: z.array(z.object({ name: SkuStrategyName, enabled: z.boolean() })).default([
    { name: 'mapping', enabled: true }, { name: 'itemNumber', enabled: true }, { name: 'itemVariant', enabled: true },
    { name: 'gtin', enabled: false }, { name: 'vendorItem', enabled: false },
  ]),
  mapping: z.array(SkuMapping).default([]),
  /** Between item number and variant code in a variant's SKU, e.g. `1005-BLK`. */
  separator: z.string().min(1, 'separator is required').max(5, 'separator has at most 5 characters').default('-'),
  /** Remove leading/trailing whitespace from SKUs (and mapping table keys). */
  trim: z.boolean().default(true),
  /** `insensitive`: SKUs match item numbers/variant codes whatever their case (BC codes are upper case); `exact`: case must agree. */
  caseRule: z.enum(['insensitive', 'exact']).default('insensitive'),
  /** Service / Non-Inventory items: allowed silently, a warning, or blocking. */
  nonInventory: z.enum(['allow', 'warn', 'block']).default('warn'),
  /** BC v2.0 items have no vendor item number: it needs a custom API page exposing it. */
  vendorItemApi: ApiRoute.default(''),
  vendorItemEntitySet: z.string().trim().default('items'),
  vendorItemField: z.string().trim().default(''),
  cacheTtlS: configInt(0, 86_400, 300),
  cacheSize: configInt(10, 1_000_000, 10_000),
}).superRefine((r, ctx) => {
  const on = enabledStrategies(r.strategies, ctx);
  if (!on.size) ctx.addIssue({ code: 'custom', path: ['strategies'], message: 'enable at least one strategy' });
  if (r.trim && !r.separator.trim()) ctx.addIssue({ code: 'custom', path: ['separator'], message: 'a whitespace separator would be trimmed away; untick trim or choose another' });
  const keys = new Map<string, number>();
  for (const [i, m] of r.mapping.entries()) {
    const key = normalizeSku(m.sku, r);
    if (!key) ctx.addIssue({ code: 'custom', path: ['mapping', i, 'sku'], message: 'Shopify SKU is required' });
    else if (keys.has(key)) ctx.addIssue({ code: 'custom', path: ['mapping', i, 'sku'], message: `SKU ${m.sku} is mapped twice (rows ${keys.get(key)! + 1} and ${i + 1})` });
    else keys.set(key, i);
  }
  if (on.has('vendorItem')) {
    if (!r.vendorItemApi) {
      ctx.addIssue({ code: 'custom', path: ['vendorItemApi'], message: 'BC v2.0 items have no vendor item number: name the custom API page that exposes it, or use the mapping table' });
    }
    if (!identifier.safeParse(r.vendorItemField).success) ctx.addIssue({ code: 'custom', path: ['vendorItemField'], message: 'the vendor item strategy needs the field holding the vendor item number' });
    if (!identifier.safeParse(r.vendorItemEntitySet).success) ctx.addIssue({ code: 'custom', path: ['vendorItemEntitySet'], message: 'must be an entity set name' });
  }
});
export type SkuRules = z.infer<typeof SkuRules>;
export type SkuRulesInput = z.input<typeof SkuRules>;

/** The SKU as the rules compare it: trimmed if configured, upper-cased unless case must match exactly. */
export function normalizeSku(sku: string, rules: Pick<SkuRules, 'trim' | 'caseRule'>): string {
  const s = rules.trim ? sku.trim() : sku;
  return rules.caseRule === 'insensitive' ? s.toUpperCase() : s;
}
