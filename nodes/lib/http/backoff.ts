/** Retry timing shared by the API clients: exponential back-off with jitter and Retry-After parsing. */

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)));

/**
 * Delay before retry number `attempt` (0-based): base·2^attempt capped at maxMs, of which the upper half
 * is random ("equal jitter"), so many clients retrying together spread out but none retries instantly.
 */
export function backoffDelay(attempt: number, baseMs: number, maxMs: number, random: () => number = Math.random): number {
  const ceiling = Math.min(maxMs, baseMs * 2 ** Math.max(0, attempt));
  return Math.round(ceiling / 2 + random() * (ceiling / 2));
}

/**
 * Parses a Retry-After header: delay-seconds (Shopify sends "2.0") or an HTTP date. Returns milliseconds
 * to wait, or undefined when absent/unparseable (the caller then falls back to its own back-off).
 */
export function parseRetryAfter(value: unknown, now: number = Date.now()): number | undefined {
  if (Array.isArray(value)) value = value[0];
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = String(value).trim();
  if (text === '') return undefined;
  if (/^\d+(\.\d+)?$/.test(text)) return Math.round(Number(text) * 1000);
  if (!/[a-z]/i.test(text)) return undefined; // an HTTP date names its day/month; '-1' is not a date
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}
