import 'should';
import fc from 'fast-check';
import { WindowLimiter, type LimiterClock, type WindowLimitsInput } from '../../nodes/lib/http/window-limiter';

/** A clock whose time moves only when the test says so; due timers fire in time order. */
class FakeClock implements LimiterClock {
  t = 0;
  private timers: { at: number; fn: () => void; id: number }[] = [];
  private ids = 0;
  now() {
    return this.t;
  }
  setTimeout(fn: () => void, ms: number) {
    const id = ++this.ids;
    this.timers.push({ at: this.t + ms, fn, id });
    return id;
  }
  clearTimeout(h: unknown) {
    this.timers = this.timers.filter((x) => x.id !== h);
  }
  get pendingTimers() {
    return this.timers.length;
  }
  /** Moves time forward to `to`, firing timers on the way and letting granted requests run. */
  async advanceTo(to: number) {
    await flush();
    for (;;) {
      const due = this.timers.filter((x) => x.at <= to).sort((a, b) => a.at - b.at)[0];
      if (!due) break;
      this.timers = this.timers.filter((x) => x !== due);
      this.t = Math.max(this.t, due.at);
      due.fn();
      await flush();
    }
    this.t = Math.max(this.t, to);
    await flush();
  }
}

const flush = () => new Promise<void>((r) => setImmediate(r));

/** Starts `n` acquisitions; records when each was granted and keeps its release. */
function burst(limiter: WindowLimiter, clock: FakeClock, n: number) {
  const started: (number | undefined)[] = Array(n).fill(undefined);
  const releases: (() => void)[] = [];
  for (let i = 0; i < n; i++) {
    void limiter.acquire().then((release) => {
      started[i] = clock.now();
      releases[i] = release;
    });
  }
  return { started, releases, count: () => started.filter((s) => s !== undefined).length };
}

const make = (limits: WindowLimitsInput) => {
  const clock = new FakeClock();
  return { clock, limiter: new WindowLimiter(limits, clock) };
};

describe('WindowLimiter', () => {
  it('defaults to Business Central online limits: 6,000 per 5 minutes, 5 in flight', () => {
    new WindowLimiter().limits.should.eql({ requestsPerWindow: 6000, windowMs: 300_000, maxInFlight: 5 });
    (() => new WindowLimiter({ requestsPerWindow: 0 })).should.throw();
    (() => new WindowLimiter({ windowMs: -1 })).should.throw();
    (() => new WindowLimiter({ maxInFlight: 1.5 })).should.throw();
  });

  it('starts a full window at once, then waits until the first request has been finished for windowMs', async () => {
    const { clock, limiter } = make({ requestsPerWindow: 3, windowMs: 1000, maxInFlight: 10 });
    const b = burst(limiter, clock, 5);
    await clock.advanceTo(0);
    b.count().should.equal(3);
    await clock.advanceTo(100);
    b.releases[0]!();
    await clock.advanceTo(200);
    b.releases[1]!();
    b.releases[2]!();
    await clock.advanceTo(1099);
    b.count().should.equal(3);
    await clock.advanceTo(1100);
    b.started[3]!.should.equal(1100);
    b.count().should.equal(4);
    await clock.advanceTo(1200);
    b.started[4]!.should.equal(1200);
    limiter.stats.should.eql({ started: 5, delayed: 2, pauses: 0 });
  });

  it('counts a request from its start until windowMs after it finished: a slow request keeps its place', async () => {
    const { clock, limiter } = make({ requestsPerWindow: 2, windowMs: 1000, maxInFlight: 10 });
    const b = burst(limiter, clock, 4);
    await clock.advanceTo(0);
    b.releases[0]!(); // the second keeps running
    await clock.advanceTo(999);
    b.count().should.equal(2);
    await clock.advanceTo(1000);
    b.started[2]!.should.equal(1000);
    await clock.advanceTo(5000); // two running, so no room however long we wait
    (b.started[3] === undefined).should.be.true();
    limiter.inWindow.should.equal(2);
    b.releases[1]!();
    await clock.advanceTo(5999);
    (b.started[3] === undefined).should.be.true();
    await clock.advanceTo(6000);
    b.started[3]!.should.equal(6000);
  });

  it('never has more than maxInFlight running, and starts waiters in arrival order', async () => {
    const { clock, limiter } = make({ requestsPerWindow: 100, windowMs: 1000, maxInFlight: 2 });
    const order: number[] = [];
    const done = Array.from({ length: 6 }, (_, i) => limiter.run(async () => {
      order.push(i);
      limiter.inFlight.should.be.belowOrEqual(2);
      await flush();
    }));
    await Promise.all(done);
    order.should.eql([0, 1, 2, 3, 4, 5]);
    limiter.peakInFlight.should.equal(2);
    limiter.stats.delayed.should.equal(0); // waiting for a slot is not pacing
    clock.pendingTimers.should.equal(0);
  });

  it('releases only once even when the release function is called twice', async () => {
    const { clock, limiter } = make({ requestsPerWindow: 10, windowMs: 1000, maxInFlight: 1 });
    const b = burst(limiter, clock, 3);
    await clock.advanceTo(0);
    b.releases[0]!();
    b.releases[0]!();
    await clock.advanceTo(1);
    b.count().should.equal(2);
    limiter.inFlight.should.equal(1);
  });

  it('pause holds back everyone, queued and new alike, and a shorter pause never shortens a longer one', async () => {
    const { clock, limiter } = make({ requestsPerWindow: 100, windowMs: 1000, maxInFlight: 5 });
    const first = burst(limiter, clock, 2);
    await clock.advanceTo(0);
    first.count().should.equal(2);
    limiter.pause(500);
    limiter.pause(100);
    const later = burst(limiter, clock, 3);
    await clock.advanceTo(499);
    later.count().should.equal(0);
    await clock.advanceTo(500);
    later.started.should.eql([500, 500, 500]);
    limiter.pause(0);
    limiter.pause(Number.NaN);
    limiter.stats.pauses.should.equal(2);
    limiter.stats.delayed.should.equal(3);
  });

  it('never lets more than requestsPerWindow starts fall in any window, and drains a burst as fast as the window allows', () => fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 4 }), fc.array(fc.integer({ min: 1, max: 300 }), { minLength: 1, maxLength: 40 }),
      async (perWindow, maxInFlight, durations) => {
        const windowMs = 1000;
        const { clock, limiter } = make({ requestsPerWindow: perWindow, windowMs, maxInFlight });
        const starts: number[] = [];
        const ends: number[] = [];
        const all = durations.map((d, i) => limiter.run(() => new Promise<void>((resolve) => {
          starts[i] = clock.now();
          clock.setTimeout(() => { ends[i] = clock.now(); resolve(); }, d);
        })));
        for (let t = 0; ends.filter((e) => e !== undefined).length < durations.length; t += 50) await clock.advanceTo(t);
        await Promise.all(all);
        const sorted = [...starts].sort((x, y) => x - y);
        // The server counts a request when it arrives (at or after our start): any windowMs span holds at most perWindow.
        for (let i = perWindow; i < sorted.length; i++) (sorted[i]! - sorted[i - perWindow]!).should.be.aboveOrEqual(windowMs);
        // No time is lost: in arrival order, each starts the moment a slot is free and the window has room.
        for (let i = 1; i < starts.length; i++) {
          const before = ends.slice(0, i).sort((x, y) => x - y);
          const slotFree = i < maxInFlight ? 0 : before[i - maxInFlight]!;
          const windowFree = i < perWindow ? 0 : before[i - perWindow]! + windowMs;
          starts[i]!.should.equal(Math.max(starts[i - 1]!, slotFree, windowFree));
        }
      }),
    { numRuns: 60 },
  ));
});
