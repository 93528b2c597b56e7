import 'should';
import fc from 'fast-check';
import { readFileSync } from 'fs';
import path from 'path';
import { Order, toMinor } from '../../nodes/lib/contract';
import { checkCustomer } from '../../nodes/lib/checks/customer-check';
import type { CustomerLookups } from '../../nodes/lib/checks/customer-check';
import { CustomerRules } from '../../nodes/lib/checks/customer-rules';
import { OrderRules, checkOrderRules, mapShipping } from '../../nodes/lib/checks/order-rules';
import { allowedDifference, minor, mulDivRound, times, withinTolerance } from '../../nodes/lib/checks/price-math';
import { checkSkus } from '../../nodes/lib/checks/sku-check';
import type { SkuLookups } from '../../nodes/lib/checks/sku-check';
import { SkuRules } from '../../nodes/lib/checks/sku-rules';
import { cachedTaxLookups, taxLookups } from '../../nodes/lib/checks/tax-lookup';
import { D365Lookups } from '../../nodes/lib/d365/lookups';
import { FakeBc } from '../d365/lookups-fake-bc';

// The checks answer from a warm cache synchronously, through code of their own (cached lists instead of
// the lookups' Maps, memos, fast paths for the usual case). These properties hold them to the slow path:
// the same input gives the same findings and msg.erp, whichever way it was answered.

const fixture = () => JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'order-1001.json'), 'utf8'));
const opts = { ttlMs: 60_000, max: 10_000 };
const catalogue = new FakeBc();
const items = catalogue.rows('items') as { number: string }[];
const variants = catalogue.rows('itemVariants') as { itemNumber: string; code: string }[];
const customers = catalogue.rows('customers') as { email: string; number: string }[];

/** The same lookups with only their asynchronous methods: every answer goes through the lookups' Maps. */
const asyncOnly = <T extends object>(l: D365Lookups, names: (keyof D365Lookups)[]): T =>
  Object.fromEntries(names.map((n) => [n, (...a: unknown[]) => (l[n] as (...x: unknown[]) => unknown).apply(l, a)])) as T;

/** Case and whitespace variations a shop's data comes with. */
const spelled = (s: fc.Arbitrary<string>) => fc.tuple(s, fc.constantFrom('as is', 'lower', 'padded', 'mixed')).map(([v, how]) =>
  how === 'lower' ? v.toLowerCase() : how === 'padded' ? ` ${v}  ` : how === 'mixed' ? [...v].map((c, i) => (i % 2 ? c.toLowerCase() : c)).join('') : v);

const skuArb = fc.oneof(
  spelled(fc.constantFrom(...items.map((i) => i.number))),
  spelled(fc.constantFrom(...variants.map((v) => `${v.itemNumber}-${v.code}`))),
  fc.constantFrom(...variants.map((v) => `${v.itemNumber}/${v.code}`)),
  fc.constantFrom(...variants.slice(0, 5).map((v) => `${v.itemNumber}-XL`), 'NOPE-1', '-LEAD', 'TRAIL-', 'A--B', '   ', '', 'MAPPED-1', 'mapped-2 '),
  fc.constant(null),
);

describe('warm-cache fast paths answer as the slow path (properties)', () => {
  it('SKU validator: warm (synchronous) = cold = through the lookups\' Maps, for any SKUs, rules and upstream lines', async () => {
    await fc.assert(fc.asyncProperty(
      fc.array(skuArb, { minLength: 1, maxLength: 6 }),
      fc.record({ caseRule: fc.constantFrom('insensitive', 'exact'), trim: fc.boolean(), separator: fc.constantFrom('-', '/'),
        nonInventory: fc.constantFrom('allow', 'warn', 'block'), mapped: fc.boolean() }),
      fc.array(fc.record({ line: fc.nat(6), quantity: fc.constantFrom(1, 3, 0, 1.5, '2'), locationCode: fc.constantFrom('EAST', undefined) }), { maxLength: 3 }),
      async (skus, r, upstream) => {
        const rules = SkuRules.parse({ caseRule: r.caseRule, trim: r.trim, separator: r.separator, nonInventory: r.nonInventory,
          mapping: r.mapped ? [{ sku: 'MAPPED-1', itemNumber: items[3]!.number }, { sku: 'mapped-2', itemNumber: variants[0]!.itemNumber, variantCode: variants[0]!.code },
            { sku: 'MAPPED-3', itemNumber: 'GONE' }] : [] });
        const o = fixture();
        o.line_items = skus.map((sku, i) => ({ ...o.line_items[0], id: 1000 + i, sku, quantity: 1 + i }));
        const order = Order.parse(o);
        const erpLines = upstream.map((u) => ({ lineItemId: String(1000 + u.line), quantity: u.quantity, ...(u.locationCode ? { locationCode: u.locationCode } : {}) }));
        const lookups = new D365Lookups(new FakeBc(), opts);
        const cold = await checkSkus(order, rules, lookups, erpLines);
        const warm = checkSkus(order, rules, lookups, erpLines);
        (warm instanceof Promise).should.be.false();
        warm.should.eql(cold);
        const maps = await checkSkus(order, rules, asyncOnly<SkuLookups>(new D365Lookups(new FakeBc(), opts), ['itemsByNumber', 'itemsByGtin', 'itemsByCustomField', 'variantsOfItems']), erpLines);
        maps.should.eql(cold);
      }), { numRuns: 150 });
  });

  it('customer matcher: warm = cold = through the lookups\' Maps, for any e-mail fields and country defaults', async () => {
    const email = fc.oneof(spelled(fc.constantFrom(...customers.map((c) => c.email))), fc.constantFrom(null, '', '  ', 'nobody@example.com'));
    await fc.assert(fc.asyncProperty(email, email, email, fc.constantFrom('US', 'us ', 'NL', 'DE', null), fc.boolean(),
      async (e1, e2, e3, country, withDefault) => {
        const rules = CustomerRules.parse({ strategies: [{ name: 'email', enabled: true }, { name: 'countryDefault', enabled: withDefault }],
          defaultCustomers: [{ country: 'US', customer: customers[0]!.number }, { country: 'NL', customer: 'WEB-NL' }], createFromTemplate: false });
        const order = Order.parse({ ...fixture(), email: e1, contact_email: e2, customer: { ...fixture().customer, email: e3 },
          shipping_address: { ...fixture().shipping_address, country_code: country } });
        const lookups = new D365Lookups(new FakeBc(), opts);
        const cold = await checkCustomer(order, rules, { lookups, dryRun: true });
        const warm = checkCustomer(order, rules, { lookups, dryRun: true });
        (warm instanceof Promise).should.be.false();
        warm.should.eql(cold);
        const maps = await checkCustomer(order, rules, { lookups: asyncOnly<CustomerLookups>(new D365Lookups(new FakeBc(), opts),
          ['customersByEmail', 'customersByPhone', 'customersByNumber', 'customersByTaxId', 'customersByName', 'customersByCustomField', 'createCustomer']), dryRun: true });
        maps.should.eql(cold);
      }), { numRuns: 150 });
  });

  it('tax lookups: the cached answer equals the fetched one, for any spelling of area code and customer number', async () => {
    const code = fc.oneof(spelled(fc.constantFrom('KY', 'NV', 'CA', 'NOPE')), fc.constantFrom(undefined, ' '));
    const number = fc.oneof(spelled(fc.constantFrom(...customers.map((c) => c.number), 'C99999')), fc.constantFrom(undefined, '  '));
    await fc.assert(fc.asyncProperty(code, number, async (a, c) => {
      const lookups = new D365Lookups(new FakeBc(), opts);
      const fetched = await taxLookups(lookups, a, c);
      cachedTaxLookups(lookups, a, c)!.should.eql(fetched);
    }), { numRuns: 100 });
  });

  it('money: the remembered amount equals toMinor; the tolerance shortcuts equal the arithmetic they skip', () => {
    const amount = fc.tuple(fc.boolean(), fc.bigInt({ min: 0n, max: 10n ** 12n }), fc.nat(999_999), fc.nat(6))
      .map(([neg, whole, frac, digits]) => `${neg ? '-' : ''}${whole}${digits ? `.${String(frac).padStart(6, '0').slice(0, digits)}` : ''}`);
    const decimal = fc.tuple(fc.nat(500), fc.nat(99)).map(([w, f]) => `${w}.${String(f).padStart(2, '0')}`);
    const percent = fc.oneof(fc.constantFrom('0', '0.0', '0.0000'), fc.tuple(fc.nat(100), fc.nat(9999)).map(([w, f]) => (w === 100 ? '100' : `${w}.${f}`)));
    fc.assert(fc.property(amount, fc.constantFrom(2, 4), (a, scale) => {
      minor(a, scale).should.equal(toMinor(a, scale));
      minor(a, scale).should.equal(toMinor(a, scale));
    }));
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 12n), max: 10n ** 12n }), fc.nat(150), (a, q) => {
      times(a, q).should.equal(a * BigInt(q));
    }));
    fc.assert(fc.property(fc.bigInt({ min: -(10n ** 9n), max: 10n ** 9n }), fc.bigInt({ min: -(10n ** 9n), max: 10n ** 9n }), decimal, percent, (actual, expected, absolute, pct) => {
      const tol = { absolute, percent: pct };
      // As computed before the shortcuts: both tolerances, always.
      const abs = toMinor(absolute);
      const byPct = mulDivRound(expected < 0n ? -expected : expected, toMinor(pct, 4), 1_000_000n);
      const allowed = abs > byPct ? abs : byPct;
      allowedDifference(expected, tol).should.equal(allowed);
      withinTolerance(actual, expected, tol).should.equal((actual - expected < 0n ? expected - actual : actual - expected) <= allowed);
      withinTolerance(expected, expected, tol).should.be.true();
    }));
  });

  it('order check: required fields read by their parsed paths report as resolving every path did', () => {
    // The paths' earlier reading: every alternative resolved to (path, value) pairs, [*] fanning out.
    type Seg = string | number | '*';
    const split = (p: string): Seg[] => p.split('.').flatMap((part) => {
      const m = /^([^[]+)((?:\[(?:\d+|\*)\])*)$/.exec(part)!;
      return [m[1]!, ...[...m[2]!.matchAll(/\[(\d+|\*)\]/g)].map((x) => (x[1] === '*' ? '*' : Number(x[1])))];
    });
    const resolve = (root: unknown, segs: Seg[], at = ''): { path: string; value: unknown }[] => {
      if (!segs.length) return [{ path: at, value: root }];
      const [seg, ...rest] = segs;
      if (seg === '*') return Array.isArray(root) ? root.flatMap((v, i) => resolve(v, rest, `${at}[${i}]`)) : [{ path: `${at}[*]`, value: undefined }];
      const next = root != null && typeof root === 'object' && Object.prototype.hasOwnProperty.call(root, seg!) ? (root as Record<string | number, unknown>)[seg!] : undefined;
      return resolve(next, rest, `${at}${typeof seg === 'number' ? `[${seg}]` : at ? `.${seg}` : seg}`);
    };
    const present = (v: unknown) => v != null && (typeof v === 'string' ? v.trim() !== '' : Array.isArray(v) ? v.length > 0 : true);
    const expected = (order: Order, row: string) => {
      const alts = row.split('|').map((p) => p.trim());
      const resolved = alts.map((p) => resolve(order, split(p)));
      if (alts.length > 1) return resolved.some((r) => r.some((x) => present(x.value))) ? [] : [alts.join('|')];
      return resolved[0]!.filter((x) => !present(x.value)).map((x) => x.path);
    };
    const pathArb = fc.constantFrom('email', 'note', 'po_number', 'shipping_address.zip', 'shipping_address.company', 'line_items[0].sku', 'line_items[1].vendor',
      'line_items[007].title', 'line_items[*].sku', 'line_items[*].properties', 'shipping_lines[*].code', 'customer.default_address.zip', 'tags', '__proto__.polluted',
      'note_attributes[0].value', 'discount_codes');
    const rowArb = fc.array(pathArb, { minLength: 1, maxLength: 3 }).map((ps) => ps.join(' | '));
    fc.assert(fc.property(rowArb, fc.record({ sku: fc.constantFrom('A', ' ', null), zip: fc.constantFrom('K2P', '', null), note: fc.constantFrom('hi', '', null), lines: fc.nat(3) }),
      (row, v) => {
        const o = fixture();
        o.line_items = Array.from({ length: v.lines + 1 }, (_, i) => ({ ...o.line_items[0], id: i + 1, sku: i % 2 ? v.sku : 'SKU' }));
        o.shipping_address.zip = v.zip;
        o.note = v.note;
        const order = Order.parse(o);
        const rules = OrderRules.parse({ requireContact: false, requireShippingAddress: false, requireCountry: false, requireSku: false,
          requiredFields: [{ path: row }], shippingMap: [{ match: 'Standard', method: 'STD' }] });
        const got = checkOrderRules(order, rules).findings.filter((f) => f.code === 'REQUIRED_FIELD_MISSING').map((f) => f.path);
        got.should.eql(expected(order, row));
        checkOrderRules(order, rules).findings.should.eql(checkOrderRules(order, OrderRules.parse({ ...rules })).findings); // parsed once or anew
      }), { numRuns: 300 });
  });

  it('order check: a shipping table\'s remembered answers equal comparing every row', () => {
    const collator = new Intl.Collator(undefined, { sensitivity: 'accent' });
    const table = OrderRules.parse({ shippingMap: [{ match: 'Standard', method: 'STD' }, { match: 'Exprèss', method: 'EXP' }, { match: 'standard ', method: 'DUP' }] }).shippingMap;
    const text = fc.constantFrom('Standard', 'STANDARD', ' standard ', 'Exprèss', 'EXPRÈSS', 'Express', 'Pickup', '', null, undefined);
    fc.assert(fc.property(text, fc.constantFrom('Standard', 'Express', 'Exprèss', 'Drone'), (code, title) => {
      const eq = (a: string, b: string | null | undefined) => !!b && collator.compare(a, b.trim()) === 0;
      const want = table.find((r) => eq(r.match, code)) ?? table.find((r) => eq(r.match, title));
      (mapShipping(table, code, title) === want).should.be.true();
      (mapShipping(table, code, title) === want).should.be.true(); // again, from memory
    }));
  });
});
