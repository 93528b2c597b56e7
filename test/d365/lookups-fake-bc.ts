// An in-memory BcApi over the seeded catalogue that counts requests, for lookup and check tests.
// It understands only the filters the lookups send (`f eq 'a' or f eq 'b' …`) and fails loudly on others.
import type { BatchOperation, BatchResult, BcApi, BcRequestOptions, ODataQuery } from '../../nodes/lib/d365/bc-api';
import { BcApiError } from '../../nodes/lib/d365/errors';
import { buildCatalogue } from '../../sim/catalogue';

type Row = Record<string, unknown>;

export interface FakeCall { method: string; path: string; filter?: string; api?: string; body?: unknown }

const guid = (prefix: number, n: number) => `${prefix.toString(16).padStart(8, '0')}-0000-4000-8000-${n.toString(16).padStart(12, '0')}`;

export class FakeBc implements BcApi {
  readonly calls: FakeCall[] = [];
  /** Entity sets by `api|entitySet` (api '' = standard v2.0). */
  readonly sets = new Map<string, Row[]>();
  /** Set to make every request fail with this error. */
  failWith?: Error;
  private nextId = 1;

  constructor() {
    const cat = buildCatalogue({ items: 60, customers: 20 });
    this.sets.set('|customers', cat.customers.map((c, i) => ({
      id: guid(1, i + 1), number: c.number, displayName: c.displayName, type: c.type, email: c.email, phoneNumber: c.phoneNumber,
      blocked: c.blocked === '' ? ' ' : c.blocked, taxLiable: c.taxLiable, taxRegistrationNumber: c.taxRegistrationNumber ?? '',
      currencyCode: c.currencyCode, country: c.country,
    })));
    // A custom API page carrying the Shopify customer id (BC v2.0 customers have no such field).
    this.sets.set('acme/shopify/v1.0|shopifyCustomers', cat.customers.filter((c) => c.shopifyCustomerId)
      .map((c) => ({ number: c.number, shopifyCustomerId: String(c.shopifyCustomerId) })));
    this.sets.set('|items', cat.items.map((it, i) => ({
      id: guid(2, i + 1), number: it.number, displayName: it.displayName, type: it.type, blocked: it.blocked, gtin: it.gtin ?? '',
      unitPrice: Number(it.unitPrice), priceIncludesTax: it.priceIncludesTax,
    })));
    // A custom API page exposing the vendor item no.
    this.sets.set('acme/shopify/v1.0|vendorItems', cat.items.filter((it) => it.vendorItemNo)
      .map((it) => ({ number: it.number, vendorItemNo: it.vendorItemNo })));
    this.sets.set('|taxAreas', cat.taxAreas.map((a, i) => ({ id: guid(4, i + 1), code: a.code, displayName: a.displayName })));
    let v = 0;
    this.sets.set('|itemVariants', cat.items.flatMap((it, i) => it.variants.map((va) => ({
      id: guid(3, ++v), itemId: guid(2, i + 1), itemNumber: it.number, code: va.code, description: va.description,
    }))));
  }

  rows(entitySet: string, api = ''): Row[] {
    const r = this.sets.get(`${api}|${entitySet}`);
    if (!r) throw Object.assign(new Error(`no entity set ${entitySet}`), { status: 404 });
    return r;
  }

  count(method?: string): number {
    return method ? this.calls.filter((c) => c.method === method).length : this.calls.length;
  }

  async list<T = Row>(entitySet: string, query?: ODataQuery, opts?: BcRequestOptions): Promise<T[]> {
    this.calls.push({ method: 'GET', path: entitySet, filter: query?.filter, api: opts?.api });
    if (this.failWith) throw this.failWith;
    const rows = this.rows(entitySet, opts?.api ?? '');
    if (!query?.filter) return rows as T[];
    const terms = query.filter.split(' or ').map((t) => {
      const m = /^(\w+) eq '((?:[^']|'')*)'$/.exec(t);
      if (!m) throw new Error(`fake BC cannot evaluate filter term: ${t}`);
      return { field: m[1]!, value: m[2]!.replace(/''/g, "'") };
    });
    // Exact, case-sensitive comparison: the lookups must not rely on BC ignoring case.
    // Like BC, return only the $select-ed fields, so a lookup that forgets one it needs fails here too.
    const pick = (r: Row) => (query.select ? Object.fromEntries(query.select.filter((f) => f in r).map((f) => [f, r[f]])) : { ...r });
    return rows.filter((r) => terms.some((t) => r[t.field] === t.value)).map(pick) as T[];
  }

  async get<T = Row>(path: string): Promise<T> {
    this.calls.push({ method: 'GET', path });
    throw new Error('fake BC: get not used by lookups');
  }

  async post<T = Row>(path: string, body: unknown): Promise<T> {
    this.calls.push({ method: 'POST', path, body });
    if (this.failWith) throw this.failWith;
    const rows = this.rows(path);
    const n = this.nextId++;
    const row = { blocked: ' ', type: 'Person', ...(body as Row), id: guid(9, n), number: `C9${String(n).padStart(4, '0')}` };
    rows.push(row);
    return { ...row } as T;
  }

  async patch<T>(): Promise<T> { throw new Error('fake BC: patch not used'); }
  async delete(): Promise<void> { throw new Error('fake BC: delete not used'); }
  async action(): Promise<void> { throw new Error('fake BC: action not used'); }
  async batch(_ops: readonly BatchOperation[]): Promise<BatchResult[]> { throw new Error('fake BC: batch not used'); }
}

/** An error shaped like an HTTP client's for a throttled/unavailable D365. */
export const throttled = () => new BcApiError({ status: 429, code: 'TooManyRequests', message: 'Too Many Requests' });
