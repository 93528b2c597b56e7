import 'should';
import helper from 'node-red-node-test-helper';
import customerMatcher = require('../../nodes/d365-customer-matcher');
import skuValidator = require('../../nodes/d365-sku-validator');
import { startBcSim, type BcSim } from '../../sim/bc';
import type { BcClient } from '../../nodes/lib/d365/bc-client';
import { simClient } from '../helpers/bc-sim';
import { fakeConnection, sampleOrder } from '../helpers/check-node';

// The SKU validator (and the customer matcher before it) against the Business Central simulator through the
// real BcClient; D365 calls are counted by the simulator.
const order = (skus?: (string | null)[]) => {
  const o = sampleOrder();
  if (skus) o.line_items = skus.map((sku, i) => ({ ...o.line_items[0], id: 1000 + i, sku, quantity: 1 }));
  return o;
};

describe('d365-sku-validator against the BC simulator', () => {
  let sim: BcSim;
  let client: BcClient;
  const newClient = (maxRetries = 4) => simClient(sim, maxRetries);
  before(async () => {
    sim = await startBcSim({ latencyMs: 0 });
    client = newClient();
  });
  after(() => sim.close());
  beforeEach(() => sim.reset());
  afterEach(() => helper.unload());

  const connection = fakeConnection(() => client);
  const load = (config: Record<string, unknown> = {}, withCustomer = false) => helper.load([connection, customerMatcher, skuValidator], <any[]>[
    { id: 't', type: 'tab' },
    { id: 'bc', type: 'd365-connection' },
    ...(withCustomer ? [{ id: 'cm', z: 't', type: 'd365-customer-matcher', connection: 'bc', mode: 'annotate', wires: [['n1'], []] }] : []),
    { id: 'n1', z: 't', type: 'd365-sku-validator', connection: 'bc', mode: 'divert', ...config, wires: [['pass'], ['fail']] },
    { id: 'pass', z: 't', type: 'helper' },
    { id: 'fail', z: 't', type: 'helper' },
  ]);
  const send = (payload: unknown, out: 'pass' | 'fail', entry = 'n1') => {
    const got = new Promise<any>((r) => helper.getNode(out).once('input', r));
    helper.getNode(entry).receive({ topic: 'orders/create', payload } as never);
    return got;
  };
  const codes = (msg: any) => msg.findings.map((f: any) => f.code);
  const withVariants = () => sim.catalogue.items.find((i) => i.variants.length > 1 && !i.blocked)!;

  it('maps the sample order; 20 orders cost one items request', async () => {
    await load();
    sim.resetCounters();
    for (let i = 0; i < 20; i++) {
      const msg = await send(order(), 'pass');
      msg.findings.should.eql([]);
      msg.erp.lines.map((l: any) => [l.lineItemId, l.itemNumber, l.quantity, l.unitPrice]).should.eql([
        ['466157049', 'IPOD2008GREEN', 2, '199.00'], ['518995019', 'IPOD2008RED', 1, '199.00']]);
      msg.erp.lines[0].itemId.should.equal(sim.db.by('items', 'number', 'IPOD2008GREEN')!.id);
    }
    sim.requests().should.eql({ 'GET items': 1 });
  });

  it('maps the store\'s item-variant SKUs to item + variant', async () => {
    await load();
    const item = withVariants();
    const v = item.variants[1]!;
    const msg = await send(order([v.sku]), 'pass');
    msg.findings.should.eql([]);
    msg.erp.lines[0].should.match({ itemNumber: item.number, variantCode: v.code });
    msg.erp.lines[0].variantId.should.equal(sim.db.all('itemVariants').find((r) => r.itemNumber === item.number && r.code === v.code)!.id);
  });

  it('an order with three problems shows all three (and each is its documented code)', async () => {
    await load();
    sim.blockItem('IPOD2008RED');
    const item = withVariants();
    const msg = await send(order(['IPOD2008GREEN', null, 'IPOD2008RED', `${item.number}-XXL`]), 'fail');
    codes(msg).should.eql(['SKU_MISSING', 'ITEM_BLOCKED', 'VARIANT_UNKNOWN']);
    msg.findings[2].message.should.containEql(`item ${item.number} has no variant XXL`);
    const service = sim.catalogue.items.find((i) => i.type !== 'Inventory' && !i.blocked)!;
    const warn = await send(order([service.sku!]), 'pass');
    codes(warn).should.eql(['ITEM_NOT_INVENTORY']);
    codes(await send(order(['NO-SUCH-SKU']), 'fail')).should.eql(['SKU_UNMAPPED']);
  });

  it('a 40-line order is looked up in a few batched requests, and costs none when repeated', async () => {
    await load();
    const skus = sim.catalogue.items.filter((i) => i.sku && !i.blocked && i.type === 'Inventory').slice(0, 40).map((i) => i.sku!);
    skus.should.have.length(40);
    sim.resetCounters();
    (await send(order(skus), 'pass')).erp.lines.should.have.length(40);
    sim.requests().should.eql({ 'GET items': 1 });
    sim.resetCounters();
    for (let i = 0; i < 5; i++) (await send(order(skus), 'pass')).findings.should.eql([]);
    sim.requests().should.eql({});
  });

  it('customer matcher + SKU validator on one connection: a warm steady flow makes no D365 calls', async () => {
    await load({}, true);
    sim.resetCounters();
    for (let i = 0; i < 10; i++) {
      const msg = await send(order(), 'pass', 'cm');
      msg.erp.customer.number.should.equal('C10000');
      msg.erp.lines.should.have.length(2);
    }
    sim.requests().should.eql({ 'GET customers': 1, 'GET items': 1 });
  });

  it('a throttled simulator yields a retryable SKU_LOOKUP_FAILED', async () => {
    const fast = client;
    client = newClient(0);
    try {
      await load();
      sim.failNext(1, 429, { entity: 'items' });
      const msg = await send(order(), 'fail');
      msg.findings.map((f: any) => [f.code, f.retryable]).should.eql([['SKU_LOOKUP_FAILED', true]]);
    } finally {
      client = fast;
    }
  });
});
