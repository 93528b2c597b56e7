import 'should';
import helper from 'node-red-node-test-helper';
import { readFileSync } from 'fs';
import path from 'path';
import d365Connection = require('../../nodes/d365-connection');
import orderJournal = require('../../nodes/order-journal');
import skuValidator = require('../../nodes/d365-sku-validator');
import inventoryGate = require('../../nodes/d365-inventory-gate');
import { startBcSim, type BcSim } from '../../sim/bc';
import type { OrderJournalConfigNode } from '../../nodes/lib/journal/config-node';

// The gate node in a flow with the real d365-connection (pointed at the BC simulator), the real
// order-journal (in memory) and, in one test, the real SKU validator in front of it.
const SHOP = 'demo-shop.myshopify.com';
const sample = () => JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'order-1001.json'), 'utf8'));
const erpOf = (o: any) => ({ lines: o.line_items.map((l: any) => ({ lineItemId: String(l.id), sku: l.sku, quantity: l.quantity, itemNumber: l.sku })) });

describe('d365-inventory-gate node (BC simulator)', () => {
  let sim: BcSim;
  before(async () => { sim = await startBcSim({ latencyMs: 0 }); });
  after(() => sim.close());
  beforeEach(() => sim.reset());
  afterEach(() => helper.unload());

  const load = (gate: Record<string, unknown> = {}, withSku = false, conn: Record<string, unknown> = {}) => helper.load([d365Connection, orderJournal, skuValidator, inventoryGate], [
    { id: 't', type: 'tab' },
    { id: 'bc', type: 'd365-connection', tenant: sim.tenant, environment: sim.environment, companyId: sim.companyId, baseUrl: sim.url, tokenUrl: sim.tokenUrl, ...conn },
    { id: 'j', type: 'order-journal', file: ':memory:' },
    ...(withSku ? [{ id: 'sku', z: 't', type: 'd365-sku-validator', connection: 'bc', mode: 'annotate', wires: [['g'], []] }] : []),
    { id: 'g', z: 't', type: 'd365-inventory-gate', connection: 'bc', journal: 'j', mode: 'divert', strategy: 'split',
      locations: [{ shopifyLocation: '', d365Location: 'EAST', backorder: 'default', backorderMax: '' }, { shopifyLocation: '', d365Location: 'WEST', backorder: 'default', backorderMax: '' }],
      backorder: 'hold', backorderMax: '', safetyStock: '0', safetyStockItems: [], cacheTtlS: '30', refreshBelow: '5', unstocked: 'zero', ...gate, wires: [['pass'], ['fail']] },
    { id: 'pass', z: 't', type: 'helper' },
    { id: 'fail', z: 't', type: 'helper' },
  ], { bc: { clientId: sim.clientId, clientSecret: sim.clientSecret } });
  const send = (msg: Record<string, unknown>, out: 'pass' | 'fail', entry = 'g') => {
    const got = new Promise<any>((r) => helper.getNode(out).once('input', r));
    helper.getNode(entry).receive(msg as never);
    return got;
  };
  const orderMsg = (o: any, erp: unknown = erpOf(o), topic = 'orders/create') => ({ topic, payload: o, shopify: { shop: SHOP, topic, source: 'webhook' }, erp });
  const journal = () => (helper.getNode('j') as unknown as OrderJournalConfigNode).getJournal();

  it('behind the SKU validator: reserves the sample order at EAST, fills locationCode, one D365 stock request', async () => {
    await load({}, true);
    sim.resetCounters();
    const msg = await send(orderMsg(sample(), undefined), 'pass', 'sku');
    msg.findings.should.eql([]);
    msg.erp.lines.map((l: any) => [l.itemNumber, l.quantity, l.locationCode]).should.eql([['IPOD2008GREEN', 2, 'EAST'], ['IPOD2008RED', 1, 'EAST']]);
    (await journal().reservationsOf(`${SHOP}:450789469`)).should.eql([
      { item: 'IPOD2008GREEN', location: 'EAST', quantity: 2 }, { item: 'IPOD2008RED', location: 'EAST', quantity: 1 }]);
    sim.requests().should.eql({ 'GET items': 1, 'GET locationAvailabilities': 1 });
  });

  it('divert: not enough anywhere → output 2 with INSUFFICIENT_STOCK and the quantities; status flagged', async () => {
    await load();
    const o = sample();
    o.line_items[1].quantity = 30;
    sim.setStock('IPOD2008RED', '', 'EAST', 4);
    sim.setStock('IPOD2008RED', '', 'WEST', 2);
    const msg = await send(orderMsg(o), 'fail');
    msg.findings.should.match([{ check: 'd365-inventory-gate', code: 'INSUFFICIENT_STOCK', severity: 'error', path: 'line_items[1]', message: /30 ordered, available to promise: EAST 4, WEST 2/ }]);
    (await journal().reservationsOf(`${SHOP}:450789469`)).should.eql([]);
    helper.getNode('g').status.should.be.calledWithMatch({ fill: 'yellow', text: '1 flagged' });
  });

  it('D365 open sales-order demand lowers ATP (the units of an order already in D365 are not promised twice)', async () => {
    await load({ strategy: 'mapped', locations: [{ shopifyLocation: '*', d365Location: 'EU' }] });
    sim.setStock('IPOD2008GREEN', '', 'EU', 3);
    // An open D365 sales order for 2 units at EU (what the order writer creates after the gate).
    const customer = sim.db.all('customers')[0]!;
    const item = sim.db.by('items', 'number', 'IPOD2008GREEN')!;
    const loc = sim.db.by('locations', 'code', 'EU')!;
    const res = await fetch(`${sim.apiUrl}/companies(${sim.companyId})/salesOrders`, {
      method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${await token()}` },
      body: JSON.stringify({ customerId: customer.id, salesOrderLines: [{ lineType: 'Item', itemId: item.id, quantity: 2, locationId: loc.id }] }),
    });
    res.status.should.equal(201);
    const o = sample();
    o.line_items = [o.line_items[0]];
    const msg = await send(orderMsg(o), 'fail');
    msg.findings[0].message.should.match(/2 ordered, available to promise: EU 1 \(D365 stock 3 − on sales orders 2 − reserved for other orders 0 − safety stock 0\)/);
  });

  it('a connection in dry run: the order passes with its locations and an info finding, nothing is reserved', async () => {
    await load({}, false, { dryRun: true });
    const msg = await send(orderMsg(sample()), 'pass');
    msg.findings.should.match([{ check: 'd365-inventory-gate', code: 'INVENTORY_NOT_RESERVED', severity: 'info', message: /dry run .*would reserve 2 × IPOD2008GREEN at EAST, 1 × IPOD2008RED at EAST/ }]);
    msg.erp.lines.map((l: any) => l.locationCode).should.eql(['EAST', 'EAST']);
    (await journal().reservationsOf(`${SHOP}:450789469`)).should.eql([]);
  });

  it('without msg.erp.lines → INVENTORY_NOT_CHECKED (blocking, names the SKU validator)', async () => {
    await load();
    const msg = await send({ topic: 'orders/create', payload: sample(), shopify: { shop: SHOP, topic: 'orders/create' } }, 'fail');
    msg.findings.should.match([{ code: 'INVENTORY_NOT_CHECKED', severity: 'error', message: /SKU validator/ }]);
  });

  it('orders/cancelled releases the reservation and passes the message on output 1 unchanged', async () => {
    await load();
    await send(orderMsg(sample()), 'pass');
    const cancelled = { ...sample(), cancelled_at: '2026-01-01T00:00:00Z', cancel_reason: 'customer' };
    const msg = { topic: 'orders/cancelled', payload: cancelled, shopify: { shop: SHOP, topic: 'orders/cancelled', source: 'webhook' } };
    const before = JSON.stringify(msg);
    const out = await send(msg, 'pass');
    JSON.stringify({ topic: out.topic, payload: out.payload, shopify: out.shopify }).should.equal(before);
    (await journal().reservedQuantity('IPOD2008GREEN', 'EAST')).should.equal(0);
    helper.getNode('g').status.should.be.calledWithMatch({ text: '1 passed · 3 released' });
  });

  it('a malformed refund fails through done(err) for Catch nodes', async () => {
    await load();
    const g = helper.getNode('g');
    const err = new Promise<any>((r) => g.once('call:error', r));
    g.receive({ topic: 'refunds/create', payload: { order_id: 'x' }, shopify: { shop: SHOP } } as never);
    (await err).args[0].message.should.match(/not a Shopify refund/);
  });

  it('non-order topics pass through untouched on output 1', async () => {
    await load();
    const out = await send({ topic: 'fulfillments/create', payload: { id: 1 } }, 'pass');
    out.payload.should.eql({ id: 1 });
    (out.findings === undefined).should.be.true();
  });

  it('refuses invalid settings with node.error and fails messages through done(err)', async () => {
    await load({ strategy: 'mapped', locations: [] });
    const g = helper.getNode('g');
    g.error.should.be.calledWithMatch(/d365-inventory-gate: invalid configuration: .*mapped strategy needs at least one row/);
    g.status.should.be.calledWithMatch({ fill: 'red', text: 'invalid config' });
  });

  async function token(): Promise<string> {
    const r = await fetch(sim.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', client_id: sim.clientId, client_secret: sim.clientSecret, scope: sim.scope }) });
    return ((await r.json()) as { access_token: string }).access_token;
  }
});
