import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import { formatZodError } from '../contract';
import { backoffDelay, parseRetryAfter, sleep } from '../http/backoff';
import { clip, redact } from '../http/redact';
import { Semaphore } from '../http/semaphore';
import { RequestStats, createHttp, describeTransportError, newStats } from '../http/transport';
import type { GraphqlOptions, ShopifyAdminApi } from './admin-api';
import { ShopifyGraphqlError, ShopifyGraphqlErrorEntry, ShopifyHttpError, ShopifyThrottledError } from './admin-errors';

export const SHOP_DOMAIN_RE = /^[a-z0-9][a-z0-9-]*\.myshopify\.com$/;
export const API_VERSION_RE = /^(\d{4}-\d{2}|unstable)$/;
export const DEFAULT_API_VERSION = '2026-07';

export const ShopifyAdminClientOptions = z.object({
  shopDomain: z.string().regex(SHOP_DOMAIN_RE, 'must look like your-shop.myshopify.com'),
  apiVersion: z.string().regex(API_VERSION_RE, 'must be YYYY-MM or unstable').default(DEFAULT_API_VERSION),
  accessToken: z.string().min(1, 'an Admin API access token is required'),
  /** Replaces https://{shopDomain}, e.g. http://127.0.0.1:PORT for the simulator. */
  baseUrl: z.url({ protocol: /^https?$/ }).optional(),
  maxRetries: z.number().int().min(0).max(20).default(5),
  timeoutMs: z.number().int().positive().default(30_000),
  /**
   * Requests in flight at once. Small on purpose: the cost bucket is shared by every request of this app on
   * this shop, and each request reserves its expected cost from the local estimate of the bucket, so a
   * little overlap hides latency without racing the bucket; more would mostly buy THROTTLED replies.
   */
  maxConcurrency: z.number().int().min(1).max(10).default(2),
  backoffBaseMs: z.number().int().min(0).default(500),
  maxBackoffMs: z.number().int().min(0).default(30_000),
  /** Expected cost of a query never sent before (afterwards its last requestedQueryCost is used). */
  defaultQueryCost: z.number().positive().default(50),
});
export type ShopifyAdminClientConfig = z.infer<typeof ShopifyAdminClientOptions>;
export type ShopifyAdminClientInput = z.input<typeof ShopifyAdminClientOptions>;

const ThrottleStatus = z.object({
  maximumAvailable: z.number().positive(),
  currentlyAvailable: z.number(),
  restoreRate: z.number().min(0),
});
const Cost = z.object({ requestedQueryCost: z.number().nullish(), throttleStatus: ThrottleStatus.optional() });

interface Bucket {
  max: number;
  available: number;
  restoreRate: number;
  at: number;
}

const MUTATION_RE = /^\s*(#[^\n]*\n\s*)*mutation\b/;
const COST_MEMORY = 500;

/**
 * Shopify Admin GraphQL client with cost-aware throttling. Every response's
 * `extensions.cost.throttleStatus` updates a local model of the leaky bucket; before sending, a request
 * waits until the bucket (restored since the last reading) holds its expected cost. Retries: THROTTLED,
 * 429 and pre-connection network failures always (Shopify did nothing); 5xx and ambiguous network
 * failures (timeout, reset) only for queries and for mutations carrying an idempotency key.
 */
export class ShopifyAdminClient implements ShopifyAdminApi {
  readonly config: ShopifyAdminClientConfig;
  readonly stats: RequestStats = newStats();
  private readonly http: AxiosInstance;
  private readonly endpoint: string;
  private readonly slots: Semaphore;
  private bucket?: Bucket;
  private reserved = 0;
  private readonly costs = new Map<string, number>();

  constructor(options: ShopifyAdminClientInput) {
    const parsed = ShopifyAdminClientOptions.safeParse(options);
    if (!parsed.success) throw new Error(`Invalid Shopify client options: ${formatZodError(parsed.error)}`);
    this.config = parsed.data;
    const base = (this.config.baseUrl ?? `https://${this.config.shopDomain}`).replace(/\/+$/, '');
    this.endpoint = `${base}/admin/api/${this.config.apiVersion}/graphql.json`;
    this.slots = new Semaphore(this.config.maxConcurrency);
    this.http = createHttp(this.config.timeoutMs, { 'Content-Type': 'application/json', Accept: 'application/json' });
  }

  /** The model's current estimate of available points (for tests and status), or undefined before the first reply. */
  estimatedAvailable(now = Date.now()): number | undefined {
    if (!this.bucket) return undefined;
    const b = this.bucket;
    return Math.min(b.max, b.available + (b.restoreRate * (now - b.at)) / 1000) - this.reserved;
  }

  async graphql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, opts: GraphqlOptions = {}): Promise<T> {
    // The same variables object (with the same key) goes out on every retry: Shopify then returns the first result.
    const vars = opts.idempotencyKey !== undefined ? { ...variables, idempotencyKey: opts.idempotencyKey } : variables;
    const body = JSON.stringify(vars === undefined ? { query } : { query, variables: vars });
    const safeToRepeat = !MUTATION_RE.test(query) || opts.idempotencyKey !== undefined;
    let lastThrottled = false;
    let lastError: Error | undefined;

    for (let attempt = 0; attempt <= this.config.maxRetries; attempt++) {
      if (attempt > 0) this.stats.retries++;
      const outcome = await this.attempt(query, body, safeToRepeat, attempt);
      if (outcome.kind === 'done') return outcome.data as T;
      if (outcome.kind === 'fail') throw outcome.error;
      lastThrottled = outcome.throttled;
      lastError = outcome.error;
      if (attempt < this.config.maxRetries && outcome.waitMs > 0) await sleep(outcome.waitMs);
    }
    throw lastThrottled ? new ShopifyThrottledError(this.config.maxRetries + 1) : lastError ?? new ShopifyHttpError(0, 'request failed');
  }

  private async attempt(query: string, body: string, safeToRepeat: boolean, attemptNo: number): Promise<
    | { kind: 'done'; data: unknown }
    | { kind: 'fail'; error: Error }
    | { kind: 'retry'; waitMs: number; throttled: boolean; error?: Error }
  > {
    const expected = this.costs.get(query) ?? this.config.defaultQueryCost;
    const release = await this.slots.acquire();
    let reservation = 0;
    try {
      reservation = await this.reserve(expected);
      this.stats.calls++;
      let res;
      try {
        res = await this.http.post(this.endpoint, body, { headers: { 'X-Shopify-Access-Token': this.config.accessToken } });
      } catch (e) {
        const t = describeTransportError(e);
        const error = new ShopifyHttpError(0, `Shopify request failed: ${t.message}`, { code: t.code, retryable: !t.maybeProcessed || safeToRepeat });
        return t.maybeProcessed && !safeToRepeat ? { kind: 'fail', error } : { kind: 'retry', waitMs: this.backoff(attemptNo), throttled: false, error };
      }
      const data: unknown = res.data;
      const sawBucket = this.observeCost(query, data);
      if (res.status === 429) {
        this.stats.throttled++;
        return { kind: 'retry', waitMs: parseRetryAfter(res.headers['retry-after']) ?? 1000, throttled: true };
      }
      if (res.status >= 500) {
        const error = new ShopifyHttpError(res.status, `Shopify HTTP ${res.status}${this.serverText(data)}`, { retryable: safeToRepeat });
        if (!safeToRepeat) return { kind: 'fail', error };
        return { kind: 'retry', waitMs: parseRetryAfter(res.headers['retry-after']) ?? this.backoff(attemptNo), throttled: false, error };
      }
      if (res.status < 200 || res.status >= 300) {
        return { kind: 'fail', error: new ShopifyHttpError(res.status, `Shopify HTTP ${res.status}${this.serverText(data)}`) };
      }
      if (!data || typeof data !== 'object') {
        return { kind: 'fail', error: new ShopifyHttpError(res.status, 'Shopify returned a response that is not JSON', { retryable: false }) };
      }
      const errors = this.graphqlErrors((data as { errors?: unknown }).errors);
      if (errors.length && errors.some((e) => e.code === 'THROTTLED')) {
        this.stats.throttled++;
        // The wait itself happens in reserve() on the next attempt: the bucket model now knows the
        // requested cost and the available points, so it waits (requested − available) / restoreRate.
        // Without a fresh reading the model could be stale: fall back to Shopify's recommended 1 s.
        return { kind: 'retry', waitMs: sawBucket ? 0 : 1000, throttled: true };
      }
      if (errors.length) return { kind: 'fail', error: new ShopifyGraphqlError(errors) };
      return { kind: 'done', data: (data as { data?: unknown }).data ?? {} };
    } finally {
      this.reserved -= reservation;
      release();
    }
  }

  /** Waits until the modelled bucket holds `expected` points, then reserves them for this request. */
  private async reserve(expected: number): Promise<number> {
    for (;;) {
      const b = this.bucket;
      if (!b) return 0; // nothing known yet: the first reply tells us the bucket
      const need = Math.min(expected, b.max);
      const available = this.estimatedAvailable() ?? need;
      if (available >= need || b.restoreRate <= 0) {
        this.reserved += need;
        return need;
      }
      await sleep(Math.ceil(((need - available) / b.restoreRate) * 1000));
    }
  }

  /** Updates the cost memory and the bucket model from a reply; true when it carried a throttleStatus. */
  private observeCost(query: string, data: unknown): boolean {
    const ext = (data as { extensions?: { cost?: unknown } } | undefined)?.extensions?.cost;
    const parsed = Cost.safeParse(ext);
    if (!parsed.success) return false;
    const { requestedQueryCost, throttleStatus } = parsed.data;
    if (typeof requestedQueryCost === 'number') {
      this.costs.delete(query);
      this.costs.set(query, requestedQueryCost);
      if (this.costs.size > COST_MEMORY) this.costs.delete(this.costs.keys().next().value as string);
    }
    if (throttleStatus) {
      this.bucket = { max: throttleStatus.maximumAvailable, available: throttleStatus.currentlyAvailable, restoreRate: throttleStatus.restoreRate, at: Date.now() };
    }
    return !!throttleStatus;
  }

  private graphqlErrors(raw: unknown): ShopifyGraphqlErrorEntry[] {
    if (raw === undefined || raw === null) return [];
    const list = Array.isArray(raw) ? raw : [raw];
    return list.map((e) => {
      const o = (e && typeof e === 'object' ? e : { message: String(e) }) as { message?: unknown; path?: unknown; extensions?: { code?: unknown } };
      const entry: ShopifyGraphqlErrorEntry = { message: this.safe(typeof o.message === 'string' ? o.message : JSON.stringify(o.message ?? 'error')) };
      if (typeof o.extensions?.code === 'string') entry.code = o.extensions.code;
      if (Array.isArray(o.path)) entry.path = o.path.filter((p): p is string | number => typeof p === 'string' || typeof p === 'number');
      return entry;
    });
  }

  /** Shopify's non-GraphQL error bodies look like {"errors":"[API] Invalid API key or access token …"}. */
  private serverText(data: unknown): string {
    const errors = (data as { errors?: unknown } | undefined)?.errors;
    if (errors === undefined) return '';
    return `: ${this.safe(typeof errors === 'string' ? errors : JSON.stringify(errors))}`;
  }

  private safe(text: string): string {
    return clip(redact(text, [this.config.accessToken]));
  }

  private backoff(attemptNo: number): number {
    return backoffDelay(attemptNo, this.config.backoffBaseMs, this.config.maxBackoffMs);
  }
}
