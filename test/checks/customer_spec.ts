import 'should';
import { readFileSync } from 'fs';
import path from 'path';
import { Order } from '../../nodes/lib/contract';
import { checkCustomer } from '../../nodes/lib/checks/customer-check';
import { CustomerRules } from '../../nodes/lib/checks/customer-rules';
import type { CustomerRulesInput } from '../../nodes/lib/checks/customer-rules';
import { D365Lookups } from '../../nodes/lib/d365/lookups';
import { FakeBc, throttled } from '../d365/lookups-fake-bc';

const fixture = () => JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'order-1001.json'), 'utf8'));
const order = (patch: (o: any) => void = () => undefined) => { const o = fixture(); patch(o); return Order.parse(o); };
const withEmail = (email: string | null) => order((o) => { o.email = email; o.contact_email = null; o.customer.email = email; });

const ALL = (names: string[]) => ['email', 'phone', 'shopifyId', 'company', 'countryDefault']
  .map((name) => ({ name, enabled: names.includes(name) }))
  .sort((a, b) => (names.indexOf(a.name) + 99 * +!a.enabled) - (names.indexOf(b.name) + 99 * +!b.enabled)) as CustomerRulesInput['strategies'];

function setup(rules: CustomerRulesInput = {}, dryRun = false) {
  const bc = new FakeBc();
  const lookups = new D365Lookups(bc, { ttlMs: 60_000, max: 1000 });
  const parsed = CustomerRules.parse(rules);
  return { bc, lookups, run: (o: Order) => checkCustomer(o, parsed, { lookups, dryRun }) };
}
const codes = (out: { findings: { code: string }[] }) => out.findings.map((f) => f.code);

describe('customer matching (pure)', () => {
  it('with the lookups cached it answers synchronously, as the first time: by e-mail, and by country default after a miss', async () => {
    const { run, bc } = setup({ strategies: ALL(['email', 'countryDefault']), defaultCustomers: [{ country: 'US', customer: 'C10000' }] });
    for (const o of [order(), order((x) => { x.email = 'nobody@example.com'; x.contact_email = null; x.customer.email = null; })]) {
      const cold = await run(o);
      const calls = bc.count();
      const warm = run(o);
      (warm instanceof Promise).should.be.false();
      warm.should.eql(cold);
      bc.count().should.equal(calls);
    }
    codes(await run(order((x) => { x.email = 'nobody@example.com'; x.contact_email = null; x.customer.email = null; }))).should.eql(['CUSTOMER_DEFAULT_USED']);
  });

  it('clean order: matches Bob Norman by e-mail with no findings and fills msg.erp.customer', async () => {
    const { run, bc } = setup();
    const out = await run(order());
    out.findings.should.eql([]);
    out.erp!.customer!.should.match({ number: 'C10000', name: 'Bob Norman', matchedBy: 'email', taxLiable: true });
    out.erp!.customer!.id!.should.match(/^[0-9a-f-]{36}$/);
    bc.count().should.equal(1);
  });

  it('the e-mail searched is the first usable of email, contact_email, customer.email; a blocked match names that field', async () => {
    const bob = 'bob.norman@mail.example.com';
    const blocked = 'Blocked@Mail.Example.com';
    const cases: [string | null, string | null, string | null, string][] = [
      [null, bob, blocked, 'C10000'], ['  ', null, bob, 'C10000'], [bob, blocked, null, 'C10000'], [null, blocked, bob, 'C10003'],
    ];
    for (const [email, contact, customer, number] of cases) {
      const { run } = setup();
      const out = await run(order((o) => { o.email = email; o.contact_email = contact; o.customer.email = customer; }));
      out.erp!.customer!.number.should.equal(number);
    }
    const { run } = setup();
    const out = await run(order((o) => { o.email = ''; o.contact_email = null; o.customer.email = blocked; }));
    out.findings.map((f) => [f.code, f.path]).should.eql([['CUSTOMER_BLOCKED', 'customer.email']]);
  });

  it('two D365 customers with one e-mail: CUSTOMER_AMBIGUOUS naming both, never a guess or a fallback', async () => {
    const { run } = setup({ strategies: ALL(['email', 'countryDefault']), defaultCustomers: [{ country: 'US', customer: 'WEB-US' }] });
    const out = await run(withEmail('sam.twin@mail.example.com'));
    codes(out).should.eql(['CUSTOMER_AMBIGUOUS']);
    out.findings[0]!.severity!.should.equal('error');
    out.findings[0]!.message.should.match(/C10001/).and.match(/C10002/).and.match(/sam\.twin@mail\.example\.com/);
    out.findings[0]!.path!.should.equal('email');
    (out.erp === undefined).should.be.true();
  });

  it('blocked customer: CUSTOMER_BLOCKED with the block type', async () => {
    const { run } = setup();
    const out = await run(withEmail('Blocked@Mail.Example.com'));
    codes(out).should.eql(['CUSTOMER_BLOCKED']);
    out.findings[0]!.message.should.match(/C10003/).and.match(/"All"/);
    out.erp!.customer!.number.should.equal('C10003');
  });

  it('unknown customer: CUSTOMER_NOT_FOUND naming what was tried', async () => {
    const { run } = setup({ strategies: ALL(['email', 'phone']) });
    const out = await run(order((o) => { o.email = 'nobody@mail.example.com'; o.customer.email = null; o.customer.phone = '+1 999 000 1111'; o.phone = null; }));
    codes(out).should.eql(['CUSTOMER_NOT_FOUND']);
    out.findings[0]!.message.should.match(/nobody@mail\.example\.com/).and.match(/phone \+1 999 000 1111/);
  });

  it('an order without anything to match on says so', async () => {
    const { run } = setup();
    const out = await run(withEmail(null));
    codes(out).should.eql(['CUSTOMER_NOT_FOUND']);
    out.findings[0]!.message.should.match(/nothing the enabled strategies can match/);
  });

  it('default customer per country: CUSTOMER_DEFAULT_USED (info) after the other strategies found nothing', async () => {
    const { run } = setup({ strategies: ALL(['email', 'countryDefault']), defaultCustomers: [{ country: 'us', customer: 'WEB-US' }, { country: 'NL', customer: 'WEB-NL' }] });
    const us = await run(withEmail('guest@mail.example.com'));
    codes(us).should.eql(['CUSTOMER_DEFAULT_USED']);
    us.findings[0]!.severity!.should.equal('info');
    us.findings[0]!.message.should.match(/guest@mail\.example\.com/).and.match(/WEB-US/);
    us.erp!.customer!.should.match({ number: 'WEB-US', matchedBy: 'countryDefault' });
    const nl = await run(order((o) => { o.email = 'gast@mail.example.com'; o.customer.email = null; o.shipping_address.country_code = 'NL'; }));
    nl.erp!.customer!.number.should.equal('WEB-NL');
  });

  it('a configured default customer that D365 lacks is CUSTOMER_NOT_FOUND naming it', async () => {
    const { run } = setup({ strategies: ALL(['countryDefault']), defaultCustomers: [{ country: 'US', customer: 'WEB-XX' }] });
    const out = await run(order());
    codes(out).should.eql(['CUSTOMER_NOT_FOUND']);
    out.findings[0]!.message.should.match(/default customer WEB-XX for country US does not exist/);
  });

  it('matches by phone (digits compared), by stored Shopify id and by B2B tax id or company name', async () => {
    const phone = setup({ strategies: ALL(['phone']) });
    (await phone.run(order((o) => { o.customer.phone = '+1 (613) 612-0707'; }))).erp!.customer!.should.match({ number: 'C10000', matchedBy: 'phone' });

    const sid = setup({ strategies: ALL(['shopifyId']), shopifyIdApi: 'acme/shopify/v1.0', shopifyIdEntitySet: 'shopifyCustomers', shopifyIdField: 'shopifyCustomerId' });
    (await sid.run(withEmail(null))).erp!.customer!.should.match({ number: 'C10000', matchedBy: 'shopifyId' });

    const b2b = setup({ strategies: ALL(['company']) });
    const byTax = await b2b.run(order((o) => { o.note_attributes.push({ name: 'Tax_ID', value: 'US-EIN-12-3456789' }); }));
    byTax.erp!.customer!.should.match({ number: 'C20000', matchedBy: 'taxId', taxLiable: false });
    const byName = await b2b.run(order((o) => { o.billing_address.company = ' Acme  Outfitters Inc. '; }));
    byName.erp!.customer!.should.match({ number: 'C20000', matchedBy: 'companyName' });
  });

  it('tries strategies in the configured order; the first that finds anything decides', async () => {
    // The order's phone belongs to C10001 while its e-mail is Bob's: phone first → C10001, email first → C10000.
    const o = order((x) => { x.customer.phone = '+15025550101'; });
    (await setup({ strategies: ALL(['phone', 'email']) }).run(o)).erp!.customer!.number.should.equal('C10001');
    (await setup({ strategies: ALL(['email', 'phone']) }).run(o)).erp!.customer!.number.should.equal('C10000');
  });

  it('creates an unknown customer from the template (a real POST), once per e-mail', async () => {
    const { run, bc } = setup({ createFromTemplate: true, template: [{ field: 'currencyCode', value: 'USD' }, { field: 'taxLiable', value: true }] });
    const o = order((x) => { x.email = 'new.buyer@mail.example.com'; x.customer.email = null; });
    const out = await run(o);
    codes(out).should.eql(['CUSTOMER_CREATED']);
    out.findings[0]!.severity!.should.equal('info');
    out.erp!.customer!.matchedBy!.should.equal('created');
    const post = bc.calls.find((c) => c.method === 'POST')!;
    post.body!.should.match({ currencyCode: 'USD', taxLiable: true, displayName: 'Bob Norman', email: 'new.buyer@mail.example.com',
      type: 'Person', city: 'Louisville', state: 'KY', country: 'US', postalCode: '40202' });
    const again = await run(o);
    again.findings.should.eql([]);
    again.erp!.customer!.number.should.equal(out.erp!.customer!.number);
    bc.count('POST').should.equal(1);
  });

  it('respects the connection\'s dry run: CUSTOMER_CREATE_SKIPPED_DRY_RUN and no POST', async () => {
    const { run, bc } = setup({ createFromTemplate: true }, true);
    const out = await run(withEmail('dry@mail.example.com'));
    codes(out).should.eql(['CUSTOMER_CREATE_SKIPPED_DRY_RUN']);
    out.findings[0]!.severity!.should.equal('warning');
    bc.count('POST').should.equal(0);
  });

  it('a failed creation is CUSTOMER_CREATE_FAILED, retryable when D365 was throttled', async () => {
    const { run, bc, lookups } = setup({ createFromTemplate: true });
    await lookups.customersByEmail(['fail@mail.example.com']);
    bc.failWith = throttled();
    const out = await run(withEmail('fail@mail.example.com'));
    codes(out).should.eql(['CUSTOMER_CREATE_FAILED']);
    out.findings[0]!.retryable!.should.be.true();
  });

  it('D365 unreachable or throttled: CUSTOMER_LOOKUP_FAILED (retryable); other failures are runtime errors', async () => {
    const { run, bc } = setup();
    bc.failWith = throttled();
    const out = await run(order());
    codes(out).should.eql(['CUSTOMER_LOOKUP_FAILED']);
    out.findings[0]!.should.match({ retryable: true, severity: 'error' });
    out.findings[0]!.message.should.match(/HTTP 429/);
    bc.failWith = Object.assign(new Error('The company does not exist'), { status: 404, code: 'BadRequest_NotFound', retryable: false });
    await run(order()).should.be.rejectedWith(/D365 customer lookup \(email\) failed: HTTP 404 BadRequest_NotFound/);
  });

  it('a warm cache answers repeat customers without calling D365', async () => {
    const { run, bc, lookups } = setup({ strategies: ALL(['email', 'countryDefault']), defaultCustomers: [{ country: 'US', customer: 'WEB-US' }] });
    await run(order());
    await run(withEmail('guest@mail.example.com'));
    const before = bc.count();
    for (let i = 0; i < 5; i++) {
      await run(order());
      await run(withEmail('guest@mail.example.com'));
    }
    bc.count().should.equal(before);
    lookups.stats().hits.should.be.above(9);
  });

  it('odd input does not crash: __proto__ attributes, odd Unicode, huge values', async () => {
    const { run } = setup({ strategies: ALL(['company', 'email']) });
    const out = await run(order((o) => {
      o.note_attributes = [{ name: '__proto__', value: { polluted: true } }, { name: 'tax_id', value: 42 }];
      o.billing_address.company = 'Zoë \u0000 Ünïcødé GmbH';
      o.email = `${'x'.repeat(300)}@mail.example.com`;
      o.customer.email = 'bob.norman@mail.example.com';
    }));
    out.erp!.customer!.number.should.equal('C10000');
    ((({}) as Record<string, unknown>).polluted === undefined).should.be.true();
  });

  describe('rules', () => {
    const err = (input: CustomerRulesInput) => {
      const r = CustomerRules.safeParse(input);
      r.success.should.be.false();
      return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    };
    it('coerces editor strings and applies defaults', () => {
      const r = CustomerRules.parse({ cacheTtlS: '60', cacheSize: '' });
      r.cacheTtlS.should.equal(60);
      r.cacheSize.should.equal(10_000);
      r.mode.should.equal('annotate');
      r.strategies.filter((s) => s.enabled).map((s) => s.name).should.eql(['email']);
    });
    it('refuses bad config with a reason per field', () => {
      err({ strategies: [{ name: 'email', enabled: false }] }).should.match(/enable at least one strategy/);
      err({ strategies: [{ name: 'email', enabled: true }, { name: 'email', enabled: true }] }).should.match(/listed twice/);
      err({ strategies: ALL(['countryDefault']) }).should.match(/needs at least one country/);
      err({ strategies: ALL(['countryDefault']), defaultCustomers: [{ country: 'USA', customer: 'WEB-US' }] }).should.match(/two-letter/);
      err({ strategies: ALL(['shopifyId']) }).should.match(/shopifyIdField: .*needs the BC field/);
      err({ shopifyIdApi: 'not a route' }).should.match(/publisher\/group\/v1\.0/);
      err({ template: [{ field: 'email', value: 'x' }] }).should.match(/cannot be templated/);
      err({ template: [{ field: '__proto__', value: 'x' }] }).should.match(/BC field name/);
      err({ cacheTtlS: '-1' }).should.match(/cacheTtlS/);
      err({ mode: 'drop' as never }).should.match(/mode/);
    });
  });
});
