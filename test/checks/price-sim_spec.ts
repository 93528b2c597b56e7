import 'should';
import helper from 'node-red-node-test-helper';
import priceCheck = require('../../nodes/d365-price-check');
import taxCheck = require('../../nodes/d365-tax-check');
import skuValidator = require('../../nodes/d365-sku-validator');
import { startBcSim, type BcSim } from '../../sim/bc';
import type { BcClient } from '../../nodes/lib/d365/bc-client';
import { simClient } from '../helpers/bc-sim';
import { fakeConnection, sampleOrder as order } from '../helpers/check-node';

// The price and tax checks against the Business Central simulator through the real BcClient.

describe('d365-price-check and d365-tax-check against the BC simulator', () => {
  let sim: BcSim;
  let client: BcClient;
  before(async () => {
    sim = await startBcSim({ latencyMs: 0 });
    client = simClient(sim);
  });
  after(() => sim.close());
  afterEach(() => helper.unload());

  const connection = fakeConnection(() => client);
  const flow = (type: string, config: Record<string, unknown>) => [
    { id: 't', type: 'tab' },
    { id: 'bc', type: 'd365-connection' },
    { id: 'n1', z: 't', type, connection: 'bc', mode: 'divert', ...config, wires: [['pass'], ['fail']] },
    { id: 'pass', z: 't', type: 'helper' },
    { id: 'fail', z: 't', type: 'helper' },
  ];
  const send = (msg: Record<string, unknown>, out: string) => {
    const got = new Promise<any>((r) => helper.getNode(out).once('input', r));
    helper.getNode('n1').receive(msg as never);
    return got;
  };
  const msgFor = (o: any) => ({ topic: 'orders/create', payload: o, erp: { customer: { number: 'C10000' }, lines: o.line_items.map((l: any) => ({ lineItemId: String(l.id), quantity: l.quantity, itemNumber: l.sku })) } });

  it('price check: the sample order matches the seeded prices; 20 orders cost one items request', async () => {
    await helper.load([connection, priceCheck], flow('d365-price-check', {}));
    sim.resetCounters();
    for (let i = 0; i < 20; i++) (await send(msgFor(order()), 'pass')).findings.should.eql([]);
    sim.requests().should.eql({ 'GET items': 1 });
    sim.blockItem('IPOD2008RED'); // still priced: blocking is the SKU validator's business
    const odd = order();
    odd.line_items[0].sku = 'NOPE-1';
    const msg = await send(msgFor(odd), 'pass');
    msg.findings.map((f: any) => f.code).should.eql(['PRICE_UNKNOWN']);
  });

  it('SKU validator then price check on one connection: 20 orders cost one items request for the whole chain', async () => {
    await helper.load([connection, skuValidator, priceCheck], [
      { id: 't', type: 'tab' },
      { id: 'bc', type: 'd365-connection' },
      { id: 'sku', z: 't', type: 'd365-sku-validator', connection: 'bc', mode: 'divert', wires: [['n1'], ['fail']] },
      { id: 'n1', z: 't', type: 'd365-price-check', connection: 'bc', mode: 'divert', wires: [['pass'], ['fail']] },
      { id: 'pass', z: 't', type: 'helper' },
      { id: 'fail', z: 't', type: 'helper' },
    ] as never);
    sim.reset(); // an earlier test blocked an item
    for (let i = 0; i < 20; i++) {
      const got = new Promise<any>((r) => { helper.getNode('pass').once('input', r); helper.getNode('fail').once('input', (m: any) => r(m)); });
      helper.getNode('sku').receive({ topic: 'orders/create', payload: order() } as never);
      (await got).findings.should.eql([]);
    }
    sim.requests().should.eql({ 'GET items': 1 });
  });

  it('price check: a throttled simulator yields a retryable D365_UNAVAILABLE finding', async () => {
    await helper.load([connection, priceCheck], flow('d365-price-check', { cacheTtlS: '0' }));
    const fast = client;
    client = simClient(sim, 0);
    try {
      sim.failNext(1, 429, { entity: 'items' });
      const msg = await send(msgFor(order()), 'fail');
      msg.findings.map((f: any) => [f.code, f.retryable]).should.eql([['D365_UNAVAILABLE', true]]);
    } finally {
      client = fast;
    }
  });

  it('tax check: KY exists in D365, customer C10000 is tax liable in KY; lookups are cached', async () => {
    const areas = sim.catalogue.taxAreas.map((a) => ({ country: a.country, state: a.state ?? '', zip: '', code: a.code, rate: String(a.rate * 100), pricesIncludeTax: '' }));
    areas.push({ country: 'US', state: 'OH', zip: '', code: 'OH-NOT-IN-BC', rate: '5.75', pricesIncludeTax: '' });
    await helper.load([connection, taxCheck], flow('d365-tax-check', { areas }));
    sim.resetCounters();
    for (let i = 0; i < 5; i++) {
      const msg = await send(msgFor(order()), 'pass');
      msg.findings.should.eql([]);
      msg.erp.taxAreaCode.should.equal('KY');
    }
    sim.requests().should.eql({ 'GET taxAreas': 1, 'GET customers': 1 });
    const oh = order();
    oh.shipping_address.province_code = 'OH';
    oh.line_items[0].tax_lines[0].price = '22.31'; oh.line_items[1].tax_lines[0].price = '11.44'; oh.shipping_lines[0].tax_lines[0].price = '0.58';
    (await send(msgFor(oh), 'fail')).findings.map((f: any) => f.code).should.eql(['TAX_AREA_UNKNOWN']);
  });
});
