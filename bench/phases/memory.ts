import path from 'path';
import { randomUUID } from 'crypto';
import type { OrderJournal } from '../../nodes/lib/journal/journal';
import { SqliteJournal } from '../../nodes/lib/journal/sqlite-journal';
import { storableMessage } from '../../nodes/lib/router/hold-message';
import { startEmbedded } from '../lib/embedded';
import { checkChainFlow } from '../lib/flows';
import { orderMsg, placeCleanOrders } from '../lib/orders';
import { pump, Sink } from '../lib/pump';
import { fmt, type Row } from '../lib/report';
import { benchSims } from '../lib/sims';

const mb = (kb: number) => kb / 1024;

const FINDING = { check: 'sku', code: 'SKU_UNMAPPED', severity: 'error', message: 'line 1: SKU is not mapped to a D365 item', path: 'line_items[0].sku' };

/**
 * The journal's part of the backlog: `count` holds as the router stores them, written through the
 * journal API in one go. Set-up only: fsync is switched off on this private connection so that
 * writing 100,000 holds takes seconds, not the quarter hour one durable commit each would.
 */
async function prefill(file: string, router: string, shop: string, pool: readonly Record<string, unknown>[], count: number): Promise<void> {
  const j = SqliteJournal.open(file);
  (j as unknown as { db: { pragma(s: string): unknown } }).db.pragma('synchronous = OFF');
  try {
    for (let i = 0; i < count; i++) {
      const base = pool[i % pool.length]!;
      const payload = { ...base, id: 8_000_000_000 + i, name: `#P${i}` };
      await j.putHold({
        id: randomUUID(), shop, orderId: String(payload.id), orderName: payload.name, route: 'unrouted', reason: 'blocking finding: SKU_UNMAPPED',
        findings: [FINDING] as never, msg: storableMessage({ topic: 'orders/create', payload, shopify: { shop, topic: 'orders/create', source: 'webhook' }, findings: [FINDING] } as never),
        heldBy: router, heldAt: Date.now(),
      });
    }
  } finally {
    await j.close();
  }
}

/**
 * Memory: a Node-RED process whose journal holds N orders (pre-filled as the router stores them),
 * taking more through the exception router's real input (a blocking finding no rule handles, so each
 * is held with a durable commit); peak RSS of that process against its RSS before.
 */
export async function memoryPhase(o: { packageRoot: string; orders: number; live: number }, log: (s: string) => void): Promise<Row[]> {
  const sims = await benchSims();
  const sink = new Sink();
  const red = await startEmbedded({ packageRoot: o.packageRoot, globals: { benchSink: sink.fn } });
  try {
    const journalFile = path.join(red.userDir, 'journal.sqlite');
    const f = checkChainFlow(sims, o.packageRoot, { journalFile });
    const pool = placeCleanOrders(sims.shopify, 200);
    const shop = sims.shopify.options.shop;
    global.gc?.();
    const before = process.memoryUsage().rss / 1024;
    const t0 = Date.now();
    await prefill(journalFile, f.router, shop, pool as never, o.orders - o.live);
    log(`memory: ${fmt(o.orders - o.live)} holds pre-filled in ${fmt((Date.now() - t0) / 1000, 1)} s`);
    await red.deploy(f.flow);
    const finding = FINDING;
    let held = 0;
    sink.onMessage = (m) => {
      const routing = m.routing as { decision?: string; holdId?: string } | undefined;
      if (routing?.decision === 'hold' && routing.holdId) held++;
    };
    const r = await pump(sink, (i) => {
      // A distinct Shopify order id per message, so each is its own hold (the payload itself is shared).
      const base = pool[i % pool.length]!;
      const msg = orderMsg(shop, { ...base, id: 9_000_000_000 + i, name: `#B${i}` });
      msg.findings = [finding];
      red.node(f.router).receive(msg);
    }, o.live, 200, 900_000);
    // The journal has them, not the heap: read one back from the store.
    const journal = (red.node(f.journal) as unknown as { getJournal(): OrderJournal }).getJournal();
    const oldest = await journal.listHolds({ status: 'held', limit: 1 });
    const peak = process.resourceUsage().maxRSS;
    log(`memory: ${held} holds in ${fmt(r.wallMs / 1000, 1)} s; RSS before ${fmt(mb(before))} MB, peak ${fmt(mb(peak))} MB, heap ${fmt(process.memoryUsage().heapUsed / 2 ** 20)} MB`);
    return [{
      figure: `Memory, ${fmt(o.orders)} orders on hold (peak RSS)`,
      value: `${fmt(mb(peak))} MB`,
      baseline: `${fmt(mb(before))} MB before the holds`,
      target: '≤ 512 MB',
      pass: mb(peak) <= 512 && held === o.live && oldest.length === 1,
      note: `${fmt(o.orders - o.live)} holds pre-filled through the journal API, then ${fmt(held)} held by order-exception-router through its input, `
        + `each a durable SQLite commit (${fmt(o.live / (r.wallMs / 1000))} holds/s); peak RSS of the one Node-RED process (checks, router, journal)`,
      data: { orders: o.orders, live: o.live, held, rssBeforeMb: mb(before), peakRssMb: mb(peak), holdsPerSecond: o.live / (r.wallMs / 1000) },
    }];
  } finally {
    await red.stop();
    await sims.close();
  }
}
