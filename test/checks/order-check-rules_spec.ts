import 'should';
import { readFileSync } from 'fs';
import path from 'path';
import { Order } from '../../nodes/lib/contract';
import { OrderRules, checkOrderRules } from '../../nodes/lib/checks/order-rules';

const raw = () => JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'order-1001.json'), 'utf8'));
const order = (patch: (o: any) => void = () => {}) => { const o = raw(); patch(o); return Order.parse(o); };
const rules = (over: Record<string, unknown> = {}) => OrderRules.parse({
  shippingMap: [{ match: 'Standard', method: 'STANDARD' }, { match: 'Express', method: 'EXPRESS', agent: 'UPS', service: '2DAY' }],
  ...over,
});
const codes = (o: Order, r = rules()) => checkOrderRules(o, r).findings.map((f) => f.code);

describe('order rules (shopify-order-check logic)', () => {
  it('passes the clean sample order and fills shipment method and currency', () => {
    const out = checkOrderRules(order(), rules());
    out.findings.should.eql([]);
    out.erp!.should.eql({ currencyCode: 'USD', shipmentMethod: { code: 'STANDARD' } });
  });

  it('maps by code first, then by title, case-insensitively, with agent and service', () => {
    const out = checkOrderRules(order((o) => { o.shipping_lines[0].code = null; o.shipping_lines[0].title = 'express'; }), rules());
    out.erp!.shipmentMethod!.should.eql({ code: 'EXPRESS', agent: 'UPS', service: '2DAY' });
  });

  const variants: [string, (o: any) => void, string[], Record<string, unknown>?][] = [
    ['no email or phone anywhere', (o) => { o.email = null; o.phone = null; o.customer.email = null; o.customer.phone = ''; }, ['CONTACT_MISSING']],
    ['no shipping address (address fields not reported again)', (o) => { o.shipping_address = null; }, ['SHIPPING_ADDRESS_MISSING']],
    ['no ship-to country', (o) => { o.shipping_address.country_code = null; }, ['COUNTRY_MISSING']],
    ['a line without SKU', (o) => { o.line_items[1].sku = '  '; }, ['SKU_MISSING']],
    ['an unmapped shipping line', (o) => { o.shipping_lines[0].code = 'Drone'; o.shipping_lines[0].title = 'Drone delivery'; }, ['SHIPPING_METHOD_UNMAPPED']],
    ['a pending payment', (o) => { o.financial_status = 'pending'; }, ['FINANCIAL_STATUS_NOT_ALLOWED']],
    ['no financial status', (o) => { o.financial_status = null; }, ['FINANCIAL_STATUS_NOT_ALLOWED']],
    ['a test order', (o) => { o.test = true; }, ['TEST_ORDER']],
    ['a cancelled order', (o) => { o.cancelled_at = '2026-03-10T12:00:00-05:00'; o.cancel_reason = 'customer'; }, ['ORDER_CANCELLED']],
    ['every line removed by an order edit', (o) => { for (const l of o.line_items) l.current_quantity = 0; }, ['NO_LINES_LEFT']],
    ['a disallowed currency', (o) => { o.currency = 'EUR'; }, ['CURRENCY_NOT_ALLOWED'], { allowedCurrencies: 'USD, CAD' }],
    ['a high-risk tag', (o) => { o.tags = 'vip, High-Risk'; }, ['HIGH_RISK']],
    ['a merged risk assessment recommending cancel', (o) => { o.risks = [{ recommendation: 'accept' }, { recommendation: 'cancel', message: 'card mismatch' }]; }, ['HIGH_RISK']],
    ['a missing configured field', (o) => { o.shipping_address.city = ''; }, ['REQUIRED_FIELD_MISSING']],
    ['a second shipping line mapping elsewhere', (o) => { o.shipping_lines.push({ ...o.shipping_lines[0], id: 2, code: 'Express', title: 'Express' }); }, ['SHIPPING_METHOD_AMBIGUOUS']],
  ];
  for (const [name, patch, expected, over] of variants) {
    it(`flags ${name} as exactly ${expected.join(', ')}`, () => {
      codes(order(patch), rules(over)).should.eql(expected);
    });
  }

  it('lets an order through while at least one line is left after an edit', () => {
    codes(order((o) => { o.line_items[0].current_quantity = 0; }), rules()).should.eql([]);
  });

  it('reports every problem of an order at once, with paths and values in the messages', () => {
    const out = checkOrderRules(order((o) => {
      o.line_items[1].sku = null; o.financial_status = 'pending'; o.shipping_lines[0].code = 'Drone'; o.shipping_lines[0].title = 'Drone';
    }), rules());
    out.findings.map((f) => [f.code, f.path]).should.eql([
      ['SKU_MISSING', 'line_items[1].sku'],
      ['SHIPPING_METHOD_UNMAPPED', 'shipping_lines[0].code'],
      ['FINANCIAL_STATUS_NOT_ALLOWED', 'financial_status'],
    ]);
    out.findings[1]!.message.should.match(/Drone/);
    out.findings[2]!.message.should.match(/pending.*paid, authorized/);
    out.findings.every((f) => f.severity === 'error').should.be.true();
  });

  it('uses the default shipment method with an info finding, and test orders can warn or pass', () => {
    const out = checkOrderRules(order((o) => { o.shipping_lines[0].code = 'Drone'; o.shipping_lines[0].title = 'Drone'; }), rules({ defaultShipmentMethod: 'STANDARD' }));
    out.findings.map((f) => [f.code, f.severity]).should.eql([['SHIPPING_METHOD_DEFAULTED', 'info']]);
    out.erp!.shipmentMethod!.should.eql({ code: 'STANDARD' });
    checkOrderRules(order((o) => { o.test = true; }), rules({ testOrders: 'warn' })).findings.map((f) => f.severity).should.eql(['warning']);
    codes(order((o) => { o.test = true; }), rules({ testOrders: 'allow' })).should.eql([]);
  });

  it('an order that ships nothing needs no ship-to or shipping line, but a billing country', () => {
    const digital = (o: any) => { o.shipping_address = null; o.shipping_lines = []; for (const l of o.line_items) l.requires_shipping = false; };
    codes(order(digital)).should.eql([]);
    codes(order((o) => { digital(o); o.billing_address.country_code = ''; })).should.eql(['COUNTRY_MISSING']);
  });

  it('required-field paths fan out over [*], accept alternatives and never walk the prototype', () => {
    const r = rules({ requiredFields: [{ path: 'line_items[*].vendor' }, { path: 'po_number|note' }, { path: '__proto__.polluted' }, { path: 'line_items[0].title' }] });
    const out = checkOrderRules(order(), r);
    out.findings.map((f) => f.path).should.eql(['line_items[0].vendor', 'line_items[1].vendor', 'po_number|note', '__proto__.polluted']);
    out.findings.every((f) => f.code === 'REQUIRED_FIELD_MISSING').should.be.true();
    out.findings[2]!.message.should.equal('None of po_number / note is filled in');
  });

  it('built-in checks can be switched off', () => {
    codes(order((o) => { o.shipping_address = null; o.line_items[0].sku = null; o.email = null; o.phone = null; o.customer = null; }),
      rules({ requireContact: false, requireShippingAddress: false, requireSku: false, requireCountry: false, requiredFields: [] })).should.eql([]);
  });

  it('refuses bad configuration with a readable reason', () => {
    const bad = [
      { shippingMap: [{ match: 'Standard', method: '' }] },
      { shippingMap: [{ match: '', method: 'STANDARD' }] },
      { shippingMap: [{ match: 'x', method: 'WAY-TOO-LONG-CODE' }] },
      { requiredFields: [{ path: 'a..b' }] },
      { allowedFinancialStatuses: 'paid, bogus' },
      { allowedCurrencies: 'usd' },
      { testOrders: 'maybe' },
    ];
    for (const b of bad) OrderRules.safeParse(b).success.should.be.false(JSON.stringify(b));
    OrderRules.safeParse({ shippingMap: [{ match: 'Standard', method: '' }] }).error!.issues[0]!.message.should.equal('shipment method code is empty');
    OrderRules.parse({ allowedFinancialStatuses: 'paid;partially_paid' }).allowedFinancialStatuses.should.eql(['paid', 'partially_paid']);
  });
});
