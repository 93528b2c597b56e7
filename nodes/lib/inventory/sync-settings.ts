import { z } from 'zod';
import { SafetyStockRow } from './gate-settings';
import { shopifyLocationId } from './keys';

const blank = (v: unknown) => (v === '' || v === null ? undefined : v);
const number = (what: string, min: number, max: number, dflt: number) => z.preprocess((v) => blank(v) ?? dflt,
  z.coerce.number({ error: `${what} must be a number` }).int(`${what} must be a whole number`).min(min, `${what} is at least ${min}`).max(max, `${what} is at most ${max}`));
const flag = (d: boolean) => z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : blank(v) ?? d), z.boolean());

/** Which Shopify location shows a D365 location's stock (several D365 locations may feed one Shopify location). */
export const SyncLocation = z.object({
  d365Location: z.string().trim().toUpperCase().max(10, 'a D365 location code has at most 10 characters'),
  shopifyLocation: z.preprocess(shopifyLocationId, z.string().regex(/^\d+$/, 'Shopify location: a numeric location id or gid://shopify/Location/<id>')),
});
export type SyncLocation = z.infer<typeof SyncLocation>;

/** A SKU whose D365 item does not follow the naming scheme (item number, or item number + separator + variant). */
export const SkuOverride = z.object({
  sku: z.string().trim().min(1, 'SKU is empty'),
  itemNumber: z.string().trim().toUpperCase().min(1, 'item number is empty').max(20, 'item number is longer than 20 characters'),
  variantCode: z.preprocess((v) => blank(v) ?? '', z.string().trim().toUpperCase().max(10, 'variant code is longer than 10 characters')),
});

const Shape = z.object({
  locations: z.array(SyncLocation).min(1, 'map at least one D365 location to a Shopify location'),
  separator: z.preprocess((v) => blank(v) ?? '-', z.string().min(1).max(5, 'separator: 1 to 5 characters')),
  skuMapping: z.array(SkuOverride).default([]),
  safetyStock: number('default safety stock', 0, 1_000_000_000, 0),
  safetyStockItems: z.array(SafetyStockRow).default([]),
  /** Subtract units reserved by orders in flight (the inventory gate's journal reservations). */
  subtractReservations: flag(true),
  /** Seconds between runs; 0 runs only when a message arrives. */
  intervalS: number('interval', 0, 86_400, 300),
  batchSize: number('batch size', 1, 250, 250),
});

function refine(s: z.infer<typeof Shape>, ctx: z.RefinementCtx): void {
  if (s.intervalS > 0 && s.intervalS < 10) ctx.addIssue({ code: 'custom', path: ['intervalS'], message: 'interval: 0 (only on input) or at least 10 seconds' });
  const seen = new Map<string, number>();
  s.locations.forEach((l, i) => {
    const prior = seen.get(l.d365Location);
    if (prior !== undefined) ctx.addIssue({ code: 'custom', path: ['locations', i], message: `D365 location ${l.d365Location || '(blank)'} is listed twice (rows ${prior + 1} and ${i + 1})` });
    seen.set(l.d365Location, i);
  });
}

export const SyncRules = Shape.superRefine(refine);
export type SyncRules = z.infer<typeof SyncRules>;

export const SyncConfig = Shape.extend({
  store: z.string({ error: 'no Shopify store selected' }).min(1, 'no Shopify store selected'),
  connection: z.string({ error: 'no D365 connection selected' }).min(1, 'no D365 connection selected'),
  journal: z.string({ error: 'no order journal selected' }).min(1, 'no order journal selected'),
}).superRefine(refine);
export type SyncConfig = z.infer<typeof SyncConfig>;
