/**
 * The OData request dispatcher, independent of HTTP so `$batch` can run inner requests through it:
 * resolves `companies({id})/{set}({key})/{nav}({key})`, applies query options and server-driven paging,
 * enforces If-Match, and runs writes through the entity definitions. Requests are handled synchronously,
 * so a batch never interleaves with other requests and can be rolled back by restoring a snapshot.
 */
import { randomUUID } from 'crypto';
import { BcError, errorBody, methodNotAllowed, querySyntax, recordNotFound, segmentNotFound } from './errors';
import type { Ctx, EntityDef } from './entities';
import { applyFilterSort, applySelect, parseQueryOptions, referencedProperties, type ExpandItem, type QueryOptions } from './odata/query';
import { GUID_RE } from './random';
import { etagOf, type Rec } from './state';

export interface ApiRequest {
  method: string;
  /** Path below the API root (`…/api/v2.0/` or the custom API's root), without query string. */
  path: string;
  query: Record<string, string>;
  /** Header names in lower case. */
  headers: Record<string, string>;
  body: unknown;
  /** Absolute URL of the API root (no trailing slash), for @odata.context, nextLink and Location. */
  rootUrl: string;
}

export interface ApiResponse {
  status: number;
  headers: Record<string, string>;
  body?: unknown;
  /** The entity set addressed (for request counters), e.g. `salesOrders`, `salesOrderLines`, `$batch`. */
  entity: string;
}

export interface HandlerConfig {
  defaultPageSize: number;
  maxPageSize: number;
  maxBatchOperations: number;
}

const JSON_HEADERS = { 'content-type': 'application/json; odata.metadata=minimal', 'odata-version': '4.0' };
const SEGMENT = /^([A-Za-z_$][\w.]*)(?:\(([^)]*)\))?$/;

interface Seg { name: string; key?: string }

function parseSegments(path: string): Seg[] {
  return path.split('/').filter((s) => s.length > 0).map((raw) => {
    const s = decodeURIComponent(raw);
    const m = s.match(SEGMENT);
    if (!m) throw querySyntax(`Invalid segment '${s}'.`);
    const key = m[2];
    if (key !== undefined && !GUID_RE.test(key)) throw querySyntax(`The key '${key}' is not a valid GUID.`);
    return key === undefined ? { name: m[1]! } : { name: m[1]!, key: key.toLowerCase() };
  });
}

type Pair = { rec: Rec; view: Record<string, unknown> };

export class Handler {
  constructor(
    private readonly ctx: Ctx,
    private readonly defs: Map<string, EntityDef>,
    private readonly cfg: HandlerConfig,
    private readonly withCompanies: boolean,
    /** Called once per operation, inner `$batch` requests included. */
    private readonly onOperation: (method: string, entity: string) => void = () => undefined,
  ) {}

  /** Handles one request; errors become BC error responses. */
  handle(req: ApiRequest): ApiResponse {
    let entity = '';
    let res: ApiResponse;
    try {
      res = req.path.replace(/^\/+/, '') === '$batch' && this.withCompanies ? this.batch(req) : this.dispatch(req, (e) => { entity = e; });
    } catch (err) {
      res = errorResponse(err, entity);
    }
    this.onOperation(req.method.toUpperCase(), res.entity);
    return res;
  }

  private dispatch(req: ApiRequest, setEntity: (e: string) => void): ApiResponse {
    const segs = parseSegments(req.path);
    const method = req.method.toUpperCase();
    let companyId: string | undefined;
    if (segs[0]?.name === 'companies') {
      setEntity('companies');
      const companies = this.ctx.db.all('companies');
      if (!segs[0].key) {
        if (segs.length > 1) throw querySyntax('A company key is required.');
        if (!this.withCompanies) throw segmentNotFound('companies');
        if (method !== 'GET') throw methodNotAllowed(method, 'companies');
        return this.list(req, this.defs.get('companies') ?? companiesDef(), companies, 'companies');
      }
      const company = companies.find((c) => c.id === segs[0]!.key);
      if (!company) throw new BcError(404, 'BadRequest_ResourceNotFound', `Cannot find company with id '${segs[0].key}'.`);
      companyId = company.id;
      segs.shift();
      if (segs.length === 0) {
        if (method !== 'GET' || !this.withCompanies) throw methodNotAllowed(method, 'companies');
        return this.single(req, companiesDef(), company, 'companies');
      }
    } else {
      const want = req.query.company ?? req.headers.company;
      const company = this.ctx.db.all('companies').find((c) => c.id === want?.toLowerCase() || c.name === want);
      if (!company) throw new BcError(400, 'BadRequest_NotFound', 'A company must be specified: companies({id})/… or ?company={id}.');
      companyId = company.id;
    }
    const base = `companies(${companyId})`;
    const first = segs[0]!;
    const def = this.defs.get(first.name);
    if (!def) throw segmentNotFound(first.name);
    setEntity(def.set);
    if (segs.length === 1) {
      if (!first.key) {
        if (method === 'GET') return this.list(req, def, def.rows(this.ctx), `${base}/${def.set}`);
        if (method === 'POST') {
          if (!def.create) throw methodNotAllowed(method, def.set);
          return this.created(req, def, def.create(this.ctx, req.body), base);
        }
        throw methodNotAllowed(method, def.set);
      }
      return this.entity(req, def, this.mustGet(def, first.key), base);
    }
    if (!first.key) throw querySyntax(`A key is required before '${segs[1]!.name}'.`);
    const parent = this.mustGet(def, first.key);
    const second = segs[1]!;
    if (segs.length > 2) throw segmentNotFound(segs[2]!.name);
    if (second.name.startsWith('Microsoft.NAV.')) {
      const action = def.actions?.[second.name.slice('Microsoft.NAV.'.length)];
      if (!action) throw segmentNotFound(second.name);
      if (method !== 'POST') throw methodNotAllowed(method, second.name);
      action(this.ctx, parent);
      return { status: 204, headers: {}, entity: def.set };
    }
    const nav = def.nav?.[second.name];
    if (!nav) throw segmentNotFound(second.name);
    const target = this.defs.get(nav.target)!;
    setEntity(target.set);
    const rows = nav.rows(this.ctx, parent);
    const navPath = `${base}/${def.set}(${parent.id})/${second.name}`;
    if (!nav.many) {
      if (method !== 'GET') throw methodNotAllowed(method, second.name);
      if (!rows[0]) return { status: 204, headers: {}, entity: target.set };
      return this.single(req, target, rows[0], navPath);
    }
    if (!second.key) {
      if (method === 'GET') return this.list(req, target, rows, navPath);
      if (method === 'POST' && nav.create) return this.created(req, target, nav.create(this.ctx, parent, req.body), base);
      throw methodNotAllowed(method, second.name);
    }
    const child = rows.find((r) => r.id === second.key);
    if (!child) throw recordNotFound(target.noun, `Id='${second.key}'`);
    return this.entity(req, target, child, base);
  }

  private mustGet(def: EntityDef, key: string): Rec {
    const rec = def.get(this.ctx, key);
    if (!rec) throw recordNotFound(def.noun, `Id='${key}'`);
    return rec;
  }

  private entity(req: ApiRequest, def: EntityDef, rec: Rec, base: string): ApiResponse {
    const method = req.method.toUpperCase();
    if (method === 'GET') return this.single(req, def, rec, `${base}/${def.set}`);
    if (method === 'PATCH') {
      if (!def.update) throw methodNotAllowed(method, def.set);
      const ifMatch = req.headers['if-match'];
      if (!ifMatch) {
        throw new BcError(400, 'BadRequest_InvalidToken', 'Could not validate the client concurrency token required by the service. Please provide a valid token in the client request.');
      }
      checkEtag(ifMatch, rec);
      def.update(this.ctx, rec, req.body);
      return this.single(req, def, rec, `${base}/${def.set}`);
    }
    if (method === 'DELETE') {
      if (!def.remove) throw methodNotAllowed(method, def.set);
      const ifMatch = req.headers['if-match'];
      if (ifMatch) checkEtag(ifMatch, rec);
      def.remove(this.ctx, rec);
      return { status: 204, headers: {}, entity: def.set };
    }
    throw methodNotAllowed(method, def.set);
  }

  private created(req: ApiRequest, def: EntityDef, rec: Rec, base: string): ApiResponse {
    const r = this.single(req, def, rec, `${base}/${def.set}`);
    return { ...r, status: 201, headers: { ...r.headers, location: `${req.rootUrl}/${base}/${def.set}(${rec.id})` } };
  }

  private view(def: EntityDef, rec: Rec): Record<string, unknown> {
    const v = def.view ? def.view(this.ctx, rec) : rec;
    const out: Record<string, unknown> = { '@odata.etag': etagOf(rec) };
    for (const p of def.props) out[p] = v[p] ?? null;
    return out;
  }

  private checkProps(def: EntityDef, o: QueryOptions): void {
    for (const p of referencedProperties(o)) {
      if (!def.props.includes(p)) throw new BcError(400, 'BadRequest_NotFound', `Could not find a property named '${p}' on type 'Microsoft.NAV.${def.type}'.`);
    }
    for (const e of o.expand ?? []) {
      const nav = def.nav?.[e.nav];
      if (!nav) throw new BcError(400, 'BadRequest_NotFound', `Could not find a property named '${e.nav}' on type 'Microsoft.NAV.${def.type}'.`);
      this.checkProps(this.defs.get(nav.target)!, e.options);
    }
  }

  private shape(def: EntityDef, p: Pair, o: QueryOptions): Record<string, unknown> {
    const out = applySelect(p.view, o.select, ['id']);
    for (const e of o.expand ?? []) out[e.nav] = this.expand(def, p.rec, e);
    return out;
  }

  private expand(def: EntityDef, rec: Rec, e: ExpandItem): unknown {
    const nav = def.nav![e.nav]!;
    const target = this.defs.get(nav.target)!;
    const pairs = this.query(target, nav.rows(this.ctx, rec), e.options);
    if (!nav.many) return pairs[0] ? this.shape(target, pairs[0], e.options) : null;
    return pairs.map((p) => this.shape(target, p, e.options));
  }

  /** Filter, order, $skip and $top over the rendered rows (filters see computed fields too). */
  private query(def: EntityDef, rows: Rec[], o: QueryOptions): Pair[] {
    const byView = new Map<Record<string, unknown>, Rec>();
    const views = rows.map((r) => { const v = this.view(def, r); byView.set(v, r); return v; });
    let out = applyFilterSort(views, o);
    if (o.skip) out = out.slice(o.skip);
    if (o.top !== undefined) out = out.slice(0, o.top);
    return out.map((view) => ({ rec: byView.get(view)!, view }));
  }

  private list(req: ApiRequest, def: EntityDef, rows: Rec[], contextPath: string): ApiResponse {
    const o = parseQueryOptions(req.query);
    this.checkProps(def, o);
    const all = this.query(def, rows, o);
    const headers: Record<string, string> = { ...JSON_HEADERS };
    let pageSize = this.cfg.defaultPageSize;
    const prefer = /odata\.maxpagesize=(\d+)/i.exec(req.headers.prefer ?? '');
    if (prefer) {
      pageSize = Math.min(Number(prefer[1]), this.cfg.maxPageSize);
      if (pageSize < 1) throw querySyntax('odata.maxpagesize must be at least 1.');
      headers['preference-applied'] = `odata.maxpagesize=${pageSize}`;
    }
    const start = req.query.$skiptoken !== undefined ? decodeSkipToken(req.query.$skiptoken) : 0;
    const page = all.slice(start, start + pageSize);
    const body: Record<string, unknown> = {
      '@odata.context': `${req.rootUrl}/$metadata#${contextPath}${o.select ? `(${o.select.join(',')})` : ''}`,
      value: page.map((p) => this.shape(def, p, o)),
    };
    if (start + pageSize < all.length) body['@odata.nextLink'] = nextLink(req, start + pageSize);
    return { status: 200, headers, body, entity: def.set };
  }

  private single(req: ApiRequest, def: EntityDef, rec: Rec, contextPath: string): ApiResponse {
    const o = parseQueryOptions(req.method.toUpperCase() === 'GET' || req.method.toUpperCase() === 'POST' ? req.query : {});
    if (o.filter || o.orderby || o.top !== undefined || o.skip !== undefined) throw querySyntax('Query options $filter, $orderby, $top and $skip apply to collections only.');
    this.checkProps(def, o);
    const view = this.view(def, rec);
    const body = { '@odata.context': `${req.rootUrl}/$metadata#${contextPath}/$entity`, ...this.shape(def, { rec, view }, o) };
    return { status: 200, headers: { ...JSON_HEADERS, etag: etagOf(rec) }, body, entity: def.set };
  }

  // ---- $batch ----

  private batch(req: ApiRequest): ApiResponse {
    if (req.method.toUpperCase() !== 'POST') throw methodNotAllowed(req.method, '$batch');
    const requests = (req.body as { requests?: unknown } | null)?.requests;
    if (!Array.isArray(requests)) throw new BcError(400, 'BadRequest', 'A JSON batch request body must contain a "requests" array.');
    if (requests.length > this.cfg.maxBatchOperations) {
      throw new BcError(400, 'BadRequest', `The batch contains ${requests.length} operations; the maximum is ${this.cfg.maxBatchOperations}.`);
    }
    const ids = new Set<string>();
    const ops = requests.map((r: unknown, i: number) => {
      const op = r as Record<string, unknown> | null;
      if (!op || typeof op !== 'object' || typeof op.method !== 'string' || typeof op.url !== 'string' || typeof op.id !== 'string') {
        throw new BcError(400, 'BadRequest', `Batch request ${i} must have string "id", "method" and "url".`);
      }
      if (ids.has(op.id)) throw new BcError(400, 'BadRequest', `Duplicate batch request id '${op.id}'.`);
      ids.add(op.id);
      return { id: op.id, method: op.method, url: op.url, headers: lowerKeys(op.headers), body: op.body };
    });
    const atomic = /^snapshot$/i.test(req.headers.isolation ?? '');
    const saved = atomic ? this.ctx.db.snapshot() : undefined;
    const responses: { id: string; status: number; headers: Record<string, string>; body?: unknown }[] = [];
    let failedAt = -1;
    for (const [i, op] of ops.entries()) {
      const { path, query } = splitInnerUrl(op.url);
      const inner = this.handle({ method: op.method, path, query, headers: op.headers, body: op.body, rootUrl: req.rootUrl });
      responses.push({ id: op.id, status: inner.status, headers: inner.headers, ...(inner.body === undefined ? {} : { body: inner.body }) });
      if (atomic && inner.status >= 400) { failedAt = i; break; }
    }
    if (saved && failedAt >= 0) {
      this.ctx.db.restore(saved);
      const failed = responses[failedAt]!;
      const correlationId = randomUUID();
      return {
        status: 200, headers: { 'content-type': 'application/json' }, entity: '$batch',
        body: {
          responses: ops.map((op) => (op.id === failed.id ? failed : {
            id: op.id, status: 424, headers: { 'content-type': 'application/json' },
            body: errorBody('BadRequest_BatchRolledBack', `The transactional batch was rolled back because request '${failed.id}' failed; this request's changes were not saved.`, correlationId),
          })),
        },
      };
    }
    return { status: 200, headers: { 'content-type': 'application/json' }, body: { responses }, entity: '$batch' };
  }
}

function checkEtag(ifMatch: string, rec: Rec): void {
  if (ifMatch.trim() === '*') return;
  if (ifMatch.trim() !== etagOf(rec)) throw new BcError(409, 'Request_EntityChanged', 'Another user has already changed the record.');
}

function lowerKeys(h: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (h && typeof h === 'object') for (const [k, v] of Object.entries(h)) if (typeof v === 'string') out[k.toLowerCase()] = v;
  return out;
}

/** Inner batch URLs are relative to `…/api/v2.0/`; absolute ones are cut down to that. */
function splitInnerUrl(url: string): { path: string; query: Record<string, string> } {
  let u = url;
  const at = u.indexOf('/api/v2.0/');
  if (/^https?:/i.test(u) && at >= 0) u = u.slice(at + '/api/v2.0/'.length);
  u = u.replace(/^\/+/, '');
  const q = u.indexOf('?');
  const query: Record<string, string> = {};
  if (q >= 0) for (const [k, v] of new URLSearchParams(u.slice(q + 1))) query[k] = v;
  return { path: q >= 0 ? u.slice(0, q) : u, query };
}

function decodeSkipToken(t: string): number {
  const n = Number(Buffer.from(t, 'base64url').toString('utf8'));
  if (!Number.isInteger(n) || n < 0) throw querySyntax(`Invalid $skiptoken '${t}'.`);
  return n;
}

function nextLink(req: ApiRequest, offset: number): string {
  const params = new URLSearchParams();
  for (const [k, v] of Object.entries(req.query)) if (k !== '$skiptoken') params.append(k, v);
  params.append('$skiptoken', Buffer.from(String(offset)).toString('base64url'));
  return `${req.rootUrl}/${req.path.replace(/^\/+/, '')}?${params.toString().replace(/%24/g, '$')}`;
}

export function errorResponse(err: unknown, entity: string, correlationId: string = randomUUID()): ApiResponse {
  const e = err instanceof BcError ? err : new BcError(500, 'Unknown', `An unexpected error occurred: ${(err as Error)?.message ?? String(err)}`);
  return { status: e.status, headers: { 'content-type': 'application/json', ...e.headers }, body: errorBody(e.code, e.message, correlationId), entity };
}

function companiesDef(): EntityDef {
  return {
    set: 'companies', type: 'company', noun: 'Company', props: ['id', 'systemVersion', 'timestamp', 'name', 'displayName', 'businessProfileId', 'systemCreatedAt'],
    rows: (ctx) => ctx.db.all('companies'), get: (ctx, id) => ctx.db.get('companies', id),
  };
}
