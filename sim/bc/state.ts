/**
 * The simulator's in-memory database: plain JSON-able tables (so a `$batch` with `Isolation: snapshot`
 * can roll back by restoring a structured clone), a row-version counter behind every `@odata.etag`,
 * number series and per item/variant/location stock.
 */
import { createHash } from 'crypto';
import type { Catalogue } from '../catalogue';
import { guid, type Rand } from './random';

export const TABLES = [
  'companies', 'customers', 'items', 'itemVariants', 'locations', 'shipmentMethods', 'taxAreas', 'taxGroups', 'currencies',
  'accounts', 'salesOrders', 'salesOrderLines', 'salesShipments', 'salesShipmentLines', 'salesInvoices', 'salesInvoiceLines',
  'salesCreditMemos', 'salesCreditMemoLines',
] as const;
export type Table = (typeof TABLES)[number];

/** A stored row: API field values plus internal `_`-prefixed fields that are never serialised. */
export interface Rec {
  id: string;
  lastModifiedDateTime: string;
  _rv: number;
  [field: string]: unknown;
}

export interface State {
  rv: number;
  series: Record<string, number>;
  t: Record<Table, Map<string, Rec>>;
  /** stock[itemNumber][`${variantCode}|${locationCode}`] = units on hand. */
  stock: Record<string, Record<string, number>>;
  /** When the on-hand or open-order demand of `${item}|${variant}|${location}` last changed. */
  availabilityChanged: Record<string, string>;
}

export const EMPTY_GUID = '00000000-0000-0000-0000-000000000000';

export const SERIES = {
  order: 'S-ORD', shipment: 'S-SHPT', invoice: 'S-INV', creditMemo: 'S-CR', customer: 'C',
} as const;
const SERIES_START: Record<string, number> = { 'S-ORD': 101001, 'S-SHPT': 102001, 'S-INV': 103001, 'S-CR': 104001, C: 90001 };

/** General-ledger accounts an `Account` line may post to (a small stand-in for CRONUS's chart of accounts). */
export const GL_ACCOUNTS = [
  { number: '6610', displayName: 'Freight and shipping charges', taxGroupCode: 'TAXABLE' },
  { number: '6620', displayName: 'Handling fees', taxGroupCode: 'TAXABLE' },
  { number: '6910', displayName: 'Invoice rounding', taxGroupCode: 'NONTAXABLE' },
  { number: '2310', displayName: 'Gift card liability', taxGroupCode: 'NONTAXABLE' },
];
/** Item charges a `Charge` line may use. */
export const ITEM_CHARGES = [
  { number: 'S-FREIGHT', displayName: 'Freight charge', taxGroupCode: 'TAXABLE' },
  { number: 'S-RESTOCK', displayName: 'Restocking fee', taxGroupCode: 'TAXABLE' },
];

const emptyState = (): State => ({ rv: 0, series: {}, t: Object.fromEntries(TABLES.map((n) => [n, new Map()])) as State['t'], stock: {}, availabilityChanged: {} });

export class Db {
  st: State = emptyState();

  constructor(private rand: Rand, readonly clock: () => number = Date.now) {}

  /** Empties every table and restarts the id generator (used by the simulator's reset). */
  reset(rand: Rand): void {
    this.rand = rand;
    this.st = emptyState();
    this.index.clear();
  }

  /** Lookups by `number`/`code`, which never change once a row exists. */
  private readonly index = new Map<string, Map<unknown, Rec>>();
  private static readonly KEYS = new Set(['number', 'code']);

  private indexFor(table: Table, field: string): Map<unknown, Rec> {
    const k = `${table}.${field}`;
    let m = this.index.get(k);
    if (!m) {
      m = new Map();
      for (const r of this.st.t[table].values()) if (!m.has(r[field])) m.set(r[field], r);
      this.index.set(k, m);
    }
    return m;
  }

  now(): string { return new Date(this.clock()).toISOString(); }
  today(): string { return this.now().slice(0, 10); }
  newId(): string { return guid(this.rand); }

  insert(table: Table, fields: Record<string, unknown>, id = this.newId()): Rec {
    const rec: Rec = { ...fields, id, lastModifiedDateTime: this.now(), _rv: ++this.st.rv };
    this.st.t[table].set(id, rec);
    for (const f of Db.KEYS) {
      const m = this.index.get(`${table}.${f}`);
      if (m && !m.has(rec[f])) m.set(rec[f], rec);
    }
    return rec;
  }

  /** Marks a row as written: new row version (so a new etag) and modification time. */
  touch(rec: Rec): void {
    rec._rv = ++this.st.rv;
    rec.lastModifiedDateTime = this.now();
  }

  get(table: Table, id: string): Rec | undefined { return this.st.t[table].get(id.toLowerCase()); }
  all(table: Table): Rec[] { return [...this.st.t[table].values()]; }
  find(table: Table, pred: (r: Rec) => boolean): Rec | undefined {
    for (const r of this.st.t[table].values()) if (pred(r)) return r;
    return undefined;
  }
  by(table: Table, field: string, value: unknown): Rec | undefined {
    if (Db.KEYS.has(field)) return this.indexFor(table, field).get(value);
    return this.find(table, (r) => r[field] === value);
  }
  remove(table: Table, id: string): void {
    const rec = this.st.t[table].get(id);
    this.st.t[table].delete(id);
    // Dropping the index is simplest when a removed row was the one indexed (duplicates are possible for `code`).
    if (rec) for (const f of Db.KEYS) if (this.index.get(`${table}.${f}`)?.get(rec[f]) === rec) this.index.delete(`${table}.${f}`);
  }

  nextNo(series: string): string {
    const n = this.st.series[series] ?? SERIES_START[series] ?? 1;
    this.st.series[series] = n + 1;
    return `${series}${n}`;
  }

  snapshot(): State { return structuredClone(this.st); }
  restore(s: State): void {
    this.st = s;
    this.index.clear();
  }

  onHand(item: string, variant: string, location: string): number {
    return this.st.stock[item]?.[`${variant}|${location}`] ?? 0;
  }

  adjustStock(item: string, variant: string, location: string, delta: number): void {
    const per = (this.st.stock[item] ??= {});
    per[`${variant}|${location}`] = (per[`${variant}|${location}`] ?? 0) + delta;
    this.availabilityTouched(item, variant, location);
  }

  availabilityTouched(item: string, variant: string, location: string): void {
    this.st.availabilityChanged[`${item}|${variant}|${location}`] = this.now();
  }
}

/** `W/"…"` like BC's: base64 of `'44;<hash>1;00;'`, different for every row version. */
export function etagOf(rec: Rec): string {
  const h = createHash('sha256').update(`${rec.id}:${rec._rv}`).digest('base64');
  return `W/"${Buffer.from(`'44;${h}1;00;'`).toString('base64')}"`;
}

/** Loads the shared catalogue as Business Central master data. */
export function seed(db: Db, cat: Catalogue): void {
  db.insert('companies', {
    systemVersion: '27.0.38460.0', timestamp: 0, name: cat.companyName, displayName: cat.companyName, businessProfileId: '',
    systemCreatedAt: '2026-01-01T00:00:00Z',
  });
  for (const l of cat.locations) {
    db.insert('locations', {
      code: l.code, displayName: l.name, contact: '', addressLine1: '', addressLine2: '', city: '', state: l.state ?? '', country: l.country,
      postalCode: '', phoneNumber: '', email: '', website: '',
    });
  }
  for (const m of cat.shipmentMethods) db.insert('shipmentMethods', { code: m.code, displayName: m.displayName });
  for (const a of cat.taxAreas) {
    db.insert('taxAreas', { code: a.code, displayName: a.displayName, taxType: a.country === 'US' || a.country === 'CA' ? 'Sales Tax' : 'VAT', _rate: a.rate, _country: a.country, _state: a.state ?? '' });
  }
  const groups = [...new Set(['TAXABLE', 'NONTAXABLE', ...cat.items.map((i) => i.taxGroupCode)])];
  for (const code of groups) {
    db.insert('taxGroups', { code, displayName: code === 'NONTAXABLE' ? 'Nontaxable' : code === 'TAXABLE' ? 'Taxable' : code, taxType: 'Sales Tax' });
  }
  for (const c of cat.currencies.filter((x) => x !== cat.currency)) {
    db.insert('currencies', { code: c, displayName: c, symbol: c === 'EUR' ? '€' : '$', amountDecimalPlaces: '2:2', amountRoundingPrecision: 0.01 });
  }
  for (const a of GL_ACCOUNTS) {
    db.insert('accounts', { number: a.number, displayName: a.displayName, category: 'Expense', subCategory: '', blocked: false, accountType: 'Posting', directPosting: true, _taxGroupCode: a.taxGroupCode });
  }
  const taxArea = (code: string) => db.by('taxAreas', 'code', code);
  for (const c of cat.customers) {
    const area = taxArea(c.taxAreaCode);
    db.insert('customers', {
      number: c.number, displayName: c.displayName, type: c.type, addressLine1: c.addressLine1, addressLine2: '', city: c.city, state: c.state,
      country: c.country, postalCode: c.postalCode, phoneNumber: c.phoneNumber, email: c.email, website: '', salespersonCode: '',
      creditLimit: 0, taxLiable: c.taxLiable, taxAreaId: area?.id ?? EMPTY_GUID, taxRegistrationNumber: c.taxRegistrationNumber ?? '',
      currencyCode: c.currencyCode, paymentTermsId: EMPTY_GUID, shipmentMethodId: EMPTY_GUID, paymentMethodId: EMPTY_GUID,
      blocked: c.blocked === '' ? ' ' : c.blocked,
    });
  }
  for (const i of cat.items) {
    const group = db.by('taxGroups', 'code', i.taxGroupCode)!;
    const item = db.insert('items', {
      number: i.number, displayName: i.displayName, displayName2: '', type: i.type, itemCategoryId: EMPTY_GUID, itemCategoryCode: '',
      blocked: i.blocked, gtin: i.gtin ?? '', unitPrice: Number(i.unitPrice), priceIncludesTax: i.priceIncludesTax,
      unitCost: Math.round(Number(i.unitPrice) * 55) / 100, taxGroupId: group.id, taxGroupCode: i.taxGroupCode,
      baseUnitOfMeasureId: EMPTY_GUID, baseUnitOfMeasureCode: 'PCS', generalProductPostingGroupId: EMPTY_GUID,
      generalProductPostingGroupCode: 'RETAIL', inventoryPostingGroupId: EMPTY_GUID, inventoryPostingGroupCode: i.type === 'Inventory' ? 'RESALE' : '',
    });
    for (const v of i.variants) db.insert('itemVariants', { itemId: item.id, itemNumber: i.number, code: v.code, description: v.description });
    for (const [key, qty] of Object.entries(i.stock)) {
      const [loc, variant = ''] = key.split(':');
      (db.st.stock[i.number] ??= {})[`${variant}|${loc}`] = qty;
    }
  }
}
