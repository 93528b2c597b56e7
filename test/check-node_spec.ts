import 'should';
import helper from 'node-red-node-test-helper';
import type { NodeAPI, Node, NodeDef } from 'node-red';
import { readFileSync } from 'fs';
import path from 'path';
import { wireCheckNode, CheckMode } from '../nodes/lib/node-red/check-node';

const order = () => JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'order-1001.json'), 'utf8'));

// A minimal check node built on the shared runtime: flags orders whose email is missing.
function testCheckModule(RED: NodeAPI) {
  function TestCheck(this: Node, config: NodeDef & { mode: string }) {
    RED.nodes.createNode(this, config);
    wireCheckNode(this, 'test', CheckMode.parse(config.mode || 'annotate'), (o) => ({
      findings: o.email ? [] : [{ code: 'EMAIL_MISSING', severity: 'error', message: 'no email', path: 'email' }],
      erp: { currencyCode: o.currency },
    }));
  }
  RED.nodes.registerType('test-check', TestCheck);
}

function flow(mode: string) {
  return [
    { id: 't', type: 'tab' },
    { id: 'n1', z: 't', type: 'test-check', mode, wires: [['ok'], ['bad']] },
    { id: 'ok', z: 't', type: 'helper' },
    { id: 'bad', z: 't', type: 'helper' },
  ];
}

const next = (id: string) => new Promise<any>((r) => helper.getNode(id).once('input', r));

describe('shared check runtime', () => {
  afterEach(() => helper.unload());

  it('annotates and passes on output 1, replacing its own earlier findings on a re-run', async () => {
    await helper.load(testCheckModule, flow('annotate'));
    const n1 = helper.getNode('n1');
    const got = next('ok');
    const earlier = [{ check: 'test', code: 'EMAIL_MISSING', severity: 'error', message: 'old', retryable: false },
      { check: 'other', code: 'X', severity: 'warning', message: 'kept', retryable: false }];
    n1.receive({ topic: 'orders/create', payload: { ...order(), email: null }, findings: earlier } as never);
    const msg = await got;
    msg.findings.map((f: any) => f.code).should.eql(['X', 'EMAIL_MISSING']);
    msg.findings[1].message.should.equal('no email');
    msg.erp.currencyCode.should.equal('USD');
  });

  it('keeps what other checks put in msg.findings and msg.erp; a msg.erp that is not an object is replaced', async () => {
    await helper.load(testCheckModule, flow('annotate'));
    const n1 = helper.getNode('n1');
    let got = next('ok');
    const other = { check: 'other', code: 'X', severity: 'warning', message: 'kept', retryable: false };
    n1.receive({ topic: 'orders/create', payload: order(), findings: [other], erp: { taxAreaCode: 'NY', currencyCode: 'EUR' } } as never);
    let msg = await got;
    msg.findings.should.eql([other]);
    msg.erp.should.eql({ taxAreaCode: 'NY', currencyCode: 'USD' });
    got = next('ok');
    n1.receive({ topic: 'orders/create', payload: order(), erp: 'not an object' } as never);
    msg = await got;
    msg.erp.should.eql({ currencyCode: 'USD' });
  });

  it('diverts blocking findings to output 2 in divert mode and reports a bad payload as a finding', async () => {
    await helper.load(testCheckModule, flow('divert'));
    const n1 = helper.getNode('n1');
    const bad = next('bad');
    n1.receive({ topic: 'orders/create', payload: { id: 1 } } as never);
    const msg = await bad;
    msg.findings[0].code.should.equal('PAYLOAD_INVALID');
    msg.findings[0].message.should.match(/total_price/);
    const ok = next('ok');
    n1.receive({ topic: 'orders/create', payload: order() } as never);
    (await ok).findings.should.eql([]);
  });

  it('passes non-order topics through untouched', async () => {
    await helper.load(testCheckModule, flow('divert'));
    const ok = next('ok');
    helper.getNode('n1').receive({ topic: 'refunds/create', payload: { id: 5 } } as never);
    const msg = await ok;
    msg.payload.should.eql({ id: 5 });
    (msg.findings === undefined).should.be.true();
  });
});
