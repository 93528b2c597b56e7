import { backoffDelay, sleep as realSleep } from '../http/backoff';
import { classifyBcError } from './bc-errors';

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  sleep?: (ms: number) => Promise<void>;
  /** Which failures may pass on a repeat; default: transient D365 failures. */
  retryable?: (e: unknown) => boolean;
}

const transientD365 = (e: unknown) => classifyBcError(e)?.retryable === true;

/**
 * Runs fn, repeating it after transient failures (D365's 429/5xx/timeouts unless the policy says which) with back-off. `beforeRetry` runs
 * before each repeat and may end the loop with a value: the create path uses it to look for the document a
 * lost response may already have created. Permanent failures and bugs are thrown at once.
 */
export async function withRetry<T>(policy: RetryPolicy, fn: () => Promise<T>, beforeRetry?: () => Promise<T | undefined>): Promise<T> {
  const wait = policy.sleep ?? realSleep;
  const retryable = policy.retryable ?? transientD365;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      if (!retryable(e) || attempt + 1 >= policy.attempts) throw e;
      await wait(backoffDelay(attempt, policy.baseMs, policy.baseMs * 30));
      if (beforeRetry) {
        // fn is only repeated once beforeRetry has answered: a look-up that failed is not "not found" (the
        // lost create may be committed), so it is repeated within the same attempt budget; if D365 never
        // answers, the original failure is thrown and the next run looks again first.
        for (;;) {
          try {
            const found = await beforeRetry();
            if (found !== undefined) return found;
            break;
          } catch (err) {
            if (!retryable(err)) throw err;
            attempt++;
            if (attempt + 1 >= policy.attempts) throw e;
            await wait(backoffDelay(attempt, policy.baseMs, policy.baseMs * 30));
          }
        }
      }
    }
  }
}
