import 'should';
import helper from 'node-red-node-test-helper';
import customerMatcher = require('../../nodes/d365-customer-matcher');
import { FakeBc } from '../d365/lookups-fake-bc';
import { calledWithMatch, fakeConnection as connectionTo, next, sampleOrder } from '../helpers/check-node';

const order = (email = 'bob.norman@mail.example.com') => {
  const o = sampleOrder();
  o.email = email;
  o.customer.email = email;
  return o;
};

/** The connection's dryRun comes from its flow entry (`flow(…, { dryRun })`). */
const fakeConnection = (bc: FakeBc) => connectionTo(() => bc);

function flow(cfg: Record<string, unknown>, opts: { dryRun?: boolean; second?: boolean } = {}) {
  const nodes: any[] = [
    { id: 't', type: 'tab' },
    { id: 'conn', type: 'd365-connection', dryRun: opts.dryRun ?? false },
    { id: 'n1', z: 't', type: 'd365-customer-matcher', connection: 'conn', mode: 'annotate', ...cfg, wires: [[opts.second ? 'n2' : 'ok'], ['bad']] },
    { id: 'ok', z: 't', type: 'helper' },
    { id: 'bad', z: 't', type: 'helper' },
    { id: 'c', z: 't', type: 'catch', scope: null, uncaught: false, wires: [['caught']] },
    { id: 'caught', z: 't', type: 'helper' },
  ];
  if (opts.second) nodes.push({ id: 'n2', z: 't', type: 'd365-customer-matcher', connection: 'conn', mode: 'annotate', wires: [['ok'], ['bad']] });
  return nodes;
}


describe('d365-customer-matcher node', () => {
  afterEach(() => helper.unload());

  it('annotate: a clean order passes on output 1 with msg.erp.customer filled', async () => {
    const bc = new FakeBc();
    await helper.load([fakeConnection(bc), customerMatcher], flow({}));
    const got = next('ok');
    helper.getNode('n1').receive({ topic: 'orders/create', payload: order() } as never);
    const msg = await got;
    msg.findings.should.eql([]);
    msg.erp.customer.should.match({ number: 'C10000', matchedBy: 'email' });
    calledWithMatch(helper.getNode('n1').status, { fill: 'green', text: '1 passed' });
  });

  it('annotate passes blocking findings on output 1; divert sends them to output 2', async () => {
    const bc = new FakeBc();
    await helper.load([fakeConnection(bc), customerMatcher], flow({}));
    const ok = next('ok');
    helper.getNode('n1').receive({ topic: 'orders/create', payload: order('sam.twin@mail.example.com') } as never);
    (await ok).findings.map((f: any) => [f.check, f.code]).should.eql([['d365-customer-matcher', 'CUSTOMER_AMBIGUOUS']]);
    await helper.unload();

    await helper.load([fakeConnection(bc), customerMatcher], flow({ mode: 'divert' }));
    const bad = next('bad');
    helper.getNode('n1').receive({ topic: 'orders/create', payload: order('blocked@mail.example.com') } as never);
    const msg = await bad;
    msg.findings.map((f: any) => f.code).should.eql(['CUSTOMER_BLOCKED']);
    calledWithMatch(helper.getNode('n1').status, { fill: 'yellow', text: '1 flagged' });
  });

  it('nodes on one connection share the cache: the second matcher calls D365 no more', async () => {
    const bc = new FakeBc();
    await helper.load([fakeConnection(bc), customerMatcher], flow({}, { second: true }));
    for (let i = 0; i < 3; i++) {
      const got = next('ok');
      helper.getNode('n1').receive({ topic: 'orders/create', payload: order() } as never);
      (await got).erp.customer.number.should.equal('C10000');
    }
    bc.count().should.equal(1);
  });

  it('respects the connection\'s dry run when creating from the template', async () => {
    const bc = new FakeBc();
    await helper.load([fakeConnection(bc), customerMatcher], flow({ createFromTemplate: true }, { dryRun: true }));
    const got = next('ok');
    helper.getNode('n1').receive({ topic: 'orders/create', payload: order('someone.new@mail.example.com') } as never);
    (await got).findings.map((f: any) => f.code).should.eql(['CUSTOMER_CREATE_SKIPPED_DRY_RUN']);
    bc.count('POST').should.equal(0);
  });

  it('bad config is refused at start with a clear reason, and every message fails to Catch', async () => {
    const bc = new FakeBc();
    await helper.load([fakeConnection(bc), customerMatcher], flow({ cacheTtlS: 'soon' }));
    calledWithMatch(helper.getNode('n1').error, /d365-customer-matcher: invalid configuration: cacheTtlS: must be a number/);
    await helper.unload();
    await helper.load([fakeConnection(bc), customerMatcher], flow({ strategies: [{ name: 'countryDefault', enabled: true }], defaultCustomers: [] }));
    const n1 = helper.getNode('n1');
    calledWithMatch(n1.error, /d365-customer-matcher: invalid configuration: defaultCustomers: .*needs at least one country/);
    calledWithMatch(n1.status, { fill: 'red', text: 'invalid config' });
    const caught = next('caught');
    n1.receive({ topic: 'orders/create', payload: order() } as never);
    (await caught).error.message.should.match(/invalid configuration/);
    bc.count().should.equal(0);
  });

  it('a missing connection is refused the same way', async () => {
    await helper.load([fakeConnection(new FakeBc()), customerMatcher], flow({ connection: 'nope' }));
    calledWithMatch(helper.getNode('n1').error, /selected D365 connection does not exist/);
  });

  it('a D365 failure that will not heal by waiting goes to Catch; a throttled one is a retryable finding', async () => {
    const bc = new FakeBc();
    await helper.load([fakeConnection(bc), customerMatcher], flow({}));
    bc.failWith = Object.assign(new Error('Authorization_Failed'), { status: 403, retryable: false });
    const caught = next('caught');
    helper.getNode('n1').receive({ topic: 'orders/create', payload: order() } as never);
    (await caught).error.message.should.match(/D365 customer lookup \(email\) failed: HTTP 403/);
    calledWithMatch(helper.getNode('n1').status, { fill: 'red' });
    bc.failWith = Object.assign(new Error('Service Unavailable'), { status: 503, retryable: true });
    const ok = next('ok');
    helper.getNode('n1').receive({ topic: 'orders/create', payload: order() } as never);
    (await ok).findings[0].should.match({ code: 'CUSTOMER_LOOKUP_FAILED', retryable: true });
  });

  it('a malformed payload is a PAYLOAD_INVALID finding, not a crash; other topics pass through', async () => {
    const bc = new FakeBc();
    await helper.load([fakeConnection(bc), customerMatcher], flow({ mode: 'divert' }));
    const bad = next('bad');
    helper.getNode('n1').receive({ topic: 'orders/create', payload: { __proto__: { x: 1 }, id: 'x' } } as never);
    (await bad).findings[0].code.should.equal('PAYLOAD_INVALID');
    const ok = next('ok');
    helper.getNode('n1').receive({ topic: 'refunds/create', payload: { id: 1 } } as never);
    (await ok).payload.should.eql({ id: 1 });
    bc.count().should.equal(0);
  });
});
