/** Collects what reaches the benchmark sink and lets a driver wait for a count. */
export class Sink {
  received = 0;
  private target = Infinity;
  private resolve?: () => void;
  onMessage?: (msg: Record<string, unknown>) => void;

  readonly fn = (msg: Record<string, unknown>): void => {
    this.received++;
    this.onMessage?.(msg);
    this.pull?.();
    if (this.received >= this.target && this.resolve) {
      const r = this.resolve;
      this.resolve = undefined;
      r();
    }
  };

  /** Set by pump: called once per arrival so the driver can keep its window full. */
  pull?: () => void;

  /** Resolves when `count` messages have arrived in total (rejects after timeoutMs). */
  until(count: number, timeoutMs: number): Promise<void> {
    if (this.received >= count) return Promise.resolve();
    this.target = count;
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`sink: ${this.received} of ${count} messages after ${timeoutMs} ms`)), timeoutMs);
      this.resolve = () => { clearTimeout(t); resolve(); };
    });
  }
}

export interface PumpResult { messages: number; wallMs: number; cpuMs: number; perSecond: number; perCpuSecond: number }

/**
 * Sends `total` messages into a node keeping at most `window` in flight (a steady stream, not one
 * burst that only measures queueing), and times wall clock and this process's CPU until all arrived.
 */
export async function pump(sink: Sink, receive: (i: number) => void, total: number, window: number, timeoutMs: number): Promise<PumpResult> {
  const base = sink.received;
  let sent = 0;
  const fill = () => {
    while (sent < total && sent - (sink.received - base) < window) receive(sent++);
  };
  sink.pull = fill;
  const cpu0 = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  fill();
  try {
    await sink.until(base + total, timeoutMs);
  } finally {
    sink.pull = undefined;
  }
  const wallMs = Number(process.hrtime.bigint() - t0) / 1e6;
  const c = process.cpuUsage(cpu0);
  const cpuMs = (c.user + c.system) / 1000;
  return { messages: total, wallMs, cpuMs, perSecond: total / (wallMs / 1000), perCpuSecond: total / (cpuMs / 1000) };
}
