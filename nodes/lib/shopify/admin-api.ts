/** What the nodes need from the Shopify Admin GraphQL API, as an interface (the client implements it). */
export interface GraphqlOptions {
  /** For mutations written with `@idempotent(key: $idempotencyKey)` (mandatory for inventory adjustments and
   * refundCreate from API 2026-04): the client passes it as the `idempotencyKey` variable and keeps it across
   * its own retries, so a retried call returns the original result instead of acting twice. */
  idempotencyKey?: string;
}

export interface ShopifyAdminApi {
  /** Runs a query or mutation and returns `data`; throws a typed error for GraphQL errors/throttling
   * that retries could not resolve. userErrors are returned inside data for the caller to judge. */
  graphql<T = Record<string, unknown>>(query: string, variables?: Record<string, unknown>, opts?: GraphqlOptions): Promise<T>;
}
