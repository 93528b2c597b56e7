import 'should';
import helper from 'node-red-node-test-helper';
import taxCheck = require('../../nodes/d365-tax-check');
import type { ODataQuery } from '../../nodes/lib/d365/bc-api';
import { checkFlow, fakeConnection, sampleOrder as order, sendTo, spy } from '../helpers/check-node';

const AREAS = [{ country: 'US', state: 'KY', zip: '', code: 'KY', rate: '6', pricesIncludeTax: '' }, { country: 'US', state: 'NV', zip: '', code: 'NV', rate: '6.85', pricesIncludeTax: '' }];

/** A BC fake with the seeded tax areas and two customers; counts requests per entity set. */
function countingBc() {
  const areas = [{ id: 'area-ky', code: 'KY' }, { id: 'area-ny', code: 'NY' }];
  const customers = [{ id: 'cust-1', number: 'C10000', taxLiable: true, taxAreaId: 'area-ky' }, { id: 'cust-2', number: 'C20000', taxLiable: false, taxAreaId: 'area-ny' }];
  const calls: { entitySet: string; query: ODataQuery }[] = [];
  return {
    calls,
    async list(entitySet: string, query: ODataQuery = {}) {
      calls.push({ entitySet, query });
      const values = [...(query.filter ?? '').matchAll(/(?:code|number) eq '((?:[^']|'')*)'/g)].map((m) => m[1]!);
      if (entitySet === 'taxAreas') return areas.filter((a) => values.includes(a.code));
      if (entitySet === 'customers') return customers.filter((c) => values.includes(c.number));
      throw new Error(`unexpected entity set ${entitySet}`);
    },
  };
}

const modules = (api: unknown) => [fakeConnection(() => api), taxCheck];
const flow = (config: Record<string, unknown>) => checkFlow('d365-tax-check', { areas: AREAS, ...config });
const send = (msg: Record<string, unknown>, out = 'pass') => sendTo(out, msg);
const orderMsg = (patch: (o: any) => void = () => {}, erp?: unknown) => { const o = order(); patch(o); return { topic: 'orders/create', payload: o, ...(erp ? { erp } : {}) }; };

describe('d365-tax-check node', () => {
  afterEach(() => helper.unload());

  it('passes a clean order, fills msg.erp, and verifies area and customer in D365 once per TTL', async () => {
    const bc = countingBc();
    await helper.load(modules(bc), flow({ mode: 'divert', cacheTtlS: '300' }));
    for (let i = 0; i < 5; i++) {
      const msg = await send(orderMsg(() => {}, { customer: { number: 'C10000' }, currencyCode: 'USD' }));
      msg.findings.should.eql([]);
      msg.erp.should.eql({ customer: { number: 'C10000' }, currencyCode: 'USD', taxAreaCode: 'KY', pricesIncludeTax: false });
    }
    bc.calls.map((c) => c.entitySet).sort().should.eql(['customers', 'taxAreas']);
  });

  it('flags a tax-exempt D365 customer that was charged tax, and an area D365 does not have', async () => {
    const bc = countingBc();
    await helper.load(modules(bc), flow({ mode: 'divert' }));
    (await send(orderMsg(() => {}, { customer: { number: 'C20000' } }), 'fail')).findings.map((f: any) => f.code)
      .should.eql(['CUSTOMER_TAX_AREA_DIFFERS', 'TAX_EXEMPT_CHARGED']);
    (await send(orderMsg((o) => { o.shipping_address.province_code = 'NV'; o.line_items[0].tax_lines[0].price = '26.58'; o.line_items[1].tax_lines[0].price = '13.63'; o.shipping_lines[0].tax_lines[0].price = '0.69'; }), 'fail'))
      .findings.map((f: any) => f.code).should.eql(['TAX_AREA_UNKNOWN']);
  });

  it('shows three problems of one order together on output 2', async () => {
    await helper.load(modules(countingBc()), flow({ mode: 'divert', areas: [{ ...AREAS[0], pricesIncludeTax: 'no' }] }));
    const msg = await send(orderMsg((o) => { o.taxes_included = true; o.line_items[1].tax_lines = []; o.line_items[0].tax_lines[0].price = '30.00'; o.shipping_lines[0].tax_lines[0].price = '0.57'; }), 'fail');
    msg.findings.map((f: any) => f.code).should.eql(['TAXES_INCLUDED_MISMATCH', 'TAX_MISMATCH', 'TAX_MISSING']);
  });

  it('works without a connection (no D365 verification, no calls)', async () => {
    await helper.load(taxCheck, checkFlow('d365-tax-check', { connection: '', areas: AREAS }, { connection: '', catch: false }));
    const msg = await send(orderMsg((o) => { o.shipping_address.province_code = 'OH'; }));
    msg.findings.map((f: any) => f.code).should.eql(['TAX_AREA_UNMAPPED']);
    (msg.erp.taxAreaCode === undefined).should.be.true();
  });

  it('refuses bad configuration and reports it at runtime', async () => {
    await helper.load(modules(countingBc()), flow({ areas: [{ country: 'USA', code: 'KY', rate: 'six' }], cacheTtlS: '-5' }));
    spy(helper.getNode('n1').error).calledWithMatch(/invalid configuration: areas\[0\]\.country: country must be a two-letter ISO code/).should.be.true();
    const caught = await send(orderMsg(), 'caught');
    caught.error.message.should.match(/areas\[0\]\.rate: tax rate % must be a non-negative decimal number/);
    caught.error.message.should.match(/cacheTtlS: cache TTL cannot be negative/);
  });
});
