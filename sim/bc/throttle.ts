/**
 * Business Central's per-user limits: a sliding-window request rate, at most N requests processed at
 * once with a FIFO queue behind them, a queue-size cap and a queue timeout. Durations are already scaled.
 */
import { BcError } from './errors';

export interface ThrottleLimits {
  requestsPerWindow: number;
  windowMs: number;
  maxConcurrent: number;
  maxQueue: number;
  queueTimeoutMs: number;
  /** Send Retry-After on 429 too (the docs promise it only for 502/503). */
  retryAfterOn429: boolean;
}

export interface ThrottleStats {
  throttledWindow: number;
  throttledQueueFull: number;
  queueTimeouts: number;
  inFlight: number;
  inFlightMax: number;
  queuedMax: number;
}

interface Waiter { grant: () => void; fail: (e: BcError) => void; timer: NodeJS.Timeout }

class ClientLane {
  readonly stamps: number[] = [];
  active = 0;
  readonly queue: Waiter[] = [];
}

const seconds = (ms: number) => String(Math.max(1, Math.ceil(ms / 1000)));

export class Throttle {
  private readonly lanes = new Map<string, ClientLane>();
  readonly stats: ThrottleStats = { throttledWindow: 0, throttledQueueFull: 0, queueTimeouts: 0, inFlight: 0, inFlightMax: 0, queuedMax: 0 };

  constructor(public limits: ThrottleLimits, private readonly now: () => number = Date.now) {}

  private lane(client: string): ClientLane {
    let l = this.lanes.get(client);
    if (!l) { l = new ClientLane(); this.lanes.set(client, l); }
    return l;
  }

  /** Waits for a processing slot; resolves with a release function, or rejects with a 429/503 BcError. */
  async acquire(client: string): Promise<() => void> {
    const lim = this.limits;
    const lane = this.lane(client);
    const t = this.now();
    while (lane.stamps.length && lane.stamps[0]! <= t - lim.windowMs) lane.stamps.shift();
    if (lane.stamps.length >= lim.requestsPerWindow) {
      this.stats.throttledWindow++;
      const wait = lane.stamps[0]! + lim.windowMs - t;
      throw new BcError(429, 'Application_TooManyRequests',
        `Too Many Requests. The rate of ${lim.requestsPerWindow} requests per ${Math.round(lim.windowMs / 1000)} seconds for this user has been exceeded; retry later.`,
        lim.retryAfterOn429 ? { 'retry-after': seconds(wait) } : {});
    }
    if (lane.active >= lim.maxConcurrent && lane.queue.length >= lim.maxQueue) {
      this.stats.throttledQueueFull++;
      throw new BcError(429, 'Application_TooManyRequests',
        `Too Many Requests. The request queue for this user is full (${lim.maxConcurrent} processing, ${lim.maxQueue} queued).`,
        lim.retryAfterOn429 ? { 'retry-after': '1' } : {});
    }
    lane.stamps.push(t);
    if (lane.active < lim.maxConcurrent) return this.start(lane);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        grant: () => { clearTimeout(waiter.timer); resolve(this.start(lane)); },
        fail: (e) => { clearTimeout(waiter.timer); reject(e); },
        timer: setTimeout(() => {
          lane.queue.splice(lane.queue.indexOf(waiter), 1);
          this.stats.queueTimeouts++;
          reject(new BcError(503, 'Internal_ServiceUnavailable',
            'Service Temporarily Unavailable. The request waited in the queue longer than the allowed time.', { 'retry-after': seconds(lim.queueTimeoutMs / 8) }));
        }, lim.queueTimeoutMs),
      };
      lane.queue.push(waiter);
      this.stats.queuedMax = Math.max(this.stats.queuedMax, lane.queue.length);
    });
  }

  private start(lane: ClientLane): () => void {
    lane.active++;
    this.stats.inFlight++;
    this.stats.inFlightMax = Math.max(this.stats.inFlightMax, this.stats.inFlight);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      lane.active--;
      this.stats.inFlight--;
      lane.queue.shift()?.grant();
    };
  }

  /** Clears windows, and fails every queued request (used by reset and close). */
  clear(): void {
    for (const lane of this.lanes.values()) {
      for (const w of lane.queue.splice(0)) w.fail(new BcError(503, 'Internal_ServiceUnavailable', 'Service Temporarily Unavailable. The service was reset.'));
    }
    this.lanes.clear();
    Object.assign(this.stats, { throttledWindow: 0, throttledQueueFull: 0, queueTimeouts: 0, inFlightMax: this.stats.inFlight, queuedMax: 0 });
  }
}
