/** Bounds how many requests one client has in flight (BC processes at most 5 per user at once). */
export class Semaphore {
  private active = 0;
  private peak = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(readonly limit: number) {
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`Semaphore limit must be a positive integer, got ${limit}`);
  }

  /** Resolves with a release function once a slot is free; call it exactly once. */
  async acquire(): Promise<() => void> {
    if (this.active >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    this.peak = Math.max(this.peak, this.active);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      // Hand the slot straight to the next waiter so a newcomer cannot overtake it.
      if (next) next();
      else this.active--;
    };
  }

  run<T>(fn: () => Promise<T>): Promise<T> {
    return holding(() => this.acquire(), fn);
  }

  get inFlight(): number {
    return this.active;
  }

  /** Highest number of slots ever held at once (for tests and the benchmark). */
  get peakInFlight(): number {
    return this.peak;
  }
}

/** Runs fn while holding what `acquire` grants (a slot, a window place), released however fn ends. */
export async function holding<T>(acquire: () => Promise<() => void>, fn: () => Promise<T>): Promise<T> {
  const release = await acquire();
  try {
    return await fn();
  } finally {
    release();
  }
}
