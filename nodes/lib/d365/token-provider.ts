import type { AxiosInstance } from 'axios';
import { z } from 'zod';
import { formatZodError } from '../contract';
import { backoffDelay, parseRetryAfter, sleep } from '../http/backoff';
import { clip, redact } from '../http/redact';
import { createHttp, describeTransportError } from '../http/transport';
import { TokenError } from './errors';

export const BC_SCOPE = 'https://api.businesscentral.dynamics.com/.default';
const MAX_MARGIN_MS = 5 * 60_000;

export const TokenProviderOptions = z.object({
  tenant: z.string().min(1, 'a tenant (directory) id or domain is required'),
  clientId: z.string().min(1, 'a client id is required'),
  clientSecret: z.string().min(1, 'a client secret is required'),
  /** Replaces https://login.microsoftonline.com/{tenant}/oauth2/v2.0/token; `{tenant}` in it is filled in. */
  tokenUrl: z.url({ protocol: /^https?$/ }).optional(),
  scope: z.string().default(BC_SCOPE),
  timeoutMs: z.number().int().positive().default(30_000),
  maxRetries: z.number().int().min(0).max(10).default(2),
  backoffBaseMs: z.number().int().min(0).default(1000),
});
export type TokenProviderConfig = z.infer<typeof TokenProviderOptions>;
export type TokenProviderInput = z.input<typeof TokenProviderOptions>;

/** What the BC client needs from a token source. */
export interface AccessTokenSource {
  getToken(): Promise<string>;
  /** Drops `token` if it is still the cached one (after a 401), so the next getToken() fetches a new one. */
  invalidate(token: string): void;
}

const TokenResponse = z.object({
  access_token: z.string().min(1),
  expires_in: z.coerce.number().positive(),
});

/**
 * OAuth2 client-credentials tokens from Entra ID, cached and refreshed before they expire.
 *
 * Why not @azure/msal-node: it only accepts https authorities and resolves them through instance
 * discovery, so it cannot talk to the simulator's plain-http token endpoint; the grant itself is one
 * form POST, which this class does with the axios the package already depends on.
 */
export class ClientCredentialsTokenProvider implements AccessTokenSource {
  readonly config: TokenProviderConfig;
  /** Token requests made (for tests and the benchmark). */
  fetches = 0;
  private readonly url: string;
  private readonly http: AxiosInstance;
  private cached?: { token: string; refreshAt: number };
  private inFlight?: Promise<string>;

  constructor(options: TokenProviderInput, private readonly now: () => number = Date.now) {
    const parsed = TokenProviderOptions.safeParse(options);
    if (!parsed.success) throw new Error(`Invalid token provider options: ${formatZodError(parsed.error)}`);
    this.config = parsed.data;
    const tenant = encodeURIComponent(this.config.tenant);
    this.url = this.config.tokenUrl
      ? this.config.tokenUrl.replace(/%7Btenant%7D|\{tenant\}/gi, tenant)
      : `https://login.microsoftonline.com/${tenant}/oauth2/v2.0/token`;
    this.http = createHttp(this.config.timeoutMs);
  }

  getToken(): Promise<string> {
    if (this.cached && this.now() < this.cached.refreshAt) return Promise.resolve(this.cached.token);
    // Concurrent callers share one request to the token endpoint.
    if (!this.inFlight) {
      this.inFlight = this.fetchToken().finally(() => {
        this.inFlight = undefined;
      });
    }
    return this.inFlight;
  }

  invalidate(token: string): void {
    if (this.cached?.token === token) this.cached = undefined;
  }

  private async fetchToken(): Promise<string> {
    const form = new URLSearchParams({
      grant_type: 'client_credentials',
      client_id: this.config.clientId,
      client_secret: this.config.clientSecret,
      scope: this.config.scope,
    }).toString();
    let last: { error: TokenError; retryAfterMs?: number } | undefined;
    for (let attempt = 0; attempt <= this.config.maxRetries; attempt++) {
      if (last) await sleep(last.retryAfterMs ?? backoffDelay(attempt - 1, this.config.backoffBaseMs, 30_000));
      this.fetches++;
      const outcome = await this.requestOnce(form);
      if (typeof outcome === 'string') return outcome;
      if (!outcome.error.retryable) throw outcome.error;
      last = outcome;
    }
    throw (last as { error: TokenError }).error;
  }

  private async requestOnce(form: string): Promise<string | { error: TokenError; retryAfterMs?: number }> {
    const started = this.now();
    let res;
    try {
      res = await this.http.post(this.url, form, { headers: { 'Content-Type': 'application/x-www-form-urlencoded', Accept: 'application/json' } });
    } catch (e) {
      const t = describeTransportError(e);
      // A token request has no side effects, so it is always safe to repeat.
      return { error: new TokenError({ status: 0, error: t.code, description: t.message, retryable: true }) };
    }
    const body = res.data as Record<string, unknown> | undefined;
    if (res.status < 200 || res.status >= 300) {
      const code = typeof body?.error === 'string' ? body.error : 'http_error';
      const description = typeof body?.error_description === 'string' ? this.safe(body.error_description) : undefined;
      const correlationId = typeof body?.correlation_id === 'string' ? body.correlation_id : undefined;
      return { error: new TokenError({ status: res.status, error: this.safe(code), description, correlationId }), retryAfterMs: parseRetryAfter(res.headers['retry-after']) };
    }
    const parsed = TokenResponse.safeParse(body);
    if (!parsed.success) {
      return { error: new TokenError({ status: res.status, error: 'invalid_response', description: 'the token endpoint returned no access_token/expires_in', retryable: false }) };
    }
    const lifetimeMs = parsed.data.expires_in * 1000;
    // Refresh early: 10% of the lifetime, at most 5 minutes (a 60–90 min token is renewed 5 min before expiry).
    const margin = Math.min(MAX_MARGIN_MS, lifetimeMs * 0.1);
    this.cached = { token: parsed.data.access_token, refreshAt: started + lifetimeMs - margin };
    return parsed.data.access_token;
  }

  private safe(text: string): string {
    return clip(redact(text, [this.config.clientSecret]));
  }
}
