import 'should';
import helper from 'node-red-node-test-helper';
import type { Node, NodeAPI, NodeDef } from 'node-red';
import type { SinonSpy } from 'sinon';
import { readFileSync } from 'fs';
import path from 'path';
import skuValidator = require('../../nodes/d365-sku-validator');
import { FakeBc, throttled } from '../d365/lookups-fake-bc';

const order = (skus?: (string | null)[]) => {
  const o = JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'order-1001.json'), 'utf8'));
  if (skus) o.line_items = skus.map((sku, i) => ({ ...o.line_items[0], id: 1000 + i, sku, quantity: 1 }));
  return o;
};

function fakeConnection(bc: FakeBc) {
  return (RED: NodeAPI) => {
    function Conn(this: Node & { getClient?: () => FakeBc }, def: NodeDef) {
      RED.nodes.createNode(this, def);
      this.getClient = () => bc;
    }
    RED.nodes.registerType('d365-connection', Conn);
  };
}

function flow(cfg: Record<string, unknown>) {
  return [
    { id: 't', type: 'tab' },
    { id: 'conn', type: 'd365-connection' },
    { id: 'n1', z: 't', type: 'd365-sku-validator', connection: 'conn', mode: 'annotate', ...cfg, wires: [['ok'], ['bad']] },
    { id: 'ok', z: 't', type: 'helper' },
    { id: 'bad', z: 't', type: 'helper' },
    { id: 'c', z: 't', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 't', type: 'helper' },
  ];
}

/** The test helper wraps node methods in sinon spies; this asserts one call matched and shows the calls otherwise. */
function calledWithMatch(fn: unknown, expected: unknown): void {
  const spy = fn as SinonSpy;
  spy.calledWithMatch(expected).should.be.true(`expected a call matching ${String(expected instanceof RegExp ? expected : JSON.stringify(expected))}; got ${JSON.stringify(spy.args.map((a) => a[0]))}`);
}

const next = (id: string) => new Promise<any>((r) => helper.getNode(id).once('input', r));

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
