import { Pool } from 'undici';

export interface OpenLoopResult {
  /** Latency percentiles in ms, each from the moment the request was due (not when it could be sent). */
  p50: number; p99: number; max: number;
  /** Responses per second over the run. */
  rate: number;
  sent: number; non2xx: number; errors: number; timeouts: number;
  /** CPU of this (the generating) process per request, ms: the load it puts on the cores it shares with the server. */
  generatorCpuMs: number;
}

export interface OpenLoopOptions {
  url: string;
  /** Requests per second, evenly spaced. */
  rate: number;
  seconds: number;
  /** Keep-alive connections at most; a request due while all are busy waits (and that wait counts). */
  connections: number;
  timeoutMs?: number;
  /** The i-th request's body and headers. */
  request: (i: number) => { body: string; headers: Record<string, string> };
}

/**
 * An open-loop load: request i is due at start + i / rate, whatever happened to the ones before, and
 * its latency is measured from that moment — what a webhook sender sees. autocannon's rate limit
 * sends each connection's quota for a second back to back at the start of the second (bursts of the
 * whole rate at once), and its coordinated-omission correction assumes a 1 ms interval at any rate
 * below 1,000 per connection, adding made-up samples to every slow answer; neither fits "1,000
 * deliveries a second".
 */
export function openLoop(o: OpenLoopOptions): Promise<OpenLoopResult> {
  // undici, not http.request: the generator shares this machine's cores with the server it measures, and
  // undici's Pool spent about a third less CPU per request here (0.17 against 0.24 ms).
  const url = new URL(o.url);
  const pool = new Pool(url.origin, { connections: o.connections, pipelining: 1, headersTimeout: o.timeoutMs ?? 10_000, bodyTimeout: o.timeoutMs ?? 10_000 });
  const total = Math.round(o.rate * o.seconds);
  const latencies: number[] = [];
  const r = { sent: 0, non2xx: 0, errors: 0, timeouts: 0 };
  const start = performance.now();
  const cpu0 = process.cpuUsage();
  let done = 0;
  let last = start;
  return new Promise((resolve) => {
    const finish = () => {
      if (++done < total) return;
      void pool.destroy();
      latencies.sort((a, b) => a - b);
      const at = (q: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]! : NaN);
      const round = (x: number) => Math.round(x * 10) / 10;
      resolve({ p50: round(at(0.5)), p99: round(at(0.99)), max: round(latencies[latencies.length - 1] ?? NaN), rate: round(total / ((last - start) / 1000)), ...r, generatorCpuMs: cpuMs(process.cpuUsage(cpu0)) / total });
    };
    const send = (i: number) => {
      const due = start + (i * 1000) / o.rate;
      const { body, headers } = o.request(i);
      r.sent++;
      pool.request({ path: url.pathname + url.search, method: 'POST', headers, body }).then(async (res) => {
        await res.body.dump();
        last = performance.now();
        if (res.statusCode >= 200 && res.statusCode < 300) latencies.push(last - due);
        else r.non2xx++;
      }, (e: unknown) => {
        if ((e as { code?: string }).code?.includes('TIMEOUT')) r.timeouts++;
        else r.errors++;
      }).finally(finish);
    };
    let next = 0;
    // Sends whatever is due, then looks again at the next turn of the event loop: a late turn sends
    // the requests it missed at once, and their latency still counts from when they were due.
    const tick = () => {
      const due = Math.min(total, Math.floor(((performance.now() - start) * o.rate) / 1000) + 1);
      while (next < due) send(next++);
      if (next < total) setTimeout(tick, Math.max(0, start + (next * 1000) / o.rate - performance.now()));
    };
    tick();
  });
}

const cpuMs = (u: NodeJS.CpuUsage) => (u.user + u.system) / 1000;
