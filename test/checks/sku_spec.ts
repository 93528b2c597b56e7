import 'should';
import { readFileSync } from 'fs';
import path from 'path';
import { Order } from '../../nodes/lib/contract';
import { checkSkus } from '../../nodes/lib/checks/sku-check';
import { SkuRules } from '../../nodes/lib/checks/sku-rules';
import type { SkuRulesInput } from '../../nodes/lib/checks/sku-rules';
import { D365Lookups } from '../../nodes/lib/d365/lookups';
import { FakeBc, throttled } from '../d365/lookups-fake-bc';

const fixture = () => JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'order-1001.json'), 'utf8'));
/** The sample order with its lines' SKUs replaced (extra SKUs add lines). */
function order(skus?: (string | null)[], patch: (o: any) => void = () => undefined) {
  const o = fixture();
  if (skus) {
    const base = o.line_items[0];
    o.line_items = skus.map((sku, i) => ({ ...base, id: 1000 + i, sku, quantity: 1 }));
  }
  patch(o);
  return Order.parse(o);
}

function setup(rules: SkuRulesInput = {}) {
  const bc = new FakeBc();
  const lookups = new D365Lookups(bc, { ttlMs: 60_000, max: 10_000 });
  const parsed = SkuRules.parse(rules);
  const items = bc.rows('items') as any[];
  const variants = bc.rows('itemVariants') as any[];
  const cat = {
    blocked: items.find((i) => i.blocked && i.type === 'Inventory').number as string,
    service: items.find((i) => i.type === 'Service' && !i.blocked).number as string,
    nonInventory: items.find((i) => i.type === 'Non-Inventory' && !i.blocked).number as string,
    variant: variants[0] as { itemNumber: string; code: string; id: string },
    gtinItem: items.find((i) => i.gtin && /^\d+$/.test(i.number)) as { number: string; gtin: string },
  };
  return { bc, lookups, cat, run: (o: Order, erpLines?: unknown) => checkSkus(o, parsed, lookups, erpLines) };
}
const codes = (out: { findings: { code: string }[] }) => out.findings.map((f) => f.code);
const strategies = (names: string[]) => names.map((name) => ({ name, enabled: true })) as SkuRulesInput['strategies'];

describe('SKU validation (pure)', () => {
  it('clean order: both lines map to their items with one D365 call, and msg.erp.lines is filled', async () => {
    const { run, bc } = setup();
    const out = await run(order());
    out.findings.should.eql([]);
    bc.count().should.equal(1);
    out.erp!.lines!.should.have.length(2);
    out.erp!.lines![0]!.should.match({ lineItemId: '466157049', sku: 'IPOD2008GREEN', quantity: 2, itemNumber: 'IPOD2008GREEN', unitPrice: '199.00' });
    out.erp!.lines![0]!.itemId!.should.match(/^[0-9a-f-]{36}$/);
    out.erp!.lines![1]!.should.match({ lineItemId: '518995019', itemNumber: 'IPOD2008RED', quantity: 1 });
  });

  it('maps item-variant SKUs to item number + variant code', async () => {
    const { run, cat } = setup();
    const out = await run(order([`${cat.variant.itemNumber}-${cat.variant.code}`]));
    out.findings.should.eql([]);
    out.erp!.lines![0]!.should.match({ itemNumber: cat.variant.itemNumber, variantCode: cat.variant.code, variantId: cat.variant.id });
  });

  it('with every lookup cached the check answers synchronously, exactly as the first (async) time', async () => {
    const { run, bc, cat } = setup({ mapping: [{ sku: 'MAPPED-1', itemNumber: 'IPOD2008RED', variantCode: '' }] });
    const o = order(['IPOD2008GREEN', `${cat.variant.itemNumber}-${cat.variant.code}`, 'MAPPED-1', 'NOPE-NOPE']);
    const first = run(o);
    (first instanceof Promise).should.be.true();
    const cold = await first;
    const calls = bc.count();
    const warm = run(o);
    (warm instanceof Promise).should.be.false();
    warm.should.eql(cold);
    codes(cold).should.eql(['SKU_UNMAPPED']);
    bc.count().should.equal(calls);
  });

  describe('each faulty line yields exactly its documented code', () => {
    const one = async (sku: string | null, rules: SkuRulesInput = {}, mutate?: (s: ReturnType<typeof setup>) => string) => {
      const s = setup(rules);
      const out = await s.run(order([mutate ? mutate(s) : sku]));
      return out;
    };
    it('SKU_MISSING', async () => {
      for (const sku of [null, '', '   ']) {
        const out = await one(sku);
        codes(out).should.eql(['SKU_MISSING']);
        out.findings[0]!.path!.should.equal('line_items[0].sku');
      }
    });
    it('SKU_UNMAPPED', async () => {
      const out = await one('NOPE-XYZ');
      codes(out).should.eql(['SKU_UNMAPPED']);
      out.findings[0]!.message.should.match(/"NOPE-XYZ" matches no D365 item \(tried: mapping table, SKU = item number, item number \+ variant code\)/);
      out.erp!.lines![0]!.should.match({ sku: 'NOPE-XYZ', quantity: 1 });
      (out.erp!.lines![0]!.itemNumber === undefined).should.be.true();
    });
    it('SKU_AMBIGUOUS (two items share a barcode)', async () => {
      const out = await one(null, { strategies: strategies(['gtin']) }, (s) => {
        (s.bc.rows('items') as any[]).push({ id: 'dup', number: 'DUP1', displayName: 'Dup', type: 'Inventory', blocked: false, gtin: s.cat.gtinItem.gtin });
        return s.cat.gtinItem.gtin;
      });
      codes(out).should.eql(['SKU_AMBIGUOUS']);
      out.findings[0]!.message.should.match(/matches several D365 items: .*DUP1/);
    });
    it('ITEM_BLOCKED', async () => {
      const out = await one(null, {}, (s) => s.cat.blocked);
      codes(out).should.eql(['ITEM_BLOCKED']);
      out.findings[0]!.severity!.should.equal('error');
    });
    it('ITEM_NOT_INVENTORY: a warning by default, nothing when allowed, blocking when configured', async () => {
      const warn = await one(null, {}, (s) => s.cat.service);
      codes(warn).should.eql(['ITEM_NOT_INVENTORY']);
      warn.findings[0]!.severity!.should.equal('warning');
      warn.findings[0]!.message.should.match(/Service item/);
      (await one(null, { nonInventory: 'allow' }, (s) => s.cat.nonInventory)).findings.should.eql([]);
      (await one(null, { nonInventory: 'block' }, (s) => s.cat.nonInventory)).findings[0]!.severity!.should.equal('error');
    });
    it('VARIANT_UNKNOWN', async () => {
      const out = await one(null, {}, (s) => `${s.cat.variant.itemNumber}-XL`);
      codes(out).should.eql(['VARIANT_UNKNOWN']);
      out.findings[0]!.message.should.match(/has no variant XL \(its variants: [A-Z]+(, [A-Z]+)+\)/);
    });
    it('QUANTITY_INVALID (from upstream msg.erp.lines; the Order schema already refuses it in the payload)', async () => {
      for (const q of [0, -1, 1.5, '2', null]) {
        const s = setup();
        const out = await s.run(order(), [{ lineItemId: '466157049', quantity: q }]);
        codes(out).should.eql(['QUANTITY_INVALID']);
        out.findings[0]!.path!.should.equal('line_items[0].quantity');
        out.erp!.lines!.map((l) => l.lineItemId).should.eql(['518995019']);
      }
    });
    it('SKU_LOOKUP_FAILED (retryable) when D365 is throttled; other failures are runtime errors', async () => {
      const s = setup();
      s.bc.failWith = throttled();
      const out = await s.run(order());
      codes(out).should.eql(['SKU_LOOKUP_FAILED']);
      out.findings[0]!.should.match({ retryable: true, severity: 'error' });
      s.bc.failWith = new Error('boom');
      await s.run(order()).should.be.rejectedWith(/D365 item lookup \(SKU = item number\) failed: boom/);
    });
  });

  it('an order with three problems reports all three, and still maps its good lines', async () => {
    const { run, cat, bc } = setup();
    const out = await run(order(['IPOD2008GREEN', null, cat.blocked, `${cat.variant.itemNumber}-XL`, 'IPOD2008RED']));
    codes(out).should.eql(['SKU_MISSING', 'ITEM_BLOCKED', 'VARIANT_UNKNOWN']);
    out.findings.map((f) => f.path).should.eql(['line_items[1].sku', 'line_items[2].sku', 'line_items[3].sku']);
    out.erp!.lines!.map((l) => l.itemNumber ?? null).should.eql(['IPOD2008GREEN', null, cat.blocked, null, 'IPOD2008RED']);
    bc.count().should.equal(3); // item numbers (one request), then items + variants for the variant split
  });

  it('the mapping table wins, with or without a variant code, and reports bad rows', async () => {
    const { run, cat } = setup({ mapping: [
      { sku: 'shop-green', itemNumber: 'IPOD2008GREEN' },
      { sku: 'SHOP-V', itemNumber: cat0().variant.itemNumber, variantCode: cat0().variant.code },
      { sku: 'SHOP-GONE', itemNumber: 'GONE' },
      { sku: 'SHOP-BADV', itemNumber: cat0().variant.itemNumber, variantCode: 'ZZ' },
    ] });
    const out = await run(order(['SHOP-GREEN', 'shop-v', 'SHOP-GONE', 'SHOP-BADV']));
    codes(out).should.eql(['SKU_UNMAPPED', 'VARIANT_UNKNOWN']);
    out.findings[0]!.message.should.match(/maps SKU "SHOP-GONE" to item GONE, which D365 does not have/);
    out.erp!.lines![0]!.itemNumber!.should.equal('IPOD2008GREEN');
    out.erp!.lines![1]!.should.match({ itemNumber: cat.variant.itemNumber, variantCode: cat.variant.code });
  });

  it('trim and case rules', async () => {
    (await setup().run(order([' ipod2008green ']))).findings.should.eql([]);
    codes(await setup({ caseRule: 'exact' }).run(order(['ipod2008green']))).should.eql(['SKU_UNMAPPED']);
    codes(await setup({ trim: false }).run(order([' IPOD2008GREEN']))).should.eql(['SKU_UNMAPPED']);
  });

  it('barcode and vendor item number (custom API page) strategies', async () => {
    const g = setup({ strategies: strategies(['gtin']) });
    (await g.run(order([g.cat.gtinItem.gtin]))).erp!.lines![0]!.itemNumber!.should.equal(g.cat.gtinItem.number);
    const v = setup({ strategies: strategies(['vendorItem']), vendorItemApi: 'acme/shopify/v1.0', vendorItemEntitySet: 'vendorItems', vendorItemField: 'vendorItemNo' });
    (await v.run(order(['V-1004']))).erp!.lines![0]!.itemNumber!.should.equal('1004');
  });

  it('strategies run in the configured order: the first that decides wins', async () => {
    const s = setup({ strategies: strategies(['gtin', 'itemNumber']) });
    // Give item 1000 a GTIN equal to another item's number.
    const items = s.bc.rows('items') as any[];
    items.find((i) => i.number === '1000').gtin = '1001';
    (await s.run(order(['1001']))).erp!.lines![0]!.itemNumber!.should.equal('1000');
    const t = setup({ strategies: strategies(['itemNumber', 'gtin']) });
    (t.bc.rows('items') as any[]).find((i) => i.number === '1000').gtin = '1001';
    (await t.run(order(['1001']))).erp!.lines![0]!.itemNumber!.should.equal('1001');
  });

  it('batches a large order and answers repeats from the cache', async () => {
    const { run, bc, lookups } = setup();
    const skus = Array.from({ length: 60 }, (_, i) => `${1000 + (i % 30)}`);
    await run(order(skus));
    bc.count().should.be.belowOrEqual(4);
    const before = bc.count();
    for (let i = 0; i < 5; i++) await run(order(skus));
    await run(order());
    await run(order());
    bc.count().should.equal(before + 1); // only the sample order's two new SKUs
    lookups.stats().hits.should.be.above(100);
  });

  it('keeps fields other checks put on msg.erp.lines, but not stale item data', async () => {
    const { run } = setup();
    const out = await run(order(['IPOD2008GREEN', 'NOPE']), [
      { lineItemId: '1000', quantity: 3, locationCode: 'EAST', itemNumber: 'OLD' },
      { lineItemId: 1001, quantity: 1, itemNumber: 'STALE', variantCode: 'X' },
    ]);
    out.erp!.lines![0]!.should.match({ quantity: 3, locationCode: 'EAST', itemNumber: 'IPOD2008GREEN' });
    (out.erp!.lines![1]!.itemNumber === undefined).should.be.true();
    (out.erp!.lines![1]!.variantCode === undefined).should.be.true();
  });

  describe('rules', () => {
    const err = (input: SkuRulesInput) => {
      const r = SkuRules.safeParse(input);
      r.success.should.be.false();
      return r.error!.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('\n');
    };
    it('refuses bad config with a reason per field', () => {
      err({ strategies: [{ name: 'itemNumber', enabled: false }] }).should.match(/enable at least one strategy/);
      err({ separator: '' }).should.match(/separator is required/);
      err({ separator: ' ' }).should.match(/whitespace separator/);
      err({ mapping: [{ sku: 'A', itemNumber: '1' }, { sku: ' a ', itemNumber: '2' }] }).should.match(/mapping.1.sku: SKU  a  is mapped twice \(rows 1 and 2\)/);
      err({ mapping: [{ sku: 'A', itemNumber: '' }] }).should.match(/item number is required/);
      err({ mapping: [{ sku: 'A', itemNumber: 'X'.repeat(21) }] }).should.match(/at most 20/);
      err({ strategies: strategies(['vendorItem']) }).should.match(/no vendor item number/).and.match(/vendorItemField/);
      err({ cacheSize: 'lots' }).should.match(/cacheSize/);
    });
    it('accepts editor strings', () => {
      SkuRules.parse({ cacheTtlS: '0', cacheSize: '500' }).should.match({ cacheTtlS: 0, cacheSize: 500, separator: '-', caseRule: 'insensitive' });
    });
  });
});

function cat0() { return setup().cat; }
