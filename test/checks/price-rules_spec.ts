import 'should';
import { readFileSync } from 'fs';
import path from 'path';
import { Order, fromMinor, toMinor } from '../../nodes/lib/contract';
import type { Erp } from '../../nodes/lib/contract';
import { PriceRules, checkPrices, itemsToLookUp } from '../../nodes/lib/checks/price';
import type { D365ItemPrice } from '../../nodes/lib/checks/price';
import { allowedDifference, mulDivRound, taxAt, taxRate } from '../../nodes/lib/checks/price-math';

const raw = () => JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'order-1001.json'), 'utf8'));

/** Recomputes the order's totals from its parts, so a variant differs only where the test means it to. */
export function rebalance(o: any): any {
  const sum = (xs: string[]) => xs.reduce((s, x) => s + toMinor(x), 0n);
  const gross = o.line_items.reduce((s: bigint, l: any) => s + toMinor(l.price) * BigInt(l.quantity), 0n);
  const lineDisc = sum(o.line_items.flatMap((l: any) => l.discount_allocations.map((d: any) => d.amount)));
  const shipDisc = sum(o.shipping_lines.flatMap((l: any) => l.discount_allocations.map((d: any) => d.amount)));
  const shipping = sum(o.shipping_lines.map((s: any) => s.price)) - shipDisc;
  const tax = sum([...o.line_items, ...o.shipping_lines].flatMap((l: any) => l.tax_lines.map((t: any) => t.price)));
  o.total_line_items_price = fromMinor(gross);
  o.total_discounts = fromMinor(lineDisc + shipDisc);
  o.subtotal_price = fromMinor(gross - lineDisc);
  o.total_tax = fromMinor(tax);
  o.total_price = fromMinor(gross - lineDisc + shipping + (o.taxes_included ? 0n : tax));
  return o;
}
const order = (patch: (o: any) => void = () => {}) => { const o = raw(); patch(o); return Order.parse(o); };
const erpLines = (o: Order): Erp => ({ lines: o.line_items.map((l) => ({ lineItemId: String(l.id), sku: l.sku, quantity: l.quantity, itemNumber: l.sku ?? undefined })) });
const prices = (over: Record<string, string | null> = {}) => {
  const m = new Map<string, D365ItemPrice | null>();
  for (const n of ['IPOD2008GREEN', 'IPOD2008RED']) m.set(n, { number: n, unitPrice: '199', priceIncludesTax: false });
  for (const [k, v] of Object.entries(over)) m.set(k, v === null ? null : { number: k, unitPrice: v, priceIncludesTax: false });
  return m;
};
const rules = (over: Record<string, unknown> = {}) => PriceRules.parse(over);
const run = (o: Order, r = rules(), erp: Erp | undefined = erpLines(o), itemPrices: Map<string, D365ItemPrice | null> | undefined = prices()) =>
  checkPrices(o, r, erp, { itemPrices }).findings;
const codes = (...a: Parameters<typeof run>) => run(...a).map((f) => f.code);

describe('price rules (d365-price-check logic)', () => {
  it('money helpers round half-up and never use floats', () => {
    mulDivRound(5n, 1n, 2n).should.equal(3n);
    mulDivRound(-5n, 1n, 2n).should.equal(-3n);
    taxAt(38800n, taxRate('6'), false).should.equal(2328n);
    taxAt(11900n, taxRate('19'), true).should.equal(1900n);
    allowedDifference(19900n, { absolute: '0.01', percent: '0.5' }).should.equal(100n);
    allowedDifference(19900n, { absolute: '2', percent: '0.5' }).should.equal(200n);
  });

  it('passes the clean sample order', () => {
    run(order()).should.eql([]);
    itemsToLookUp(order(), rules(), erpLines(order())).should.eql(['IPOD2008GREEN', 'IPOD2008RED']);
  });

  it('flags a line priced away from D365 as exactly PRICE_MISMATCH, naming both prices', () => {
    const f = checkPrices(order(), rules(), undefined, {}).findings; // no SKU validator upstream
    f.map((x) => x.code).should.eql(['PRICE_NOT_CHECKED']);
    const out = run(order(), rules(), erpLines(order()), prices({ IPOD2008RED: '209.00' }));
    out.map((x) => [x.code, x.path, x.severity]).should.eql([['PRICE_MISMATCH', 'line_items[1].price', 'error']]);
    out[0]!.message.should.match(/199\.00 USD.*D365 unit price 209\.00 by more than 0\.01/);
  });

  it('applies the first matching tolerance row: absolute or percent, whichever is larger', () => {
    const r = rules({ tolerances: [{ item: 'IPOD2008R*', absolute: '0.01', percent: '5' }, { item: '*', absolute: '0.50', percent: '0' }] });
    codes(order(), r, erpLines(order()), prices({ IPOD2008RED: '208.00', IPOD2008GREEN: '199.49' })).should.eql([]);
    codes(order(), r, erpLines(order()), prices({ IPOD2008RED: '210.00', IPOD2008GREEN: '199.51' })).should.eql(['PRICE_MISMATCH', 'PRICE_MISMATCH']);
  });

  it('prices from the price list win over D365 and make other currencies comparable', () => {
    const eur = order((o) => { o.currency = 'EUR'; });
    codes(eur).should.eql(['CURRENCY_MISMATCH']);
    const list = rules({ priceList: [{ item: 'IPOD2008GREEN', currency: 'eur', unitPrice: '199.00' }, { item: 'IPOD2008RED', currency: 'EUR', unitPrice: '180' }] });
    itemsToLookUp(eur, list, erpLines(eur)).should.eql([]);
    run(eur, list).map((x) => [x.code, x.path]).should.eql([['PRICE_MISMATCH', 'line_items[1].price']]);
    const partial = rules({ priceList: [{ item: 'IPOD2008GREEN', currency: 'EUR', unitPrice: '199.00' }] });
    run(eur, partial).map((x) => [x.code, x.path]).should.eql([['CURRENCY_MISMATCH', 'line_items[1].price']]);
  });

  it('flags unmapped lines and items D365 does not know as PRICE_UNKNOWN warnings', () => {
    const o = order();
    const erp = erpLines(o);
    delete erp.lines![0]!.itemNumber;
    run(o, rules(), erp).map((x) => [x.code, x.severity, x.path]).should.eql([['PRICE_UNKNOWN', 'warning', 'line_items[0].price']]);
    codes(o, rules(), erpLines(o), prices({ IPOD2008RED: null })).should.eql(['PRICE_UNKNOWN']);
  });

  it('flags a zero price (and not also a mismatch) by its configured severity', () => {
    const o = order((x) => { x.line_items[1].price = '0.00'; x.line_items[1].tax_lines = []; rebalance(x); });
    run(o).map((x) => [x.code, x.severity]).should.eql([['ZERO_PRICE', 'warning']]);
    run(o, rules({ zeroPrice: 'error' })).map((x) => x.severity).should.eql(['error']);
    codes(o, rules({ zeroPrice: 'allow' })).should.eql(['PRICE_MISMATCH']);
  });

  it('flags discount allocations that do not add up as exactly DISCOUNT_ALLOCATION_MISMATCH', () => {
    run(order((o) => { o.total_discounts = '15.00'; })).map((x) => [x.code, x.path]).should.eql([['DISCOUNT_ALLOCATION_MISMATCH', 'total_discounts']]);
    const over = order((o) => { o.line_items[1].discount_allocations = [{ amount: '250.00', discount_application_index: 0 }]; rebalance(o); });
    run(over).map((x) => [x.code, x.path]).should.eql([['DISCOUNT_ALLOCATION_MISMATCH', 'line_items[1].discount_allocations']]);
    // Shipping discounts count towards total_discounts but not the subtotal.
    const freeShip = order((o) => { o.shipping_lines[0].discount_allocations = [{ amount: '10.00', discount_application_index: 1 }]; o.shipping_lines[0].tax_lines = []; rebalance(o); });
    run(freeShip).should.eql([]);
  });

  it('flags totals that do not add up as exactly TOTALS_MISMATCH, one per total', () => {
    run(order((o) => { o.total_price = '640.00'; })).map((x) => [x.code, x.path]).should.eql([['TOTALS_MISMATCH', 'total_price']]);
    run(order((o) => { o.subtotal_price = '597.00'; o.total_tax = '35.00'; })).map((x) => x.path).should.eql(['subtotal_price', 'total_tax', 'total_price']);
    const incl = order((o) => { o.taxes_included = true; rebalance(o); });
    run(incl).should.eql([]);
    codes(order((o) => { o.total_price = '632.83'; }), rules({ totalsTolerance: '0.01' })).should.eql([]);
  });

  it('shows three problems of one order together', () => {
    const o = order((x) => { x.total_discounts = '12.00'; x.total_price = '600.00'; });
    codes(o, rules(), erpLines(o), prices({ IPOD2008GREEN: '150' })).should.eql(['PRICE_MISMATCH', 'DISCOUNT_ALLOCATION_MISMATCH', 'TOTALS_MISMATCH']);
  });

  it('notes a different tax basis in the mismatch message', () => {
    const m = new Map([['IPOD2008GREEN', { number: 'IPOD2008GREEN', unitPrice: '210.94', priceIncludesTax: true }], ['IPOD2008RED', { number: 'IPOD2008RED', unitPrice: '199', priceIncludesTax: false }]]);
    run(order(), rules(), erpLines(order()), m)[0]!.message.should.match(/D365 price includes tax/);
  });

  it('refuses bad configuration', () => {
    for (const b of [{ tolerances: [{ item: '', absolute: '1', percent: '0' }] }, { tolerances: [{ item: '*', absolute: '-1', percent: '0' }] },
      { tolerances: [{ item: '*', absolute: '0', percent: '120' }] }, { priceList: [{ item: 'A', currency: 'EURO', unitPrice: '1' }] },
      { totalsTolerance: 'abc' }, { zeroPrice: 'sometimes' }, { companyCurrency: 'US' }]) {
      PriceRules.safeParse(b).success.should.be.false(JSON.stringify(b));
    }
    PriceRules.parse({ totalsTolerance: 0.02 }).totalsTolerance.should.equal('0.02');
  });
});
