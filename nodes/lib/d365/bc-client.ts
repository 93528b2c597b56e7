import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import { formatZodError } from '../contract';
import { backoffDelay, parseRetryAfter, sleep } from '../http/backoff';
import { clip, redact } from '../http/redact';
import { RequestStats, createHttp, describeTransportError, newStats } from '../http/transport';
import { WindowLimiter } from '../http/window-limiter';
import type { BatchOperation, BatchResult, BcApi, BcRequestOptions, ODataQuery } from './bc-api';
import { BcApiError, parseODataError } from './errors';
import type { AccessTokenSource } from './token-provider';

export const GUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const BC_BASE_URL = 'https://api.businesscentral.dynamics.com';
export const BATCH_LIMIT = 100;
const CUSTOM_API_RE = /^[\w.-]+\/[\w.-]+\/[\w.-]+$/;

export const BcClientOptions = z.object({
  tenant: z.string().min(1, 'a tenant (directory) id or domain is required'),
  environment: z.string().min(1).default('production'),
  companyId: z.string().regex(GUID_RE, 'must be the company GUID, e.g. 5106c77d-af37-4e2d-bb88-45d87aba1033'),
  /** Replaces https://api.businesscentral.dynamics.com (the simulator serves the same path shape). */
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  /** BC processes 5 requests per user at once and queues the rest; more in flight only fills its queue. */
  maxConcurrency: z.number().int().min(1).max(50).default(5),
  /**
   * BC online allows 6,000 requests per user in any 5-minute sliding window and answers 429 beyond it; the
   * client paces itself to this budget instead. Lower it when several clients share one app registration.
   */
  requestsPerWindow: z.number().int().min(1).default(6000),
  windowMs: z.number().positive().default(300_000),
  maxRetries: z.number().int().min(0).max(20).default(4),
  timeoutMs: z.number().int().positive().default(60_000),
  backoffBaseMs: z.number().int().min(0).default(1000),
  /** Upper bound of one wait, back-off or Retry-After alike. */
  maxBackoffMs: z.number().int().min(0).default(60_000),
  /**
   * Repeat a POST (create, bound action, batch with writes) after an ambiguous failure — timeout, reset
   * connection, 408/502/504 — when BC may already have acted. Off by default: the order writer makes
   * creates idempotent itself (it looks the order up by external document number before creating again).
   * 429/503 and refused connections are always retried: BC did not process those requests.
   */
  retryUnsafe: z.boolean().default(false),
  /** Default page limit for list() (each page up to BC's server page size). */
  maxPages: z.number().int().min(1).default(100),
});
export type BcClientConfig = z.infer<typeof BcClientOptions>;
export type BcClientInput = z.input<typeof BcClientOptions>;

/** Builds `?$filter=…&$select=…` with each value URL-encoded (`+`, `&`, `#`, spaces and quotes survive). */
export function buildQuery(q?: ODataQuery): string {
  if (!q) return '';
  const parts: string[] = [];
  const enc = encodeURIComponent;
  if (q.filter) parts.push(`$filter=${enc(q.filter)}`);
  if (q.select?.length) parts.push(`$select=${q.select.map(enc).join(',')}`);
  if (q.expand) parts.push(`$expand=${enc(q.expand)}`);
  if (q.orderby) parts.push(`$orderby=${enc(q.orderby)}`);
  for (const key of ['top', 'skip'] as const) {
    const v = q[key];
    if (v === undefined) continue;
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`OData $${key} must be a non-negative integer, got ${v}`);
    parts.push(`$${key}=${v}`);
  }
  return parts.length ? `?${parts.join('&')}` : '';
}

interface Sent {
  status: number;
  data: unknown;
}

/**
 * Business Central API v2.0 client: bearer token from an AccessTokenSource (a 401 refreshes it once),
 * paced to BC's sliding request window with at most `maxConcurrency` requests in flight, retries with
 * Retry-After (held by every request once BC refuses a full round) or exponential back-off, OData errors
 * as BcApiError, nextLink paging, If-Match on updates, JSON $batch split into chunks of 100.
 */
export class BcClient implements BcApi {
  readonly config: BcClientConfig;
  readonly stats: RequestStats = newStats();
  private readonly http: AxiosInstance;
  /** Window pacing and in-flight bound in one, so Retry-After can hold back every request at once. */
  readonly limiter: WindowLimiter;
  /** 429/503 answers since the last other answer. */
  private refusedInARow = 0;
  private readonly apiBase: string;

  constructor(options: BcClientInput, private readonly tokens: AccessTokenSource) {
    const parsed = BcClientOptions.safeParse(options);
    if (!parsed.success) throw new Error(`Invalid Business Central client options: ${formatZodError(parsed.error)}`);
    this.config = parsed.data;
    const base = (this.config.baseUrl ?? BC_BASE_URL).replace(/\/+$/, '');
    this.apiBase = `${base}/v2.0/${encodeURIComponent(this.config.tenant)}/${encodeURIComponent(this.config.environment)}/api/`;
    this.limiter = new WindowLimiter({ requestsPerWindow: this.config.requestsPerWindow, windowMs: this.config.windowMs, maxInFlight: this.config.maxConcurrency });
    this.http = createHttp(this.config.timeoutMs);
  }

  /** Highest number of requests this client ever had in flight at once. */
  get peakInFlight(): number {
    return this.limiter.peakInFlight;
  }

  /** `…/api/v2.0/` or `…/api/{publisher}/{group}/{version}/`: the root that `$batch` and `companies(…)` hang off. */
  apiRoot(api?: string): string {
    if (api !== undefined && !CUSTOM_API_RE.test(api)) throw new Error(`Custom API route must be publisher/group/version, got "${api}"`);
    return `${this.apiBase}${api ?? 'v2.0'}/`;
  }

  companyUrl(path: string, api?: string): string {
    return `${this.apiRoot(api)}companies(${this.config.companyId})/${cleanPath(path)}`;
  }

  async list<T = Record<string, unknown>>(entitySet: string, query?: ODataQuery, opts: BcRequestOptions = {}): Promise<T[]> {
    const maxPages = opts.maxPages ?? this.config.maxPages;
    const first = this.companyUrl(entitySet, opts.api) + buildQuery(query);
    const origin = new URL(first).origin;
    const out: T[] = [];
    let url: string | undefined = first;
    for (let page = 0; url && page < maxPages; page++) {
      const res = await this.send('GET', url, { path: entitySet, safe: true });
      const body = res.data as { value?: unknown; '@odata.nextLink'?: unknown } | undefined;
      if (!body || !Array.isArray(body.value)) {
        throw new BcApiError({ status: res.status, code: 'InvalidResponse', message: `BC GET ${entitySet}: response has no "value" array`, retryable: false, method: 'GET', path: entitySet });
      }
      out.push(...(body.value as T[]));
      const next = body['@odata.nextLink'];
      url = typeof next === 'string' && next ? new URL(next, url).toString() : undefined;
      // The bearer token must only ever go to the API host.
      if (url && new URL(url).origin !== origin) {
        throw new BcApiError({ status: res.status, code: 'InvalidNextLink', message: `BC GET ${entitySet}: @odata.nextLink points to another host`, retryable: false, method: 'GET', path: entitySet });
      }
    }
    return out;
  }

  async get<T = Record<string, unknown>>(path: string, query?: ODataQuery, opts: BcRequestOptions = {}): Promise<T> {
    return (await this.send('GET', this.companyUrl(path, opts.api) + buildQuery(query), { path, safe: true })).data as T;
  }

  async post<T = Record<string, unknown>>(path: string, body: unknown, opts: BcRequestOptions = {}): Promise<T> {
    return (await this.send('POST', this.companyUrl(path, opts.api), { path, body, safe: this.config.retryUnsafe })).data as T;
  }

  async patch<T = Record<string, unknown>>(path: string, body: unknown, etag: string, opts: BcRequestOptions = {}): Promise<T> {
    if (!etag) throw new Error(`BC PATCH ${path}: an etag is required (the entity's @odata.etag, or "*" to overwrite deliberately)`);
    // Safe to repeat: If-Match makes a second application fail with 409/412 instead of acting twice.
    return (await this.send('PATCH', this.companyUrl(path, opts.api), { path, body, safe: true, headers: { 'If-Match': etag } })).data as T;
  }

  /** Without an etag the delete is unconditional (`If-Match: *`). */
  async delete(path: string, etag?: string, opts: BcRequestOptions = {}): Promise<void> {
    await this.send('DELETE', this.companyUrl(path, opts.api), { path, safe: true, headers: { 'If-Match': etag || '*' } });
  }

  async action(path: string, opts: BcRequestOptions = {}): Promise<void> {
    await this.send('POST', this.companyUrl(path, opts.api), { path, safe: this.config.retryUnsafe });
  }

  async batch(ops: readonly BatchOperation[], opts: { atomic?: boolean } = {}): Promise<BatchResult[]> {
    const ids = new Set<string>();
    for (const op of ops) {
      if (!op.id || ids.has(op.id)) throw new Error(`BC $batch: operation ids must be unique and non-empty (got "${op.id}")`);
      ids.add(op.id);
      if ((op.method === 'PATCH' || op.method === 'DELETE') && !op.etag) throw new Error(`BC $batch: ${op.method} ${op.path} needs an etag ("*" to skip the check deliberately)`);
    }
    if (opts.atomic && ops.length > BATCH_LIMIT) {
      throw new RangeError(`BC $batch: an atomic batch holds at most ${BATCH_LIMIT} operations (got ${ops.length}); split it into separate transactions yourself`);
    }
    const results: BatchResult[] = [];
    for (let i = 0; i < ops.length; i += BATCH_LIMIT) results.push(...(await this.batchChunk(ops.slice(i, i + BATCH_LIMIT), !!opts.atomic)));
    return results;
  }

  private async batchChunk(ops: readonly BatchOperation[], atomic: boolean): Promise<BatchResult[]> {
    const requests = ops.map((op) => {
      const headers: Record<string, string> = { 'Content-Type': 'application/json' };
      if (op.etag) headers['If-Match'] = op.etag;
      return { method: op.method, id: op.id, url: `companies(${this.config.companyId})/${cleanPath(op.path)}`, headers, ...(op.body !== undefined ? { body: op.body } : {}) };
    });
    const readOnly = ops.every((op) => op.method === 'GET');
    const res = await this.send('POST', `${this.apiRoot()}$batch`, {
      path: '$batch',
      body: { requests },
      safe: readOnly || this.config.retryUnsafe,
      headers: atomic ? { Isolation: 'snapshot' } : {},
    });
    const responses = (res.data as { responses?: unknown } | undefined)?.responses;
    if (!Array.isArray(responses)) {
      throw new BcApiError({ status: res.status, code: 'InvalidResponse', message: 'BC $batch: response has no "responses" array', retryable: false, method: 'POST', path: '$batch' });
    }
    const byId = new Map<string, { status?: unknown; body?: unknown }>();
    for (const r of responses) if (r && typeof r === 'object' && typeof (r as { id?: unknown }).id === 'string') byId.set((r as { id: string }).id, r);
    return ops.map((op): BatchResult => {
      const r = byId.get(op.id);
      if (!r) return { id: op.id, status: 0, error: { code: 'BatchResponseMissing', message: `no response for operation ${op.id}` } };
      const status = typeof r.status === 'number' ? r.status : 0;
      const result: BatchResult = { id: op.id, status };
      if (r.body !== undefined) result.body = r.body;
      if (status < 200 || status >= 300) {
        const e = parseODataError(r.body);
        result.error = { code: e.code ?? `HTTP_${status}`, message: e.message ?? `operation failed with status ${status}` };
      }
      return result;
    });
  }

  /** One logical request: token, concurrency slot, retries. Throws BcApiError (or TokenError from the token source). */
  private async send(method: string, url: string, o: { path: string; body?: unknown; safe: boolean; headers?: Record<string, string> }): Promise<Sent> {
    let refreshedAfter401 = false;
    let last: BcApiError | undefined;
    for (let attempt = 0; ; attempt++) {
      if (attempt > 0) this.stats.retries++;
      const token = await this.tokens.getToken();
      const outcome = await this.limiter.run(() => this.attempt(method, url, o, token));
      if ('data' in outcome) {
        this.refusedInARow = 0;
        return outcome;
      }
      this.refusedInARow = outcome.throttled ? this.refusedInARow + 1 : 0;
      last = outcome.error;
      if (outcome.error.status === 401 && !refreshedAfter401) {
        // The token may have been revoked or expired early: one fresh token, then 401 is final.
        refreshedAfter401 = true;
        this.tokens.invalidate(token);
        attempt--;
        continue;
      }
      if (!outcome.retry || attempt >= this.config.maxRetries) throw last;
      const wait = Math.min(this.config.maxBackoffMs, outcome.retryAfterMs ?? backoffDelay(attempt, this.config.backoffBaseMs, this.config.maxBackoffMs));
      // BC's limits refuse every request once reached: when as many requests in a row as we keep in flight
      // were refused, this user is over them, and every request waits (else each queued one earns its own
      // 429). Fewer are blips, waited out by their own requests, so stray 429s do not stall the connection.
      if (outcome.throttled && this.refusedInARow >= this.config.maxConcurrency) this.limiter.pause(wait);
      else await sleep(wait);
    }
  }

  private async attempt(method: string, url: string, o: { path: string; body?: unknown; safe: boolean; headers?: Record<string, string> }, token: string):
    Promise<Sent | { error: BcApiError; retry: boolean; throttled?: boolean; retryAfterMs?: number }> {
    this.stats.calls++;
    const headers: Record<string, string> = { Accept: 'application/json', Authorization: `Bearer ${token}`, ...o.headers };
    if (o.body !== undefined) headers['Content-Type'] = 'application/json';
    let res;
    try {
      res = await this.http.request({ method, url, headers, data: o.body === undefined ? undefined : JSON.stringify(o.body) });
    } catch (e) {
      const t = describeTransportError(e);
      const error = new BcApiError({ status: 0, code: t.code, message: `BC ${method} ${o.path}: ${t.message}`, retryable: true, method, path: o.path });
      return { error, retry: !t.maybeProcessed || o.safe };
    }
    if (res.status >= 200 && res.status < 300) return { status: res.status, data: res.data === '' ? undefined : res.data };
    const e = parseODataError(res.data);
    const serverText = e.message ?? (typeof res.data === 'string' && res.data ? clip(res.data, 200) : `HTTP ${res.status}`);
    const error = new BcApiError({
      status: res.status,
      code: e.code ?? `HTTP_${res.status}`,
      message: `BC ${method} ${o.path} → ${res.status} ${e.code ?? ''}: ${clip(redact(serverText, [token]))}`.replace(' :', ':'),
      correlationId: e.correlationId,
      method,
      path: o.path,
    });
    // BC did not process a throttled (429) or queue-timeout (503) request, so even a POST may be repeated.
    const throttled = res.status === 429 || res.status === 503;
    if (throttled) this.stats.throttled++;
    const retry = throttled || (error.retryable && o.safe);
    return { error, retry, throttled, retryAfterMs: parseRetryAfter(res.headers['retry-after']) };
  }
}

/** Paths are relative to the company; a query string belongs in the ODataQuery argument. */
function cleanPath(path: string): string {
  const p = path.replace(/^\/+/, '');
  if (!p || /[?#]/.test(p) || /^[a-z]+:/i.test(p) || p.split('/').includes('..')) {
    throw new Error(`BC path must be relative to the company, without query string: "${path}"`);
  }
  return p;
}
