import { z } from 'zod';
import type { CheckOutcome } from '../node-red/check-node';
import { odataString } from '../d365/bc-api';
import { normCode } from '../d365/lookups';
import type { BcItem, D365Lookups } from '../d365/lookups';
import type { D365ItemPrice } from './price';

/** BC sends decimals as JSON numbers; turn one back into a decimal string without exponent notation. */
export function decimalString(v: unknown): string {
  const n = typeof v === 'number' ? v : Number(v);
  if (!Number.isFinite(n)) return '0';
  const s = String(n);
  return /e/i.test(s) ? n.toFixed(6) : s;
}

/** An OR of equality tests on one field (BC v2.0 has no `in`, that is schema 2.1 only). */
export function anyOf(field: string, values: readonly string[]): string {
  return values.map((v) => `${field} eq ${odataString(v)}`).join(' or ');
}

/** D365 unit prices by item number (as asked), through the connection's shared, cached item lookups; null = no such item. */
export async function itemPrices(lookups: D365Lookups, numbers: readonly string[]): Promise<Map<string, D365ItemPrice | null>> {
  const found = await lookups.itemsByNumber(numbers);
  const out = new Map<string, D365ItemPrice | null>();
  for (const n of numbers) out.set(n, priceOf(found.get(normCode(n))?.[0]));
  return out;
}

/** itemPrices from the cache alone, synchronously; undefined when any item is not cached. */
export function cachedItemPrices(lookups: D365Lookups, numbers: readonly string[]): Map<string, D365ItemPrice | null> | undefined {
  const out = new Map<string, D365ItemPrice | null>();
  for (const n of numbers) {
    const found = lookups.cachedItemsByNumber(n);
    if (!found) return undefined;
    out.set(n, priceOf(found[0]));
  }
  return out;
}

// One price per cached item object, not one per order that names it (the answer depends on the item alone).
const prices = new WeakMap<BcItem, D365ItemPrice>();

function priceOf(item: BcItem | undefined): D365ItemPrice | null {
  if (!item) return null;
  let p = prices.get(item);
  if (!p) prices.set(item, (p = { number: item.number, unitPrice: decimalString(item.unitPrice), priceIncludesTax: item.priceIncludesTax === true }));
  return p;
}

/**
 * Cache settings as the dialogs save them (strings); an empty field takes the default. The defaults are
 * the SKU validator's and customer matcher's, because checks on one connection share one cache only when
 * their settings agree (sharedLookups).
 */
export const CacheSettings = z.object({
  cacheTtlS: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int('cache TTL must be whole seconds').min(0, 'cache TTL cannot be negative').max(86400, 'cache TTL is at most 86400 s (a day)').default(300)),
  cacheMax: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int('cache size must be a whole number').min(1, 'cache size must be at least 1').max(1_000_000, 'cache size is at most 1000000').default(10_000)),
});

/**
 * A failed D365 lookup either becomes a retryable business finding (throttled, D365 down: the same
 * order may pass later; the exception router can retry it) or is thrown so done(err) reaches Catch
 * nodes (a wrong company, missing permission or malformed reply will not heal by waiting).
 */
export function d365Unavailable(e: unknown, what: string): CheckOutcome['findings'][number] {
  const err = e as { retryable?: unknown; status?: unknown; message?: unknown } | null;
  const status = typeof err?.status === 'number' && err.status > 0 ? ` (HTTP ${err.status})` : '';
  const text = `${what} failed${status}: ${typeof err?.message === 'string' ? err.message : String(e)}`.slice(0, 300);
  if (err?.retryable !== true) throw new Error(text);
  return { code: 'D365_UNAVAILABLE', severity: 'error', retryable: true, message: text };
}
