/**
 * The keys inventory state is filed under. They must match what other nodes use: the order writer
 * releases `${shop}:${orderId}` once the order is D365 demand, and the journal sums reservations per
 * item key + D365 location code.
 */

/** D365 item key of a reservation: `itemNumber`, or `itemNumber:variantCode` for a variant. */
export function itemKey(itemNumber: string, variantCode?: string | null): string {
  return variantCode ? `${itemNumber}:${variantCode}` : itemNumber;
}

/** The journal key of an order's reservation. */
export function orderKey(shop: string, orderId: string | number): string {
  return `${shop}:${String(orderId)}`;
}

const LOCATION_GID = /^gid:\/\/shopify\/Location\/(\d+)$/;

/**
 * A Shopify location as the tables store it: the numeric id (`655441491`); a GraphQL id
 * (`gid://shopify/Location/655441491`) is accepted and shortened. Anything else is returned trimmed
 * so the caller's validation can name it.
 */
export function shopifyLocationId(v: unknown): string {
  const s = String(v ?? '').trim();
  const m = LOCATION_GID.exec(s);
  return m ? m[1]! : s;
}

export function locationGid(id: string): string {
  return `gid://shopify/Location/${id}`;
}
