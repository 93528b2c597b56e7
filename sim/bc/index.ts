/**
 * A local Dynamics 365 Business Central (API v2.0) for tests, the demo and the benchmark: Entra-style
 * token endpoint, the standard API under `/v2.0/{tenant}/{env}/api/v2.0/…`, the companion extension's
 * API, per-client throttling, fault injection and a control API under `/_sim/…`.
 */
import express, { type Request, type Response } from 'express';
import type { AddressInfo } from 'net';
import type { Server } from 'http';
import { buildCatalogue, type Catalogue } from '../catalogue';
import { Auth } from './auth';
import { customEntities, standardEntities, type Ctx } from './entities';
import { BcError } from './errors';
import { Handler, errorResponse, type ApiResponse } from './handler';
import { BcSimOptions, Faults, Limits, type BcSimConfig, type BcSimOptionsInput, type FaultsInput, type LimitsInput } from './options';
import { seededRandom, type Rand } from './random';
import { Sales, type ShipmentOptions } from './sales';
import { Db, seed, type Rec } from './state';
import { Throttle, type ThrottleStats } from './throttle';

export type { BcSimOptionsInput, ShipmentOptions };

export type FaultKind = 429 | 503 | 504 | 'lostResponse';
interface PendingFault { remaining: number; kind: FaultKind; method?: string; entity?: string }

export interface BcSimStats extends ThrottleStats {
  requests: number;
  unauthorized: number;
  injectedErrors: number;
  lostResponses: number;
  tokensIssued: number;
}

export interface BcSim {
  /** Server origin; the API is at `${url}/v2.0/{tenant}/{environment}/api/v2.0/…`. */
  url: string;
  tokenUrl: string;
  /** `${url}/v2.0/{tenant}/{environment}/api/v2.0`. */
  apiUrl: string;
  /** Root of the companion extension's API: `${url}/v2.0/{tenant}/{environment}/api/shopifyD365/integration/v1.0`. */
  customApiUrl: string;
  companyId: string;
  tenant: string;
  environment: string;
  clientId: string;
  clientSecret: string;
  scope: string;
  catalogue: Catalogue;
  /** The live in-memory database (read it in assertions; change it through the methods below). */
  db: Db;
  close(): Promise<void>;
  /** HTTP requests received per `METHOD entitySet` (a $batch counts once as `POST $batch`). */
  requests(): Record<string, number>;
  /** Operations per `METHOD entitySet`, inner $batch requests included. */
  operations(): Record<string, number>;
  stats(): BcSimStats;
  resetCounters(): void;
  /** A sales order as the API shows it, with its lines, by number or external document number. */
  order(numberOrExternal: string): (Record<string, unknown> & { salesOrderLines: Record<string, unknown>[] }) | undefined;
  postShipment(orderNumber: string, opts?: ShipmentOptions): Record<string, unknown>;
  invoiceOrder(orderNumber: string): Record<string, unknown>;
  setStock(itemNumber: string, variantCode: string, locationCode: string, quantity: number): void;
  onHand(itemNumber: string, variantCode: string, locationCode: string): number;
  blockItem(itemNumber: string, blocked?: boolean): void;
  blockCustomer(customerNumber: string, blocked?: ' ' | 'Ship' | 'Invoice' | 'All'): void;
  setFaults(faults: FaultsInput): void;
  setLimits(limits: LimitsInput): void;
  setLatency(ms: number): void;
  /** The next `count` matching API requests fail with `kind` (lostResponse: only sales order POSTs, committed first). */
  failNext(count: number, kind: FaultKind, match?: { method?: string; entity?: string }): void;
  expireTokens(): void;
  /** Back to the seeded catalogue, counters and faults as started; issued tokens stay valid. */
  reset(): void;
}

const API_PATH = /^\/v2\.0\/(?:([^/]+)\/)?([^/]+)\/api\/(v2\.0|shopifyD365\/integration\/v1\.0)(?:\/(.*))?$/;

function entityOfPath(path: string): string {
  const segs = path.split('/').filter(Boolean).map((s) => s.replace(/\(.*\)$/, ''));
  const rest = segs[0] === 'companies' && segs.length > 1 ? segs.slice(1) : segs;
  const last = rest[rest.length - 1] ?? '';
  if (last.startsWith('Microsoft.NAV.')) return `${rest[rest.length - 2] ?? ''}.${last.slice('Microsoft.NAV.'.length)}`;
  return last;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

export async function startBcSim(input: BcSimOptionsInput = {}): Promise<BcSim> {
  const cfg: BcSimConfig = BcSimOptions.parse(input);
  const catalogue = cfg.catalogue ?? buildCatalogue();
  const scaled = (l: BcSimConfig['limits']) => ({ ...l, windowMs: l.windowMs * cfg.timeScale, queueTimeoutMs: l.queueTimeoutMs * cfg.timeScale });

  let rand: Rand = seededRandom(cfg.seed);
  let faultRand: Rand = seededRandom(cfg.seed ^ 0x5eed);
  const db = new Db(rand);
  const sales = new Sales(db, { lcy: catalogue.currency, taxAreaFrom: cfg.taxAreaFrom });
  const ctx: Ctx = { db, sales, lcy: catalogue.currency, startedAt: db.now() };
  const load = () => { seed(db, catalogue); ctx.startedAt = db.now(); };
  load();

  let faults = Faults.parse(cfg.faults);
  let latencyMs = cfg.latencyMs;
  let pending: PendingFault[] = [];
  const counters = { requests: new Map<string, number>(), operations: new Map<string, number>() };
  const extra = { requests: 0, unauthorized: 0, injectedErrors: 0, lostResponses: 0 };
  const bump = (m: Map<string, number>, k: string) => m.set(k, (m.get(k) ?? 0) + 1);

  const auth = new Auth({ tenant: cfg.tenant, clients: { ...cfg.extraClients, [cfg.clientId]: cfg.clientSecret }, expiresIn: cfg.tokenExpiresIn, timeScale: cfg.timeScale });
  const throttle = new Throttle(scaled(cfg.limits));
  const handlerCfg = { defaultPageSize: cfg.pageSize, maxPageSize: cfg.maxPageSize, maxBatchOperations: 100 };
  const onOp = (method: string, entity: string) => bump(counters.operations, `${method} ${entity}`);
  const standard = new Handler(ctx, standardEntities(), handlerCfg, true, onOp);
  const custom = new Handler(ctx, customEntities(), handlerCfg, false, onOp);

  const app = express();
  app.disable('x-powered-by');

  const sendApi = (res: Response, r: ApiResponse) => {
    res.status(r.status);
    for (const [k, v] of Object.entries(r.headers)) res.setHeader(k, v);
    if (r.body === undefined) res.end();
    else res.type(r.headers['content-type'] ?? 'application/json').send(JSON.stringify(r.body));
  };
  const sendError = (res: Response, err: unknown) => sendApi(res, errorResponse(err, ''));

  // ---- Entra token endpoint ----
  app.post('/:tenant/oauth2/v2.0/token', express.urlencoded({ extended: false, limit: '64kb' }), (req: Request, res: Response) => {
    const form: Record<string, string> = {};
    for (const [k, v] of Object.entries((req.body ?? {}) as Record<string, unknown>)) if (typeof v === 'string') form[k] = v;
    const r = auth.token(String(req.params.tenant), form, req.headers.authorization);
    res.status(r.status).setHeader('cache-control', 'no-store');
    res.json(r.body);
  });

  // ---- Business Central API ----
  app.all(/^\/v2\.0\//, express.raw({ type: () => true, limit: '50mb' }), (req: Request, res: Response) => {
    void handleApi(req, res).catch((err) => { if (!res.headersSent) sendError(res, err); });
  });

  async function handleApi(req: Request, res: Response): Promise<void> {
    const [rawPath = '', rawQuery = ''] = req.originalUrl.split(/\?(.*)/s);
    const m = API_PATH.exec(rawPath);
    if (!m) throw new BcError(404, 'BadRequest_ResourceNotFound', `No HTTP resource was found that matches the request URI '${rawPath}'.`);
    const [, tenant, env, api, rest = ''] = m;
    extra.requests++;
    const clientId = auth.check(req.headers.authorization);
    if (!clientId || (tenant !== undefined && tenant !== cfg.tenant)) {
      extra.unauthorized++;
      res.setHeader('www-authenticate', `Bearer authorization_uri="${origin}/${cfg.tenant}/oauth2/authorize", resource_id="https://api.businesscentral.dynamics.com"`);
      throw new BcError(401, 'Authentication_InvalidCredentials', 'The server has rejected the client credentials.');
    }
    if (env !== cfg.environment) throw new BcError(404, 'BadRequest_ResourceNotFound', `Environment '${env}' was not found.`);
    const method = req.method.toUpperCase();
    const entity = entityOfPath(rest);
    bump(counters.requests, `${method} ${entity}`);
    if (faults.down) throw new BcError(503, 'Internal_ServiceUnavailable', 'Service Temporarily Unavailable.', { 'retry-after': '5' });

    const release = await throttle.acquire(clientId);
    try {
      const fault = takeFault(method, entity);
      if (fault !== undefined && fault !== 'lostResponse') {
        extra.injectedErrors++;
        throw injected(fault);
      }
      let body: unknown;
      const raw = Buffer.isBuffer(req.body) ? req.body.toString('utf8') : '';
      if (raw.trim()) {
        try { body = JSON.parse(raw); } catch { throw new BcError(400, 'BadRequest', 'The request body is not valid JSON.'); }
      }
      const ops = rest === '$batch' ? Math.max(1, ((body as { requests?: unknown[] } | undefined)?.requests?.length ?? 1)) : 1;
      if (latencyMs > 0) await sleep(latencyMs * ops);
      const query: Record<string, string> = {};
      for (const [k, v] of new URLSearchParams(rawQuery)) query[k] = v;
      const headers: Record<string, string> = {};
      for (const [k, v] of Object.entries(req.headers)) if (typeof v === 'string') headers[k.toLowerCase()] = v;
      const rootUrl = `${origin}/v2.0/${tenant ?? cfg.tenant}/${env}/api/${api}`;
      const handler = api === 'v2.0' ? standard : custom;
      const r = handler.handle({ method, path: rest, query, headers, body, rootUrl });
      const isOrderCreate = method === 'POST' && entity === 'salesOrders' && r.status === 201;
      if (isOrderCreate && (fault === 'lostResponse' || (faults.lostResponseRate > 0 && faultRand() < faults.lostResponseRate))) {
        extra.lostResponses++;
        const reset = faults.lostResponseMode === 'reset' || (faults.lostResponseMode === 'random' && faultRand() < 0.5);
        if (reset) { req.socket.destroy(); return; }
        throw new BcError(504, 'GatewayTimeout', 'The operation timed out before a response was returned.');
      }
      sendApi(res, r);
    } finally {
      release();
    }
  }

  function takeFault(method: string, entity: string): FaultKind | undefined {
    const i = pending.findIndex((p) => (!p.method || p.method === method) && (!p.entity || p.entity === entity)
      && (p.kind !== 'lostResponse' || (method === 'POST' && entity === 'salesOrders')));
    if (i >= 0) {
      const p = pending[i]!;
      if (--p.remaining <= 0) pending.splice(i, 1);
      return p.kind;
    }
    if (faults.errorRate > 0 && faultRand() < faults.errorRate) return faults.errorStatuses[Math.floor(faultRand() * faults.errorStatuses.length)];
    return undefined;
  }

  function injected(kind: 429 | 503 | 504): BcError {
    if (kind === 429) {
      return new BcError(429, 'Application_TooManyRequests', 'Too Many Requests. Retry later.', throttle.limits.retryAfterOn429 ? { 'retry-after': '1' } : {});
    }
    if (kind === 503) return new BcError(503, 'Internal_ServiceUnavailable', 'Service Temporarily Unavailable.', { 'retry-after': '1' });
    return new BcError(504, 'GatewayTimeout', 'The operation timed out before a response was returned.');
  }

  // ---- control API ----
  const control = express.Router();
  control.use(express.json({ limit: '1mb' }));
  const ctl = (fn: (req: Request) => unknown) => (req: Request, res: Response) => {
    try {
      const out = fn(req);
      if (out === undefined) res.status(204).end();
      else res.json(out);
    } catch (err) {
      sendError(res, err);
    }
  };
  const str = (v: unknown, name: string) => {
    if (typeof v !== 'string') throw new BcError(400, 'BadRequest', `${name} must be a string.`);
    return v;
  };
  control.post('/reset', ctl(() => { sim.reset(); }));
  control.get('/requests', ctl(() => ({ requests: sim.requests(), operations: sim.operations() })));
  control.get('/stats', ctl(() => sim.stats()));
  control.post('/counters/reset', ctl(() => { sim.resetCounters(); }));
  control.post('/orders/:number/shipments', ctl((req) => sim.postShipment(String(req.params.number), (req.body ?? {}) as ShipmentOptions)));
  control.post('/orders/:number/invoice', ctl((req) => sim.invoiceOrder(String(req.params.number))));
  control.get('/orders/:number', ctl((req) => {
    const o = sim.order(String(req.params.number));
    if (!o) throw new BcError(404, 'Internal_RecordNotFound', `No sales order '${String(req.params.number)}'.`);
    return o;
  }));
  control.put('/stock', ctl((req) => {
    const b = (req.body ?? {}) as Record<string, unknown>;
    if (typeof b.quantity !== 'number') throw new BcError(400, 'BadRequest', 'quantity must be a number.');
    sim.setStock(str(b.item, 'item'), typeof b.variant === 'string' ? b.variant : '', str(b.location, 'location'), b.quantity);
  }));
  control.post('/items/:number/blocked', ctl((req) => { sim.blockItem(String(req.params.number), (req.body as { blocked?: boolean })?.blocked ?? true); }));
  control.post('/customers/:number/blocked', ctl((req) => {
    sim.blockCustomer(String(req.params.number), ((req.body as { blocked?: string })?.blocked ?? 'All') as ' ' | 'Ship' | 'Invoice' | 'All');
  }));
  control.post('/faults', ctl((req) => { sim.setFaults((req.body ?? {}) as FaultsInput); return faults; }));
  control.post('/limits', ctl((req) => { sim.setLimits((req.body ?? {}) as LimitsInput); return throttle.limits; }));
  control.post('/fail-next', ctl((req) => {
    const b = (req.body ?? {}) as { count?: number; kind?: FaultKind; method?: string; entity?: string };
    sim.failNext(b.count ?? 1, b.kind ?? 503, { method: b.method, entity: b.entity });
  }));
  control.post('/tokens/expire', ctl(() => { sim.expireTokens(); }));
  app.use('/_sim', control);

  app.use((req: Request, res: Response) => sendError(res, new BcError(404, 'BadRequest_ResourceNotFound', `No HTTP resource was found that matches the request URI '${req.path}'.`)));

  const server: Server = await new Promise((resolve, reject) => {
    const s = app.listen(cfg.port, cfg.host, () => resolve(s));
    s.once('error', reject);
  });
  const { port } = server.address() as AddressInfo;
  const origin = `http://${cfg.host.includes(':') ? `[${cfg.host}]` : cfg.host}:${port}`;
  const companyId = () => db.all('companies')[0]!.id;

  const mustItem = (no: string): Rec => {
    const item = db.by('items', 'number', no);
    if (!item) throw new BcError(404, 'Internal_RecordNotFound', `The Item does not exist. Identification fields and values: No.='${no}'`);
    return item;
  };
  const render = (set: string, rec: Rec) => {
    const r = standard.handle({ method: 'GET', path: `companies(${companyId()})/${set}(${rec.id})`, query: {}, headers: {}, body: undefined, rootUrl: sim.apiUrl });
    return r.body as Record<string, unknown>;
  };

  const sim: BcSim = {
    url: origin,
    tokenUrl: `${origin}/${cfg.tenant}/oauth2/v2.0/token`,
    apiUrl: `${origin}/v2.0/${cfg.tenant}/${cfg.environment}/api/v2.0`,
    customApiUrl: `${origin}/v2.0/${cfg.tenant}/${cfg.environment}/api/shopifyD365/integration/v1.0`,
    get companyId() { return companyId(); },
    tenant: cfg.tenant,
    environment: cfg.environment,
    clientId: cfg.clientId,
    clientSecret: cfg.clientSecret,
    scope: 'https://api.businesscentral.dynamics.com/.default',
    catalogue,
    db,
    close: () => new Promise<void>((resolve) => {
      throttle.clear();
      server.closeAllConnections?.();
      server.close(() => resolve());
    }),
    requests: () => Object.fromEntries(counters.requests),
    operations: () => Object.fromEntries(counters.operations),
    stats: () => ({ ...throttle.stats, ...extra, tokensIssued: auth.issuedCount }),
    resetCounters: () => {
      counters.requests.clear();
      counters.operations.clear();
      Object.assign(extra, { requests: 0, unauthorized: 0, injectedErrors: 0, lostResponses: 0 });
      Object.assign(throttle.stats, { throttledWindow: 0, throttledQueueFull: 0, queueTimeouts: 0, inFlightMax: throttle.stats.inFlight, queuedMax: 0 });
    },
    order: (key) => {
      const h = db.find('salesOrders', (o) => o.number === key || o.externalDocumentNumber === key);
      if (!h) return undefined;
      const r = standard.handle({ method: 'GET', path: `companies(${companyId()})/salesOrders(${h.id})`, query: { $expand: 'salesOrderLines' }, headers: {}, body: undefined, rootUrl: sim.apiUrl });
      return r.body as Record<string, unknown> & { salesOrderLines: Record<string, unknown>[] };
    },
    postShipment: (no, opts = {}) => render('salesShipments', sales.postShipment(no, opts)),
    invoiceOrder: (no) => render('salesInvoices', sales.invoiceOrder(no)),
    setStock: (item, variant, location, quantity) => {
      mustItem(item);
      if (!Number.isFinite(quantity)) throw new BcError(400, 'BadRequest', 'quantity must be a finite number.');
      db.adjustStock(item, variant, location, quantity - db.onHand(item, variant, location));
    },
    onHand: (item, variant, location) => db.onHand(item, variant, location),
    blockItem: (no, blocked = true) => { const item = mustItem(no); item.blocked = blocked; db.touch(item); },
    blockCustomer: (no, blocked = 'All') => {
      const c = db.by('customers', 'number', no);
      if (!c) throw new BcError(404, 'Internal_RecordNotFound', `The Customer does not exist. Identification fields and values: No.='${no}'`);
      if (![' ', 'Ship', 'Invoice', 'All'].includes(blocked)) throw new BcError(400, 'BadRequest', `'${blocked}' is not a valid blocked value.`);
      c.blocked = blocked;
      db.touch(c);
    },
    setFaults: (f) => { faults = Faults.parse({ ...faults, ...f }); },
    setLimits: (l) => { throttle.limits = scaled(Limits.parse({ ...cfg.limits, ...l })); },
    setLatency: (ms) => { latencyMs = Math.max(0, ms); },
    failNext: (count, kind, match = {}) => {
      pending.push({ remaining: count, kind, ...(match.method ? { method: match.method.toUpperCase() } : {}), ...(match.entity ? { entity: match.entity } : {}) });
    },
    expireTokens: () => auth.expireAll(),
    reset: () => {
      rand = seededRandom(cfg.seed);
      faultRand = seededRandom(cfg.seed ^ 0x5eed);
      db.reset(rand);
      load();
      faults = Faults.parse(cfg.faults);
      latencyMs = cfg.latencyMs;
      pending = [];
      throttle.limits = scaled(cfg.limits);
      throttle.clear();
      sim.resetCounters();
    },
  };
  return sim;
}

