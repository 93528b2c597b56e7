/** Typed errors of the Business Central client and its token provider. No request config or credential ever goes in. */

export const RETRYABLE_STATUS = new Set([408, 429, 502, 503, 504]);

export class BcApiError extends Error {
  /** HTTP status, or 0 when no response arrived (network failure, timeout). */
  readonly status: number;
  /** OData error code, e.g. `Request_EntityChanged`, `BadRequest_NotFound`; the network code for status 0. */
  readonly code: string;
  readonly correlationId?: string;
  /** True for 408/429/502/503/504 and network failures: the same request may succeed later. */
  readonly retryable: boolean;
  readonly method?: string;
  /** The request path (without query string), for orientation in logs. */
  readonly path?: string;

  constructor(init: { status: number; code: string; message: string; correlationId?: string; retryable?: boolean; method?: string; path?: string }) {
    super(init.message);
    this.name = 'BcApiError';
    this.status = init.status;
    this.code = init.code;
    if (init.correlationId) this.correlationId = init.correlationId;
    this.retryable = init.retryable ?? (init.status === 0 || RETRYABLE_STATUS.has(init.status));
    if (init.method) this.method = init.method;
    if (init.path) this.path = init.path;
  }
}

/** The token endpoint refused or failed (`{error, error_description}` from Entra ID). */
export class TokenError extends Error {
  readonly status: number;
  /** OAuth error code, e.g. `invalid_client`, `unauthorized_client`; the network code for status 0. */
  readonly error: string;
  readonly description?: string;
  readonly correlationId?: string;
  readonly retryable: boolean;

  constructor(init: { status: number; error: string; description?: string; correlationId?: string; retryable?: boolean }) {
    super(`Token request failed (${init.status ? `HTTP ${init.status} ` : ''}${init.error})${init.description ? `: ${init.description}` : ''}`);
    this.name = 'TokenError';
    this.status = init.status;
    this.error = init.error;
    if (init.description) this.description = init.description;
    if (init.correlationId) this.correlationId = init.correlationId;
    this.retryable = init.retryable ?? (init.status === 0 || init.status === 429 || init.status >= 500);
  }
}

/** Reads BC's `{"error":{"code","message"}}`; the message usually ends in "CorrelationId:  <guid>". */
export function parseODataError(body: unknown): { code?: string; message?: string; correlationId?: string } {
  const err = (body && typeof body === 'object' ? (body as { error?: unknown }).error : undefined) as { code?: unknown; message?: unknown } | undefined;
  if (!err || typeof err !== 'object') return {};
  const code = typeof err.code === 'string' ? err.code : undefined;
  const message = typeof err.message === 'string' ? err.message : undefined;
  const correlationId = message?.match(/CorrelationId:\s*([0-9a-fA-F-]{8,})/)?.[1];
  return { code, message, correlationId };
}
