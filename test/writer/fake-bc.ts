import { randomUUID } from 'crypto';
import type { BcApi, BcRequestOptions, BatchOperation, BatchResult, ODataQuery } from '../../nodes/lib/d365/bc-api';
import { BcApiError } from '../../nodes/lib/d365/errors';

type Row = Record<string, any>;
const NAV: Record<string, string> = { salesOrders: 'salesOrderLines', salesCreditMemos: 'salesCreditMemoLines', salesShipments: 'salesShipmentLines' };

/**
 * An in-memory Business Central for unit tests of the writer, trigger and sender: the entity sets they use,
 * a small $filter subset (`a eq 'x' and b ge 2026-…`), etags, deep insert, and two faults (a lost response
 * after the write happened, and transient 503s). postShipment plays the warehouse posting a shipment.
 */
export class FakeBc implements BcApi {
  sets: Record<string, Row[]> = { salesOrders: [], salesCreditMemos: [], salesShipments: [], shipmentTrackings: [], locations: [], shipmentMethods: [] };
  calls: { method: string; path: string; body?: unknown }[] = [];
  private seq = 1000;
  private clock = Date.parse('2026-03-10T17:00:00Z');
  /** Number of upcoming calls answered with 503 before doing anything. */
  unavailable = 0;
  /** Entity set whose next POST is performed but answered with a network failure. */
  loseNextPostTo?: string;
  /** Fixed lastModifiedDateTime for the next shipments (equal timestamps). */
  freezeClock = false;

  constructor() {
    this.sets.locations = ['EAST', 'WEST', 'EU'].map((code) => ({ id: randomUUID(), code }));
    this.sets.shipmentMethods = ['STANDARD', 'EXPRESS'].map((code) => ({ id: randomUUID(), code }));
  }

  tick(): string {
    if (!this.freezeClock) this.clock += 1000;
    return new Date(this.clock).toISOString();
  }

  private gate(method: string, path: string, body?: unknown) {
    this.calls.push({ method, path, body });
    if (this.unavailable > 0) {
      this.unavailable--;
      throw new BcApiError({ status: 503, code: 'ServiceUnavailable', message: 'Service Temporarily Unavailable' });
    }
  }

  private resolve(path: string): { set: string; row?: Row; parent?: Row; nav?: string } {
    const m = /^(\w+)(?:\(([^)]+)\))?(?:\/(\w+)(?:\(([^)]+)\))?)?$/.exec(path);
    if (!m) throw new BcApiError({ status: 400, code: 'BadRequest', message: `bad path ${path}` });
    const [, set, id, nav, navId] = m;
    const rows = this.sets[set!];
    if (!rows) throw new BcApiError({ status: 404, code: 'BadRequest_ResourceNotFound', message: `no entity set ${set}` });
    if (!id) return { set: set! };
    const row = rows.find((r) => r.id === id);
    if (!row) throw new BcApiError({ status: 404, code: 'Internal_RecordNotFound', message: `${set} ${id} does not exist` });
    if (!nav) return { set: set!, row };
    const lines: Row[] = row[nav] ?? [];
    if (!navId) return { set: set!, parent: row, nav };
    const line = lines.find((l) => l.id === navId);
    if (!line) throw new BcApiError({ status: 404, code: 'Internal_RecordNotFound', message: `line ${navId} does not exist` });
    return { set: set!, parent: row, nav, row: line };
  }

  private shape(row: Row, set: string, expand?: string): Row {
    const out = { ...row };
    const nav = NAV[set];
    if (nav && expand !== nav) delete out[nav];
    if (nav && expand === nav) out[nav] = row[nav].map((l: Row) => ({ ...l }));
    return out;
  }

  async list<T>(entitySet: string, q: ODataQuery = {}, _opts?: BcRequestOptions): Promise<T[]> {
    this.gate('GET', entitySet);
    let rows = [...(this.sets[entitySet] ?? [])];
    if (q.filter) rows = rows.filter((r) => matches(r, q.filter!));
    if (q.orderby) { const f = q.orderby.split(' ')[0]!; rows.sort((a, b) => (a[f] < b[f] ? -1 : a[f] > b[f] ? 1 : 0)); }
    if (q.skip) rows = rows.slice(q.skip);
    if (q.top) rows = rows.slice(0, q.top);
    return rows.map((r) => this.shape(r, entitySet, q.expand)) as T[];
  }

  async get<T>(path: string, q: ODataQuery = {}): Promise<T> {
    this.gate('GET', path);
    const { set, row } = this.resolve(path);
    return this.shape(row!, set, q.expand) as T;
  }

  async post<T>(path: string, body: any): Promise<T> {
    this.gate('POST', path, body);
    const { set, parent, nav } = this.resolve(path);
    let created: Row;
    if (parent && nav) {
      created = this.line(body, parent[nav].length);
      parent[nav].push(created);
      this.touch(parent);
    } else {
      const lines = NAV[set] ? (body[NAV[set]!] ?? []).map((l: Row, i: number) => this.line(l, i)) : undefined;
      const prefix = set === 'salesCreditMemos' ? 'CM' : 'SO';
      created = { ...body, id: randomUUID(), number: `${prefix}${++this.seq}`, status: 'Draft', '@odata.etag': etag(), lastModifiedDateTime: this.tick() };
      if (NAV[set]) created[NAV[set]!] = lines;
      this.sets[set]!.push(created);
    }
    if (this.loseNextPostTo === set) {
      this.loseNextPostTo = undefined;
      throw new BcApiError({ status: 0, code: 'ECONNRESET', message: 'network error (ECONNRESET)' });
    }
    return this.shape(created, set) as T;
  }

  private line(l: Row, i: number): Row {
    return { ...l, id: randomUUID(), sequence: l.sequence ?? (i + 1) * 10000, shippedQuantity: 0, '@odata.etag': etag() };
  }

  private touch(r: Row) { r['@odata.etag'] = etag(); r.lastModifiedDateTime = this.tick(); }

  async patch<T>(path: string, body: any, tag: string): Promise<T> {
    this.gate('PATCH', path, body);
    const { set, row, parent } = this.resolve(path);
    if (tag !== '*' && tag !== row!['@odata.etag']) throw new BcApiError({ status: 412, code: 'Request_EntityChanged', message: 'Another user has already changed the record.' });
    if (body.quantity !== undefined && body.quantity < (row!.shippedQuantity ?? 0)) {
      throw new BcApiError({ status: 400, code: 'Application_FieldValidationException', message: 'quantity below shipped quantity' });
    }
    Object.assign(row!, body);
    this.touch(row!);
    if (parent) this.touch(parent);
    return this.shape(row!, set) as T;
  }

  async delete(path: string, tag = '*'): Promise<void> {
    this.gate('DELETE', path);
    const { set, row, parent, nav } = this.resolve(path);
    if (tag !== '*' && tag !== row!['@odata.etag']) throw new BcApiError({ status: 412, code: 'Request_EntityChanged', message: 'Another user has already changed the record.' });
    if (parent && nav) parent[nav] = parent[nav].filter((l: Row) => l !== row);
    else this.sets[set] = this.sets[set]!.filter((r) => r !== row);
  }

  async action(path: string): Promise<void> { this.gate('POST', path); }
  async batch(_ops: readonly BatchOperation[]): Promise<BatchResult[]> { throw new Error('FakeBc: $batch is not used by these nodes'); }

  /** The warehouse posts a shipment of an order's lines (by sequence), with optional tracking. */
  postShipment(orderNumber: string, o: { lines: { sequence: number; quantity: number }[]; trackingNumber?: string; shippingAgentCode?: string; trackingUrl?: string }): Row {
    const so = this.sets.salesOrders!.find((r) => r.number === orderNumber);
    if (!so) throw new Error(`no sales order ${orderNumber}`);
    const number = `SSHP${++this.seq}`;
    const at = this.tick();
    const lines = o.lines.map((x) => {
      const l = so.salesOrderLines.find((y: Row) => y.sequence === x.sequence);
      l.shippedQuantity += x.quantity;
      return { id: randomUUID(), documentNo: number, sequence: x.sequence, lineType: l.lineType, lineObjectNumber: l.lineObjectNumber, description: l.description ?? '', quantity: x.quantity };
    });
    this.touch(so);
    const shipment = { id: randomUUID(), number, orderNumber, externalDocumentNumber: so.externalDocumentNumber, customerNumber: so.customerNumber,
      lastModifiedDateTime: at, salesShipmentLines: lines };
    this.sets.salesShipments!.push(shipment);
    if (o.trackingNumber) {
      this.sets.shipmentTrackings!.push({ id: randomUUID(), shipmentNumber: number, orderNumber, externalDocumentNumber: so.externalDocumentNumber,
        shippingAgentCode: o.shippingAgentCode ?? '', packageTrackingNo: o.trackingNumber, trackingUrl: o.trackingUrl ?? '', lastModifiedDateTime: at });
    }
    return shipment;
  }
}

function etag(): string { return `W/"${randomUUID()}"`; }

/** `a eq 'x' and b gt 2026-01-01T00:00:00Z` — the subset these nodes send. */
function matches(row: Row, filter: string): boolean {
  return filter.split(/\s+and\s+/).every((clause) => {
    const m = /^(\w+)\s+(eq|ne|gt|ge|lt|le)\s+(.+)$/.exec(clause.trim());
    if (!m) throw new BcApiError({ status: 400, code: 'BadRequest', message: `unsupported filter ${clause}` });
    const [, field, op, raw] = m;
    const value = raw!.startsWith("'") ? raw!.slice(1, -1).replace(/''/g, "'") : raw!;
    const v = row[field!];
    const cmp = typeof v === 'number' ? v - Number(value) : String(v ?? '') < value ? -1 : String(v ?? '') > value ? 1 : 0;
    return { eq: cmp === 0, ne: cmp !== 0, gt: cmp > 0, ge: cmp >= 0, lt: cmp < 0, le: cmp <= 0 }[op as 'eq'];
  });
}
