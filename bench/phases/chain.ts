import path from 'path';
import { parseTopicPayload } from '../../nodes/lib/contract';
import type { Order } from '../../nodes/lib/contract';
import { orderKey } from '../../nodes/lib/inventory/keys';
import type { OrderJournal } from '../../nodes/lib/journal/journal';
import { countCopies } from '../lib/copies';
import { startEmbedded } from '../lib/embedded';
import { CHAIN_TYPES, EXAMPLE_CHAIN_TYPES, checkChainFlow, emptyChainFlow } from '../lib/flows';
import { deepStockCatalogue, orderMsg, placeCleanOrders, renumber, renumbered } from '../lib/orders';
import { pump, Sink, type PumpResult } from '../lib/pump';
import { fmt, type Row } from '../lib/report';
import { benchSims } from '../lib/sims';

export interface ChainOptions { packageRoot: string; orders: number; pool: number; rounds: number }

/** What the journal config node hands out; `commits` (write transactions so far) where the backend counts them. */
interface JournalNode { getJournal(): OrderJournal & { commits?: unknown } }

/** As the trigger emits an order: parsed and validated once at the door. */
function parsed(order: Order): Order {
  const r = parseTopicPayload('orders/create', order);
  if (!r.ok) throw new Error(`a generated order does not parse: ${r.error}`);
  return r.payload as Order;
}

/**
 * Chain throughput and copies: the example's chain (five checks, the inventory gate, the router) with
 * warm caches against as many empty function nodes, all embedded in this one process, alternating
 * rounds, best of each. Every measured order is a NEW order (fresh id, same customers and lines as the
 * pool): the gate reserves its units in the journal as it would for a real one. The five checks
 * without the gate are measured too, against their own floor (the figure reported before the gate
 * was part of the benchmark).
 */
export async function chainPhase(o: ChainOptions, log: (s: string) => void): Promise<Row[]> {
  // Deep stock: a hundred thousand new orders reserve units and hand them over, and the sims never ship them: no item
  // may run low within the run (the gate would re-read its stock, and the sims run in this process).
  const catalogue = deepStockCatalogue(1_000_000);
  const sims = await benchSims({ bc: { catalogue }, shopify: { catalogue } });
  const sink = new Sink();
  const red = await startEmbedded({ packageRoot: o.packageRoot, globals: { benchSink: sink.fn } });
  try {
    const shop = sims.shopify.options.shop;
    const all = placeCleanOrders(sims.shopify, o.pool).map(parsed);
    const journalFile = path.join(red.userDir, 'chain.sqlite');
    // The gate's stock cache lives 10 min instead of the example's 30 s: a refetch inside a measured run would
    // charge the BC simulator's CPU (it runs in this process) to the chain.
    const chain = checkChainFlow(sims, o.packageRoot, { journalFile, types: EXAMPLE_CHAIN_TYPES, stockTtlS: 600 });
    const checks = checkChainFlow(sims, o.packageRoot, { journalFile, types: CHAIN_TYPES, idSuffix: '-checks', base: false });
    const floor = emptyChainFlow(EXAMPLE_CHAIN_TYPES.length + 1, 'floor');
    const floorChecks = emptyChainFlow(CHAIN_TYPES.length + 1, 'floor-checks');

    // All in one deployment: redeploying would replace the connection node and empty its caches.
    await red.deploy([...chain.flow, ...checks.flow, ...floor.flow, ...floorChecks.flow]);
    const journal = (red.node(chain.journal) as unknown as JournalNode).getJournal();
    const commits = () => (typeof journal.commits === 'number' ? journal.commits : undefined);
    // Warm-up: every pool order once through the chain (fills the caches); keep those routed clean.
    const clean = new Set<number>();
    const isClean = (m: Record<string, unknown>) => (m.routing as { decision?: string } | undefined)?.decision === 'clean';
    sink.onMessage = (m) => {
      if (isClean(m)) clean.add(Number((m.payload as { id: number }).id));
    };
    await pump(sink, (i) => red.node(chain.first).receive(orderMsg(shop, all[i]!)), all.length, 200, 120_000);
    sink.onMessage = undefined;
    const pool = all.filter((x) => clean.has(Number(x.id)));
    await Promise.all(all.map((x) => journal.release(orderKey(shop, x.id))));
    if (pool.length === 0) throw new Error('no order of the pool passed the checks clean; the chain cannot be measured');
    await pump(sink, (i) => red.node(checks.first).receive(orderMsg(shop, pool[i]!)), pool.length, 200, 60_000);
    log(`chain: ${pool.length} of ${all.length} pool orders pass the chain clean; BC requests during warm-up ${sims.bc.stats().requests}`);

    const best = {} as Record<'chain' | 'floor' | 'checks' | 'floorChecks', PumpResult | undefined>;
    /** Every run's figure (for the log and the results file) and each figure's best run. */
    const every = { floor: [] as number[], floorChecks: [] as number[], checks: [] as number[], chain: [] as number[] };
    const latest = (k: keyof typeof every) => every[k][every[k].length - 1]!;
    const keep = (k: keyof typeof best, r: PumpResult) => {
      every[k].push(Math.round(r.perCpuSecond));
      if (!best[k] || r.perCpuSecond > best[k]!.perCpuSecond) best[k] = r;
    };
    let copies = { cloneMessage: 0, structuredClone: 0, identity: true, messages: 0 };
    let notClean = 0;
    let commitsMeasured = 0;
    let chainMessages = 0;
    const chainOrders = Math.min(o.orders, 10_000);
    let requestsMeasured = 0;
    let requestsChecks = 0;
    // JIT warm-up of the new-order path: the warm-up above ran orders the gate had already seen (no new
    // reservation, no hand-over); untimed, new orders through the chain and handed over, twice as many as a
    // measured round, so the first measured round is not the one in which V8 compiles (and, as order shapes
    // vary, recompiles) the reserve and hand-over paths: with 2,000 it still ran ~190 optimisations inside the
    // timed window, on helper threads whose CPU counts against the chain.
    const handOverAtSink = (m: Record<string, unknown>) => journal.handOver(orderKey(shop, (m.payload as Order).id));
    sink.onMessage = (m) => { void handOverAtSink(m).catch(() => undefined); };
    // The orders the chain measures (the pool's customers and lines), made and parsed once, before any clock
    // starts, and given new ids before each run: every run sees new orders, and the harness makes no garbage
    // of its own between runs (a fresh 10,000 orders a round is ~150 MB that some later run's major GC, often
    // the chain's, had to collect: the chain's figure swung by a third from round to round with it).
    const fresh = Array.from({ length: chainOrders }, (_, i) => parsed(renumbered(pool[i % pool.length]!)));
    const newIds = () => { for (const x of fresh) renumber(x); };
    /** One run of an empty-node floor. A floor measured once swung between 6,000 and 12,500 per CPU-second from
     * run to run on this machine: each side is measured as often as the other, and each keeps its best run. */
    const floorRun = async (k: 'floor' | 'floorChecks', first: string) => {
      keep(k, await pump(sink, (i) => red.node(first).receive(orderMsg(shop, pool[i % pool.length]!)), o.orders, 500, 120_000));
    };
    const runs = o.rounds * 3;
    for (let pass = 0; pass < 2; pass++) {
      newIds();
      await pump(sink, (i) => red.node(chain.first).receive(orderMsg(shop, fresh[i]!)), fresh.length, 500, 300_000);
    }
    sink.onMessage = undefined;
    for (let round = 0; round < runs; round++) {
      newIds();
      await floorRun('floor', floor.first);
      // Caches warm at the start of the round (the lookups live 5 min, the gate's stock 10 min here: a long
      // run outlives them), untimed; the BC simulator runs in this process, so a refetch would count its
      // CPU against the chain.
      sink.onMessage = (m) => { void journal.release(orderKey(shop, (m.payload as Order).id)).catch(() => undefined); };
      await pump(sink, (i) => red.node(chain.first).receive(orderMsg(shop, pool[i]!)), pool.length, 200, 60_000);
      const originals = new Set<unknown>(fresh);
      let identity = true;
      let releaseFailed = 0;
      sink.onMessage = (m) => {
        if (!originals.has(m.payload)) identity = false;
        if (!isClean(m)) notClean++;
        // What the order writer does once the order is D365 demand: the reservation is handed over
        // (kept, counted only against stock read before, as in a running flow).
        handOverAtSink(m).catch(() => { releaseFailed++; });
      };
      const c0 = commits();
      const r0 = sims.bc.stats().requests;
      const c = await countCopies(() => pump(sink, (i) => red.node(chain.first).receive(orderMsg(shop, fresh[i]!)), fresh.length, 500, 300_000));
      const c1 = commits();
      requestsMeasured += sims.bc.stats().requests - r0;
      if (c0 !== undefined && c1 !== undefined) commitsMeasured += c1 - c0;
      chainMessages += fresh.length;
      sink.onMessage = undefined;
      if (releaseFailed) throw new Error(`${releaseFailed} reservations could not be released`);
      keep('chain', c.result);
      copies = { cloneMessage: c.cloneMessage, structuredClone: c.structuredClone, identity, messages: fresh.length };

      await floorRun('floorChecks', floorChecks.first);
      const r1 = sims.bc.stats().requests;
      // The round's new orders again (as many as the floor's run): distinct objects, as real traffic is.
      keep('checks', await pump(sink, (i) => red.node(checks.first).receive(orderMsg(shop, fresh[i % fresh.length]!)), o.orders, 500, 120_000));
      requestsChecks += sims.bc.stats().requests - r1;
      log(`chain round ${round + 1} of ${runs} (run / best so far): floor ${fmt(latest('floor'))} / ${fmt(best.floor!.perCpuSecond)}, `
        + `chain ${fmt(c.result.perCpuSecond)} / ${fmt(best.chain!.perCpuSecond)} per CPU-s (${fmt(c.result.perSecond)}/s wall); `
        + `checks only: floor ${fmt(latest('floorChecks'))} / ${fmt(best.floorChecks!.perCpuSecond)}, checks ${fmt(latest('checks'))} / ${fmt(best.checks!.perCpuSecond)}`);
    }
    log(`chain: BC requests by entity ${JSON.stringify(sims.bc.requests())}`);
    const ch = best.chain!;
    const fl = best.floor!;
    const ratio = ch.perCpuSecond / fl.perCpuSecond;
    const ck = best.checks!;
    const fc = best.floorChecks!;
    const ratioChecks = ck.perCpuSecond / fc.perCpuSecond;
    const copiesPerMsg = (copies.cloneMessage + copies.structuredClone) / copies.messages;
    const commitsPerOrder = commits() === undefined ? undefined : commitsMeasured / chainMessages;
    const shape = (types: readonly string[]) => `${types.join(' → ')} → order-exception-router`;
    return [
      {
        figure: 'Chain throughput (orders/s per core)',
        value: `${fmt(ch.perCpuSecond)} (${fmt(ratio, 2)}× floor)`,
        baseline: `${fmt(fl.perCpuSecond)} (${EXAMPLE_CHAIN_TYPES.length + 1} empty function nodes)`,
        target: '≥ 0.65× floor and ≥ 5,000',
        pass: ratio >= 0.65 && ch.perCpuSecond >= 5000 && notClean === 0,
        note: `${shape(EXAMPLE_CHAIN_TYPES)}, example settings (the gate's stock cached 10 min, not 30 s), warm caches (${requestsMeasured} BC requests while measured); `
          + `every order new: reserved by the gate, handed over at the sink as the writer does (journal durable: WAL fdatasync per group commit${commitsPerOrder === undefined ? '' : `, ${fmt(commitsPerOrder, 3)} commits per order`}, CPU counted)`
          + `${notClean ? `, ${fmt(notClean)} NOT routed clean` : ', all routed clean'}; `
          + `orders per CPU-second of the one Node-RED process (wall: chain ${fmt(ch.perSecond)}/s, floor ${fmt(fl.perSecond)}/s); best of ${runs} runs of ${fmt(chainOrders)} (floor: best of ${runs} runs of ${fmt(o.orders)}, alternating)`,
        data: { chain: ch, floor: fl, ratio, pool: pool.length, requestsMeasured, notClean, commitsPerOrder, runs: { chain: every.chain, floor: every.floor } },
      },
      {
        figure: 'Checks only, no gate (orders/s per core)',
        value: `${fmt(ck.perCpuSecond)} (${fmt(ratioChecks, 2)}× floor)`,
        baseline: `${fmt(fc.perCpuSecond)} (${CHAIN_TYPES.length + 1} empty function nodes)`,
        target: '≥ 0.65× floor and ≥ 5,000',
        pass: ratioChecks >= 0.65 && ck.perCpuSecond >= 5000,
        note: `${shape(CHAIN_TYPES)} (no journal write on the clean path), the round's new orders, ${requestsChecks} BC requests while measured; the chain figure this benchmark reported before the gate was in it`,
        data: { checks: ck, floor: fc, ratio: ratioChecks, runs: { checks: every.checks, floor: every.floorChecks } },
      },
      {
        figure: 'Deep copies per order (happy path)',
        value: fmt(copiesPerMsg, 2),
        baseline: '0 (no copy needed: every node has one wire per output)',
        target: '0',
        pass: copiesPerMsg === 0 && copies.identity,
        note: `RED.util.cloneMessage ${copies.cloneMessage}, structuredClone ${copies.structuredClone} over ${fmt(copies.messages)} orders; `
          + `msg.payload reached the sink as the same object ${copies.identity ? 'every time' : 'NOT every time'}`,
        data: copies,
      },
    ];
  } finally {
    sink.onMessage = undefined;
    await red.stop();
    await sims.close();
  }
}
