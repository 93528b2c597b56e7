import 'should';
import { readFileSync } from 'fs';
import path from 'path';
import { Order } from '../../nodes/lib/contract';
import type { Erp } from '../../nodes/lib/contract';
import { TaxRules, checkTax, findTaxArea } from '../../nodes/lib/checks/tax';
import type { TaxLookups } from '../../nodes/lib/checks/tax';

const raw = () => JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'order-1001.json'), 'utf8'));
const order = (patch: (o: any) => void = () => {}) => { const o = raw(); patch(o); return Order.parse(o); };
const AREAS = [
  { country: 'US', state: 'KY', code: 'KY', rate: '6' },
  { country: 'US', state: 'NV', code: 'NV', rate: '6.85' },
  { country: 'US', state: 'KY', zip: '402', code: 'KY-LOU', rate: '6' },
  { country: 'NL', code: 'NL-VAT', rate: '21', pricesIncludeTax: 'yes' },
  { country: 'DE', code: 'DE-VAT', rate: '19', pricesIncludeTax: 'yes' },
];
const rules = (over: Record<string, unknown> = {}) => TaxRules.parse({ areas: AREAS.slice(0, 2), ...over });
const run = (o: Order, r = rules(), erp?: Erp, lookups: TaxLookups = {}) => checkTax(o, r, erp, lookups);
const codes = (o: Order, r = rules(), erp?: Erp, lookups: TaxLookups = {}) => run(o, r, erp, lookups).findings.map((f) => f.code);

describe('tax rules (d365-tax-check logic)', () => {
  it('passes the clean sample order (KY 6 %) and fills tax area and prices-include-tax', () => {
    const out = run(order());
    out.findings.should.eql([]);
    out.erp!.should.eql({ taxAreaCode: 'KY', pricesIncludeTax: false });
  });

  it('picks the most specific row: ZIP prefix over state over country', () => {
    const rows = TaxRules.parse({ areas: AREAS }).areas;
    findTaxArea(rows, { country_code: 'us', province_code: 'KY', zip: '40202' })!.code.should.equal('KY-LOU');
    findTaxArea(rows, { country_code: 'US', province_code: 'KY', zip: '41001' })!.code.should.equal('KY');
    findTaxArea(rows, { country_code: 'NL', province_code: null, zip: '3011 AA' })!.code.should.equal('NL-VAT');
    (findTaxArea(rows, { country_code: 'US', province_code: 'OH', zip: '43004' }) === undefined).should.be.true();
    (findTaxArea(rows, null) === undefined).should.be.true();
  });

  const variants: [string, (o: any) => void, string[], Record<string, unknown>?, Erp?, TaxLookups?][] = [
    ['a ship-to no row maps', (o) => { o.shipping_address.province_code = 'OH'; }, ['TAX_AREA_UNMAPPED']],
    ['a taxable line without tax', (o) => { o.line_items[1].tax_lines = []; }, ['TAX_MISSING']],
    ['tax beyond the rounding tolerance', (o) => { o.line_items[0].tax_lines[0].price = '23.30'; }, ['TAX_MISMATCH']],
    ['tax on a line marked not taxable', (o) => { o.line_items[1].taxable = false; }, ['TAX_MISMATCH']],
    ['prices including tax where the area says excluding', (o) => { o.taxes_included = true; o.line_items[0].tax_lines[0].price = '21.96'; o.line_items[1].tax_lines[0].price = '11.26'; o.shipping_lines[0].tax_lines[0].price = '0.57'; },
      ['TAXES_INCLUDED_MISMATCH'], { areas: [{ ...AREAS[0], pricesIncludeTax: 'no' }] }],
    ['a tax-exempt order that was charged tax', (o) => { o.tax_exempt = true; }, ['TAX_EXEMPT_CHARGED']],
    ['a D365 customer not tax liable but charged', () => {}, ['TAX_EXEMPT_CHARGED'], undefined, { customer: { number: 'C20000', taxLiable: false } }],
    ['a mapped area D365 does not have', () => {}, ['TAX_AREA_UNKNOWN'], undefined, undefined, { taxArea: null }],
    ['a customer whose default tax area differs', () => {}, ['CUSTOMER_TAX_AREA_DIFFERS'], undefined, undefined,
      { taxArea: { id: 'a-ky', code: 'KY' }, customer: { number: 'C10000', taxLiable: true, taxAreaId: 'a-ny' } }],
  ];
  for (const [name, patch, expected, over, erp, lookups] of variants) {
    it(`flags ${name} as exactly ${expected.join(', ')}`, () => {
      codes(order(patch), rules(over), erp, lookups).should.eql(expected);
    });
  }

  it('accepts tax within the tolerance and tax-exempt orders without tax', () => {
    codes(order((o) => { o.line_items[0].tax_lines[0].price = '23.29'; })).should.eql([]);
    codes(order((o) => { o.line_items[0].tax_lines[0].price = '23.50'; }), rules({ toleranceAbs: '0.01', tolerancePct: '1' })).should.eql([]);
    codes(order((o) => { o.tax_exempt = true; for (const l of [...o.line_items, ...o.shipping_lines]) l.tax_lines = []; })).should.eql([]);
    codes(order((o) => { o.shipping_lines[0].tax_lines = []; }), rules({ taxShipping: false })).should.eql([]);
  });

  it('recomputes tax contained in tax-inclusive prices (NL VAT 21 %)', () => {
    const nl = order((o) => {
      o.taxes_included = true; o.shipping_address = { ...o.shipping_address, country_code: 'NL', province_code: null, zip: '3011 AA' };
      o.line_items[0].tax_lines[0].price = '67.34'; // 388.00 * 21/121
      o.line_items[1].tax_lines[0].price = '34.54'; // 199.00 * 21/121
      o.shipping_lines[0].tax_lines[0].price = '1.74'; // 10.00 * 21/121
    });
    const out = run(nl, TaxRules.parse({ areas: AREAS }));
    out.findings.should.eql([]);
    out.erp!.should.eql({ taxAreaCode: 'NL-VAT', pricesIncludeTax: true });
  });

  it('the customer\'s own prices-including-tax setting wins over the area', () => {
    const erp = { customer: { number: 'C1', pricesIncludeTax: true } } as unknown as Erp;
    const f = run(order(), rules(), erp).findings;
    f.map((x) => x.code).should.eql(['TAXES_INCLUDED_MISMATCH']);
    f[0]!.message.should.match(/customer C1 expects prices including tax/);
  });

  it('shows three problems of one order together, with paths', () => {
    const out = run(order((o) => {
      o.line_items[1].tax_lines = []; o.line_items[0].tax_lines[0].price = '30.00'; o.taxes_included = true; o.shipping_lines[0].tax_lines[0].price = '0.57';
    }), rules({ areas: [{ ...AREAS[0], pricesIncludeTax: 'no' }] }));
    out.findings.map((f) => [f.code, f.path]).should.eql([
      ['TAXES_INCLUDED_MISMATCH', 'taxes_included'], ['TAX_MISMATCH', 'line_items[0].tax_lines'], ['TAX_MISSING', 'line_items[1].tax_lines'],
    ]);
  });

  it('uses the billing address when nothing ships, and says when there is no address', () => {
    codes(order((o) => { o.shipping_address = null; })).should.eql([]);
    const f = run(order((o) => { o.shipping_address = null; o.billing_address = null; })).findings;
    f.map((x) => x.code).should.eql(['TAX_AREA_UNMAPPED']);
    f[0]!.message.should.match(/no ship-to or billing address/);
  });

  it('refuses bad configuration', () => {
    for (const b of [{ areas: [{ country: 'USA', code: 'X', rate: '1' }] }, { areas: [{ country: 'US', code: '', rate: '1' }] },
      { areas: [{ country: 'US', code: 'X', rate: '101' }] }, { areas: [{ country: 'US', code: 'X', rate: 'six' }] },
      { areas: [{ country: 'US', code: 'X', rate: '6', pricesIncludeTax: 'maybe' }] }, { toleranceAbs: '-0.01' }]) {
      TaxRules.safeParse(b).success.should.be.false(JSON.stringify(b));
    }
  });
});
