import 'should';
import { startShopifySim, type ShopifySim } from '../../sim/shopify';
import { FulfillmentSender, SenderSettings } from '../../nodes/lib/fulfillment/fulfillment-sender';
import { SqliteJournal } from '../../nodes/lib/journal/sqlite-journal';
import type { ShopifyAdminApi } from '../../nodes/lib/shopify/admin-api';
import { ShopifyAdminClient } from '../../nodes/lib/shopify/admin-client';
import { ShopifyHttpError } from '../../nodes/lib/shopify/admin-errors';

// A fulfillmentCreate the Shopify simulator carried out but whose answer never arrived (the connection dropped
// after the write): the sender's retry must recognise it instead of fulfilling the units a second time.
describe('fulfillment sender: lost answer against the Shopify simulator', function () {
  this.timeout(15000);
  let sim: ShopifySim;
  let journal: SqliteJournal;
  beforeEach(async () => {
    sim = await startShopifySim({ seed: 3 });
    journal = SqliteJournal.open(':memory:');
  });
  afterEach(async () => {
    journal.close();
    await sim.close();
  });

  /** The real client against the simulator, losing the answer of the next `lose` fulfillmentCreate calls. */
  function losing(lose: number): { api: ShopifyAdminApi; creates: () => number } {
    const client = new ShopifyAdminClient({ shopDomain: sim.options.shop, baseUrl: sim.url, accessToken: sim.options.accessToken, backoffBaseMs: 5 });
    let creates = 0;
    return {
      creates: () => creates,
      api: {
        graphql: async (query, variables, opts) => {
          const r = await client.graphql(query, variables, opts);
          if (/mutation d365FulfillmentCreate/.test(query)) {
            creates++;
            if (lose-- > 0) throw new ShopifyHttpError(0, 'socket hang up', { code: 'ECONNRESET' });
          }
          return r as never;
        },
      },
    };
  }
  const shipment = (name: string, number: string, quantity: number, tracking?: string) => ({
    shipment: { number, externalDocumentNumber: name, salesShipmentLines: [{ lineType: 'Item', lineObjectNumber: 'IPOD2008GREEN', quantity }] },
    tracking: tracking ? { shippingAgentCode: 'UPS', packageTrackingNo: tracking } : null,
  });

  for (const tracking of ['1Z0042', undefined]) {
    it(`a partial shipment ${tracking ? 'with' : 'without'} tracking: one fulfillment of 1 unit, the order stays partly open`, async () => {
      const placed = sim.placeOrder({ lines: [{ sku: 'IPOD2008GREEN', quantity: 3 }] });
      const { api, creates } = losing(1);
      const sender = new FulfillmentSender({ shopify: api, journal, shop: sim.options.shop, settings: SenderSettings.parse({ retryBaseMs: 0 }) });
      const r = await sender.send(shipment(placed.name, 'SSHP-L1', 1, tracking));
      r.should.containEql({ ok: true, action: 'fulfilled', findings: [] });
      creates().should.equal(1);
      const json = sim.order(Number(placed.id))!;
      json.fulfillments!.length.should.equal(1);
      (json.fulfillments![0] as { line_items: { quantity: number }[] }).line_items.map((l) => l.quantity).should.eql([1]);
      json.line_items[0]!.fulfillable_quantity!.should.equal(2);
      // The next shipment of the order is a new fulfillment.
      (await sender.send(shipment(placed.name, 'SSHP-L2', 2, tracking && '1Z0043'))).action.should.equal('fulfilled');
      sim.order(Number(placed.id))!.fulfillments!.length.should.equal(2);
      sim.order(Number(placed.id))!.line_items[0]!.fulfillable_quantity!.should.equal(0);
    });
  }
});
