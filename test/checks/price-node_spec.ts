import 'should';
import helper from 'node-red-node-test-helper';
import priceCheck = require('../../nodes/d365-price-check');
import type { ODataQuery } from '../../nodes/lib/d365/bc-api';
import { BcApiError } from '../../nodes/lib/d365/errors';
import { checkFlow, fakeConnection, sampleOrder as order, sendTo, spy } from '../helpers/check-node';

const erpFor = (o: any) => ({ lines: o.line_items.map((l: any) => ({ lineItemId: String(l.id), sku: l.sku, quantity: l.quantity, itemNumber: l.sku })) });

/** A BC fake that answers `items` from a price table and counts requests. */
function countingBc(prices: Record<string, number>) {
  const calls: ODataQuery[] = [];
  const fake = {
    fail: undefined as Error | undefined,
    calls,
    async list(entitySet: string, query: ODataQuery = {}) {
      calls.push(query);
      if (fake.fail) throw fake.fail;
      entitySet.should.equal('items');
      const wanted = [...(query.filter ?? '').matchAll(/number eq '((?:[^']|'')*)'/g)].map((m) => m[1]!.replace(/''/g, "'"));
      return wanted.filter((n) => n in prices).map((n) => ({ id: `item-${n}`, number: n, unitPrice: prices[n], priceIncludesTax: false }));
    },
  };
  return fake;
}

const modules = (api: unknown) => [fakeConnection(() => api), priceCheck];
const flow = (config: Record<string, unknown>) => checkFlow('d365-price-check', config);
const send = (_id: string, msg: Record<string, unknown>, out = 'pass') => sendTo(out, msg);
const orderMsg = (patch: (o: any) => void = () => {}) => { const o = order(); patch(o); return { topic: 'orders/create', payload: o, erp: erpFor(o) }; };

describe('d365-price-check node', () => {
  afterEach(() => helper.unload());

  it('passes a clean order, asking D365 for both items in one request, then from the cache', async () => {
    const bc = countingBc({ IPOD2008GREEN: 199, IPOD2008RED: 199 });
    await helper.load(modules(bc), flow({ mode: 'divert', cacheTtlS: '300', cacheMax: '100' }));
    for (let i = 0; i < 10; i++) (await send('pass', orderMsg())).findings.should.eql([]);
    bc.calls.length.should.equal(1);
    bc.calls[0]!.filter!.should.equal("number eq 'IPOD2008GREEN' or number eq 'IPOD2008RED'");
    bc.calls[0]!.select!.should.containEql('unitPrice');
  });

  it('without a cache (TTL 0) spends a call per order', async () => {
    const bc = countingBc({ IPOD2008GREEN: 199, IPOD2008RED: 199 });
    await helper.load(modules(bc), flow({ cacheTtlS: '0' }));
    for (let i = 0; i < 3; i++) await send('pass', orderMsg());
    bc.calls.length.should.equal(3);
  });

  it('asks for many items in URL-sized chunks (40 per request) and caches "not found" too', async () => {
    const bc = countingBc({ IPOD2008GREEN: 199 });
    await helper.load(modules(bc), flow({}));
    const many = orderMsg((o) => {
      o.line_items = Array.from({ length: 45 }, (_, i) => ({ ...o.line_items[1], id: 1000 + i, sku: `X${i}`, tax_lines: [] }));
      o.shipping_lines = []; o.tax_lines = []; o.total_tax = '0.00';
      o.total_line_items_price = (199 * 45).toFixed(2); o.total_discounts = '0.00'; o.subtotal_price = o.total_line_items_price; o.total_price = o.total_line_items_price;
    });
    const msg = await send('pass', many);
    bc.calls.length.should.equal(2);
    msg.findings.filter((f: any) => f.code === 'PRICE_UNKNOWN').length.should.equal(45);
    await send('pass', many);
    bc.calls.length.should.equal(2);
  });

  it('diverts a price mismatch and shows three problems of one order together', async () => {
    const bc = countingBc({ IPOD2008GREEN: 150, IPOD2008RED: 199 });
    await helper.load(modules(bc), flow({ mode: 'divert' }));
    const msg = await send('fail', orderMsg((o) => { o.total_discounts = '12.00'; o.total_price = '600.00'; }), 'fail');
    msg.findings.map((f: any) => f.code).should.eql(['PRICE_MISMATCH', 'DISCOUNT_ALLOCATION_MISMATCH', 'TOTALS_MISMATCH']);
    msg.findings.every((f: any) => f.check === 'd365-price-check').should.be.true();
  });

  it('without msg.erp.lines warns PRICE_NOT_CHECKED and asks D365 nothing', async () => {
    const bc = countingBc({});
    await helper.load(modules(bc), flow({ mode: 'divert' }));
    const msg = await send('pass', { topic: 'orders/create', payload: order() });
    msg.findings.map((f: any) => `${f.code}:${f.severity}`).should.eql(['PRICE_NOT_CHECKED:warning']);
    bc.calls.length.should.equal(0);
  });

  it('a throttled D365 gives a retryable D365_UNAVAILABLE finding; a hard failure reaches Catch', async () => {
    const bc = countingBc({});
    await helper.load(modules(bc), flow({ mode: 'divert' }));
    bc.fail = new BcApiError({ status: 429, code: 'TooManyRequests', message: 'slow down' });
    const msg = await send('fail', orderMsg(), 'fail');
    msg.findings.map((f: any) => [f.code, f.retryable]).should.eql([['D365_UNAVAILABLE', true]]);
    msg.findings[0].message.should.match(/HTTP 429.*slow down/);
    bc.fail = new BcApiError({ status: 401, code: 'Authentication_InvalidCredentials', message: 'The credentials provided are incorrect' });
    const caught = await send('caught', orderMsg(), 'caught');
    caught.error.message.should.match(/D365 item price lookup failed \(HTTP 401\)/);
  });

  it('refuses a missing connection and bad tolerances, reporting why at runtime', async () => {
    await helper.load(modules(countingBc({})), flow({ connection: '', tolerances: [{ item: '*', absolute: 'x', percent: '0' }] }));
    const n1 = helper.getNode('n1');
    spy(n1.status).calledWithMatch({ fill: 'red', text: 'invalid config' }).should.be.true();
    const caught = await send('caught', orderMsg(), 'caught');
    caught.error.message.should.match(/tolerances\[0\]\.absolute: absolute tolerance must be a non-negative decimal/);
    caught.error.message.should.match(/connection: no D365 connection selected/);
  });

  it('refuses a connection id that does not exist', async () => {
    await helper.load(modules(countingBc({})), flow({ connection: 'nope' }));
    const caught = await send('caught', orderMsg(), 'caught');
    caught.error.message.should.match(/selected D365 connection does not exist/);
  });
});
