import { z } from 'zod';
import { LookupCache } from '../d365/cache';
import type { CheckOutcome } from '../node-red/check-node';
import { odataString } from '../d365/bc-api';
import type { BcApi } from '../d365/bc-api';
import type { D365ItemPrice } from './price';

export interface CacheOptions {
  /** Seconds an answer (also "not found") is reused; 0 turns caching off. */
  ttlS: number;
  /** Most entries kept; the least recently used go first. */
  max: number;
}

const NOT_FOUND = Object.freeze({ v: null });

/**
 * The shared lookup cache in front of a "fetch these keys" request, so a steady flow spends about one
 * D365 call per new key instead of one per line. Misses are fetched together, `chunk` keys per request
 * (an OR filter must stay a sane URL length); "not found" is cached too, failures are not.
 */
export class BatchCache<V extends object> {
  private readonly cache: LookupCache<{ v: V | null }>;

  constructor(private readonly fetchMany: (keys: string[]) => Promise<Map<string, V>>, opts: CacheOptions, private readonly chunk = 20) {
    this.cache = new LookupCache({ ttlMs: opts.ttlS * 1000, max: opts.max });
  }

  async getMany(keys: readonly string[]): Promise<Map<string, V | null>> {
    const got = await this.cache.getMany(keys, async (missing) => {
      const parts: string[][] = [];
      for (let i = 0; i < missing.length; i += this.chunk) parts.push(missing.slice(i, i + this.chunk));
      const found = await Promise.all(parts.map((p) => this.fetchMany(p)));
      return new Map(found.flatMap((m) => [...m].map(([k, v]) => [k, { v }] as [string, { v: V | null }])));
    }, NOT_FOUND);
    return new Map([...got].map(([k, r]) => [k, r.v]));
  }
}

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

/** Item unit prices from BC `items`, several items per request, cached. */
export function itemPriceLookup(api: () => BcApi, opts: CacheOptions): BatchCache<D365ItemPrice> {
  return new BatchCache(async (numbers) => {
    const rows = await api().list<{ number: string; unitPrice?: unknown; priceIncludesTax?: unknown }>('items', {
      filter: anyOf('number', numbers), select: ['number', 'unitPrice', 'priceIncludesTax'],
    });
    return new Map(rows.map((r) => [r.number, { number: r.number, unitPrice: decimalString(r.unitPrice), priceIncludesTax: r.priceIncludesTax === true }]));
  }, opts);
}

/** Cache settings as the dialogs save them (strings); an empty field takes the default. */
export const CacheSettings = z.object({
  cacheTtlS: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int('cache TTL must be whole seconds').min(0, 'cache TTL cannot be negative').max(86400, 'cache TTL is at most 86400 s (a day)').default(300)),
  cacheMax: z.preprocess((v) => (v === '' ? undefined : v), z.coerce.number().int('cache size must be a whole number').min(1, 'cache size must be at least 1').max(1_000_000, 'cache size is at most 1000000').default(5000)),
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
