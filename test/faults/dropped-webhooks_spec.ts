import 'should';
import type { Order } from '../../nodes/lib/contract';
import { SqliteJournal } from '../../nodes/lib/journal/sqlite-journal';
import type { FlowNode } from '../../scripts/lib/flows';
import { countsLine, scaled, startRig, tally, until, type Rig } from './harness';

// Shopify does not guarantee delivery. With 30% of webhook deliveries dropped by the simulator, the
// trigger's reconciliation (Admin API orders updated since its cursor) must find every order whose
// webhook never came: each order exists exactly once in D365, or is on hold for a real finding.
//
// The trigger's shortest poll interval is 30 s (TriggerConfig.reconcileIntervalS, min 30). The rig
// enables the poll at that interval, and an inject node wired to the trigger's input runs a
// reconciliation now (the node's documented input), so the test needs not wait out an interval.
// Reconciliations run while webhooks are still arriving, so a dropped order's reconciled version and
// another order's late webhook race, as they would in production.
// Held orders are never written back, so they stay in reconciliation's 120 s look-back: with more than
// 100 of them (FAULT_SCALE above about 3) this test meets the bug described at the skipped test below.

const DROP = 0.3;
const INJECT_ID = 'fault-reconcile-now';

describe('faults: dropped webhooks (30% never delivered), recovered by reconciliation', function () {
  this.timeout(240_000);
  let rig: Rig | undefined;
  afterEach(async () => { await rig?.stop(); rig = undefined; });

  it('creates every order exactly once or holds it for a real finding; none lost', async () => {
    // Shopify Plus's cost bucket (10,000 points, 1,000/s): reconciliation reads full orders at ~150 points
    // each, so at the standard 100/s it recovers about one order a second and the test would take minutes.
    rig = await startRig({ shopify: { chaos: { dropProbability: DROP }, bucket: { maximumAvailable: 10_000, restoreRate: 1000 } }, reconcileIntervalS: 30 });
    const r = rig;
    const shop = r.sims.shopify;
    const trigger = r.flow.find((n) => n.type === 'shopify-trigger')!;
    const inject: FlowNode = {
      id: INJECT_ID, type: 'inject', z: trigger.z, name: 'reconcile now', props: [], repeat: '', crontab: '', once: false,
      onceDelay: 0.1, topic: '', x: 100, y: 900, wires: [[trigger.id]],
    };
    await r.nodeRed.deploy([...r.flow, inject]);
    const reconcileNow = () => r.nodeRed.post(`/inject/${INJECT_ID}`);
    const logMark = r.nodeRed.lineCount();

    const orders: Order[] = [];
    const n = scaled(300);
    for (let i = 0; i < n; i++) {
      orders.push(shop.placeOrder(i % 10 === 9
        ? { customer: 'random', faults: ['unknown_sku'] } // a real exception: held for a person
        : { customer: 'random', shippingCode: i % 3 ? 'Standard' : 'Express', lineCount: 1 + (i % 3), financialStatus: 'paid' }));
      if (i % 50 === 49) {
        await new Promise((res) => setTimeout(res, 100));
        await reconcileNow(); // mid-stream: reconciled versions race webhooks still in flight
      }
    }
    const names = orders.map((o) => o.name);
    const ids = orders.map((o) => Number(o.id));
    await shop.settled();
    // Keep asking for a reconciliation until every order landed (each run is cheap and idempotent).
    await until(async () => {
      const c = await tally(r, names, ids);
      if (c.lost === 0 && c.created + c.held === c.sent) return true;
      await reconcileNow();
      return false;
    }, 150_000, 2000);

    const c = await tally(r, names, ids);
    const webhooks = shop.counters().webhooks;
    const recovered = r.nodeRed.output(logMark)
      .map((l) => /reconciliation emitted (\d+) order version/.exec(l)?.[1])
      .reduce((sum, v) => sum + (v ? Number(v) : 0), 0);
    const j = SqliteJournal.open(r.journalFile);
    const codes = new Map<string, number>();
    let heldWithoutReason = 0;
    try {
      for (const h of await j.listHolds({ status: 'held', limit: 100_000 })) {
        if (!h.findings.some((f) => f.severity === 'error')) heldWithoutReason++;
        for (const code of new Set(h.findings.filter((f) => f.severity === 'error').map((f) => f.code))) codes.set(code, (codes.get(code) ?? 0) + 1);
      }
    } finally {
      await j.close();
    }
    console.log(`      ${countsLine(c)}; webhooks emitted ${webhooks.emitted}, dropped ${webhooks.dropped}; order versions recovered by reconciliation ${recovered}`);
    console.log(`      held for: ${[...codes].map(([k, v]) => `${k} ${v}`).join(', ')}`);
    webhooks.dropped.should.be.above(n * DROP * 0.5, 'the simulator dropped too few deliveries for the test to mean anything');
    recovered.should.be.above(0);
    c.duplicated.should.equal(0);
    c.lost.should.equal(0, `lost: ${c.missing.slice(0, 10).join(', ')}`);
    (c.created + c.held).should.equal(n);
    heldWithoutReason.should.equal(0);
    // Every order with an unknown SKU is held (a real finding), none created.
    const faulty = orders.filter((_, i) => i % 10 === 9);
    faulty.filter((o) => r.sims.bc.order(o.name)).map((o) => o.name).should.deepEqual([]);
  });

  // One reconciliation reads at most maxPages (50) × pageSize (2) = 100 orders; a run that stopped there
  // is continued at its cursor by the next one (not re-read from cursor − overlap, which would read the
  // same first 100 forever when more changed within the overlap and none changes again: held orders here,
  // whose write-back never moves their updated_at).
  it('recovers more than 100 orders updated within the reconciliation overlap', async () => {
    rig = await startRig({ shopify: { chaos: { dropProbability: 1 }, bucket: { maximumAvailable: 10_000, restoreRate: 1000 } }, reconcileIntervalS: 30 });
    const r = rig;
    const trigger = r.flow.find((x) => x.type === 'shopify-trigger')!;
    const inject: FlowNode = { id: INJECT_ID, type: 'inject', z: trigger.z, props: [], repeat: '', crontab: '', once: false, topic: '', wires: [[trigger.id]] };
    await r.nodeRed.deploy([...r.flow, inject]);
    // Not scaled: the point is more orders than one run reads (100).
    const orders = Array.from({ length: 130 }, () => r.sims.shopify.placeOrder({ customer: 'random', faults: ['unknown_sku'] }));
    const names = orders.map((o) => o.name);
    const ids = orders.map((o) => Number(o.id));
    await r.sims.shopify.settled();
    await until(async () => {
      if ((await tally(r, names, ids)).lost === 0) return true;
      await r.nodeRed.post(`/inject/${INJECT_ID}`);
      return false;
    }, 60_000, 3000);
    const c = await tally(r, names, ids);
    console.log(`      ${countsLine(c)}`);
    c.lost.should.equal(0, `lost: ${c.missing.slice(0, 10).join(', ')}`);
  });
});
