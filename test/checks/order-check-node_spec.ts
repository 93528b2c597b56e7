import 'should';
import helper from 'node-red-node-test-helper';
import orderCheck = require('../../nodes/shopify-order-check');
import { checkFlow, next, sampleOrder as order, spy } from '../helpers/check-node';

const MAP = [{ match: 'Standard', method: 'STANDARD' }, { match: 'Express', method: 'EXPRESS' }];

const flow = (config: Record<string, unknown>) => checkFlow('shopify-order-check', { shippingMap: MAP, ...config }, { connection: '' });

describe('shopify-order-check node', () => {
  afterEach(() => helper.unload());

  it('passes a clean order on output 1 with no findings, filling msg.erp', async () => {
    await helper.load(orderCheck, flow({ mode: 'divert' }));
    const got = next('pass');
    helper.getNode('n1').receive({ topic: 'orders/create', payload: order() } as never);
    const msg = await got;
    msg.findings.should.eql([]);
    msg.erp.should.eql({ currencyCode: 'USD', shipmentMethod: { code: 'STANDARD' } });
  });

  it('in divert mode sends an order with three problems to output 2 with all three findings', async () => {
    await helper.load(orderCheck, flow({ mode: 'divert', allowedFinancialStatuses: 'paid' }));
    const got = next('fail');
    const o = order();
    o.line_items[0].sku = ''; o.financial_status = 'authorized'; o.test = true;
    helper.getNode('n1').receive({ topic: 'orders/create', payload: o, findings: [{ check: 'shopify-order-check', code: 'OLD', severity: 'error', message: 'stale', retryable: false }] } as never);
    const msg = await got;
    msg.findings.map((f: any) => [f.check, f.code]).should.eql([
      ['shopify-order-check', 'TEST_ORDER'], ['shopify-order-check', 'SKU_MISSING'], ['shopify-order-check', 'FINANCIAL_STATUS_NOT_ALLOWED'],
    ]);
  });

  it('in annotate mode (the default) passes a flagged order on output 1 and counts it in the status', async () => {
    await helper.load(orderCheck, flow({}));
    const n1 = helper.getNode('n1');
    const got = next('pass');
    const o = order();
    o.shipping_lines[0].code = 'Drone'; o.shipping_lines[0].title = 'Drone';
    n1.receive({ topic: 'orders/create', payload: o } as never);
    (await got).findings.map((f: any) => f.code).should.eql(['SHIPPING_METHOD_UNMAPPED']);
    spy(n1.status).calledWithMatch({ fill: 'yellow', text: '1 flagged' }).should.be.true();
  });

  it('a malformed payload becomes a PAYLOAD_INVALID finding, not a crash', async () => {
    await helper.load(orderCheck, flow({ mode: 'divert' }));
    const got = next('fail');
    helper.getNode('n1').receive({ topic: 'orders/create', payload: { __proto__: { polluted: 1 }, id: 'x', line_items: [{ quantity: -1 }] } } as never);
    (await got).findings[0].code.should.equal('PAYLOAD_INVALID');
  });

  it('refuses bad configuration: logs it, shows it, and fails each message to Catch with the reason', async () => {
    await helper.load(orderCheck, flow({ shippingMap: [{ match: 'Standard', method: '' }] }));
    const n1 = helper.getNode('n1');
    spy(n1.error).calledWithMatch(/invalid configuration: shippingMap\[0\]\.method: shipment method code is empty/).should.be.true();
    spy(n1.status).calledWithMatch({ fill: 'red', text: 'invalid config' }).should.be.true();
    const caught = next('caught');
    n1.receive({ topic: 'orders/create', payload: order() } as never);
    (await caught).error.message.should.match(/shopify-order-check: invalid configuration: shippingMap\[0\]\.method/);
  });

  it('accepts the strings and lists the editor saves', async () => {
    await helper.load(orderCheck, flow({ mode: 'annotate', allowedCurrencies: 'EUR', testOrders: 'warn', highRiskTags: 'fraud-check, high-risk', requiredFields: [] }));
    const got = next('pass');
    helper.getNode('n1').receive({ topic: 'orders/create', payload: { ...order(), tags: 'fraud-check', test: true } } as never);
    (await got).findings.map((f: any) => `${f.code}:${f.severity}`).should.eql(['TEST_ORDER:warning', 'HIGH_RISK:error', 'CURRENCY_NOT_ALLOWED:error']);
  });
});
