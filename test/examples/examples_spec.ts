import 'should';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import os from 'os';
import path from 'path';
import type { OrderFault } from '../../sim/shopify';
import { DEFAULT_JOURNAL_FILE } from '../../nodes/lib/journal/config-node';
import { SqliteJournal } from '../../nodes/lib/journal/sqlite-journal';
import { startStack, type Stack } from '../../scripts/lib/demo-runtime';
import { FULL_LIFECYCLE, exampleFiles, pointAtSims, readExample, type FlowNode } from '../../scripts/lib/flows';
import { freePort } from '../../scripts/lib/ports';
import { packageRoot } from '../../scripts/lib/root';

// Every example deployed into a real Node-RED 4.1 (a child process loading this package, as `npm start`
// does) against the in-process simulators, with orders run through it.

const root = packageRoot(__dirname);
const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { 'node-red': { nodes: Record<string, string> } };
const packageTypes = Object.keys(pkg['node-red'].nodes);
const isConfigType = (t: string) => /category:\s*['"]config['"]/.test(readFileSync(path.join(root, 'nodes', `${t}.html`), 'utf8'));
const CORE_TYPES = new Set(['tab', 'comment', 'inject', 'debug', 'switch', 'change', 'catch', 'status', 'function', 'link in', 'link out', 'delay', 'template']);
const CREDENTIAL_KEYS = new Set(['credentials', 'accessToken', 'webhookSecret', 'previousWebhookSecret', 'clientId', 'clientSecret', 'password', 'token']);
const files = exampleFiles(root);

interface Hold { id: string; orderName?: string; route: string; findings: { code: string; severity: string }[]; retryAt?: number }
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, probe: () => T | undefined | false | Promise<T | undefined | false>, ms = 20_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await probe();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await sleep(150);
  }
}

function keysDeep(v: unknown, out: string[] = []): string[] {
  if (Array.isArray(v)) v.forEach((x) => keysDeep(x, out));
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { out.push(k); keysDeep(x, out); }
  return out;
}

describe('examples: files', () => {
  it('there are the four documented examples, each a JSON array of nodes', () => {
    files.length.should.equal(4);
    files[0]!.should.equal(FULL_LIFECYCLE);
    for (const f of files) {
      Array.isArray(JSON.parse(readFileSync(path.join(root, 'examples', f), 'utf8'))).should.be.true(`${f} is not an array`);
      readExample(root, f).length.should.be.above(5);
    }
  });

  it('each example explains itself with comment nodes and uses only core nodes and this package', () => {
    for (const f of files) {
      const flow = readExample(root, f);
      flow.filter((n) => n.type === 'comment').length.should.be.aboveOrEqual(2, `${f}: comment nodes`);
      const tab = flow.find((n) => n.type === 'tab');
      String(tab?.info ?? '').length.should.be.above(100, `${f}: the tab's info describes the flow`);
      for (const n of flow) (CORE_TYPES.has(n.type) || packageTypes.includes(n.type)).should.be.true(`${f}: unexpected node type ${n.type}`);
    }
  });

  it('no example carries credentials; every config node a node uses is in the same file', () => {
    for (const f of files) {
      const flow = readExample(root, f);
      keysDeep(flow).filter((k) => CREDENTIAL_KEYS.has(k)).should.eql([], `${f} has credential fields`);
      const text = readFileSync(path.join(root, 'examples', f), 'utf8');
      text.should.not.match(/shpat_|sim_webhook_secret|sim-client-secret/);
      const ids = new Set(flow.map((n) => n.id));
      for (const n of flow) {
        for (const ref of ['store', 'journal', 'connection'] as const) {
          if (typeof n[ref] === 'string' && n[ref]) ids.has(n[ref] as string).should.be.true(`${f}: ${n.type} ${n.id} uses missing ${ref} ${String(n[ref])}`);
        }
        for (const out of (n.wires as string[][] | undefined) ?? []) for (const to of out) ids.has(to).should.be.true(`${f}: wire to missing node ${to}`);
      }
    }
  });

  it('every non-config node type of the package appears in at least one example (Flow Library rule)', () => {
    const used = new Set(files.flatMap((f) => readExample(root, f).map((n) => n.type)));
    packageTypes.filter((t) => !isConfigType(t) && !used.has(t)).should.eql([]);
  });

  it('routers declare as many outputs as their rules give them', () => {
    for (const f of files) {
      for (const n of readExample(root, f).filter((x) => x.type === 'order-exception-router')) {
        const routes = (n.rules as { action: string }[]).filter((r) => r.action === 'output').length;
        (n.wires as unknown[]).length.should.equal(routes + 3, `${f}: router ${n.id}`);
        Number(n.outputs).should.equal(routes + 3);
      }
    }
  });
});

describe('examples: deployed in Node-RED against the simulators', function () {
  this.timeout(60_000);
  let stack: Stack;
  let userDir: string;
  const holds = async (): Promise<Hold[]> => (await stack.nodeRed.get<{ holds: Hold[] }>('/shopify-d365/holds')).holds;
  const held = async (name: string) => (await holds()).find((h) => h.orderName === name);
  const errorsSince = (mark: number) => stack.nodeRed.output(mark).filter((l) => /\[error\]/.test(l));
  /** The examples' order journal, opened beside Node-RED (SQLite in WAL mode is shared between processes). */
  let journal: SqliteJournal | undefined;
  const openJournal = () => (journal ??= SqliteJournal.open(path.join(userDir, DEFAULT_JOURNAL_FILE)));
  const orderKey = (o: { id?: unknown }) => `${stack.sims.shopify.options.shop}:${String(o.id)}`;

  before(async () => {
    userDir = mkdtempSync(path.join(os.tmpdir(), 'shopify-d365-examples-'));
    const port = await freePort();
    stack = await startStack({
      packageRoot: root, userDir,
      ports: {
        shopify: { what: 'Shopify simulator', port: 0, env: 'SHOPIFY_SIM_PORT', flag: '--shopify-port' },
        bc: { what: 'BC simulator', port: 0, env: 'BC_SIM_PORT', flag: '--bc-port' },
        nodeRed: { what: 'Node-RED', port, env: 'NODE_RED_PORT', flag: '--port' },
      },
    });
  });
  after(async () => {
    journal?.close();
    await stack?.stop();
    rmSync(userDir, { recursive: true, force: true });
  });

  it('every example deploys and starts without errors', async () => {
    for (const f of files) {
      const mark = stack.nodeRed.lineCount();
      const flow = await stack.deployExample(f);
      await sleep(300);
      errorsSince(mark).should.eql([], `${f} logged errors`);
      const deployed = await stack.nodeRed.get<{ flows: FlowNode[] }>('/flows');
      deployed.flows.map((n) => n.id).sort().should.eql(flow.map((n) => n.id).sort());
    }
  });

  it('full lifecycle: clean orders become D365 sales orders, faulty ones are held with their codes, shipments come back as fulfillments, cancellations and refunds follow the rules', async () => {
    const { shopify, bc } = stack.sims;
    const flow = await stack.deployExample(FULL_LIFECYCLE);
    const mark = stack.nodeRed.lineCount();
    await sleep(1500); // the D365 trigger's first poll sets its cursor to "now"
    const clean = [
      shopify.placeOrder({ customer: 'random', lines: [{ sku: 'IPOD2008GREEN', quantity: 2 }, { sku: 'IPOD2008RED', quantity: 1 }] }),
      shopify.placeOrder({ customer: 'random' }), shopify.placeOrder({ customer: 'random' }),
      shopify.placeOrder({ customer: 'new' }), shopify.placeOrder({ customer: 'guest', shipTo: 'KY' }),
    ];
    const expected: [OrderFault, string][] = [
      ['unknown_sku', 'SKU_UNMAPPED'], ['missing_shipping_address', 'SHIPPING_ADDRESS_MISSING'], ['odd_shipping_method', 'SHIPPING_METHOD_UNMAPPED'],
      ['tax_mismatch', 'TAX_MISMATCH'], ['blocked_item', 'ITEM_BLOCKED'], ['ambiguous_customer', 'CUSTOMER_AMBIGUOUS'], ['zero_price', 'ZERO_PRICE'],
    ];
    const faulty = expected.map(([fault, code]) => ({ order: shopify.placeOrder({ faults: [fault] }), code }));

    for (const o of clean) await until(`D365 sales order for ${o.name}`, () => bc.order(String(o.name)));
    for (const { order, code } of faulty) {
      const h = await until(`hold of ${order.name}`, () => held(String(order.name)));
      h.findings.filter((f) => f.severity === 'error').map((f) => f.code).should.containEql(code);
      h.route.should.equal('needs a person');
      (bc.order(String(order.name)) === undefined).should.be.true(`${order.name} must not reach D365`);
    }
    const so0 = bc.order(String(clean[0]!.name))!;
    so0.customerNumber!.should.equal(bc.catalogue.customers.find((c) => c.email === clean[0]!.email)!.number);
    so0.salesOrderLines.filter((l) => l.lineType === 'Item').map((l) => [l.lineObjectNumber, l.quantity]).should.eql([['IPOD2008GREEN', 2], ['IPOD2008RED', 1]]);
    await until(`write-back of ${clean[0]!.name}`, () => shopify.store.order(Number(clean[0]!.id))?.metafields.some((m) => m.value === so0.number));

    // Lifecycle: a cancellation before shipment deletes the open sales order; a refund reduces its line.
    // (refund: false — the refund Shopify sends with a refunding cancellation races the cancellation in the writer.)
    shopify.cancelOrder(Number(clean[1]!.id), { refund: false });
    await until(`deletion of ${clean[1]!.name}'s sales order`, () => bc.order(String(clean[1]!.name)) === undefined);
    const line = clean[0]!.line_items[0]!;
    shopify.refundOrder(Number(clean[0]!.id), { lines: [{ lineItemId: Number(line.id), quantity: 1, restockType: 'return' }] });
    await until(`refund on ${so0.number}`, () => bc.order(so0.number as string)!.salesOrderLines.find((l) => l.lineObjectNumber === 'IPOD2008GREEN')?.quantity === 1);

    // Shipments: posted in D365, polled by the D365 trigger ("poll now"), fulfilled in Shopify with tracking.
    const shippedOrders = [clean[0]!, clean[2]!, clean[3]!];
    for (const [i, o] of shippedOrders.entries()) bc.postShipment(String(bc.order(String(o.name))!.number), { trackingNumber: `1ZTEST${i}`, shippingAgentCode: 'UPS' });
    const poll = flow.find((n) => n.type === 'inject' && n.name === 'poll now')!;
    await stack.nodeRed.post(`/inject/${poll.id}`);
    for (const [i, o] of shippedOrders.entries()) {
      const f = await until(`fulfillment of ${o.name}`, () => {
        const j = shopify.order(Number(o.id)) as { fulfillment_status?: string | null; fulfillments?: { tracking_number?: string | null }[] } | undefined;
        return j?.fulfillment_status === 'fulfilled' && j.fulfillments;
      });
      f.map((x) => x.tracking_number).should.eql([`1ZTEST${i}`]);
    }
    errorsSince(mark).should.eql([]);
  });

  it('full lifecycle: the inventory gate reserves a clean order\'s units until its D365 sales order exists, holds an order D365 cannot supply, lets non-stock items through', async () => {
    const { shopify, bc } = stack.sims;
    await stack.deployExample(FULL_LIFECYCLE);
    const mark = stack.nodeRed.lineCount();
    const j = openJournal();
    // An item no earlier order touched (no D365 sales order line, no reservation), stocked only at WEST.
    const sold = new Set(bc.db.all('salesOrderLines').map((l) => String(l.lineObjectNumber)));
    const candidates = bc.catalogue.items.filter((i) => i.type === 'Inventory' && !i.blocked && !i.variants.length && i.sku && !sold.has(i.number));
    let item: (typeof candidates)[number] | undefined;
    for (const c of candidates) if (!(await Promise.all(['EAST', 'WEST', 'EU'].map((l) => j.reservedQuantity(c.number, l)))).some((q) => q > 0)) { item = c; break; }
    if (!item) throw new Error('no untouched stock item in the catalogue');
    bc.setStock(item.number, '', 'EAST', 0);
    bc.setStock(item.number, '', 'WEST', 3);
    bc.setStock(item.number, '', 'EU', 0);
    const west = bc.db.by('locations', 'code', 'WEST')!;

    const fits = shopify.placeOrder({ customer: 'random', lines: [{ sku: item.sku!, quantity: 2 }] });
    const so = await until(`D365 sales order for ${fits.name}`, () => bc.order(String(fits.name)));
    so.salesOrderLines.filter((l) => l.lineType === 'Item').map((l) => [l.lineObjectNumber, l.quantity, l.locationId]).should.eql([[item.number, 2, west.id]]);
    // Reserved when checked, and handed over by the writer once the units are D365 sales-order demand
    // (nothing of the order is left in flight, nor its lines for a refund to release).
    await until(`release of ${fits.name}'s reservation`, async () => (await j.reservationsOf(orderKey(fits))).length === 0);
    (await j.reservedLines(orderKey(fits))).should.eql([]);

    // 4 wanted, 1 left: WEST's 3 less the 2 now on the D365 sales order (the gate re-reads D365 before refusing).
    const tooMany = shopify.placeOrder({ customer: 'random', lines: [{ sku: item.sku!, quantity: 4 }] });
    const h = await until(`hold of ${tooMany.name}`, () => held(String(tooMany.name)));
    h.route.should.equal('needs a person');
    h.findings.filter((f) => f.severity === 'error').should.match([{ code: 'INSUFFICIENT_STOCK', message: /4 ordered, available to promise: EAST 0, WEST 1, EU 0/ }]);
    (await j.reservationsOf(orderKey(tooMany))).should.eql([]);
    (bc.order(String(tooMany.name)) === undefined).should.be.true();

    // Items D365 keeps no stock record for (here non-inventory) are not reserved and do not stop the order.
    const nonStock = bc.catalogue.items.find((i) => i.type === 'Non-Inventory' && !i.blocked && i.sku)!;
    const plain = shopify.placeOrder({ customer: 'random', lines: [{ sku: nonStock.sku!, quantity: 3 }] });
    await until(`D365 sales order for ${plain.name}`, () => bc.order(String(plain.name)));
    errorsSince(mark).should.eql([]);
  });

  it('validation only: checks and routes on real orders, nothing written to D365 and nothing held', async () => {
    const { shopify, bc } = stack.sims;
    await stack.deployExample('02 - Validation only (dry run).json');
    bc.resetCounters();
    const ok = shopify.placeOrder({ customer: 'new' });
    const bad = shopify.placeOrder({ faults: ['unknown_sku'] });
    // Only the order writer reads locations (for the gate's location codes) and shipment methods: the clean order got there.
    await until('the clean order at the dry-run writer', () => bc.requests()['GET locations'] && bc.requests()['GET shipmentMethods']);
    await until('the SKU check of the faulty order', () => bc.requests()['GET items']);
    await sleep(500);
    Object.keys(bc.operations()).filter((k) => !k.startsWith('GET ')).should.eql([]);
    (bc.order(String(ok.name)) === undefined).should.be.true();
    // In dry run the gate reserves nothing: no sales order would ever give the units back.
    (await openJournal().reservationsOf(orderKey(ok))).should.eql([]);
    (await held(String(bad.name)) === undefined).should.be.true();
    (await held(String(ok.name)) === undefined).should.be.true();
  });

  it('exception handling: held per team, released by force into D365', async () => {
    const { shopify, bc } = stack.sims;
    await stack.deployExample('03 - Exception handling.json');
    const tax = shopify.placeOrder({ faults: ['tax_mismatch'] });
    const sku = shopify.placeOrder({ faults: ['unknown_sku'] });
    const cust = shopify.placeOrder({ faults: ['ambiguous_customer'] });
    const big = shopify.placeOrder({ customer: 'random', lines: [{ sku: 'IPOD2008GREEN', quantity: 12 }] });
    const taxHold = await until('finance hold', () => held(String(tax.name)));
    taxHold.route.should.equal('finance');
    (await until('catalogue hold', () => held(String(sku.name)))).route.should.equal('catalogue team');
    (await until('customer service hold', () => held(String(cust.name)))).route.should.equal('customer service');
    await until(`large order ${big.name} in D365`, () => bc.order(String(big.name)));
    (bc.order(String(tax.name)) === undefined).should.be.true();
    await stack.nodeRed.post(`/shopify-d365/holds/${taxHold.id}/release`, { force: true });
    await until(`released ${tax.name} in D365`, () => bc.order(String(tax.name)));
    (await held(String(tax.name)) === undefined).should.be.true();
  });

  it('inventory sync: "sync now" pushes D365 stock changes to Shopify per location', async () => {
    const { shopify, bc } = stack.sims;
    // Interval 0 (only on input) in this deployment: the inject is the one thing that can start a run.
    const flow = pointAtSims(readExample(root, '04 - Inventory sync.json'), stack.sims)
      .map((n) => (n.type === 'shopify-inventory-sync' ? { ...n, intervalS: '0' } : n));
    await stack.nodeRed.deploy(flow);
    bc.setStock('IPOD2008RED', '', 'EAST', 37);
    bc.setStock('IPOD2008RED', '', 'WEST', 3);
    // A first run reads every Shopify level it may set (1,644 in the simulated shop, ~3,900 cost points):
    // Shopify's 2,000-point bucket refilling at 100 points/s makes that ~19 s by itself. Throttling is
    // the sync spec's subject; here a fast refill lets the run go at once.
    const bucket = shopify.setThrottle({});
    shopify.setThrottle({ restoreRate: 10_000 });
    try {
      const mark = stack.nodeRed.lineCount();
      await stack.nodeRed.post(`/inject/${flow.find((n) => n.type === 'inject' && n.name === 'sync now')!.id}`);
      await until('Shopify levels of IPOD2008RED', () => shopify.available('IPOD2008RED').EAST === 37 && shopify.available('IPOD2008RED').WEST === 3, 10_000);
      errorsSince(mark).should.eql([]);
    } finally {
      shopify.setThrottle(bucket);
    }
  });
});
