import { createHmac, timingSafeEqual } from 'crypto';

/**
 * Shopify signs every webhook with base64(HMAC-SHA256(app client secret, raw body bytes)).
 * Verification must run over the exact bytes received: parsing and re-serialising the JSON
 * changes them and breaks the signature.
 */
export function signShopifyBody(secret: string, raw: Buffer | string): string {
  return createHmac('sha256', secret).update(raw).digest('base64');
}

const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;

/**
 * True when `header` is the signature of `raw` under any of `secrets` (several during a secret
 * rotation: Shopify may take up to an hour to switch). Compares decoded digests in constant time;
 * a header that is not 32 bytes of base64 is rejected before any comparison.
 */
export function verifyShopifyHmac(raw: Buffer, header: string | undefined, secrets: readonly string[]): boolean {
  if (!header || !BASE64.test(header.trim())) return false;
  const given = Buffer.from(header.trim(), 'base64');
  if (given.length !== 32) return false;
  let ok = false;
  // Every secret is tried even after a match so the time taken does not tell which secret signed.
  for (const secret of secrets) {
    if (!secret) continue;
    const expected = createHmac('sha256', secret).update(raw).digest();
    if (expected.length === given.length && timingSafeEqual(expected, given)) ok = true;
  }
  return ok;
}
