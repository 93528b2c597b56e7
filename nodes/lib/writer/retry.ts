import { backoffDelay, sleep as realSleep } from '../http/backoff';
import { classifyBcError } from './bc-errors';

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
  sleep?: (ms: number) => Promise<void>;
}

/**
 * Runs fn, repeating it after transient D365 failures (429/5xx/timeouts) with back-off. `beforeRetry` runs
 * before each repeat and may end the loop with a value: the create path uses it to look for the document a
 * lost response may already have created. Permanent failures and bugs are thrown at once.
 */
export async function withRetry<T>(policy: RetryPolicy, fn: () => Promise<T>, beforeRetry?: () => Promise<T | undefined>): Promise<T> {
  const wait = policy.sleep ?? realSleep;
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (e) {
      const c = classifyBcError(e);
      if (!c?.retryable || attempt + 1 >= policy.attempts) throw e;
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
            if (!classifyBcError(err)?.retryable) throw err;
            attempt++;
            if (attempt + 1 >= policy.attempts) throw e;
            await wait(backoffDelay(attempt, policy.baseMs, policy.baseMs * 30));
          }
        }
      }
    }
  }
}
