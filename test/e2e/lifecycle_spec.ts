import 'should';
import helper from 'node-red-node-test-helper';
// Node-RED's own Switch node (plain JS, no typings), to route by topic as the examples do.
const switchNode: unknown = require('@node-red/nodes/core/function/10-switch.js');
import shopifyStore = require('../../nodes/shopify-store');
import d365Connection = require('../../nodes/d365-connection');
import orderJournal = require('../../nodes/order-journal');
import orderCheck = require('../../nodes/shopify-order-check');
import customerMatcher = require('../../nodes/d365-customer-matcher');
import skuValidator = require('../../nodes/d365-sku-validator');
import router = require('../../nodes/order-exception-router');
import writerNode = require('../../nodes/d365-order-writer');
import triggerNode = require('../../nodes/d365-trigger');
import senderNode = require('../../nodes/shopify-fulfillment-sender');
import { startBcSim, type BcSim } from '../../sim/bc';
import { startShopifySim, type ShopifySim } from '../../sim/shopify';
import type { Order } from '../../nodes/lib/contract';

// The order lifecycle end to end on both simulators, through the real config nodes and clients:
// Shopify order → order check → customer matcher → SKU validator → exception router (clean) → order writer → BC,
// other Shopify events (cancel, refund, update) → order writer;
// BC shipment (simulator control API) → d365-trigger → fulfillment sender → Shopify.

let bc: BcSim;
let shop: ShopifySim;

const NODES = [switchNode, shopifyStore, d365Connection, orderJournal, orderCheck, customerMatcher, skuValidator, router, writerNode, triggerNode, senderNode];
const flow = () => [
  { id: 'f', type: 'tab' },
  { id: 'store', type: 'shopify-store', shopDomain: shop.options.shop, apiVersion: shop.options.apiVersion, baseUrl: shop.url },
  { id: 'conn', type: 'd365-connection', tenant: bc.tenant, environment: bc.environment, companyId: bc.companyId, baseUrl: bc.url, tokenUrl: bc.tokenUrl, maxConcurrency: '5', dryRun: false },
  { id: 'jr', type: 'order-journal', file: ':memory:' },
  // As in the full-lifecycle example: new orders go through the checks and the router, every other event straight to the writer.
  { id: 'new', z: 'f', type: 'switch', property: 'topic', propertyType: 'msg', checkall: 'false', repair: false, outputs: 2,
    rules: [{ t: 'eq', v: 'orders/create', vt: 'str' }, { t: 'else' }], wires: [['oc'], ['w']] },
  { id: 'oc', z: 'f', type: 'shopify-order-check', mode: 'annotate', wires: [['cm'], []],
    shippingMap: shop.store.catalogue.shippingRates.map((r) => ({ match: r.code, method: r.shipmentMethod })) },
  { id: 'cm', z: 'f', type: 'd365-customer-matcher', connection: 'conn', mode: 'annotate', wires: [['sku'], []] },
  { id: 'sku', z: 'f', type: 'd365-sku-validator', connection: 'conn', mode: 'annotate', wires: [['rt'], []] },
  { id: 'rt', z: 'f', type: 'order-exception-router', journal: 'jr', rules: [], retrySchedule: '1h', retryPollS: '3600', wires: [['w'], ['held'], ['recheck']] },
  { id: 'w', z: 'f', type: 'd365-order-writer', connection: 'conn', journal: 'jr', store: 'store', retryBaseMs: '1', wires: [['wdone'], ['wfail']] },
  { id: 't', z: 'f', type: 'd365-trigger', connection: 'conn', journal: 'jr', intervalS: '3600', startFrom: 'beginning', wires: [['s', 'events']] },
  { id: 's', z: 'f', type: 'shopify-fulfillment-sender', store: 'store', journal: 'jr', wires: [['sdone'], ['sfail']] },
  ...['held', 'recheck', 'wdone', 'wfail', 'events', 'sdone', 'sfail'].map((id) => ({ id, z: 'f', type: 'helper' })),
];
const credentials = () => ({
  store: { accessToken: shop.options.accessToken },
  conn: { clientId: bc.clientId, clientSecret: bc.clientSecret },
});

const load = () => helper.load(NODES as never, flow(), credentials() as never);

/** The flow with the retry loop closed: writer failures back into the router, its re-check output into the checks. */
const loadWithRetryLoop = async (retrySchedule: string) => {
  await helper.unload();
  const f = flow().map((n: any) => {
    if (n.id === 'w') return { ...n, wires: [['wdone'], ['wfail', 'rt']] };
    if (n.id === 'rt') return { ...n, retrySchedule, retryPollS: '0.02', rules: [{ name: 'busy', when: 'retryable', value: '', action: 'retry' }], wires: [['w'], ['held'], ['recheck', 'oc']] };
    return n;
  });
  await helper.load(NODES as never, f, credentials() as never);
};

/** Resolves with the first message any of the helper nodes receives (and which one); rejects after `ms`. */
function first<K extends string>(ids: K[], ms = 5000): Promise<{ id: K; msg: any }> {
  return new Promise((resolve, reject) => {
    const off: (() => void)[] = [];
    const finish = (fn: () => void) => { clearTimeout(t); for (const o of off) o(); fn(); };
    const t = setTimeout(() => finish(() => reject(new Error(`no message at ${ids.join(' or ')} within ${ms} ms`))), ms);
    for (const id of ids) {
      const n = helper.getNode(id);
      const on = (msg: unknown) => finish(() => resolve({ id, msg }));
      n.on('input', on);
      off.push(() => n.removeListener('input', on));
    }
  });
}
const next = (id: string): Promise<any> => first([id]).then((r) => r.msg);

/** Sends a Shopify event in the shape shopify-trigger emits into the flow; resolves with the writer's outcome. */
async function toWriter(topic: string, payload: unknown): Promise<{ out: 'done' | 'fail'; msg: any }> {
  const out = first(['wdone', 'wfail']);
  helper.getNode('new').receive({ topic, payload, shopify: { shop: shop.options.shop, topic, source: 'webhook' } } as never);
  const r = await out;
  return { out: r.id === 'wdone' ? 'done' : 'fail', msg: r.msg };
}

async function created(order: Order): Promise<any> {
  const r = await toWriter('orders/create', order);
  r.out.should.equal('done', JSON.stringify(r.msg.findings));
  return r.msg;
}

/** Ships through the BC simulator's control API, like a warehouse posting a shipment. */
async function shipInBc(orderNumber: string, body: Record<string, unknown>): Promise<any> {
  const res = await fetch(`${bc.url}/_sim/orders/${encodeURIComponent(orderNumber)}/shipments`, {
    method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body),
  });
  res.status.should.equal(200, await res.clone().text());
  return res.json();
}

/** The events the Shopify simulator emits from now on (what its webhooks would carry), by topic. */
function captureEvents(): { of(topic: string): any[]; stop(): void } {
  const seen: { topic: string; payload: unknown }[] = [];
  const emit = shop.webhooks.emit;
  shop.webhooks.emit = function (this: unknown, topic: string, payload: object) {
    seen.push({ topic, payload: JSON.parse(JSON.stringify(payload)) });
    return emit.call(shop.webhooks, topic, payload);
  };
  return { of: (topic) => seen.filter((e) => e.topic === topic).map((e) => e.payload), stop: () => { shop.webhooks.emit = emit; } };
}

const placeSample = () => shop.placeOrder({
  customer: 'C10000', shippingCode: 'Standard',
  lines: [{ sku: 'IPOD2008GREEN', quantity: 2 }, { sku: 'IPOD2008RED', quantity: 1 }],
});
const bcOrders = (name: string) => bc.db.all('salesOrders').filter((o) => o.externalDocumentNumber === name);
const itemLines = (name: string) => bc.order(name)!.salesOrderLines.filter((l) => l.lineType === 'Item')
  .map((l) => [l.lineObjectNumber, l.quantity, l.shippedQuantity]);
const demand = (item: string) => bc.db.all('salesOrderLines').filter((l) => l.lineObjectNumber === item)
  .reduce((s, l) => s + (l.quantity as number) - (l.shippedQuantity as number), 0);

describe('e2e lifecycle on the BC and Shopify simulators (real config nodes and clients)', function () {
  this.timeout(10_000);

  before(async () => {
    bc = await startBcSim({ latencyMs: 0, timeScale: 0.001 });
    shop = await startShopifySim({ timeScale: 0.001 });
  });
  after(async () => { await bc.close(); await shop.close(); });
  beforeEach(async () => { bc.reset(); await load(); });
  afterEach(() => helper.unload());

  it('create → D365 order with the Shopify lines, number written back to Shopify, gate reservation handed to D365', async () => {
    const order = placeSample();
    const journal = (helper.getNode('jr') as any).getJournal();
    await journal.reserve(`${shop.options.shop}:${order.id}`, [{ item: 'IPOD2008GREEN', location: 'EAST', quantity: 2, limit: 50 }]);
    const msg = await created(order);
    // D365 now counts the units as sales-order demand; keeping the reservation too would count them twice.
    (await journal.reservedQuantity('IPOD2008GREEN', 'EAST')).should.equal(0);
    demand('IPOD2008GREEN').should.equal(2);
    msg.writer.action.should.equal('created');
    msg.routing.decision.should.equal('clean');
    const so: any = bc.order(order.name)!;
    msg.erp.salesOrder.should.eql({ id: so.id, number: so.number });
    so.customerNumber.should.equal('C10000');
    so.shipmentMethodId.should.equal(bc.db.by('shipmentMethods', 'code', 'STANDARD')!.id);
    itemLines(order.name).should.eql([['IPOD2008GREEN', 2, 0], ['IPOD2008RED', 1, 0]]);
    shop.store.order(Number(order.id))!.metafields.find((m) => m.namespace === 'd365' && m.key === 'sales_order_number')!.value.should.equal(so.number);
  });

  it('custody: the writer settles the event once the order is created; a held order is settled by the router', async () => {
    const journal = (helper.getNode('jr') as any).getJournal();
    const inCustody = async (order: Order, key: string) => {
      await journal.recordEvent({ shop: shop.options.shop, dedupeKey: key, topic: 'orders/create', body: JSON.stringify(order), meta: {} });
      return { topic: 'orders/create', payload: order, shopify: { shop: shop.options.shop, topic: 'orders/create', source: 'webhook', eventKey: key } };
    };
    const good = await inCustody(placeSample(), 'wh-good');
    const bad = await inCustody(shop.placeOrder({ customer: 'C10000', shippingCode: 'Standard', faults: ['unknown_sku'] }), 'wh-bad');
    (await journal.unemittedEvents()).map((e: any) => e.dedupeKey).should.eql(['wh-good', 'wh-bad']);
    const done = next('wdone');
    helper.getNode('new').receive(good as never);
    (await done).writer.action.should.equal('created');
    (await journal.unemittedEvents()).map((e: any) => e.dedupeKey).should.eql(['wh-bad']);
    const held = next('held');
    helper.getNode('new').receive(bad as never);
    (await held).routing.decision.should.equal('hold');
    (await journal.unemittedEvents()).should.eql([]);
  });

  it('create → ship in BC (control API) → Shopify fulfilled with tracking; partial shipments too', async () => {
    const order = placeSample();
    const so = (await created(order)).erp.salesOrder;
    const seq = (item: string) => bc.order(order.name)!.salesOrderLines.find((l) => l.lineObjectNumber === item)!.sequence;

    // First a partial shipment: one of the two green units.
    await shipInBc(so.number, { lines: [{ sequence: seq('IPOD2008GREEN'), quantity: 1 }], trackingNumber: '1Z0001', shippingAgentCode: 'UPS' });
    let sent = next('sdone');
    helper.getNode('t').receive({ payload: 'poll' } as never);
    let m = await sent;
    m.fulfillment.action.should.equal('fulfilled');
    let json: any = shop.order(Number(order.id))!;
    json.fulfillment_status!.should.equal('partial');
    json.fulfillments.should.have.length(1);
    json.fulfillments[0]!.should.match({ tracking_company: 'UPS', tracking_number: '1Z0001' });
    json.fulfillments[0]!.line_items.map((l: any) => [l.sku, l.quantity]).should.eql([['IPOD2008GREEN', 1]]);

    // Then the rest.
    await shipInBc(so.number, { trackingNumber: '1Z0002', shippingAgentCode: 'FEDEX' });
    sent = next('sdone');
    helper.getNode('t').receive({ payload: 'poll' } as never);
    m = await sent;
    m.fulfillment.action.should.equal('fulfilled');
    json = shop.order(Number(order.id))!;
    json.fulfillment_status!.should.equal('fulfilled');
    json.fulfillments.should.have.length(2);
    json.fulfillments[1]!.should.match({ tracking_company: 'FedEx', tracking_number: '1Z0002' });
    json.fulfillments[1]!.line_items.map((l: any) => [l.sku, l.quantity]).sort().should.eql([['IPOD2008GREEN', 1], ['IPOD2008RED', 1]]);
  });

  it('a shipment delivered twice (trigger repeat, poll again) → one Shopify fulfillment', async () => {
    const order = placeSample();
    const so = (await created(order)).erp.salesOrder;
    await shipInBc(so.number, { trackingNumber: '1Z0003', shippingAgentCode: 'UPS' });
    const event = next('events');
    const sent = next('sdone');
    helper.getNode('t').receive({ payload: 'poll' } as never);
    const e = await event;
    (await sent).fulfillment.action.should.equal('fulfilled');

    // At-least-once: the same event again (a crash before the cursor moved) is absorbed.
    const again = next('sdone');
    helper.getNode('s').receive({ topic: e.topic, payload: JSON.parse(JSON.stringify(e.payload)) } as never);
    (await again).fulfillment.action.should.equal('exists');
    // A second poll finds nothing new.
    const polled = new Promise<void>((resolve) => helper.getNode('t').once('call:status', () => resolve()));
    helper.getNode('t').receive({ payload: 'poll' } as never);
    await polled;
    shop.order(Number(order.id))!.fulfillments.should.have.length(1);
  });

  it('a create whose response is lost (BC simulator fault) → exactly one D365 order', async () => {
    for (const mode of ['gateway-timeout', 'reset'] as const) {
      bc.setFaults({ lostResponseMode: mode });
      bc.failNext(1, 'lostResponse');
      const lost = bc.stats().lostResponses;
      const order = placeSample();
      const msg = await created(order);
      bc.stats().lostResponses.should.equal(lost + 1);
      bcOrders(order.name).should.have.length(1, mode);
      msg.erp.salesOrder.id.should.equal(bcOrders(order.name)[0]!.id);
      // The same order again (a webhook repeat) is found, not created twice.
      const again = await created(order);
      again.writer.action.should.equal('exists');
      bcOrders(order.name).should.have.length(1);
    }
  });

  it('the same order delivered twice at the same moment (duplicate webhook) → one D365 order', async () => {
    bc.setLatency(20); // both deliveries are in flight together
    const order = placeSample();
    const outs: string[] = [];
    const got = new Promise<void>((resolve) => {
      const on = (id: string) => (m: any) => { outs.push(`${id}:${m.writer.action}`); if (outs.length === 2) resolve(); };
      helper.getNode('wdone').on('input', on('done'));
      helper.getNode('wfail').on('input', on('fail'));
    });
    for (let i = 0; i < 2; i++) helper.getNode('new').receive({ topic: 'orders/create', payload: order, shopify: { shop: shop.options.shop, topic: 'orders/create', source: 'webhook' } } as never);
    await got;
    bc.setLatency(0);
    bcOrders(order.name).should.have.length(1);
    outs.should.containEql('done:created');
    // The other one found it, or was told a create is in progress (retryable) — never a second order.
    ['done:exists', 'fail:rejected'].should.containEql(outs.find((o) => o !== 'done:created'));
  });

  it('cancel before shipment → D365 order gone and its demand (reserved stock) released', async () => {
    const order = placeSample();
    await created(order);
    demand('IPOD2008GREEN').should.equal(2);
    shop.cancelOrder(Number(order.id), { refund: false, restock: true }).should.eql([]);
    const r = await toWriter('orders/cancelled', shop.order(Number(order.id)));
    r.out.should.equal('done', JSON.stringify(r.msg.findings));
    r.msg.writer.action.should.equal('cancelled');
    bcOrders(order.name).should.have.length(0);
    demand('IPOD2008GREEN').should.equal(0);
    demand('IPOD2008RED').should.equal(0);
    // A later orders/create replay (webhook retry) does not bring it back.
    const replay = await toWriter('orders/create', order);
    replay.out.should.equal('fail');
    replay.msg.findings.should.containDeep([{ check: 'd365-order-writer', code: 'ORDER_CANCELLED' }]);
    bcOrders(order.name).should.have.length(0);
  });

  it('partial refund with restock before shipment → the open order\'s lines are reduced', async () => {
    const order = placeSample();
    await created(order);
    const green = order.line_items.find((l) => l.sku === 'IPOD2008GREEN')!;
    const { refund, userErrors } = shop.refundOrder(Number(order.id), { lines: [{ lineItemId: Number(green.id), quantity: 1, restockType: 'cancel' }] });
    userErrors.should.eql([]);
    const r = await toWriter('refunds/create', refund);
    r.out.should.equal('done', JSON.stringify(r.msg.findings));
    r.msg.writer.action.should.equal('refunded');
    itemLines(order.name).should.eql([['IPOD2008GREEN', 1, 0], ['IPOD2008RED', 1, 0]]);
    demand('IPOD2008GREEN').should.equal(1);
    bc.db.all('salesCreditMemos').should.have.length(0);
    // The same refund again (webhook repeat) changes nothing.
    (await toWriter('refunds/create', refund)).msg.writer.action.should.equal('exists');
    itemLines(order.name).should.eql([['IPOD2008GREEN', 1, 0], ['IPOD2008RED', 1, 0]]);
  });

  it('refund of a partly shipped line: credit memo for the shipped unit; the released order needs a person, then the same refund finishes', async () => {
    const order = placeSample();
    const so = (await created(order)).erp.salesOrder;
    const seq = bc.order(order.name)!.salesOrderLines.find((l) => l.lineObjectNumber === 'IPOD2008GREEN')!.sequence;
    await shipInBc(so.number, { lines: [{ sequence: seq, quantity: 1 }], trackingNumber: '1Z0005' });
    const green = order.line_items.find((l) => l.sku === 'IPOD2008GREEN')!;
    const { refund } = shop.refundOrder(Number(order.id), { lines: [{ lineItemId: Number(green.id), quantity: 2, restockType: 'return' }] });
    let r = await toWriter('refunds/create', refund);
    r.out.should.equal('fail');
    r.msg.findings.should.containDeep([{ check: 'd365-order-writer', code: 'REFUND_ORDER_RELEASED', severity: 'error' }]);
    r.msg.findings.find((f: any) => f.code === 'REFUND_ORDER_RELEASED').message.should.match(/IPOD2008GREEN\) 2 → 1/);
    const memos = bc.db.all('salesCreditMemos');
    memos.should.have.length(1);
    r.msg.erp.creditMemo.number.should.equal(memos[0]!.number);
    itemLines(order.name).should.eql([['IPOD2008GREEN', 2, 1], ['IPOD2008RED', 1, 0]]);

    // A person reopens the order in D365 (status back to Draft); the same refund again takes the unshipped unit off.
    bc.db.all('salesOrders').find((o) => o.number === so.number)!.status = 'Draft';
    r = await toWriter('refunds/create', refund);
    r.out.should.equal('done', JSON.stringify(r.msg.findings));
    itemLines(order.name).should.eql([['IPOD2008GREEN', 1, 1], ['IPOD2008RED', 1, 0]]);
    bc.db.all('salesCreditMemos').should.have.length(1);
    (await toWriter('refunds/create', refund)).msg.writer.action.should.equal('exists');
  });

  it('refund after shipment → a sales credit memo (also once the order is invoiced and gone)', async () => {
    const order = placeSample();
    const so = (await created(order)).erp.salesOrder;
    await shipInBc(so.number, { trackingNumber: '1Z0004', shippingAgentCode: 'UPS' });
    const green = order.line_items.find((l) => l.sku === 'IPOD2008GREEN')!;
    const red = order.line_items.find((l) => l.sku === 'IPOD2008RED')!;

    const first = shop.refundOrder(Number(order.id), { lines: [{ lineItemId: Number(green.id), quantity: 1, restockType: 'return' }] });
    let r = await toWriter('refunds/create', first.refund);
    r.out.should.equal('done', JSON.stringify(r.msg.findings));
    r.msg.writer.action.should.equal('refunded');
    let memos = bc.db.all('salesCreditMemos');
    memos.should.have.length(1);
    memos[0]!.customerNumber!.should.equal('C10000');
    r.msg.erp.creditMemo.number.should.equal(memos[0]!.number);
    const lines = (m: any) => bc.db.all('salesCreditMemoLines').filter((l) => l.documentId === m.id).map((l) => [l.lineType, l.lineObjectNumber, l.quantity]);
    lines(memos[0]).should.eql([['Item', 'IPOD2008GREEN', 1]]);
    itemLines(order.name).should.eql([['IPOD2008GREEN', 2, 2], ['IPOD2008RED', 1, 1]]);

    // Invoiced: BC deletes the fully shipped and invoiced order; a refund still becomes a credit memo.
    bc.invoiceOrder(so.number);
    (bc.order(order.name) === undefined).should.be.true();
    const second = shop.refundOrder(Number(order.id), { lines: [{ lineItemId: Number(red.id), quantity: 1, restockType: 'no_restock' }] });
    r = await toWriter('refunds/create', second.refund);
    r.out.should.equal('done', JSON.stringify(r.msg.findings));
    memos = bc.db.all('salesCreditMemos');
    memos.should.have.length(2);
    lines(memos[1]).should.eql([['Account', '6620', 1]]);
  });

  it('cancel of an order held before D365 (reserved by the inventory gate) → its reservation released, nothing in D365', async () => {
    const journal = (helper.getNode('jr') as any).getJournal();
    const order = shop.placeOrder({ customer: 'C10000', shippingCode: 'Standard', lines: [{ sku: 'IPOD2008GREEN', quantity: 3 }] });
    const key = `${shop.options.shop}:${order.id}`;
    (await journal.reserve(key, [{ item: 'IPOD2008GREEN', location: 'EAST', quantity: 3, limit: 50 }])).ok.should.be.true();
    (await journal.reservedQuantity('IPOD2008GREEN', 'EAST')).should.equal(3);
    shop.cancelOrder(Number(order.id), { refund: false, restock: true }).should.eql([]);
    const r = await toWriter('orders/cancelled', shop.order(Number(order.id)));
    r.out.should.equal('done', JSON.stringify(r.msg.findings));
    r.msg.writer.action.should.equal('cancelled');
    (await journal.reservedQuantity('IPOD2008GREEN', 'EAST')).should.equal(0);
    bcOrders(order.name).should.have.length(0);
    Object.keys(bc.requests()).filter((k) => !k.startsWith('GET')).should.eql([]);
  });

  for (const first of ['refunds/create', 'orders/cancelled'] as const) {
    it(`cancel with refund and restock (Shopify's default for a paid order), ${first} arriving first → order gone, no credit memo`, async () => {
      const order = placeSample();
      await created(order);
      const events = captureEvents();
      try {
        shop.cancelOrder(Number(order.id)).should.eql([]);
      } finally {
        events.stop();
      }
      const refund = events.of('refunds/create')[0];
      const cancelled = events.of('orders/cancelled')[0];
      refund.refund_line_items.map((l: any) => l.restock_type).should.eql(['cancel', 'cancel']);
      for (const [topic, payload] of first === 'refunds/create' ? [['refunds/create', refund], ['orders/cancelled', cancelled]] : [['orders/cancelled', cancelled], ['refunds/create', refund]]) {
        const r = await toWriter(topic, payload);
        r.out.should.equal('done', `${topic}: ${JSON.stringify(r.msg.findings)}`);
      }
      bcOrders(order.name).should.have.length(0);
      bc.db.all('salesCreditMemos').should.have.length(0);
      demand('IPOD2008GREEN').should.equal(0);
    });
  }

  it('orders/updated: a new ship-to address and note are applied to the open order', async () => {
    const order = placeSample();
    await created(order);
    const updated = shop.updateOrder(Number(order.id), { note: 'Leave at the back door', shippingAddress: { address1: '1 New Street', city: 'Lexington', zip: '40507' } });
    const r = await toWriter('orders/updated', updated);
    r.out.should.equal('done', JSON.stringify(r.msg.findings));
    r.msg.writer.action.should.equal('updated');
    const so: any = bc.order(order.name)!;
    so.should.match({ shipToAddressLine1: '1 New Street', shipToCity: 'Lexington', shipToPostCode: '40507' });
    so.salesOrderLines.filter((l: any) => l.lineType === 'Comment').map((l: any) => l.description).should.eql(['Note: Leave at the back door']);
    // The same event again is a no-op.
    const again = (await toWriter('orders/updated', updated)).msg;
    again.writer.action.should.equal('unchanged');

    // After a partial shipment the order is released: a new address is a conflict for a person, not a BC error.
    const seq = so.salesOrderLines.find((l: any) => l.lineObjectNumber === 'IPOD2008RED').sequence;
    await shipInBc(so.number, { lines: [{ sequence: seq, quantity: 1 }] });
    const moved = shop.updateOrder(Number(order.id), { shippingAddress: { address1: '2 Other Road' } });
    const r2 = await toWriter('orders/updated', moved);
    r2.out.should.equal('fail');
    r2.msg.findings.should.containDeep([{ check: 'd365-order-writer', code: 'UPDATE_CONFLICT', path: 'shipping_address' }]);
    r2.msg.findings[0].message.should.match(/released in D365/);
    bc.order(order.name)!.shipToAddressLine1!.should.equal('1 New Street');
  });

  it('a 60-line order: the sender reads every fulfillment-order line in pages under Shopify\'s 1000-point query limit', async () => {
    const skus = bc.catalogue.items.filter((i) => i.type === 'Inventory' && !i.blocked && i.sku && (i.stock.EAST ?? 0) >= 1).slice(0, 60).map((i) => i.sku!);
    skus.should.have.length(60);
    const order = shop.placeOrder({ customer: 'C10000', shippingCode: 'Standard', lines: skus.map((sku) => ({ sku, quantity: 1 })) });
    Math.max(...shop.store.fulfillmentOrdersOf(Number(order.id)).map((fo) => fo.lines.length)).should.be.above(30);
    const so = (await created(order)).erp.salesOrder;
    await shipInBc(so.number, { trackingNumber: '1Z0060', shippingAgentCode: 'UPS' });
    const sent = next('sdone');
    const throttledBefore = shop.counters().graphql.maxCostExceeded;
    helper.getNode('t').receive({ payload: 'poll' } as never);
    const m = await sent;
    m.fulfillment.action.should.equal('fulfilled');
    shop.counters().graphql.maxCostExceeded.should.equal(throttledBefore);
    const json: any = shop.order(Number(order.id))!;
    json.fulfillment_status.should.equal('fulfilled');
    json.fulfillments.reduce((n: number, f: any) => n + f.line_items.length, 0).should.equal(60);
  });

  it('lines Shopify ships from two locations → one fulfillment per location', async () => {
    const west = bc.catalogue.items.find((i) => i.type === 'Inventory' && !i.blocked && i.sku && !i.stock.EAST && (i.stock.WEST ?? 0) >= 5)!;
    const order = shop.placeOrder({ customer: 'C10000', shippingCode: 'Standard', lines: [{ sku: 'IPOD2008GREEN', quantity: 1 }, { sku: west.sku!, quantity: 1 }] });
    shop.store.fulfillmentOrdersOf(Number(order.id)).map((fo) => fo.locationId).sort().should.eql([655441491, 655441492]);
    const so = (await created(order)).erp.salesOrder;
    await shipInBc(so.number, { trackingNumber: '1Z0070', shippingAgentCode: 'DHL' });
    const sent = next('sdone');
    helper.getNode('t').receive({ payload: 'poll' } as never);
    (await sent).fulfillment.fulfillments.map((f: any) => f.locationId).sort().should.eql(['655441491', '655441492']);
    const json: any = shop.order(Number(order.id))!;
    json.fulfillment_status.should.equal('fulfilled');
    json.fulfillments.map((f: any) => [f.location_id, f.tracking_company, f.tracking_number]).sort()
      .should.eql([[655441491, 'DHL Express', '1Z0070'], [655441492, 'DHL Express', '1Z0070']]);
  });

  it('an item variant: created as item + variant in D365, shipped, fulfilled on the right Shopify line', async () => {
    const item = bc.catalogue.items.find((i) => i.type === 'Inventory' && !i.blocked && i.variants.length > 1 && (i.stock[`EAST:${i.variants[1]!.code}`] ?? 0) >= 5)!;
    const v = item.variants[1]!;
    const order = shop.placeOrder({ customer: 'C10000', shippingCode: 'Standard', lines: [{ sku: v.sku, quantity: 2 }, { sku: 'IPOD2008RED', quantity: 1 }] });
    const so = (await created(order)).erp.salesOrder;
    const line: any = bc.order(order.name)!.salesOrderLines.find((l) => l.lineObjectNumber === item.number)!;
    line.itemVariantId.should.equal(bc.db.all('itemVariants').find((r) => r.itemNumber === item.number && r.code === v.code)!.id);
    await shipInBc(so.number, { lines: [{ sequence: line.sequence, quantity: 2 }], trackingNumber: '1Z0090', shippingAgentCode: 'USPS' });
    const sent = next('sdone');
    helper.getNode('t').receive({ payload: 'poll' } as never);
    (await sent).fulfillment.action.should.equal('fulfilled');
    const json: any = shop.order(Number(order.id))!;
    json.fulfillments.should.have.length(1);
    json.fulfillments[0].line_items.map((l: any) => [l.sku, l.quantity]).should.eql([[v.sku, 2]]);
    json.fulfillments[0].tracking_company.should.equal('USPS');
  });

  it('D365 failing during the create → failed output with a retryable finding and no secret anywhere', async () => {
    bc.failNext(3, 504, { method: 'POST', entity: 'salesOrders' });
    const order = placeSample();
    const r = await toWriter('orders/create', order);
    r.out.should.equal('fail');
    r.msg.findings.should.containDeep([{ check: 'd365-order-writer', code: 'D365_UNAVAILABLE', severity: 'error', retryable: true }]);
    bcOrders(order.name).should.have.length(0);
    const text = JSON.stringify(r.msg);
    for (const secret of [bc.clientSecret, shop.options.accessToken]) text.should.not.containEql(secret);
    text.should.not.match(/Bearer|eyJ/);
    // Once D365 answers, the same order goes through.
    (await created(order)).writer.action.should.equal('created');
  });

  it('dry run on the D365 connection: the request is shown, nothing reaches D365 or the journal', async () => {
    await helper.unload();
    await helper.load(NODES as never, flow().map((n: any) => (n.id === 'conn' ? { ...n, dryRun: 'true' } : n)), credentials() as never);
    const order = placeSample();
    const m = (await toWriter('orders/create', order)).msg;
    m.writer.action.should.equal('dry-run');
    m.d365Request[0].should.match({ method: 'POST', path: 'salesOrders', body: { externalDocumentNumber: order.name, customerNumber: 'C10000' } });
    bcOrders(order.name).should.have.length(0);
    Object.keys(bc.requests()).filter((k) => !k.startsWith('GET')).should.eql([]);
  });

  it('d365-trigger with order changes on: status events pass the sender untouched, shipments are fulfilled', async () => {
    await helper.unload();
    await helper.load(NODES as never, flow().map((n: any) => (n.id === 't' ? { ...n, orderStatus: 'true' } : n)), credentials() as never);
    const order = placeSample();
    const so = (await created(order)).erp.salesOrder;
    await shipInBc(so.number, { trackingNumber: '1Z0080', shippingAgentCode: 'UPS' });
    const done: any[] = [];
    const failed: any[] = [];
    helper.getNode('sdone').on('input', (m: any) => done.push(m));
    helper.getNode('sfail').on('input', (m: any) => failed.push(m));
    const events: any[] = [];
    helper.getNode('events').on('input', (m: any) => events.push(m));
    helper.getNode('t').receive({ payload: 'poll' } as never);
    for (let i = 0; i < 100 && done.length + failed.length < 2; i++) await new Promise((r) => setTimeout(r, 30));
    events.map((e) => e.topic).sort().should.eql(['d365/order-status', 'd365/shipment']);
    events.find((e) => e.topic === 'd365/order-status').payload.salesOrder.should.match({ number: so.number, externalDocumentNumber: order.name, fullyShipped: true });
    failed.should.eql([]);
    done.map((m) => [m.topic, m.fulfillment?.action]).sort().should.eql([['d365/order-status', undefined], ['d365/shipment', 'fulfilled']]);
  });

  // The router clears findings on a re-check emission, so the writer's D365_UNAVAILABLE of the failed attempt does not
  // come back into the router on every retry.
  it('D365 down while creating → writer failure retried by the router → created once D365 answers', async () => {
    await loadWithRetryLoop('20ms, 20ms, 20ms');
    bc.failNext(3, 504, { method: 'POST', entity: 'salesOrders' });
    const order = placeSample();
    const failed = next('wfail');
    const done = next('wdone');
    helper.getNode('oc').receive({ topic: 'orders/create', payload: order, shopify: { shop: shop.options.shop, topic: 'orders/create', source: 'webhook' } } as never);
    (await failed).findings.should.containDeep([{ check: 'd365-order-writer', code: 'D365_UNAVAILABLE', retryable: true }]);
    const m = await done;
    m.writer.action.should.equal('created');
    m.routing.decision.should.equal('clean');
    m.findings.filter((f: any) => f.severity === 'error').should.eql([]);
    bcOrders(order.name).should.have.length(1);
  });
});

