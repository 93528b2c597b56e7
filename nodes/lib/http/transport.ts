import axios from 'axios';
import type { AxiosInstance } from 'axios';

/** A failure below HTTP: no status line was received. */
export interface TransportFailure {
  /** e.g. ECONNREFUSED, ETIMEDOUT, ECONNRESET. */
  code: string;
  /** Secret-free description built here (never the original error, whose config holds request headers). */
  message: string;
  /** False when the request certainly never reached the server, so repeating it cannot act twice. */
  maybeProcessed: boolean;
}

// Errors raised before a connection existed: the server never saw the request.
const NOT_SENT = new Set(['ECONNREFUSED', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'ERR_INVALID_URL']);

export function describeTransportError(e: unknown): TransportFailure {
  const code = (axios.isAxiosError(e) || (e instanceof Error && 'code' in e) ? String((e as { code?: unknown }).code ?? '') : '') || 'ENETWORK';
  const timeout = code === 'ETIMEDOUT' || code === 'ECONNABORTED';
  const message = timeout ? 'request timed out' : `network error (${code})`;
  return { code, message, maybeProcessed: !NOT_SENT.has(code) };
}

/** Statistics every client exposes for tests and the benchmark. */
export interface RequestStats {
  /** HTTP attempts made (each retry counts again). */
  calls: number;
  /** Attempts that were repeats of an earlier one. */
  retries: number;
  /** Responses that said "slow down" (429, 503, Shopify THROTTLED). */
  throttled: number;
}

export const newStats = (): RequestStats => ({ calls: 0, retries: 0, throttled: 0 });

/**
 * The axios instance every client uses: statuses are judged by the client (never thrown), redirects are
 * not followed (a token must not travel to another host), and a timeout is told apart from a refused
 * connection (the retry rules differ).
 */
export function createHttp(timeoutMs: number, headers?: Record<string, string>): AxiosInstance {
  return axios.create({
    timeout: timeoutMs,
    validateStatus: () => true,
    maxRedirects: 0,
    transitional: { clarifyTimeoutError: true, silentJSONParsing: true, forcedJSONParsing: true },
    ...(headers ? { headers } : {}),
  });
}
