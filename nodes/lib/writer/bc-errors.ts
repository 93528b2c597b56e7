/** A D365 call that failed in a way the flow can act on (as opposed to a bug, which is rethrown). */
export interface BcFailureInfo {
  /** HTTP status, 0 when no response arrived. */
  status: number;
  code: string;
  message: string;
  retryable: boolean;
}

const TRANSIENT_STATUS = new Set([408, 429, 502, 503, 504]);
const NETWORK_CODE = /^(E[A-Z]+|ERR_[A-Z_]+)$/;

/**
 * Reads a BcApiError ({status, code, message, retryable}) or a network error; undefined for anything else,
 * which the caller rethrows as an unexpected failure. Relies on the shape, not the class, so it also works
 * for errors of a client built before nodes/lib/d365/errors.ts existed.
 */
export function classifyBcError(e: unknown): BcFailureInfo | undefined {
  if (!(e instanceof Error)) return undefined;
  const x = e as Error & { status?: unknown; code?: unknown; retryable?: unknown };
  const status = typeof x.status === 'number' ? x.status : undefined;
  const code = typeof x.code === 'string' ? x.code : '';
  if (typeof x.retryable === 'boolean' || status !== undefined) {
    const s = status ?? 0;
    return { status: s, code, message: e.message, retryable: typeof x.retryable === 'boolean' ? x.retryable : s === 0 || TRANSIENT_STATUS.has(s) };
  }
  if (NETWORK_CODE.test(code)) return { status: 0, code, message: e.message, retryable: true };
  return undefined;
}

export function isNotFound(e: unknown): boolean {
  const c = classifyBcError(e);
  return !!c && (c.status === 404 || /NotFound/i.test(c.code));
}
