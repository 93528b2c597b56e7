import 'should';
import helper from 'node-red-node-test-helper';
import { createServer } from 'http';
import type { Server } from 'http';
import type { AddressInfo } from 'net';
import type { NodeAPI } from 'node-red';
import storeModule = require('../nodes/shopify-store');
import journalModule = require('../nodes/order-journal');
import triggerModule = require('../nodes/shopify-trigger');
import { startShopifySim } from '../sim/shopify';
import type { ShopifySim } from '../sim/shopify';
// eslint-disable-next-line @typescript-eslint/no-var-requires
const completeNode: unknown = require('@node-red/nodes/core/common/24-complete.js');

// The trigger against the Shopify simulator: real signed webhooks over HTTP, dropped by chaos, and
// picked up by the reconciliation poll through the Admin GraphQL API.

let RED: NodeAPI;
let got: any[] = [];
/** Input messages n1 has finished handling (its done()), as a Complete node sees them. */
let completed = 0;
const trigger = (r: NodeAPI) => {
  RED = r;
  return triggerModule(r);
};
function collectorModule(r: NodeAPI) {
  r.nodes.registerType('test-collector', function (this: any, config: any) {
    r.nodes.createNode(this, config);
    this.on('input', (m: unknown) => got.push(m));
  });
  r.nodes.registerType('test-done', function (this: any, config: any) {
    r.nodes.createNode(this, config);
    this.on('input', () => { completed++; });
  });
}
const until = async (cond: () => boolean, ms = 3000) => {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('timed out waiting');
    await new Promise((r) => setTimeout(r, 10));
  }
};

describe('shopify-trigger with the Shopify simulator', () => {
  let sim: ShopifySim;
  let server: Server;

  beforeEach(async () => {
    sim = await startShopifySim({ seed: 7 });
    got = [];
    completed = 0;
    const flow = [
      { id: 't', type: 'tab' },
      { id: 'store', type: 'shopify-store', shopDomain: sim.options.shop, apiVersion: sim.options.apiVersion, baseUrl: sim.url },
      { id: 'jr', type: 'order-journal', file: ':memory:' },
      { id: 'n1', z: 't', type: 'shopify-trigger', store: 'store', journal: 'jr', path: '/shopify/webhooks', topics: ['orders/create', 'orders/updated'], reconcile: false, wires: [['out']] },
      { id: 'out', z: 't', type: 'test-collector' },
      { id: 'c', z: 't', type: 'complete', scope: ['n1'], uncaught: false, wires: [['done']] },
      { id: 'done', z: 't', type: 'test-done' },
    ];
    await helper.load([storeModule, journalModule, collectorModule, completeNode as never, trigger], flow, { store: { accessToken: sim.options.accessToken, webhookSecret: sim.options.webhookSecret } });
    server = createServer(RED.httpNode as unknown as Parameters<typeof createServer>[0]);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    sim.subscribe('orders/create', `http://127.0.0.1:${(server.address() as AddressInfo).port}/shopify/webhooks`);
  });
  afterEach(async () => {
    await helper.unload();
    await sim.close();
    await new Promise((r) => server.close(r));
  });

  it('emits a delivered webhook once, and a dropped one exactly once via the reconciliation poll', async () => {
    sim.setChaos({ dropProbability: 1 });
    const dropped = sim.placeOrder({ lineCount: 2, discount: { code: 'SAVE15', type: 'percentage', value: '15' } });
    await sim.settled();
    sim.setChaos({ dropProbability: 0 });
    const delivered = sim.placeOrder();
    await sim.settled();
    await until(() => got.length === 1);
    got[0].payload.id.should.equal(delivered.id);
    got[0].shopify.source.should.equal('webhook');

    // An input message runs one reconciliation; the node is done with the message when the run has ended
    // (its status alone cannot tell: the count of reconciled orders changes it during the run too).
    const n1 = helper.getNode('n1') as unknown as { status: { args: { text?: string }[][] }; error: { args: unknown[][] } };
    const run = async () => {
      const before = completed;
      const statuses = n1.status.args.length;
      helper.getNode('n1').receive({ payload: 'reconcile' } as never);
      await until(() => completed > before);
      n1.status.args.slice(statuses).map((a) => a[0]!.text).should.containEql('reconciling…');
      n1.error.args.should.eql([]);
    };
    await run();
    // The status changes when the run ends; Node-RED delivers the emitted message a moment later.
    await until(() => got.length === 2);
    got.map((m) => [m.payload.id, m.shopify.source]).should.eql([[delivered.id, 'webhook'], [dropped.id, 'reconcile']]);
    got[1].topic.should.equal('orders/updated');
    got[1].payload.name.should.equal(dropped.name);
    got[1].payload.line_items.length.should.equal(dropped.line_items.length);
    got[1].payload.total_price.should.equal(dropped.total_price);
    // Discounts as the lost webhook would have carried them.
    got[1].payload.discount_applications.should.eql(dropped.discount_applications);
    got[1].payload.discount_codes.should.eql([{ code: 'SAVE15', amount: dropped.total_discounts, type: 'percentage' }]);
    got[1].payload.line_items.map((l: { discount_allocations: unknown }) => l.discount_allocations).should.eql(dropped.line_items.map((l) => l.discount_allocations));
    await run();
    got.length.should.equal(2); // the next poll re-reads the overlap and emits nothing again
  });
});
