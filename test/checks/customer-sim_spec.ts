import 'should';
import helper from 'node-red-node-test-helper';
import customerMatcher = require('../../nodes/d365-customer-matcher');
import { startBcSim, type BcSim } from '../../sim/bc';
import type { BcClient } from '../../nodes/lib/d365/bc-client';
import { simClient } from '../helpers/bc-sim';
import { fakeConnection, sampleOrder } from '../helpers/check-node';

// The customer matcher against the Business Central simulator through the real BcClient; D365 calls are
// counted by the simulator.
const order = (email = 'bob.norman@mail.example.com') => {
  const o = sampleOrder();
  o.email = email;
  o.customer.email = email;
  return o;
};

describe('d365-customer-matcher against the BC simulator', () => {
  let sim: BcSim;
  let client: BcClient;
  let dryRun = false;
  const newClient = (maxRetries = 4) => simClient(sim, maxRetries);
  before(async () => {
    sim = await startBcSim({ latencyMs: 0 });
    client = newClient();
  });
  after(() => sim.close());
  beforeEach(() => { sim.reset(); dryRun = false; });
  afterEach(() => helper.unload());

  const connection = fakeConnection(() => client, () => dryRun);
  const load = (config: Record<string, unknown> = {}) => helper.load([connection, customerMatcher], <any[]>[
    { id: 't', type: 'tab' },
    { id: 'bc', type: 'd365-connection' },
    { id: 'n1', z: 't', type: 'd365-customer-matcher', connection: 'bc', mode: 'annotate', ...config, wires: [['pass'], ['fail']] },
    { id: 'pass', z: 't', type: 'helper' },
    { id: 'fail', z: 't', type: 'helper' },
  ]);
  const send = (payload: unknown) => {
    const got = new Promise<any>((r) => helper.getNode('pass').once('input', r));
    helper.getNode('n1').receive({ topic: 'orders/create', payload } as never);
    return got;
  };
  const codes = (msg: any) => msg.findings.map((f: any) => f.code);

  it('matches the sample order\'s customer; 20 orders cost one customers request', async () => {
    await load();
    sim.resetCounters();
    for (let i = 0; i < 20; i++) {
      const msg = await send(order());
      msg.findings.should.eql([]);
      msg.erp.customer.should.match({ number: 'C10000', name: 'Bob Norman', matchedBy: 'email', taxLiable: true });
    }
    sim.requests().should.eql({ 'GET customers': 1 });
  });

  it('each faulty customer yields exactly its documented code', async () => {
    await load({
      strategies: [{ name: 'email', enabled: true }, { name: 'phone', enabled: true }, { name: 'countryDefault', enabled: true }],
      defaultCustomers: [{ country: 'US', customer: 'WEB-US' }],
    });
    codes(await send(order('sam.twin@mail.example.com'))).should.eql(['CUSTOMER_AMBIGUOUS']);
    codes(await send(order('blocked@mail.example.com'))).should.eql(['CUSTOMER_BLOCKED']);
    const guest = order('guest@mail.example.com');
    guest.customer.phone = null;
    guest.phone = null;
    guest.billing_address.phone = null;
    const msg = await send(guest);
    codes(msg).should.eql(['CUSTOMER_DEFAULT_USED']);
    msg.erp.customer.number.should.equal('WEB-US');
    sim.blockCustomer('C10000', 'Ship');
    await helper.unload();
    await load(); // a fresh connection node: a fresh cache
    codes(await send(order())).should.eql(['CUSTOMER_BLOCKED']);
  });

  it('finds by phone against the simulator\'s filter', async () => {
    await load({ strategies: [{ name: 'phone', enabled: true }] });
    const o = order('x@mail.example.com');
    o.customer.phone = '+1 (502) 555-0101';
    (await send(o)).erp.customer.number.should.equal('C10001');
  });

  it('creates an unknown customer once (a real POST) and finds it for the next order; dry run creates nothing', async () => {
    await load({ createFromTemplate: true, template: [{ field: 'currencyCode', value: '' }] });
    sim.resetCounters();
    const first = await send(order('brand.new@mail.example.com'));
    codes(first).should.eql(['CUSTOMER_CREATED']);
    const created = sim.db.by('customers', 'number', first.erp.customer.number)!;
    created.should.match({ email: 'brand.new@mail.example.com', displayName: 'Bob Norman', city: 'Louisville' });
    const second = await send(order('brand.new@mail.example.com'));
    second.findings.should.eql([]);
    second.erp.customer.number.should.equal(first.erp.customer.number);
    sim.requests().should.eql({ 'GET customers': 1, 'POST customers': 1 });

    await helper.unload();
    dryRun = true;
    await load({ createFromTemplate: true });
    sim.resetCounters();
    codes(await send(order('dry.run@mail.example.com'))).should.eql(['CUSTOMER_CREATE_SKIPPED_DRY_RUN']);
    (sim.requests()['POST customers'] === undefined).should.be.true();
  });

  it('a throttled simulator yields a retryable CUSTOMER_LOOKUP_FAILED', async () => {
    const fast = client;
    client = newClient(0);
    try {
      await load();
      sim.failNext(1, 429, { entity: 'customers' });
      const msg = await send(order());
      msg.findings.map((f: any) => [f.code, f.retryable]).should.eql([['CUSTOMER_LOOKUP_FAILED', true]]);
      (await send(order())).erp.customer.number.should.equal('C10000'); // nothing was cached from the failure
    } finally {
      client = fast;
    }
  });
});
