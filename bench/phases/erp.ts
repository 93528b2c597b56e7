import path from 'path';
import { randomUUID } from 'crypto';
import type { Order } from '../../nodes/lib/contract';
import type { BcClient } from '../../nodes/lib/d365/bc-client';
import type { D365ConnectionNode } from '../../nodes/lib/d365/connection-config';
import type { OrderJournal } from '../../nodes/lib/journal/journal';
import { storableMessage } from '../../nodes/lib/router/hold-message';
import type { Sims } from '../../scripts/lib/sims';
import { startEmbedded, type Embedded } from '../lib/embedded';
import { checkChainFlow, type ChainOptions } from '../lib/flows';
import { orderMsg, placeCleanOrders, placeRepeatOrders } from '../lib/orders';
import { pump, Sink } from '../lib/pump';
import { fmt, type Row } from '../lib/report';
import { benchSims } from '../lib/sims';

interface Setup { sims: Sims; red: Embedded; sink: Sink; first: string; router: string; journalId: string; connectionId: string }

/**
 * Deploys checks → router → writer on `red` (replacing what ran before) against `sims`; `connection`
 * overrides settings of the d365-connection config node (as the editor saves them: strings).
 */
async function setup(red: Embedded, sink: Sink, packageRoot: string, sims: Sims, chain: Omit<ChainOptions, 'journalFile' | 'writer'>,
  connection: Record<string, string> = {}): Promise<Setup> {
  const f = checkChainFlow(sims, packageRoot, { ...chain, writer: true, journalFile: path.join(red.userDir, `journal-${randomUUID()}.sqlite`) });
  const conn = f.flow.find((n) => n.type === 'd365-connection');
  if (!conn) throw new Error('the bench flow has no d365-connection');
  Object.assign(conn, connection);
  await red.deploy(f.flow);
  return { sims, red, sink, first: f.first, router: f.router, journalId: f.journal, connectionId: conn.id };
}

/** The BC client every D365 node of the flow shares (one per connection). */
const bcClientOf = (s: Setup) => (s.red.node(s.connectionId) as unknown as D365ConnectionNode).getClient() as BcClient;

/** Sends orders through checks → router → writer; resolves when each reached the sink (created, or held). */
async function run(s: Setup, orders: readonly Order[], window: number, timeoutMs: number): Promise<{ created: number; other: number }> {
  let created = 0;
  let other = 0;
  s.sink.onMessage = (m) => {
    if ((m.writer as { action?: string } | undefined)?.action === 'created') created++;
    else other++;
  };
  try {
    await pump(s.sink, (i) => s.red.node(s.first).receive(orderMsg(s.sims.shopify.options.shop, orders[i]!)), orders.length, window, timeoutMs);
  } finally {
    s.sink.onMessage = undefined;
  }
  return { created, other };
}

const byEntity = (before: Record<string, number>, after: Record<string, number>) => Object.fromEntries(
  Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]).filter(([, v]) => (v as number) > 0));

/**
 * ERP calls per order at steady state: new orders by customers for items the caches already know,
 * through the example's checks, router and writer against the BC simulator, counted by the simulator;
 * then the same with every check's cache TTL at 0 (caching off).
 */
export async function erpCallsPhase(o: { packageRoot: string; templates: number; orders: number; ordersOff: number }, log: (s: string) => void): Promise<Row[]> {
  const sink = new Sink();
  const red = await startEmbedded({ packageRoot: o.packageRoot, globals: { benchSink: sink.fn } });
  const measure = async (cacheTtlS: number | undefined, count: number) => {
    const sims = await benchSims();
    const s = await setup(red, sink, o.packageRoot, sims, { cacheTtlS });
    try {
      const templates = placeCleanOrders(sims.shopify, o.templates);
      const warm = await run(s, templates, 20, 300_000);
      const before = sims.bc.requests();
      const r0 = sims.bc.stats().requests;
      const r = await run(s, placeRepeatOrders(sims.shopify, templates, count), 20, 300_000);
      const requests = sims.bc.stats().requests - r0;
      const entities = byEntity(before, sims.bc.requests());
      log(`erp calls (cache ${cacheTtlS === 0 ? 'off' : 'on'}): warm-up ${warm.created} created; measured ${r.created} created, ${r.other} not, ${requests} BC requests ${JSON.stringify(entities)}`);
      return { ...r, requests, perOrder: requests / Math.max(1, r.created), entities };
    } finally {
      await red.deploy([]);
      await sims.close();
    }
  };
  let on: Awaited<ReturnType<typeof measure>>;
  let off: Awaited<ReturnType<typeof measure>>;
  try {
    on = await measure(undefined, o.orders);
    off = await measure(0, o.ordersOff);
  } finally {
    await red.stop();
  }
  return [{
    figure: 'ERP calls per order (steady state)',
    value: fmt(on.perOrder, 2),
    baseline: `${fmt(off.perOrder, 2)} with caching off`,
    target: '≤ 1.05',
    pass: on.perOrder <= 1.05 && on.created === o.orders,
    note: `BC simulator request counts over ${on.created} created orders (cache on: ${JSON.stringify(on.entities)}; off: ${JSON.stringify(off.entities)})`,
    data: { on, off },
  }];
}

/**
 * Business Central's limits as the drain runs them: the window 50 times smaller in both count and length
 * (120 per 6 s instead of 6,000 per 300 s), so a run takes seconds while the rate stays BC's 20 requests/s
 * and a window's share takes the flow the same fraction of the window as online; 5 in flight as online.
 */
const DRAIN_LIMITS = { requestsPerWindow: 120, windowMs: 300_000, maxConcurrent: 5, maxQueue: 95 };
const DRAIN_TIME_SCALE = 0.02;
/** The simulator's processing time per request (its default), spent while holding one of the 5 slots. */
const DRAIN_LATENCY_MS = 1;

/**
 * Least time BC's limits allow for `requests` requests that are all ready at time 0: each starts as soon
 * as one of `inFlight` slots is free and the sliding window (counted at arrival, as BC does) has room,
 * and takes `serviceMs`. Returns when the last one finishes.
 */
export function drainMinimumMs(requests: number, l: { perWindow: number; windowMs: number; inFlight: number; serviceMs: number }): number {
  const starts: number[] = [];
  const ends: number[] = [];
  for (let i = 0; i < requests; i++) {
    const slotFree = i >= l.inFlight ? ends[i - l.inFlight]! : 0;
    const windowFree = i >= l.perWindow ? starts[i - l.perWindow]! + l.windowMs : 0;
    starts.push(Math.max(slotFree, windowFree, i ? starts[i - 1]! : 0));
    ends.push(starts[i]! + l.serviceMs);
  }
  return ends.length ? Math.max(...ends) : 0;
}

interface DrainRun {
  created: number; other: number; ms: number; timeline: number[]; served: number;
  client: { calls: number; throttled: number; retries: number }; paced: number; stats: ReturnType<Sims['bc']['stats']>; requests: Record<string, number>;
}

/**
 * One drain on `red` against fresh simulators whose BC has `limits` (the connection set to the same, as an
 * operator sets it to BC's): N orders put in the journal as retry-later holds the way the router stores
 * them while D365 is down, then D365 is back and every retry falls due at the same moment; time from then
 * until the last order reached the sink.
 */
async function drainOnce(red: Embedded, sink: Sink, o: { packageRoot: string; orders: number; templates: number }, limits: typeof DRAIN_LIMITS, log: (s: string) => void): Promise<DrainRun> {
  const sims = await benchSims({ bc: { limits, timeScale: DRAIN_TIME_SCALE, latencyMs: DRAIN_LATENCY_MS } });
  const windowMs = limits.windowMs * DRAIN_TIME_SCALE;
  try {
    const s = await setup(red, sink, o.packageRoot, sims, { retrySchedule: '1s, 2s, 4s, 8s, 16s', retryPollS: 0.05 }, {
      requestsPerWindow: String(limits.requestsPerWindow), windowS: String(windowMs / 1000), maxConcurrency: String(limits.maxConcurrent),
    });
    // Warm caches first (the store was running before the outage), then let the window empty.
    const templates = placeCleanOrders(sims.shopify, o.templates);
    await run(s, templates, 20, 300_000);
    await new Promise((r) => setTimeout(r, windowMs + 200));

    sims.bc.setFaults({ down: true });
    const journal = (s.red.node(s.journalId) as unknown as { getJournal(): OrderJournal }).getJournal();
    const backlog = placeRepeatOrders(sims.shopify, templates, o.orders);
    const ids: string[] = [];
    const shop = sims.shopify.options.shop;
    const queuing0 = Date.now();
    for (const order of backlog) {
      const msg = orderMsg(shop, order);
      const findings = [{ check: 'customer', code: 'D365_UNAVAILABLE', severity: 'error', retryable: true, message: 'D365 did not answer: 503 Service Temporarily Unavailable' }];
      const h = await journal.putHold({
        id: randomUUID(), shop, orderId: String(order.id), orderName: order.name, route: 'ERP busy', reason: 'retryable finding: D365_UNAVAILABLE',
        findings: findings as never, msg: storableMessage({ ...msg, findings, routing: { decision: 'retry', attempts: 1, at: new Date().toISOString() } } as never),
        heldBy: s.router, heldAt: Date.now(), retryAt: Date.now() + 3_600_000, attempts: 1,
      });
      ids.push(h.id);
    }
    const queuingMs = Date.now() - queuing0;

    sims.bc.setFaults({ down: false });
    sims.bc.resetCounters();
    const client = bcClientOf(s);
    const client0 = { ...client.stats };
    const paced0 = client.limiter.stats.delayed;
    let created = 0;
    let other = 0;
    // Every retry falls due at the same moment t0, set far enough ahead for the journal writes that
    // reschedule them (they are the benchmark's set-up, not the flow's work).
    const target = sink.received + o.orders;
    const t0 = Date.now() + 2 * queuingMs + 500;
    const arrivals: number[] = [];
    sink.onMessage = (m) => {
      if ((m.writer as { action?: string } | undefined)?.action === 'created') created++;
      else other++;
      arrivals.push(Date.now() - t0);
    };
    try {
      for (const id of ids) await journal.rescheduleHold(id, t0, 1);
      if (Date.now() > t0) log(`drain: rescheduling the holds ran ${Date.now() - t0} ms past their due time`);
      await sink.until(target, 600_000).catch((e: Error) => log(`drain: ${e.message}`));
    } finally {
      sink.onMessage = undefined;
    }
    const ms = arrivals.length === o.orders ? arrivals[arrivals.length - 1]! : Date.now() - t0;
    // When the orders came out: with BC's window the bulk of each window's share should come right at its start.
    const timeline = Array.from({ length: 10 }, (_, i) => arrivals[Math.min(arrivals.length - 1, Math.floor(((i + 1) * arrivals.length) / 10) - 1)] ?? -1);
    const stats = sims.bc.stats();
    const seen = { calls: client.stats.calls - client0.calls, throttled: client.stats.throttled - client0.throttled, retries: client.stats.retries - client0.retries };
    // Requests BC served (a throttled request is refused before it counts against the window).
    const served = stats.requests - stats.throttledWindow - stats.throttledQueueFull;
    const r: DrainRun = { created, other, ms, timeline, served, client: seen, paced: client.limiter.stats.delayed - paced0, stats, requests: sims.bc.requests() };
    log(`drain (${limits.requestsPerWindow} per ${windowMs} ms): ${created} created, ${other} other in ${ms} ms (each tenth done at ${timeline.join(', ')} ms); `
      + `client ${JSON.stringify(seen)}, ${r.paced} paced; BC ${JSON.stringify(stats)} ${JSON.stringify(r.requests)}`);
    return r;
  } finally {
    await red.deploy([]);
    await sims.close();
  }
}

/**
 * Backlog drain: the time `drainOnce` takes under BC's limits, against the least time those limits allow
 * for the BC requests the flow actually made; the same drain with the window lifted shows how fast the
 * flow itself goes (when that is slower than BC's ceiling, the flow, not the client, is what limits).
 */
export async function drainPhase(o: { packageRoot: string; orders: number; templates: number }, log: (s: string) => void): Promise<Row[]> {
  const sink = new Sink();
  const red = await startEmbedded({ packageRoot: o.packageRoot, globals: { benchSink: sink.fn } });
  let free: DrainRun;
  let bc: DrainRun;
  try {
    free = await drainOnce(red, sink, o, { ...DRAIN_LIMITS, requestsPerWindow: 1_000_000 }, log);
    bc = await drainOnce(red, sink, o, DRAIN_LIMITS, log);
  } finally {
    await red.stop();
  }
  const windowMs = DRAIN_LIMITS.windowMs * DRAIN_TIME_SCALE;
  const limits = { perWindow: DRAIN_LIMITS.requestsPerWindow, windowMs, inFlight: DRAIN_LIMITS.maxConcurrent, serviceMs: DRAIN_LATENCY_MS };
  const idealMs = drainMinimumMs(bc.served, limits);
  const oneCallMs = drainMinimumMs(o.orders, limits);
  const ratio = idealMs / bc.ms;
  const concurrency429 = bc.stats.throttledQueueFull;
  return [{
    figure: 'Backlog drain (share of the BC ceiling)',
    value: `${fmt(ratio, 2)} (${fmt(o.orders)} orders in ${fmt(bc.ms / 1000, 1)} s)`,
    baseline: `${fmt(idealMs / 1000, 1)} s least time for ${fmt(bc.served)} requests; flow alone ${fmt(free.ms / 1000, 1)} s`,
    target: '≥ 0.9, no 429 from own concurrency',
    pass: ratio >= 0.9 && concurrency429 === 0 && bc.created === o.orders,
    note: `limits ${DRAIN_LIMITS.requestsPerWindow} requests per ${windowMs / 1000} s sliding window and ${DRAIN_LIMITS.maxConcurrent} in flight `
      + `(BC's 6,000 per 300 s scaled down 50× in count and length: the same 20 requests/s; the connection is set to the same); ${bc.served} requests served for ${bc.created} created `
      + `(${fmt(bc.served / Math.max(1, bc.created), 2)}/order; at 1/order the least time would be ${fmt(oneCallMs / 1000, 1)} s); `
      + `429s seen by the client ${bc.client.throttled} (at BC: by rate window ${bc.stats.throttledWindow}, by own concurrency ${concurrency429}); `
      + `${bc.paced} requests waited for window room; peak in flight ${bc.stats.inFlightMax}; the same backlog with the window lifted drained in `
      + `${fmt(free.ms / 1000, 1)} s (the flow's own pace: journal commits per order, checks, writer)`,
    data: { orders: o.orders, ratio, idealMs, oneCallMs, limits: DRAIN_LIMITS, timeScale: DRAIN_TIME_SCALE, latencyMs: DRAIN_LATENCY_MS, bc, free },
  }];
}
