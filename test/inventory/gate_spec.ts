import 'should';
import fc from 'fast-check';
import { ErpLine } from '../../nodes/lib/contract';
import { InventoryGate, isDemandErpLine } from '../../nodes/lib/inventory/gate';
import { GateRules } from '../../nodes/lib/inventory/gate-settings';
import { StockReader } from '../../nodes/lib/inventory/stock';
import { SqliteJournal } from '../../nodes/lib/journal/sqlite-journal';
import type { OrderMessage } from '../../nodes/lib/contract';
import { FakeStockApi, orderWith } from './fakes';
import type { ReservationTx } from '../../nodes/lib/journal/journal';

/** Reports each reservation method the gate calls inside the journal's transactions (name, arguments). */
function spyTx(journal: SqliteJournal, seen: (method: keyof ReservationTx, args: unknown[]) => void): void {
  const orig = journal.reservationTransaction.bind(journal);
  journal.reservationTransaction = (fn) => orig((tx) => fn(new Proxy(tx, {
    get: (t, m: keyof ReservationTx) => (...a: unknown[]) => { seen(m, a); return (t[m] as (...x: unknown[]) => unknown)(...a); },
  })));
}

// The gate's orchestration over a real SqliteJournal (':memory:') and a fake D365 stock source.
const SHOP = 'demo-shop.myshopify.com';
describe('InventoryGate', () => {
  let journal: SqliteJournal;
  let api: FakeStockApi;
  let clock: number;
  const gate = (r: Record<string, unknown> = {}, ttlMs = 30_000) => new InventoryGate({
    rules: GateRules.parse({ locations: [{ d365Location: 'EAST' }, { d365Location: 'WEST' }], refreshBelow: '0', ...r }),
    stock: new StockReader(() => api.asBcApi(), { ttlMs, now: () => clock }), journal,
  });
  const msgOf = (o: ReturnType<typeof orderWith>, topic = 'orders/create'): OrderMessage =>
    ({ topic, payload: o.payload, shopify: { shop: SHOP, topic, source: 'webhook' }, erp: JSON.parse(JSON.stringify(o.erp)) });
  const check = (g: InventoryGate, o: ReturnType<typeof orderWith>) => g.check(o.order, msgOf(o));
  const codes = (r: { findings: { code: string }[] }) => r.findings.map((f) => f.code);

  beforeEach(() => {
    journal = SqliteJournal.open(':memory:');
    api = new FakeStockApi([]);
    clock = 1_000_000;
  });
  afterEach(() => journal.close());

  it('without msg.erp.lines: a blocking INVENTORY_NOT_CHECKED that names the SKU validator', async () => {
    const o = orderWith(1, [{ sku: 'A', item: 'A', quantity: 1 }]);
    const r = await gate().check(o.order, { topic: 'orders/create', payload: o.payload, shopify: { shop: SHOP, topic: 'orders/create', source: 'webhook' } });
    r.findings.should.match([{ code: 'INVENTORY_NOT_CHECKED', severity: 'error', message: /SKU validator/ }]);
    const noShop = await gate().check(o.order, { topic: 'orders/create', payload: o.payload, erp: o.erp });
    noShop.findings.should.match([{ code: 'INVENTORY_NOT_CHECKED', message: /msg\.shopify\.shop/ }]);
  });

  it('reserves under shop:orderId, fills locationCode per line, and asks D365 once for all items', async () => {
    api.set('A', 'EAST', 5); api.set('B', 'EAST', 5, 0, 'RED');
    const o = orderWith(7, [{ sku: 'A', item: 'A', quantity: 2 }, { sku: 'B-RED', item: 'B', variant: 'RED', quantity: 1 }]);
    const r = await check(gate(), o);
    r.findings.should.eql([]);
    r.erp!.lines!.map((l) => [l.lineItemId, l.locationCode]).should.eql([['700', 'EAST'], ['701', 'EAST']]);
    (await journal.reservationsOf(`${SHOP}:7`)).should.eql([{ item: 'A', location: 'EAST', quantity: 2 }, { item: 'B:RED', location: 'EAST', quantity: 1 }]);
    api.calls.should.eql([{ filter: "itemNumber eq 'A' or itemNumber eq 'B'", api: 'shopifyD365/integration/v1.0' }]);
  });

  it('two orders racing for the last unit: one passes, one gets INSUFFICIENT_STOCK', async () => {
    api.set('A', 'EAST', 1);
    const g = gate({ locations: [{ d365Location: 'EAST' }] });
    const [r1, r2] = await Promise.all([check(g, orderWith(1, [{ sku: 'A', item: 'A', quantity: 1 }])), check(g, orderWith(2, [{ sku: 'A', item: 'A', quantity: 1 }]))]);
    [codes(r1), codes(r2)].sort().should.eql([[], ['INSUFFICIENT_STOCK']]);
    (await journal.reservedQuantity('A', 'EAST')).should.equal(1);
  });

  it('other orders\' reservations and D365 open demand lower ATP; a re-check of the same order replaces its own', async () => {
    api.set('A', 'EAST', 10, 3);
    const g = gate({ locations: [{ d365Location: 'EAST' }], safetyStock: '2' });
    codes(await check(g, orderWith(1, [{ sku: 'A', item: 'A', quantity: 4 }]))).should.eql([]);
    const r = await check(g, orderWith(2, [{ sku: 'A', item: 'A', quantity: 2 }]));
    r.findings[0]!.message.should.match(/2 ordered, available to promise: EAST 1 \(D365 stock 10 − on sales orders 3 − reserved for other orders 4 − safety stock 2\)/);
    codes(await check(g, orderWith(1, [{ sku: 'A', item: 'A', quantity: 5 }]))).should.eql([]);
    (await journal.reservedQuantity('A', 'EAST')).should.equal(5);
  });

  it('a re-check that would reserve the same units writes nothing; a changed order writes again', async () => {
    api.set('A', 'EAST', 10); api.set('A', 'WEST', 10);
    const g = gate();
    const o = orderWith(1, [{ sku: 'A', item: 'A', quantity: 2 }]);
    codes(await check(g, o)).should.eql([]);
    const writes: string[] = [];
    spyTx(journal, (m) => { if (m === 'reserve') writes.push(m); });
    let rows = journal.rowsChanged();
    const written = () => { const n = journal.rowsChanged() - rows; rows = journal.rowsChanged(); return n; };
    const again = await check(g, o);
    codes(again).should.eql([]);
    again.erp!.lines!.map((l) => l.locationCode).should.eql(['EAST']);
    writes.should.eql([]);
    written().should.equal(0);
    (await journal.reservedLines(`${SHOP}:1`)).should.eql([{ lineItemId: '100', item: 'A', location: 'EAST', quantity: 2 }]);
    // The same units for other lines (an edited order: two lines of 1 instead of one of 2) are filed again.
    await check(g, orderWith(1, [{ sku: 'A', item: 'A', quantity: 1 }, { sku: 'A', item: 'A', quantity: 1 }]));
    writes.should.eql(['reserve']);
    (await journal.reservationsOf(`${SHOP}:1`)).should.eql([{ item: 'A', location: 'EAST', quantity: 2 }]);
    (await journal.reservedLines(`${SHOP}:1`)).should.eql([
      { lineItemId: '100', item: 'A', location: 'EAST', quantity: 1 }, { lineItemId: '101', item: 'A', location: 'EAST', quantity: 1 },
    ]);
    codes(await check(g, orderWith(1, [{ sku: 'A', item: 'A', quantity: 3 }]))).should.eql([]);
    writes.should.eql(['reserve', 'reserve']);
    (await journal.reservationsOf(`${SHOP}:1`)).should.eql([{ item: 'A', location: 'EAST', quantity: 3 }]);
  });

  it('reads other orders\' reservations only where the strategy looks (split: the first location that fits)', async () => {
    api.set('A', 'EAST', 1); api.set('A', 'WEST', 10); api.set('B', 'EAST', 10); api.set('B', 'WEST', 10);
    const g = gate({ strategy: 'split' });
    const asked: string[] = [];
    spyTx(journal, (m, a) => { if (m === 'reservedQuantity') asked.push(`${String(a[0])}@${String(a[1])}`); });
    const r = await check(g, orderWith(1, [{ sku: 'A', item: 'A', quantity: 2 }, { sku: 'B', item: 'B', quantity: 1 }]));
    codes(r).should.eql([]);
    r.erp!.lines!.map((l) => l.locationCode).should.eql(['WEST', 'EAST']);
    asked.sort().should.eql(['A@EAST', 'A@WEST', 'B@EAST']);
  });

  it('caches D365 stock briefly and re-reads it when a line gets close to zero', async () => {
    api.set('A', 'EAST', 100); api.set('B', 'EAST', 3);
    const g = gate({ locations: [{ d365Location: 'EAST' }], refreshBelow: '2' });
    await check(g, orderWith(1, [{ sku: 'A', item: 'A', quantity: 1 }]));
    await check(g, orderWith(2, [{ sku: 'A', item: 'A', quantity: 1 }]));
    api.calls.should.have.length(1);
    await check(g, orderWith(3, [{ sku: 'B', item: 'B', quantity: 1 }]));
    api.calls.length.should.equal(2);
    // B would leave 2 (≤ threshold) from a cached figure: read again before promising.
    api.set('B', 'EAST', 0);
    const r = await check(g, orderWith(4, [{ sku: 'B', item: 'B', quantity: 1 }]));
    api.calls.length.should.equal(3);
    codes(r).should.eql(['INSUFFICIENT_STOCK']);
  });

  it('a short line on a cached figure is re-read once (stock may have arrived)', async () => {
    api.set('A', 'EAST', 0);
    const g = gate({ locations: [{ d365Location: 'EAST' }] });
    codes(await check(g, orderWith(1, [{ sku: 'A', item: 'A', quantity: 1 }]))).should.eql(['INSUFFICIENT_STOCK']);
    api.set('A', 'EAST', 5);
    codes(await check(g, orderWith(2, [{ sku: 'A', item: 'A', quantity: 1 }]))).should.eql([]);
    api.calls.length.should.equal(2);
  });

  it('D365 unavailable: a retryable D365_UNAVAILABLE finding; a non-retryable failure throws', async () => {
    api.fail = Object.assign(new Error('Service Unavailable'), { status: 503, retryable: true });
    const r = await check(gate(), orderWith(1, [{ sku: 'A', item: 'A', quantity: 1 }]));
    r.findings.should.match([{ code: 'D365_UNAVAILABLE', retryable: true, message: /HTTP 503/ }]);
    api.fail = Object.assign(new Error('Forbidden'), { status: 403, retryable: false });
    await check(gate(), orderWith(2, [{ sku: 'A', item: 'A', quantity: 1 }])).should.be.rejectedWith(/D365 stock lookup failed \(HTTP 403\)/);
  });

  it('malformed D365 rows are an error naming the field, not NaN stock', async () => {
    api.rows = [{ itemNumber: 'A', variantCode: '', locationCode: 'EAST', inventory: 'lots' as never, qtyOnSalesOrders: 0 }];
    await check(gate(), orderWith(1, [{ sku: 'A', item: 'A', quantity: 1 }])).should.be.rejectedWith(/\[0\]\.inventory/);
  });

  it('bad msg.erp.lines entries are ERP_LINE_INVALID findings', async () => {
    const o = orderWith(1, [{ sku: 'A', item: 'A', quantity: 1 }]);
    const msg = msgOf(o);
    msg.erp = { lines: [{ lineItemId: '100', quantity: -2, itemNumber: 'A' }, { __proto__: { x: 1 } }] as never };
    const r = await gate().check(o.order, msg);
    codes(r).should.eql(['ERP_LINE_INVALID', 'ERP_LINE_INVALID']);
    (await journal.reservationsOf(`${SHOP}:1`)).should.eql([]);
  });

  it('does not reserve for an order the journal shows as created in D365, or a cancelled one', async () => {
    api.set('A', 'EAST', 5);
    await journal.transitionOrder(SHOP, '1', [undefined], 'created');
    const r = await check(gate(), orderWith(1, [{ sku: 'A', item: 'A', quantity: 1 }]));
    r.findings.should.match([{ code: 'INVENTORY_NOT_RESERVED', severity: 'info', message: /created/ }]);
    (await journal.reservedQuantity('A', 'EAST')).should.equal(0);
    const c = orderWith(2, [{ sku: 'A', item: 'A', quantity: 1 }]);
    await check(gate(), c);
    const cancelled = { ...c, order: { ...c.order, cancelled_at: '2026-01-01T00:00:00Z' } };
    codes(await check(gate(), cancelled)).should.eql(['INVENTORY_NOT_RESERVED']);
    (await journal.reservedQuantity('A', 'EAST')).should.equal(0);
  });

  it('an online order (no Shopify location on it): mapped without a * row is LOCATION_UNMAPPED; split picks by priority', async () => {
    api.set('A', 'EAST', 0); api.set('A', 'WEST', 5);
    const o = orderWith(3, [{ sku: 'A', item: 'A', quantity: 2 }]);
    const mapped = await check(gate({ strategy: 'mapped', locations: [{ shopifyLocation: '11', d365Location: 'EAST' }, { shopifyLocation: '12', d365Location: 'WEST' }] }), o);
    mapped.findings.should.match([{ code: 'LOCATION_UNMAPPED', severity: 'error', message: /names no Shopify location and the location table has no \* row/ }]);
    const split = await check(gate({ strategy: 'split' }), o);
    split.findings.should.eql([]);
    split.erp!.lines!.map((l) => l.locationCode).should.eql(['WEST']);
    (await journal.reservationsOf(`${SHOP}:3`)).should.eql([{ item: 'A', location: 'WEST', quantity: 2 }]);
  });

  it('dry run: decides locations and short stock as usual but reserves nothing and files no lines', async () => {
    api.set('A', 'EAST', 5); api.set('B', 'WEST', 1);
    let dry = true;
    const g = new InventoryGate({
      rules: GateRules.parse({ strategy: 'split', locations: [{ d365Location: 'EAST' }, { d365Location: 'WEST' }], refreshBelow: '0' }),
      stock: new StockReader(() => api.asBcApi(), { ttlMs: 30_000, now: () => clock }), journal, dryRun: () => dry,
    });
    const r = await check(g, orderWith(1, [{ sku: 'A', item: 'A', quantity: 2 }, { sku: 'B', item: 'B', quantity: 1 }]));
    r.findings.should.match([{ code: 'INVENTORY_NOT_RESERVED', severity: 'info', message: /dry run .*would reserve 2 × A at EAST, 1 × B at WEST; nothing was reserved/ }]);
    r.erp!.lines!.map((l) => l.locationCode).should.eql(['EAST', 'WEST']);
    (await journal.reservationsOf(`${SHOP}:1`)).should.eql([]);
    (await journal.reservedLines(`${SHOP}:1`)).should.eql([]);
    codes(await check(g, orderWith(2, [{ sku: 'B', item: 'B', quantity: 2 }]))).should.eql(['INSUFFICIENT_STOCK']);
    // The switch is read per order: the same gate reserves once the connection leaves dry run.
    dry = false;
    codes(await check(g, orderWith(1, [{ sku: 'A', item: 'A', quantity: 2 }]))).should.eql([]);
    (await journal.reservedQuantity('A', 'EAST')).should.equal(2);
  });

  it('orders/cancelled releases the whole reservation; refunds/create releases restocked quantities per line', async () => {
    api.set('A', 'EAST', 10); api.set('B', 'EAST', 10);
    const g = gate();
    const o = orderWith(5, [{ sku: 'A', item: 'A', quantity: 3 }, { sku: 'B', item: 'B', quantity: 2 }]);
    await check(g, o);
    const refund = (lines: { line: number; quantity: number; restock: string }[]) => ({
      topic: 'refunds/create', shopify: { shop: SHOP, topic: 'refunds/create', source: 'webhook' as const },
      payload: { id: 9, order_id: 5, created_at: '2026-01-01T00:00:00Z', refund_line_items: lines.map((l, i) => ({ id: i + 1, line_item_id: 500 + l.line, quantity: l.quantity, restock_type: l.restock })) },
    });
    (await g.release('refunds/create', refund([{ line: 0, quantity: 1, restock: 'no_restock' }]))).released.should.equal(0);
    (await g.release('refunds/create', refund([{ line: 0, quantity: 1, restock: 'cancel' }, { line: 1, quantity: 2, restock: 'return' }]))).released.should.equal(3);
    (await journal.reservationsOf(`${SHOP}:5`)).should.eql([{ item: 'A', location: 'EAST', quantity: 2 }]);
    const r = await g.release('orders/cancelled', { topic: 'orders/cancelled', payload: o.payload, shopify: { shop: SHOP, topic: 'orders/cancelled', source: 'webhook' } });
    r.should.eql({ orderKey: `${SHOP}:5`, released: 2 });
    (await journal.reservedQuantity('A', 'EAST')).should.equal(0);
    await g.release('refunds/create', { topic: 'refunds/create', payload: { id: 'x' }, shopify: { shop: SHOP, topic: 'refunds/create', source: 'webhook' } }).should.be.rejectedWith(/not a Shopify refund/);
    await g.release('orders/cancelled', { topic: 'orders/cancelled', payload: o.payload }).should.be.rejectedWith(/msg\.shopify\.shop is missing/);
  });

  it('files which Shopify line holds which units until the reservation is released or handed over: cancellation, a cancelled order checked, refunds, the writer', async () => {
    api.set('A', 'EAST', 10); api.set('B', 'EAST', 10);
    const g = gate();
    const filed = async (id: number) => (await journal.reservedLines(`${SHOP}:${id}`)).map((l) => l.lineItemId);
    const cancelMsg = (o: ReturnType<typeof orderWith>): OrderMessage => ({ topic: 'orders/cancelled', payload: o.payload, shopify: { shop: SHOP, topic: 'orders/cancelled', source: 'webhook' } });

    const a = orderWith(6, [{ sku: 'A', item: 'A', quantity: 1 }]);
    await check(g, a);
    (await filed(6)).should.eql(['600']);
    await g.release('orders/cancelled', cancelMsg(a));
    (await filed(6)).should.eql([]);

    const b = orderWith(7, [{ sku: 'A', item: 'A', quantity: 1 }]);
    await check(g, b);
    await check(g, { ...b, order: { ...b.order, cancelled_at: '2026-01-01T00:00:00Z' } });
    (await filed(7)).should.eql([]);

    const d = orderWith(9, [{ sku: 'A', item: 'A', quantity: 1 }]);
    await check(g, d);
    await journal.handOver(`${SHOP}:9`);
    (await filed(9)).should.eql([]); // D365 demand now: a refund restocks in D365, not here

    const c = orderWith(8, [{ sku: 'A', item: 'A', quantity: 3 }, { sku: 'B', item: 'B', quantity: 2 }]);
    await check(g, c);
    const refund = (lines: { line: number; quantity: number }[]): OrderMessage => ({
      topic: 'refunds/create', shopify: { shop: SHOP, topic: 'refunds/create', source: 'webhook' },
      payload: { id: 9, order_id: 8, created_at: '2026-01-01T00:00:00Z', refund_line_items: lines.map((l, i) => ({ id: i + 1, line_item_id: 800 + l.line, quantity: l.quantity, restock_type: 'return' })) },
    });
    (await filed(8)).should.eql(['800', '801']);
    (await g.release('refunds/create', refund([{ line: 0, quantity: 3 }]))).released.should.equal(3);
    (await filed(8)).should.eql(['801']); // B is still reserved and may be refunded by line later
    (await g.release('refunds/create', refund([{ line: 1, quantity: 2 }]))).released.should.equal(2);
    (await filed(8)).should.eql([]);
  });
});

describe('isDemandErpLine (the gate reads a msg.erp line without parsing a copy)', () => {
  const schema = ErpLine.pick({ lineItemId: true, quantity: true, itemNumber: true, variantCode: true });
  const odd = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.constant(null), fc.constant(undefined), fc.boolean(), fc.array(fc.integer()), fc.object());
  const field = <T>(usual: fc.Arbitrary<T>) => fc.oneof({ weight: 4, arbitrary: usual }, { weight: 1, arbitrary: odd });
  const line = fc.oneof(
    fc.record({
      lineItemId: field(fc.string()), quantity: field(fc.oneof(fc.integer({ min: -3, max: 1e6 }), fc.constantFrom(2 ** 53, 1.5, NaN, Infinity))),
      itemNumber: field(fc.string()), variantCode: field(fc.string()), sku: fc.string(),
    }, { requiredKeys: ['lineItemId', 'quantity'] }),
    odd,
  );

  it('accepts only what the schema accepts, with the same values; and every line the schema accepts unchanged', () => {
    fc.assert(fc.property(line, (v) => {
      const p = schema.safeParse(v);
      if (isDemandErpLine(v)) {
        p.success.should.be.true();
        const d = p.data!;
        [v.lineItemId, v.quantity, v.itemNumber, v.variantCode].should.eql([d.lineItemId, d.quantity, d.itemNumber, d.variantCode]);
      } else if (p.success) {
        // The schema accepts it only by dropping nothing the gate reads: then the fast check must have taken it.
        throw new Error(`the schema accepts ${JSON.stringify(v)} but the fast check does not`);
      }
    }), { numRuns: 3000 });
  });

  it('edge values: an array, inherited fields, JSON __proto__, unsafe or odd numbers — the fast check and the schema agree', () => {
    const edge = [[{ lineItemId: '1', quantity: 1 }], Object.create({ lineItemId: '1', quantity: 1 }), JSON.parse('{"__proto__":{"lineItemId":"1"},"quantity":1}'),
      { lineItemId: '1', quantity: 2 ** 53 }, { lineItemId: '1', quantity: 2 ** 53 - 1 }, { lineItemId: '1', quantity: -0 }, { lineItemId: '1', quantity: 1, itemNumber: null }];
    edge.map((v) => isDemandErpLine(v)).should.eql(edge.map((v) => schema.safeParse(v).success));
    edge.map((v) => isDemandErpLine(v)).should.eql([false, true, false, false, true, false, false]);
  });
});

