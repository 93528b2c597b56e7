/**
 * What the nodes need from Dynamics 365 Business Central (API v2.0), as an interface: the HTTP client
 * implements it; tests can substitute an in-memory fake. Paths are relative to the company
 * (`companies({id})/`), e.g. `salesOrders`, `salesOrders(<guid>)/salesOrderLines`.
 */

export interface ODataQuery {
  /** A $filter expression; build string literals with odataString(). */
  filter?: string;
  select?: readonly string[];
  expand?: string;
  orderby?: string;
  top?: number;
  skip?: number;
}

export interface BcRequestOptions {
  /** A custom API route instead of the standard `v2.0`: `{publisher}/{group}/{version}`, e.g.
   * `shopifyD365/integration/v1.0` for the companion extension's pages (per-location availability, tracking). */
  api?: string;
  /** Stop following @odata.nextLink after this many pages (list only). */
  maxPages?: number;
}

export interface BatchOperation {
  id: string;
  method: 'GET' | 'POST' | 'PATCH' | 'DELETE';
  /** Relative to the company, like the other paths. */
  path: string;
  body?: unknown;
  /** Required for PATCH/DELETE (`*` to skip the concurrency check deliberately). */
  etag?: string;
}

export interface BatchResult {
  id: string;
  status: number;
  body?: unknown;
  /** Set for a non-2xx inner response. */
  error?: { code: string; message: string };
}

export interface BcApi {
  list<T = Record<string, unknown>>(entitySet: string, query?: ODataQuery, opts?: BcRequestOptions): Promise<T[]>;
  get<T = Record<string, unknown>>(path: string, query?: ODataQuery, opts?: BcRequestOptions): Promise<T>;
  post<T = Record<string, unknown>>(path: string, body: unknown, opts?: BcRequestOptions): Promise<T>;
  /** PATCH with If-Match: the entity's @odata.etag. */
  patch<T = Record<string, unknown>>(path: string, body: unknown, etag: string, opts?: BcRequestOptions): Promise<T>;
  delete(path: string, etag?: string, opts?: BcRequestOptions): Promise<void>;
  /** Bound action, e.g. `salesOrders(<id>)/Microsoft.NAV.shipAndInvoice`. */
  action(path: string, opts?: BcRequestOptions): Promise<void>;
  /** JSON $batch, at most 100 operations per call (larger inputs are split); `atomic` sends Isolation: snapshot. */
  batch(ops: readonly BatchOperation[], opts?: { atomic?: boolean }): Promise<BatchResult[]>;
}

/** Quotes a string for an OData $filter literal: O'Brien → 'O''Brien'. */
export function odataString(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}
