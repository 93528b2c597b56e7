import { ZodError } from 'zod';
import { formatZodError } from '../contract';

/** True when the same lookup may succeed later without anyone changing anything (throttled, D365 down, network). */
export function isRetryableLookupError(e: unknown): boolean {
  return typeof e === 'object' && e !== null && (e as { retryable?: unknown }).retryable === true;
}

/** A short, secret-free description of a failed lookup (client errors carry server text only). */
export function lookupFailure(e: unknown): string {
  if (e instanceof ZodError) return `unexpected D365 response (${formatZodError(e, 2)})`;
  const err = e as { status?: unknown; code?: unknown; message?: unknown };
  const status = typeof err?.status === 'number' && err.status > 0 ? `HTTP ${err.status} ` : '';
  const code = typeof err?.code === 'string' && err.code ? `${err.code}: ` : '';
  const message = typeof err?.message === 'string' ? err.message : String(e);
  return `${status}${code}${message}`.slice(0, 300);
}

/**
 * Turns a lookup failure into either a retryable business finding (returned) or a runtime error
 * (thrown, so the node's done(err) reaches Catch nodes): a wrong company, a missing permission or
 * a malformed response will not heal by waiting.
 */
export function retryableOrThrow(e: unknown, what: string): string {
  const text = `${what} failed: ${lookupFailure(e)}`;
  if (isRetryableLookupError(e)) return text;
  throw new Error(text, { cause: e });
}
