import 'should';
import { D365Lookups, chunkFilters, normPhone, sharedLookups } from '../../nodes/lib/d365/lookups';
import { cachedItemPrices, itemPrices } from '../../nodes/lib/checks/price-lookup';
import { cachedTaxLookups, taxLookups } from '../../nodes/lib/checks/tax-lookup';
import { minor, sumOf } from '../../nodes/lib/checks/price-math';
import { toMinor } from '../../nodes/lib/contract';
import { FakeBc, throttled } from './lookups-fake-bc';

const opts = { ttlMs: 60_000, max: 1000 };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('D365 lookups (cached, batched)', () => {
  it('fetches all of an order\'s item numbers in one request and caches found and not-found answers', async () => {
    const bc = new FakeBc();
    const l = new D365Lookups(bc, opts);
    const got = await l.itemsByNumber(['IPOD2008GREEN', 'IPOD2008RED', 'NOPE-1']);
    bc.count().should.equal(1);
    bc.calls[0]!.filter!.should.equal("number eq 'IPOD2008GREEN' or number eq 'IPOD2008RED' or number eq 'NOPE-1'");
    got.get('IPOD2008GREEN')!.map((i) => i.number).should.eql(['IPOD2008GREEN']);
    got.get('NOPE-1')!.should.eql([]);
    const again = await l.itemsByNumber(['IPOD2008RED', 'NOPE-1', 'ipod2008green']);
    bc.count().should.equal(1);
    again.get('IPOD2008GREEN')!.length.should.equal(1);
    l.stats().should.match({ hits: 3, misses: 3, calls: 1 });
  });

  it('answers synchronously from a warm cache: the same answers, undefined while anything is uncached, no request', async () => {
    const bc = new FakeBc();
    const l = new D365Lookups(bc, opts);
    (l.cachedItemsByNumber('IPOD2008GREEN') === undefined).should.be.true();
    (cachedItemPrices(l, ['IPOD2008GREEN']) === undefined).should.be.true();
    const asked = await itemPrices(l, ['IPOD2008GREEN', 'NOPE-1']);
    cachedItemPrices(l, ['IPOD2008GREEN', 'NOPE-1'])!.should.eql(asked);
    (cachedItemPrices(l, ['IPOD2008GREEN', 'IPOD2008RED']) === undefined).should.be.true(); // one uncached item: no partial answer
    const tax = await taxLookups(l, 'KY', 'C10000');
    cachedTaxLookups(l, 'ky', 'c10000')!.should.eql(tax);
    (cachedTaxLookups(l, 'KY', 'C99999') === undefined).should.be.true();
    cachedTaxLookups(l, undefined, undefined)!.should.eql({});
    bc.count().should.equal(3);
  });

  it('money amounts: the remembered parse equals toMinor, scale included, and still refuses non-amounts', () => {
    for (const a of ['199.00', '0.005', '-5.5', '12', '0.994']) {
      minor(a).should.equal(toMinor(a));
      minor(a, 4).should.equal(toMinor(a, 4));
      minor(a).should.equal(toMinor(a)); // the second time from memory
    }
    sumOf([{ price: '1.10' }, { price: '2.20' }, { price: '1.10' }], 'price').should.equal(440n);
    (() => minor('1,00')).should.throw(/not a decimal amount/);
  });

  it('splits long lists into URL-sized chunks', async () => {
    const bc = new FakeBc();
    const l = new D365Lookups(bc, opts);
    const numbers = Array.from({ length: 100 }, (_, i) => `${1000 + i}`);
    const got = await l.itemsByNumber(numbers);
    bc.count().should.equal(3);
    for (const c of bc.calls) c.filter!.length.should.be.belowOrEqual(1200);
    got.get('1000')!.length.should.equal(1);
    got.get('1099')!.length.should.equal(0); // the test catalogue has 60 generated items
    chunkFilters('number', ['x'.repeat(2000)]).should.have.length(1); // one oversized value still goes alone
  });

  it('the price and tax checks read through the same cache: items another check fetched cost no request', async () => {
    const bc = new FakeBc();
    const l = new D365Lookups(bc, opts);
    await l.itemsByNumber(['IPOD2008GREEN']); // as the SKU validator does
    const prices = await itemPrices(l, ['IPOD2008GREEN', 'NOPE-1']);
    bc.calls.map((c) => c.filter).should.eql(["number eq 'IPOD2008GREEN'", "number eq 'NOPE-1'"]);
    prices.get('IPOD2008GREEN')!.should.eql({ number: 'IPOD2008GREEN', unitPrice: '199', priceIncludesTax: false });
    (prices.get('NOPE-1') === null).should.be.true();
    const tax = await taxLookups(l, 'ky', 'C10000');
    tax.taxArea!.code.should.equal('KY');
    tax.customer!.should.match({ number: 'C10000', taxLiable: true });
    (await taxLookups(l, 'NOPE', undefined)).should.eql({ taxArea: null });
    bc.count().should.equal(5);
    await taxLookups(l, 'KY', 'C10000');
    bc.count().should.equal(5);
  });

  it('matches e-mail case-insensitively on our side, and returns every customer sharing an address', async () => {
    const bc = new FakeBc();
    const l = new D365Lookups(bc, opts);
    const got = await l.customersByEmail([' Bob.Norman@Mail.Example.com ', 'sam.twin@mail.example.com']);
    got.get('bob.norman@mail.example.com')!.map((c) => c.number).should.eql(['C10000']);
    got.get('sam.twin@mail.example.com')!.map((c) => c.number).sort().should.eql(['C10001', 'C10002']);
    bc.count().should.equal(1);
  });

  it('normalises phone numbers to digits and asks for the common spellings', async () => {
    normPhone('+1 (613) 612-0707').should.equal('16136120707');
    normPhone('0031 20 555 0101').should.equal('31205550101');
    const bc = new FakeBc();
    const l = new D365Lookups(bc, opts);
    const got = await l.customersByPhone(['+1 (613) 612-0707']);
    got.get('16136120707')!.map((c) => c.number).should.eql(['C10000']);
    bc.calls[0]!.filter!.should.containEql("phoneNumber eq '+16136120707'");
  });

  it('quotes values for OData (O\'Brien) and finds customers by tax id and company name', async () => {
    const bc = new FakeBc();
    const l = new D365Lookups(bc, opts);
    const byName = await l.customersByName(["  Acme   Outfitters Inc. ", "O'Brien Trading"]);
    byName.get('acme outfitters inc.')!.map((c) => c.number).should.eql(['C20000']);
    bc.calls[0]!.filter!.should.containEql("'O''Brien Trading'");
    const byTax = await l.customersByTaxId([' us-ein-12-3456789']);
    byTax.get('USEIN123456789')!.map((c) => c.number).should.eql(['C20000']);
    const byTax2 = await l.customersByTaxId(['US EIN 12 3456789']);
    byTax2.get('USEIN123456789')!.map((c) => c.number).should.eql(['C20000']);
    bc.count().should.equal(2);
  });

  it('expires answers after the TTL', async () => {
    const bc = new FakeBc();
    const l = new D365Lookups(bc, { ttlMs: 30, max: 100 });
    await l.itemsByNumber(['1000']);
    await l.itemsByNumber(['1000']);
    bc.count().should.equal(1);
    await sleep(60);
    await l.itemsByNumber(['1000']);
    bc.count().should.equal(2);
  });

  it('a TTL of 0 turns caching off but still shares concurrent fetches', async () => {
    const bc = new FakeBc();
    const l = new D365Lookups(bc, { ttlMs: 0, max: 100 });
    await Promise.all([l.itemsByNumber(['1000']), l.itemsByNumber(['1000'])]);
    bc.count().should.equal(1);
    await l.itemsByNumber(['1000']);
    bc.count().should.equal(2);
  });

  it('keeps at most max entries, evicting the least recently used', async () => {
    const bc = new FakeBc();
    const l = new D365Lookups(bc, { ttlMs: 60_000, max: 2 });
    await l.itemsByNumber(['1000', '1001', '1002']);
    l.stats().size.should.equal(2);
    await l.itemsByNumber(['1002']);
    bc.count().should.equal(1);
    await l.itemsByNumber(['1000']);
    bc.count().should.equal(2);
  });

  it('coalesces concurrent requests for the same keys into one call', async () => {
    const bc = new FakeBc();
    const l = new D365Lookups(bc, opts);
    const [a, b] = await Promise.all([l.itemsByNumber(['1000', '1001']), l.itemsByNumber(['1001', '1000'])]);
    bc.count().should.equal(1);
    a.get('1001')!.should.eql(b.get('1001')!);
  });

  it('propagates failures without caching them', async () => {
    const bc = new FakeBc();
    const l = new D365Lookups(bc, opts);
    bc.failWith = throttled();
    await l.itemsByNumber(['1000']).should.be.rejectedWith(/Too Many Requests/);
    bc.failWith = undefined;
    (await l.itemsByNumber(['1000'])).get('1000')!.length.should.equal(1);
    bc.count().should.equal(2);
  });

  it('reads custom fields from a custom API page and resolves them to standard entities', async () => {
    const bc = new FakeBc();
    const l = new D365Lookups(bc, opts);
    const src = { api: 'acme/shopify/v1.0', entitySet: 'shopifyCustomers', field: 'shopifyCustomerId' };
    const got = await l.customersByCustomField(src, ['207119551', '1']);
    got.get('207119551')!.map((c) => c.number).should.eql(['C10000']);
    got.get('1')!.should.eql([]);
    bc.calls.map((c) => [c.api, c.path]).should.eql([['acme/shopify/v1.0', 'shopifyCustomers'], [undefined, 'customers']]);
    await l.customersByCustomField(src, ['207119551']);
    bc.count().should.equal(2);
  });

  it('variants are fetched per item and keyed by item number', async () => {
    const bc = new FakeBc();
    const l = new D365Lookups(bc, opts);
    const withVariants = bc.rows('itemVariants')[0]!.itemNumber as string;
    const got = await l.variantsOfItems([withVariants, 'IPOD2008RED']);
    got.get(withVariants)!.length.should.be.above(1);
    got.get('IPOD2008RED')!.should.eql([]);
  });

  it('a created customer is found by e-mail afterwards, and concurrent creations share one POST', async () => {
    const bc = new FakeBc();
    const l = new D365Lookups(bc, opts);
    (await l.customersByEmail(['new@mail.example.com'])).get('new@mail.example.com')!.should.eql([]);
    const body = { displayName: 'New Person', email: 'new@mail.example.com' };
    const [a, b] = await Promise.all([l.createCustomer(body, 'New@mail.example.com'), l.createCustomer(body, 'new@mail.example.com')]);
    a.number.should.equal(b.number);
    bc.count('POST').should.equal(1);
    (await l.customersByEmail(['new@mail.example.com'])).get('new@mail.example.com')!.map((c) => c.number).should.eql([a.number]);
    bc.count('GET').should.equal(1);
  });

  it('shares one lookup layer per connection node and cache settings', () => {
    const bc = new FakeBc();
    const conn1 = { getClient: () => bc };
    const conn2 = { getClient: () => bc };
    sharedLookups(conn1, opts).should.equal(sharedLookups(conn1, { ...opts }));
    sharedLookups(conn1, opts).should.not.equal(sharedLookups(conn2, opts));
    sharedLookups(conn1, opts).should.not.equal(sharedLookups(conn1, { ttlMs: 1000, max: 10 }));
  });
});
