import { z } from 'zod';
import { CheckMode } from '../node-red/check-node';
import { shopifyLocationId } from './keys';

// The editor saves every cell and number as a string; '' means "not set".
const blank = (v: unknown) => (v === '' || v === null ? undefined : v);
/** A whole-number setting; an empty field (or none, in an older flow) takes the default. */
const wholeNumber = (what: string, max: number, dflt: number) => z.preprocess((v) => blank(v) ?? dflt,
  z.coerce.number({ error: `${what} must be a number` }).int(`${what} must be a whole number`).min(0, `${what} cannot be negative`).max(max, `${what} is at most ${max}`));

/** D365 location codes are Code[10] in Business Central; '' is BC's blank location. */
const LocationCode = z.string().trim().toUpperCase().max(10, 'a D365 location code has at most 10 characters');

export const BackorderPolicy = z.enum(['hold', 'allow', 'upto']);
export type BackorderPolicy = z.infer<typeof BackorderPolicy>;

/** One row of the location table: which D365 location serves a Shopify location (mapped strategy), its
 * place in the priority order (first/split strategies) and its backorder policy. */
export const LocationRule = z.object({
  shopifyLocation: z.preprocess(shopifyLocationId, z.string().regex(/^(\d+|\*|)$/, 'Shopify location: a numeric location id, gid://shopify/Location/<id>, or * for any other')),
  d365Location: LocationCode,
  backorder: z.preprocess(blank, z.enum(['default', 'hold', 'allow', 'upto']).default('default')),
  backorderMax: wholeNumber('backorder limit', 1_000_000, 0),
});
export type LocationRule = z.infer<typeof LocationRule>;

export const SafetyStockRow = z.object({
  item: z.string().trim().toUpperCase().min(1, 'safety stock: the item is empty').max(31, 'safety stock: item (number or number:variant) is too long'),
  // An empty cell is a mistake here (a row exists to set a number), so it is not defaulted.
  quantity: z.preprocess(blank, z.coerce.number({ error: 'safety stock: enter a number of units' }).int('safety stock must be a whole number').min(0, 'safety stock cannot be negative').max(1_000_000_000, 'safety stock is at most 1000000000')),
});
export type SafetyStockRow = z.infer<typeof SafetyStockRow>;

export const Strategy = z.enum(['mapped', 'first', 'split']);
export type Strategy = z.infer<typeof Strategy>;

/** What the gate needs to decide, free of Node-RED (the node adds its config node ids). */
const RulesShape = z.object({
  strategy: z.preprocess(blank, Strategy.default('first')),
  locations: z.array(LocationRule).default([]),
  backorder: z.preprocess(blank, BackorderPolicy.default('hold')),
  backorderMax: wholeNumber('backorder limit', 1_000_000, 0),
  safetyStock: wholeNumber('default safety stock', 1_000_000_000, 0),
  safetyStockItems: z.array(SafetyStockRow).default([]),
  /** Items D365 reports no stock record for (services, non-inventory, never stocked). */
  unstocked: z.preprocess(blank, z.enum(['zero', 'skip']).default('zero')),
  /** How long D365 stock figures are reused, in seconds (0: read per order). */
  cacheTtlS: wholeNumber('stock cache TTL', 3600, 30),
  /** Re-read D365 before promising when a line would leave this many units or fewer available. */
  refreshBelow: wholeNumber('refresh threshold', 1_000_000, 5),
});

function checkRules(r: z.infer<typeof RulesShape>, ctx: z.RefinementCtx): void {
  if (r.strategy === 'mapped' && !r.locations.some((l) => l.shopifyLocation !== '')) {
    ctx.addIssue({ code: 'custom', path: ['locations'], message: 'the mapped strategy needs at least one row with a Shopify location (or * for any)' });
  }
  const seen = new Map<string, number>();
  r.locations.forEach((l, i) => {
    if (r.strategy !== 'mapped' || l.shopifyLocation === '') return;
    const prior = seen.get(l.shopifyLocation);
    if (prior !== undefined) ctx.addIssue({ code: 'custom', path: ['locations', i], message: `Shopify location ${l.shopifyLocation} is mapped twice (rows ${prior + 1} and ${i + 1})` });
    seen.set(l.shopifyLocation, i);
  });
  const items = new Map<string, number>();
  r.safetyStockItems.forEach((s, i) => {
    const prior = items.get(s.item);
    if (prior !== undefined) ctx.addIssue({ code: 'custom', path: ['safetyStockItems', i], message: `safety stock for ${s.item} is set twice (rows ${prior + 1} and ${i + 1})` });
    items.set(s.item, i);
  });
}

export const GateRules = RulesShape.superRefine(checkRules);
export type GateRules = z.infer<typeof GateRules>;

export const GateConfig = RulesShape.extend({
  mode: z.preprocess(blank, CheckMode.default('annotate')),
  connection: z.string({ error: 'no D365 connection selected' }).min(1, 'no D365 connection selected'),
  journal: z.string({ error: 'no order journal selected' }).min(1, 'no order journal selected'),
}).superRefine(checkRules);
export type GateConfig = z.infer<typeof GateConfig>;

/** Units a location may promise beyond its stock: 0 (hold), N (allow up to N) or unlimited (allow). */
export function backorderAllowance(rules: Pick<GateRules, 'backorder' | 'backorderMax'>, rule?: Pick<LocationRule, 'backorder' | 'backorderMax'>): number {
  const [policy, max] = rule && rule.backorder !== 'default' ? [rule.backorder, rule.backorderMax] : [rules.backorder, rules.backorderMax];
  return policy === 'hold' ? 0 : policy === 'allow' ? Infinity : max;
}

/**
 * Safety stock per item key for one set of rules: its own row, else its item number's row (all
 * variants), else the default. Built once per node; the gate asks per line and location.
 */
export function safetyStockLookup(rules: Pick<GateRules, 'safetyStock' | 'safetyStockItems'>): (item: string) => number {
  if (!rules.safetyStockItems.length) return () => rules.safetyStock;
  const byItem = new Map(rules.safetyStockItems.map((s) => [s.item, s.quantity]));
  return (item) => {
    const key = item.toUpperCase();
    const colon = key.indexOf(':');
    return byItem.get(key) ?? (colon < 0 ? undefined : byItem.get(key.slice(0, colon))) ?? rules.safetyStock;
  };
}
