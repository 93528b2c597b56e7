import 'should';
import type { Order } from '../../nodes/lib/contract';
import { awaitEveryOrder, countsLine, scaled, startRig, type Rig } from './harness';

// Business Central misbehaving: 30% of API requests fail with 429/503/504 before processing, and some
// sales order POSTs are committed but their response is lost (504 or reset connection). No order may
// be lost or created twice: the writer finds a committed order by its external document number.

describe('faults: ERP storm (30% 429/503/504, lost responses after commit)', function () {
  this.timeout(240_000);
  let rig: Rig | undefined;
  afterEach(async () => { await rig?.stop(); rig = undefined; });

  it('loses and duplicates no order', async () => {
    rig = await startRig({ bc: { faults: { errorRate: 0.3, errorStatuses: [429, 503, 504], lostResponseRate: 0.1, lostResponseMode: 'random' } } });
    const r = rig;
    const shop = r.sims.shopify;
    const orders: Order[] = [];
    const n = scaled(200);
    for (let i = 0; i < n; i++) {
      orders.push(shop.placeOrder(i % 10 === 9
        ? { customer: 'random', faults: ['missing_shipping_address'] }
        : { customer: 'random', shippingCode: 'Standard', lineCount: 1 + (i % 3), financialStatus: 'paid' }));
      if (i % 50 === 49) await new Promise((res) => setTimeout(res, 100));
    }
    // Retry-later holds come back after seconds: wait until every order is created or held.
    const c = await awaitEveryOrder(r, orders, 180_000);
    const st = r.sims.bc.stats();
    console.log(`      ${countsLine(c)}; BC injected errors ${st.injectedErrors}, lost responses ${st.lostResponses}`);
    st.injectedErrors.should.be.above(0);
    st.lostResponses.should.be.above(0);
    c.duplicated.should.equal(0);
    c.lost.should.equal(0, `lost: ${c.missing.slice(0, 10).join(', ')}`);
  });
});
