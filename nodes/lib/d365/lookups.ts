import { z } from 'zod';
import type { BcApi, ODataQuery } from './bc-api';
import { odataString } from './bc-api';
import { LookupCache } from './cache';
import type { CacheOptions } from './cache';

// The slices of Business Central API v2.0 entities the checks read (api-facts B1). Loose, so fields
// we do not name (etag, addresses, …) stay available to callers.
export const BcCustomer = z.looseObject({
  id: z.string(),
  number: z.string(),
  displayName: z.string().default(''),
  type: z.string().optional(),
  email: z.string().default(''),
  phoneNumber: z.string().default(''),
  /** " " (or "") = not blocked, else "Ship" | "Invoice" | "All". */
  blocked: z.string().default(' '),
  taxLiable: z.boolean().optional(),
  taxRegistrationNumber: z.string().optional(),
});
export type BcCustomer = z.infer<typeof BcCustomer>;

export const BcItem = z.looseObject({
  id: z.string(),
  number: z.string(),
  displayName: z.string().default(''),
  type: z.string().default('Inventory'),
  blocked: z.boolean().default(false),
  gtin: z.string().default(''),
  unitPrice: z.number().optional(),
  priceIncludesTax: z.boolean().optional(),
});
export type BcItem = z.infer<typeof BcItem>;

export const BcItemVariant = z.looseObject({
  id: z.string(),
  itemId: z.string().optional(),
  itemNumber: z.string(),
  code: z.string(),
  description: z.string().optional(),
});
export type BcItemVariant = z.infer<typeof BcItemVariant>;

export const BcTaxArea = z.looseObject({
  id: z.string(),
  code: z.string(),
});
export type BcTaxArea = z.infer<typeof BcTaxArea>;

/** Where a non-standard field lives: a custom API page (`publisher/group/version`) and its entity set. */
export interface CustomFieldSource {
  /** Custom API route; empty = the standard v2.0 API. */
  api?: string;
  entitySet: string;
  field: string;
}

const CUSTOMER_SELECT = ['id', 'number', 'displayName', 'type', 'email', 'phoneNumber', 'blocked', 'taxLiable',
  'taxAreaId', 'taxAreaDisplayName', 'taxRegistrationNumber', 'currencyCode', 'country'] as const;
const ITEM_SELECT = ['id', 'number', 'displayName', 'type', 'blocked', 'gtin', 'unitPrice', 'priceIncludesTax',
  'taxGroupCode', 'baseUnitOfMeasureCode'] as const;
const VARIANT_SELECT = ['id', 'itemId', 'itemNumber', 'code', 'description'] as const;
const TAX_AREA_SELECT = ['id', 'code'] as const;

// Keep `$filter=a eq 'x' or a eq 'y' …` well under common URL limits (~2 KB) after percent-encoding.
const MAX_FILTER_CHARS = 1200;
const MAX_TERMS = 40;

// ---- normalisation: how two values are judged "the same" on our side, whatever BC's collation does.
export const normEmail = (s: string): string => s.trim().toLowerCase();
/** Digits only, with an international `00` prefix read as `+`: "+1 (613) 612-0707" → "16136120707". */
export const normPhone = (s: string): string => {
  const digits = s.replace(/\D/g, '');
  return s.trim().startsWith('00') ? digits.slice(2) : digits;
};
/** BC Code fields (numbers, variant codes) are upper case. */
export const normCode = (s: string): string => s.trim().toUpperCase();
export const normName = (s: string): string => s.trim().replace(/\s+/g, ' ').toLowerCase();
export const normTaxId = (s: string): string => s.replace(/[\s.\-]/g, '').toUpperCase();
export const normText = (s: string): string => s.trim();

export interface LookupStats {
  hits: number;
  misses: number;
  /** Requests sent to Dynamics 365 by these lookups. */
  calls: number;
  size: number;
}

type Entity = Record<string, unknown>;
const NONE: readonly Entity[] = Object.freeze([]);

/**
 * Cached, batched reads of BC master data for the checks. Each method takes many values and asks
 * D365 once per chunk for all the uncached ones (`number eq 'A' or number eq 'B' …`); answers,
 * including "not found", are cached for the TTL. Results are keyed by the normalised value.
 */
export class D365Lookups {
  private readonly cache: LookupCache<readonly Entity[]>;
  private calls = 0;
  private readonly creating = new Map<string, Promise<BcCustomer>>();
  private readonly keys = new Map<string, Map<string, string>>();
  private readonly keysMax: number;

  constructor(private readonly api: BcApi, opts: CacheOptions) {
    this.cache = new LookupCache(opts);
    this.keysMax = opts.max;
  }

  stats(): LookupStats {
    return { ...this.cache.counters, calls: this.calls, size: this.cache.size };
  }

  customersByEmail(emails: readonly string[]): Promise<Map<string, BcCustomer[]>> {
    // BC's filter may compare case-sensitively: ask for the value as given and in lower case, compare normalised.
    return this.load('c:email', 'customers', 'email', emails, normEmail, (v) => [v.trim(), normEmail(v)], CUSTOMER_SELECT, BcCustomer);
  }

  customersByPhone(phones: readonly string[]): Promise<Map<string, BcCustomer[]>> {
    // BC stores phone numbers as typed; ask for the common spellings, compare digits.
    return this.load('c:phone', 'customers', 'phoneNumber', phones, normPhone,
      (v) => [v.trim(), `+${normPhone(v)}`, normPhone(v)], CUSTOMER_SELECT, BcCustomer);
  }

  customersByNumber(numbers: readonly string[]): Promise<Map<string, BcCustomer[]>> {
    return this.load('c:number', 'customers', 'number', numbers, normCode, (v) => [normCode(v)], CUSTOMER_SELECT, BcCustomer);
  }

  customersByTaxId(ids: readonly string[]): Promise<Map<string, BcCustomer[]>> {
    return this.load('c:taxid', 'customers', 'taxRegistrationNumber', ids, normTaxId,
      (v) => [v.trim(), v.trim().toUpperCase(), normTaxId(v)], CUSTOMER_SELECT, BcCustomer);
  }

  customersByName(names: readonly string[]): Promise<Map<string, BcCustomer[]>> {
    return this.load('c:name', 'customers', 'displayName', names, normName, (v) => [v.trim().replace(/\s+/g, ' ')], CUSTOMER_SELECT, BcCustomer);
  }

  /** Customers found through a custom field (e.g. a stored Shopify customer id on a custom API page). */
  customersByCustomField(src: CustomFieldSource, values: readonly string[]): Promise<Map<string, BcCustomer[]>> {
    return this.viaCustomField('c', src, values, (numbers) => this.customersByNumber(numbers));
  }

  itemsByNumber(numbers: readonly string[]): Promise<Map<string, BcItem[]>> {
    return this.load('i:number', 'items', 'number', numbers, normCode, (v) => [normCode(v)], ITEM_SELECT, BcItem);
  }

  itemsByGtin(gtins: readonly string[]): Promise<Map<string, BcItem[]>> {
    return this.load('i:gtin', 'items', 'gtin', gtins, normText, (v) => [v.trim()], ITEM_SELECT, BcItem);
  }

  /** Items found through a field BC v2.0 does not have (e.g. vendor item no.) on a custom API page. */
  itemsByCustomField(src: CustomFieldSource, values: readonly string[]): Promise<Map<string, BcItem[]>> {
    return this.viaCustomField('i', src, values, (numbers) => this.itemsByNumber(numbers));
  }

  /** All variants of each item, keyed by the normalised item number. */
  variantsOfItems(itemNumbers: readonly string[]): Promise<Map<string, BcItemVariant[]>> {
    return this.load('v:item', 'itemVariants', 'itemNumber', itemNumbers, normCode, (v) => [normCode(v)], VARIANT_SELECT, BcItemVariant);
  }

  taxAreasByCode(codes: readonly string[]): Promise<Map<string, BcTaxArea[]>> {
    return this.load('t:code', 'taxAreas', 'code', codes, normCode, (v) => [normCode(v)], TAX_AREA_SELECT, BcTaxArea);
  }

  // Synchronous answers from the cache alone: what the method above would list for ONE value, or
  // undefined when that value is not cached (then use the method above). A warm cache then costs the
  // check no promise, and no Map or copy either: the cached list itself, read-only.
  cachedItemsByNumber(number: string): readonly BcItem[] | undefined {
    return this.cached('i:number', number, normCode) as readonly BcItem[] | undefined;
  }

  cachedVariantsOfItem(itemNumber: string): readonly BcItemVariant[] | undefined {
    return this.cached('v:item', itemNumber, normCode) as readonly BcItemVariant[] | undefined;
  }

  cachedCustomersByEmail(email: string): readonly BcCustomer[] | undefined {
    return this.cached('c:email', email, normEmail) as readonly BcCustomer[] | undefined;
  }

  cachedCustomersByNumber(number: string): readonly BcCustomer[] | undefined {
    return this.cached('c:number', number, normCode) as readonly BcCustomer[] | undefined;
  }

  cachedTaxAreasByCode(code: string): readonly BcTaxArea[] | undefined {
    return this.cached('t:code', code, normCode) as readonly BcTaxArea[] | undefined;
  }

  /**
   * Creates a customer and records it under its email, so the next order from the same address finds
   * it instead of creating a second one. Concurrent creations for one email share a single POST.
   */
  createCustomer(body: Record<string, unknown>, email: string): Promise<BcCustomer> {
    const key = `c:email:${normEmail(email)}`;
    const inflight = this.creating.get(key);
    if (inflight) return inflight;
    const p = (async () => {
      this.calls++;
      try {
        const created = BcCustomer.parse(await this.api.post('customers', body));
        this.cache.set(key, [created]);
        this.cache.set(`c:number:${normCode(created.number)}`, [created]);
        return created;
      } catch (e) {
        // The POST may have been processed before the failure: never trust a cached "not found" for it.
        this.cache.delete(key);
        throw e;
      }
    })();
    this.creating.set(key, p);
    const clear = () => { this.creating.delete(key); };
    p.then(clear, clear);
    return p;
  }

  private async viaCustomField<T>(ns: string, src: CustomFieldSource, values: readonly string[],
    resolve: (numbers: string[]) => Promise<Map<string, T[]>>): Promise<Map<string, T[]>> {
    const prefix = `${ns}:custom:${src.api ?? ''}/${src.entitySet}/${src.field}`;
    const refs = await this.load(prefix, src.entitySet, src.field, values, normText, (v) => [v.trim()], ['number', src.field],
      z.looseObject({ number: z.string() }), src.api || undefined);
    const numbers = [...new Set([...refs.values()].flat().map((r) => r.number))];
    const byNumber = numbers.length ? await resolve(numbers) : new Map<string, T[]>();
    const out = new Map<string, T[]>();
    for (const [key, list] of refs) out.set(key, list.flatMap((r) => byNumber.get(normCode(r.number)) ?? []));
    return out;
  }

  /** One value's answer as load() would give it, from the cache alone; undefined when it is not cached. */
  private cached(ns: string, value: string, normalize: (s: string) => string): readonly Entity[] | undefined {
    if (!this.cache.enabled) return undefined;
    const key = this.cacheKey(ns, value, normalize);
    // load() asks nothing for a value that normalises to nothing, and answers it with no entities.
    return key ? this.cache.peek(key) : NONE;
  }

  /**
   * The cache key of a value as given (`ns:normalised`, '' when it normalises to nothing), remembered
   * per namespace: orders repeat the same SKUs, e-mails and codes, and normalising and joining anew
   * makes two strings per lookup. Bounded like the cache; cleared when full.
   */
  private cacheKey(ns: string, value: string, normalize: (s: string) => string): string {
    let byValue = this.keys.get(ns);
    if (!byValue) this.keys.set(ns, (byValue = new Map()));
    let key = byValue.get(value);
    if (key === undefined) {
      const k = normalize(value);
      key = k ? `${ns}:${k}` : '';
      if (byValue.size >= this.keysMax) byValue.clear();
      byValue.set(value, key);
    }
    return key;
  }

  private async load<S extends z.ZodType<Entity>>(ns: string, entitySet: string, field: string, values: readonly string[],
    normalize: (s: string) => string, spellings: (s: string) => string[], select: readonly string[], schema: S,
    api?: string): Promise<Map<string, z.infer<S>[]>> {
    const originals = new Map<string, string>();
    for (const v of values) {
      const key = normalize(v);
      if (key && !originals.has(key)) originals.set(key, v);
    }
    const keys = [...originals.keys()].map((k) => `${ns}:${k}`);
    const got = this.cache.peekMany(keys) ?? await this.cache.getMany(keys, async (missing) => {
      const wanted = missing.map((k) => k.slice(ns.length + 1));
      const terms = [...new Set(wanted.flatMap((k) => spellings(originals.get(k)!)))].filter(Boolean);
      const found = new Map<string, Entity[]>();
      for (const filter of chunkFilters(field, terms)) {
        const query: ODataQuery = { filter, select };
        this.calls++;
        const rows = await this.api.list(entitySet, query, api ? { api } : undefined);
        for (const raw of rows) {
          const row = schema.parse(raw);
          const value = row[field];
          if (value === undefined || value === null) continue;
          const k = `${ns}:${normalize(String(value))}`;
          const list = found.get(k) ?? [];
          if (!list.some((r) => r.id !== undefined && r.id === row.id)) list.push(row);
          found.set(k, list);
        }
      }
      return found;
    }, NONE);
    const out = new Map<string, z.infer<S>[]>();
    for (const key of originals.keys()) out.set(key, [...(got.get(`${ns}:${key}`) ?? NONE)] as z.infer<S>[]);
    return out;
  }
}

/** Splits `field eq 'a' or field eq 'b' …` into filters short enough for a URL. */
export function chunkFilters(field: string, values: readonly string[]): string[] {
  const out: string[] = [];
  let terms: string[] = [];
  let len = 0;
  for (const v of values) {
    const term = `${field} eq ${odataString(v)}`;
    if (terms.length && (terms.length >= MAX_TERMS || len + term.length + 4 > MAX_FILTER_CHARS)) {
      out.push(terms.join(' or '));
      terms = [];
      len = 0;
    }
    terms.push(term);
    len += term.length + 4;
  }
  if (terms.length) out.push(terms.join(' or '));
  return out;
}

/** What the lookups need from a `d365-connection` config node. */
export interface D365ConnectionLike {
  getClient(): BcApi;
  /** When true, nothing may be written to Dynamics 365. */
  dryRun?: boolean;
}

// One lookup layer per connection node instance (and cache settings), so several check nodes on one
// connection share answers. Keyed by the node object rather than its id: a redeployed connection (new
// URL, company or credentials) starts with an empty cache, and removed ones are garbage-collected.
const shared = new WeakMap<object, Map<string, D365Lookups>>();

export function sharedLookups(connection: D365ConnectionLike, opts: CacheOptions): D365Lookups {
  let byOpts = shared.get(connection);
  if (!byOpts) shared.set(connection, (byOpts = new Map()));
  const key = `${opts.ttlMs}/${opts.max}`;
  let lookups = byOpts.get(key);
  if (!lookups) byOpts.set(key, (lookups = new D365Lookups(connection.getClient(), opts)));
  return lookups;
}
