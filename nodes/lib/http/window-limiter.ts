import { z } from 'zod';
import { holding } from './semaphore';

/**
 * A per-client request budget as Business Central enforces it: at most `requestsPerWindow` requests in any
 * `windowMs` sliding window, and at most `maxInFlight` at once. Defaults are BC online's per-user limits.
 */
export const WindowLimits = z.object({
  requestsPerWindow: z.number().int().min(1).default(6000),
  windowMs: z.number().positive().default(300_000),
  maxInFlight: z.number().int().min(1).default(5),
});
export type WindowLimits = z.infer<typeof WindowLimits>;
export type WindowLimitsInput = z.input<typeof WindowLimits>;

/** Time source and timers; injected so tests run on a fake clock. */
export interface LimiterClock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

export const systemClock: LimiterClock = {
  // Monotonic: a wall-clock step must not open or close the window.
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout),
};

export interface LimiterStats {
  /** Requests started. */
  started: number;
  /** Requests that found the window full or a pause in force and waited for it (not merely for a slot). */
  delayed: number;
  /** pause() calls, i.e. times the server told everyone to slow down. */
  pauses: number;
}

/**
 * Paces requests to a sliding-window budget instead of provoking 429s: a request starts only when a slot is
 * free, the window has room and no pause is in force; waiters start in arrival order.
 *
 * A request counts against the window from the moment it starts, and leaves it `windowMs` after it
 * *finished*. The server counts it at arrival, which is never later than our finish, so our window always
 * empties after the server's does and the pacing cannot overrun it, whatever the latency.
 */
export class WindowLimiter {
  readonly limits: WindowLimits;
  readonly stats: LimiterStats = { started: 0, delayed: 0, pauses: 0 };
  private active = 0;
  private peak = 0;
  /** Finish times of requests still inside the window, oldest first. */
  private readonly finished: number[] = [];
  private pausedUntil = -Infinity;
  private readonly waiting: { grant: () => void; seq: number }[] = [];
  private seq = 0;
  /** Every waiter up to this sequence number was in line while the window or a pause held the line back. */
  private heldUpTo = 0;
  private timer: unknown;
  private timerAt = Infinity;

  constructor(limits: WindowLimitsInput = {}, private readonly clock: LimiterClock = systemClock) {
    this.limits = WindowLimits.parse(limits);
  }

  /** Resolves with a release function once the request may start; call it exactly once, when it has finished. */
  acquire(): Promise<() => void> {
    return new Promise((resolve) => {
      this.waiting.push({ grant: () => resolve(this.releaser()), seq: ++this.seq });
      this.pump();
    });
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    return holding(() => this.acquire(), fn);
  }

  /** Nobody starts for `ms` (the server said Retry-After, or throttled us): one request's 429 holds back all. */
  pause(ms: number): void {
    if (!(ms > 0)) return;
    this.stats.pauses++;
    this.pausedUntil = Math.max(this.pausedUntil, this.clock.now() + ms);
    this.pump();
  }

  get inFlight(): number {
    return this.active;
  }

  get peakInFlight(): number {
    return this.peak;
  }

  get queued(): number {
    return this.waiting.length;
  }

  /** Requests counted in the current window (in flight, or finished less than windowMs ago). */
  get inWindow(): number {
    this.expire(this.clock.now());
    return this.active + this.finished.length;
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.finished.push(this.clock.now());
      this.pump();
    };
  }

  private pump(): void {
    while (this.waiting.length) {
      const { ms, cause } = this.nextStart();
      if (ms > 0) {
        if (cause !== 'slot') this.heldUpTo = this.waiting[this.waiting.length - 1]!.seq;
        this.wakeIn(ms);
        return;
      }
      const next = this.waiting.shift()!;
      this.active++;
      this.peak = Math.max(this.peak, this.active);
      this.stats.started++;
      if (next.seq <= this.heldUpTo) this.stats.delayed++;
      next.grant();
    }
  }

  /** How long the first waiter must wait, and why: 0 = start now, Infinity = until a running request finishes. */
  private nextStart(): { ms: number; cause?: 'pause' | 'slot' | 'window' } {
    const now = this.clock.now();
    this.expire(now);
    if (this.pausedUntil > now) return { ms: this.pausedUntil - now, cause: 'pause' };
    if (this.active >= this.limits.maxInFlight) return { ms: Infinity, cause: 'slot' };
    // Room opens when enough finished requests have left the window to bring the count below the limit;
    // when running requests hold all of it, only their finishing can open it.
    const over = this.active + this.finished.length - this.limits.requestsPerWindow;
    if (over < 0) return { ms: 0 };
    const leaving = this.finished[over];
    return { ms: leaving === undefined ? Infinity : leaving + this.limits.windowMs - now, cause: 'window' };
  }

  private expire(now: number): void {
    const w = this.limits.windowMs;
    let n = 0;
    while (n < this.finished.length && this.finished[n]! + w <= now) n++;
    if (n) this.finished.splice(0, n);
  }

  private wakeIn(ms: number): void {
    if (ms === Infinity) return; // a release will pump
    const at = this.clock.now() + ms;
    if (this.timer !== undefined && this.timerAt <= at) return;
    if (this.timer !== undefined) this.clock.clearTimeout(this.timer);
    this.timerAt = at;
    // Whole milliseconds, rounded up: a timer that fires early only costs another wake-up, but rounding down would spin.
    this.timer = this.clock.setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(1, Math.ceil(ms)));
  }
}
