import 'should';
import helper from 'node-red-node-test-helper';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import os from 'os';
import path from 'path';
import routerModule = require('../../nodes/order-exception-router');
import journalModule = require('../../nodes/order-journal');
import { SqliteJournal } from '../../nodes/lib/journal/sqlite-journal';

const order = () => JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'order-1001.json'), 'utf8'));
const finding = (code: string, extra: Record<string, unknown> = {}) =>
  ({ check: 'sku', code, severity: 'error', message: `${code} happened`, retryable: false, ...extra });

let dir: string;
function flow(rules: unknown[], extra: Record<string, unknown> = {}) {
  return [
    { id: 't', type: 'tab' },
    { id: 'j', type: 'order-journal', file: path.join(dir, 'journal.sqlite') },
    { id: 'r', z: 't', type: 'order-exception-router', name: 'router', journal: 'j', rules, retrySchedule: '200ms, 200ms', retryPollS: 0.05,
      wires: [['clean'], ...rules.filter((x: any) => x.action === 'output').map((_: unknown, i: number) => [`out${i}`]), ['held'], ['recheck']], ...extra },
    { id: 'clean', z: 't', type: 'helper' },
    { id: 'out0', z: 't', type: 'helper' },
    { id: 'held', z: 't', type: 'helper' },
    { id: 'recheck', z: 't', type: 'helper' },
  ];
}
const next = (id: string) => new Promise<any>((r) => helper.getNode(id).once('input', r));
const orderMsg = (findings: unknown[]) => ({ topic: 'orders/create', payload: order(), shopify: { shop: 'demo-shop.myshopify.com', topic: 'orders/create', source: 'webhook' }, findings });

describe('order-exception-router node', () => {
  beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'router-')); });
  afterEach(async () => { await helper.unload(); rmSync(dir, { recursive: true, force: true }); });

  it('routes clean, named-output and held orders; holds are listed by the admin API', async () => {
    await helper.load([journalModule, routerModule], flow([{ name: 'catalogue team', when: 'code', value: 'SKU_*', action: 'output' }]));
    const r = helper.getNode('r');
    const c = next('clean');
    r.receive(orderMsg([]) as never);
    (await c).routing.decision.should.equal('clean');
    const o = next('out0');
    r.receive(orderMsg([finding('SKU_UNMAPPED')]) as never);
    (await o).routing.rule.should.equal('catalogue team');
    const h = next('held');
    r.receive(orderMsg([finding('CUSTOMER_AMBIGUOUS', { check: 'customer' })]) as never);
    const held = await h;
    held.routing.decision.should.equal('hold');
    const list = await helper.request().get('/shopify-d365/holds').expect(200);
    list.body.counts.total.should.equal(1);
    list.body.counts.byCode.should.eql({ CUSTOMER_AMBIGUOUS: 1 });
    list.body.holds[0].orderName.should.equal('#1001');
    list.body.holds[0].route.should.equal('unrouted');
    (list.body.holds[0].msg === undefined).should.be.true();
    const one = await helper.request().get(`/shopify-d365/holds/${held.routing.holdId}`).expect(200);
    one.body.msg.payload.name.should.equal('#1001');
  });

  it('release re-emits once on re-check; a second release answers 409', async () => {
    await helper.load([journalModule, routerModule], flow([]));
    const h = next('held');
    helper.getNode('r').receive(orderMsg([finding('SKU_UNMAPPED')]) as never);
    const id = (await h).routing.holdId;
    let rechecked = 0;
    helper.getNode('recheck').on('input', () => { rechecked++; });
    const first = next('recheck');
    const [a, b] = await Promise.all([
      helper.request().post(`/shopify-d365/holds/${id}/release`).send({}),
      helper.request().post(`/shopify-d365/holds/${id}/release`).send({}),
    ]);
    [a.status, b.status].sort().should.eql([200, 409]);
    const msg = await first;
    msg.shopify.source.should.equal('release');
    msg.routing.decision.should.equal('released');
    msg.findings.should.eql([]); // the checks recompute theirs on the way back
    await new Promise((r) => setTimeout(r, 50));
    rechecked.should.equal(1);
    const listed = await helper.request().get('/shopify-d365/holds?status=released').expect(200);
    listed.body.holds[0].resolvedBy.should.equal('editor');
  });

  it('forced release waives findings and goes out clean; discard needs a reason', async () => {
    await helper.load([journalModule, routerModule], flow([]));
    const r = helper.getNode('r');
    let h = next('held');
    r.receive(orderMsg([finding('PRICE_MISMATCH', { check: 'price' })]) as never);
    const id1 = (await h).routing.holdId;
    const c = next('clean');
    await helper.request().post(`/shopify-d365/holds/${id1}/release`).send({ force: true }).expect(200);
    const msg = await c;
    msg.findings[0].severity.should.equal('warning');
    msg.findings[0].message.should.match(/without re-check/);
    h = next('held');
    r.receive(orderMsg([finding('PRICE_MISMATCH', { check: 'price' })]) as never);
    const id2 = (await h).routing.holdId;
    (await helper.request().post(`/shopify-d365/holds/${id2}/discard`).send({ reason: ' ' })).status.should.equal(400);
    await helper.request().post(`/shopify-d365/holds/${id2}/discard`).send({ reason: 'duplicate order' }).expect(200);
    (await helper.request().post(`/shopify-d365/holds/${id2}/release`).send({})).status.should.equal(409);
    (await helper.request().get('/shopify-d365/holds/nope')).status.should.equal(404);
  });

  it('retry later re-emits on schedule, then holds once the schedule is used up', async () => {
    await helper.load([journalModule, routerModule], flow([{ name: 'ERP busy', when: 'retryable', value: '', action: 'retry' }]));
    const r = helper.getNode('r');
    const busy = orderMsg([finding('D365_UNAVAILABLE', { check: 'writer', retryable: true })]);
    let re = next('recheck');
    r.receive(busy as never);
    const first = await re;
    first.shopify.source.should.equal('retry');
    first.routing.attempts.should.equal(1);
    first.findings.should.eql([]);
    // The writer fails again on the next pass: its fresh finding comes back to the router.
    re = next('recheck');
    first.findings = busy.findings;
    r.receive(first);
    const second = await re;
    second.routing.attempts.should.equal(2);
    const h = next('held');
    second.findings = busy.findings;
    r.receive(second);
    const held = await h;
    held.routing.decision.should.equal('hold');
    const one = await helper.request().get(`/shopify-d365/holds/${held.routing.holdId}`).expect(200);
    one.body.reason.should.match(/retries exhausted after 2 attempts/);
  });

  it('custody: a hold settles its event, a replay of the event replaces the hold, a release re-opens custody', async () => {
    await helper.load([journalModule, routerModule], flow([]));
    const j = SqliteJournal.open(path.join(dir, 'journal.sqlite'));
    try {
      const shop = 'demo-shop.myshopify.com';
      await j.recordEvent({ shop, dedupeKey: 'wh-1', topic: 'orders/create', body: JSON.stringify(order()), meta: { shop, topic: 'orders/create' } });
      const inCustody = () => ({ ...orderMsg([finding('SKU_UNMAPPED')]), shopify: { shop, topic: 'orders/create', source: 'webhook', eventKey: 'wh-1' } });
      let h = next('held');
      helper.getNode('r').receive(inCustody() as never);
      const id = (await h).routing.holdId;
      (await j.unemittedEvents()).should.eql([]);
      // The same event again (the process died before the settle, and the trigger replayed it): one hold.
      h = next('held');
      helper.getNode('r').receive(inCustody() as never);
      (await h).routing.holdId.should.equal(id);
      (await j.listHolds({ status: 'held' })).map((x) => x.id).should.eql([id]);

      const re = next('recheck');
      await helper.request().post(`/shopify-d365/holds/${id}/release`).send({}).expect(200);
      const released = await re;
      released.shopify.eventKey.should.match(new RegExp(`^release:${id}:`));
      released.shopify.source.should.equal('release');
      const open = await j.unemittedEvents();
      open.map((e) => [e.dedupeKey, e.topic, e.resourceId]).should.eql([[released.shopify.eventKey, 'orders/create', String(order().id)]]);
      JSON.parse(open[0]!.body).name.should.equal('#1001');
      // The re-checked order is held again: that hold settles the release event in turn.
      h = next('held');
      helper.getNode('r').receive({ ...released, findings: [finding('SKU_UNMAPPED')] } as never);
      (await h).routing.holdId.should.not.equal(id);
      (await j.unemittedEvents()).should.eql([]);
    } finally {
      await j.close();
    }
  });

  it('held orders survive a restart and can be released after it', async () => {
    const f = flow([]);
    await helper.load([journalModule, routerModule], f);
    const h = next('held');
    helper.getNode('r').receive(orderMsg([finding('SKU_UNMAPPED')]) as never);
    const id = (await h).routing.holdId;
    await helper.unload();
    await helper.load([journalModule, routerModule], f);
    const list = await helper.request().get('/shopify-d365/holds').expect(200);
    list.body.holds.map((x: any) => x.id).should.eql([id]);
    const re = next('recheck');
    await helper.request().post(`/shopify-d365/holds/${id}/release`).send({}).expect(200);
    (await re).payload.name.should.equal('#1001');
  });

  it('holds or retries a lifecycle event (refund) that a node failed, instead of passing it on', async () => {
    await helper.load([journalModule, routerModule], flow([{ name: 'ERP busy', when: 'retryable', value: '', action: 'retry' }]));
    const r = helper.getNode('r');
    const refund = { topic: 'refunds/create', payload: { id: 77, order_id: 450789469 }, shopify: { shop: 'demo-shop.myshopify.com', topic: 'refunds/create', source: 'webhook' } };
    const re = next('recheck');
    r.receive({ ...refund, findings: [finding('D365_UNAVAILABLE', { check: 'd365-order-writer', retryable: true })] } as never);
    (await re).payload.id.should.equal(77);
    const h = next('held');
    r.receive({ ...refund, findings: [finding('D365_REJECTED', { check: 'd365-order-writer' })] } as never);
    const held = await h;
    const one = await helper.request().get(`/shopify-d365/holds/${held.routing.holdId}`).expect(200);
    one.body.orderId.should.equal('450789469');
  });

  it('passes non-order messages on the clean output and reports bad config', async () => {
    await helper.load([journalModule, routerModule], flow([]));
    const c = next('clean');
    helper.getNode('r').receive({ topic: 'refunds/create', payload: { id: 1 } } as never);
    (await c).payload.should.eql({ id: 1 });
    await helper.unload();
    await helper.load([journalModule, routerModule], flow([{ name: '', when: 'code', value: 'X', action: 'hold' }]));
    const r = helper.getNode('r');
    r.error.should.be.calledWithMatch(/every rule needs a name/);
    r.status.should.be.calledWithMatch({ fill: 'red' });
  });

  it('never echoes the request back on the clean path when the journal write fails', async () => {
    await helper.load([journalModule, routerModule], flow([]));
    const r = helper.getNode('r');
    const journal = (helper.getNode('j') as any).getJournal();
    journal.putHold = async () => { throw new Error('disk full'); };
    let cleaned = false;
    helper.getNode('clean').on('input', () => { cleaned = true; });
    r.receive(orderMsg([finding('SKU_UNMAPPED')]) as never);
    await new Promise((res) => setTimeout(res, 50));
    cleaned.should.be.false();
    r.error.should.be.calledWithMatch({ message: 'disk full' });
  });
});
