/** Typed errors of the Shopify Admin GraphQL client. Messages are built from server text only (redacted), never from request config. */

export interface ShopifyGraphqlErrorEntry {
  message: string;
  code?: string;
  path?: (string | number)[];
}

export class ShopifyHttpError extends Error {
  /** HTTP status, or 0 when no response arrived (then `code` names the network failure). */
  readonly status: number;
  readonly code?: string;
  readonly retryable: boolean;

  constructor(status: number, message: string, opts: { code?: string; retryable?: boolean } = {}) {
    super(message);
    this.name = 'ShopifyHttpError';
    this.status = status;
    this.code = opts.code;
    this.retryable = opts.retryable ?? (status === 0 || status === 429 || status >= 500);
  }
}

/** A 200 response with top-level `errors` (syntax, access denied, MAX_COST_EXCEEDED, …). */
export class ShopifyGraphqlError extends Error {
  readonly errors: ShopifyGraphqlErrorEntry[];
  /** The distinct `extensions.code` values, e.g. ['ACCESS_DENIED']. */
  readonly codes: string[];

  constructor(errors: ShopifyGraphqlErrorEntry[]) {
    const text = errors.map((e) => (e.code ? `${e.code}: ${e.message}` : e.message)).join('; ');
    super(`Shopify GraphQL error: ${text || 'unknown error'}`);
    this.name = 'ShopifyGraphqlError';
    this.errors = errors;
    this.codes = [...new Set(errors.map((e) => e.code).filter((c): c is string => !!c))];
  }
}

/** Still THROTTLED (or 429) after every allowed retry. */
export class ShopifyThrottledError extends Error {
  readonly retryable = true;
  constructor(readonly attempts: number) {
    super(`Shopify API still throttled after ${attempts} attempts`);
    this.name = 'ShopifyThrottledError';
  }
}
