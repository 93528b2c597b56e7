import 'should';
import helper from 'node-red-node-test-helper';
import skuValidator = require('../../nodes/d365-sku-validator');
import { FakeBc, throttled } from '../d365/lookups-fake-bc';
import { calledWithMatch, checkFlow, fakeConnection as connectionTo, next, sampleOrder } from '../helpers/check-node';

const order = (skus?: (string | null)[]) => {
  const o = sampleOrder();
  if (skus) o.line_items = skus.map((sku, i) => ({ ...o.line_items[0], id: 1000 + i, sku, quantity: 1 }));
  return o;
};

const fakeConnection = (bc: FakeBc) => connectionTo(() => bc);
const flow = (cfg: Record<string, unknown>) => checkFlow('d365-sku-validator', { mode: 'annotate', ...cfg }, { pass: 'ok', fail: 'bad', connection: 'conn' });

describe('d365-sku-validator node', () => {
  afterEach(() => helper.unload());

  it('annotate: a clean order passes with msg.erp.lines filled, keeping other msg.erp parts', async () => {
    const bc = new FakeBc();
    await helper.load([fakeConnection(bc), skuValidator], flow({}));
    const got = next('ok');
    helper.getNode('n1').receive({ topic: 'orders/create', payload: order(), erp: { customer: { number: 'C10000' } } } as never);
    const msg = await got;
    msg.findings.should.eql([]);
    msg.erp.customer.number.should.equal('C10000');
    msg.erp.lines.map((l: any) => [l.lineItemId, l.itemNumber, l.quantity]).should.eql([['466157049', 'IPOD2008GREEN', 2], ['518995019', 'IPOD2008RED', 1]]);
  });

  it('divert: an order with three problems goes to output 2 carrying all three findings', async () => {
    const bc = new FakeBc();
    const blocked = (bc.rows('items') as any[]).find((i) => i.blocked).number;
    await helper.load([fakeConnection(bc), skuValidator], flow({ mode: 'divert' }));
    const bad = next('bad');
    helper.getNode('n1').receive({ topic: 'orders/create', payload: order([null, blocked, 'NOPE', 'IPOD2008RED']) } as never);
    const msg = await bad;
    msg.findings.map((f: any) => [f.check, f.code]).should.eql([
      ['d365-sku-validator', 'SKU_MISSING'], ['d365-sku-validator', 'ITEM_BLOCKED'], ['d365-sku-validator', 'SKU_UNMAPPED']]);
  });

  it('a re-checked order replaces this node\'s earlier findings instead of adding to them', async () => {
    const bc = new FakeBc();
    await helper.load([fakeConnection(bc), skuValidator], flow({}));
    const earlier = [{ check: 'd365-sku-validator', code: 'SKU_UNMAPPED', severity: 'error', message: 'old', retryable: false }];
    const got = next('ok');
    helper.getNode('n1').receive({ topic: 'orders/create', payload: order(), findings: earlier } as never);
    (await got).findings.should.eql([]);
  });

  it('a warm cache cuts D365 calls to zero for repeat SKUs', async () => {
    const bc = new FakeBc();
    await helper.load([fakeConnection(bc), skuValidator], flow({}));
    for (let i = 0; i < 5; i++) {
      const got = next('ok');
      helper.getNode('n1').receive({ topic: 'orders/create', payload: order() } as never);
      (await got).findings.should.eql([]);
    }
    bc.count().should.equal(1);
  });

  it('throttled D365 gives a retryable SKU_LOOKUP_FAILED finding', async () => {
    const bc = new FakeBc();
    bc.failWith = throttled();
    await helper.load([fakeConnection(bc), skuValidator], flow({ mode: 'divert' }));
    const bad = next('bad');
    helper.getNode('n1').receive({ topic: 'orders/create', payload: order() } as never);
    (await bad).findings[0].should.match({ code: 'SKU_LOOKUP_FAILED', retryable: true });
  });

  it('bad config (vendor item strategy without a custom API, duplicate mapping rows) is refused clearly', async () => {
    const bc = new FakeBc();
    await helper.load([fakeConnection(bc), skuValidator], flow({
      strategies: [{ name: 'vendorItem', enabled: true }],
      mapping: [{ sku: 'A', itemNumber: '1000' }, { sku: 'a', itemNumber: '1001' }],
    }));
    const n1 = helper.getNode('n1');
    calledWithMatch(n1.error, /d365-sku-validator: invalid configuration: .*SKU a is mapped twice/);
    calledWithMatch(n1.error, /no vendor item number/);
    calledWithMatch(n1.status, { fill: 'red', text: 'invalid config' });
    const caught = next('caught');
    n1.receive({ topic: 'orders/create', payload: order() } as never);
    (await caught).error.message.should.match(/d365-sku-validator: invalid configuration/);
  });

  it('no connection selected is refused clearly', async () => {
    await helper.load([fakeConnection(new FakeBc()), skuValidator], flow({ connection: '' }));
    calledWithMatch(helper.getNode('n1').error, /no D365 connection selected/);
  });
});
