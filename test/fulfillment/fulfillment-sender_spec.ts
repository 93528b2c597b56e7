import 'should';
import { allocate, parseTable } from '../../nodes/lib/fulfillment/allocate';
import { FulfillmentSender, SenderSettings } from '../../nodes/lib/fulfillment/fulfillment-sender';
import { MemoryJournal } from '../writer/memory-journal';
import { SHOP } from '../writer/fixtures';
import { FakeShopify } from './fake-shopify';

const settings = SenderSettings.parse({ notifyCustomer: true, carriers: parseTable('UPS=UPS\nFEDEX = FedEx\n# comment\nbad line'), locations: { EAST: '655441491', WEST: '655441492' } });
const shipment = (number: string, lines: { sequence?: number; lineObjectNumber: string; quantity: number; lineType?: string }[], tracking?: string) => ({
  shipment: { id: `id-${number}`, number, orderNumber: 'SO1001', externalDocumentNumber: '#1001', salesShipmentLines: lines.map((l) => ({ lineType: 'Item', ...l })) },
  tracking: tracking ? { shippingAgentCode: 'fedex', packageTrackingNo: tracking, trackingUrl: `https://track.example/${tracking}` } : null,
  orderNumber: 'SO1001', externalDocumentNumber: '#1001',
});

function setup() {
  const shopify = new FakeShopify();
  shopify.addFo('655441491', [{ lineItemId: '466157049', sku: 'IPOD2008GREEN', quantity: 2 }, { lineItemId: '518995019', sku: 'IPOD2008RED', quantity: 1 }]);
  const journal = new MemoryJournal();
  const sender = new FulfillmentSender({ shopify, journal: journal.asJournal(), shop: SHOP, settings });
  return { shopify, journal, sender };
}

describe('fulfillment: allocation', () => {
  it('prefers the fulfillment order at the shipping location, spills to others, reports leftovers with a reason', () => {
    const fos = [
      { id: 'fo1', status: 'OPEN', locationId: 'A', lines: [{ id: 'a1', remainingQuantity: 1, sku: 'X', lineItemId: '1' }] },
      { id: 'fo2', status: 'IN_PROGRESS', locationId: 'B', lines: [{ id: 'b1', remainingQuantity: 2, sku: 'X', lineItemId: '1' }] },
      { id: 'fo3', status: 'ON_HOLD', locationId: 'C', lines: [{ id: 'c1', remainingQuantity: 1, sku: 'Y', lineItemId: '2' }] },
    ];
    const a = allocate([{ sku: 'X', quantity: 4, locationId: 'B', label: 'X' }, { sku: 'Y', quantity: 1, label: 'Y' }, { sku: 'Z', quantity: 1, label: 'Z' }], fos);
    a.groups.should.eql([
      { locationId: 'A', byFo: [{ fulfillmentOrderId: 'fo1', fulfillmentOrderLineItems: [{ id: 'a1', quantity: 1 }] }] },
      { locationId: 'B', byFo: [{ fulfillmentOrderId: 'fo2', fulfillmentOrderLineItems: [{ id: 'b1', quantity: 2 }] }] },
    ]);
    a.leftovers.should.eql([{ label: 'X', quantity: 1, reason: 'exhausted' }, { label: 'Y', quantity: 1, reason: 'on-hold' }, { label: 'Z', quantity: 1, reason: 'unknown' }]);
  });
});

describe('fulfillment: sender', () => {
  it('creates one fulfillment with mapped tracking and notify; the same shipment twice gives one fulfillment', async () => {
    const { shopify, journal, sender } = setup();
    const p = shipment('SSHP1', [{ lineObjectNumber: 'IPOD2008GREEN', quantity: 2 }, { lineObjectNumber: 'IPOD2008RED', quantity: 1 }, { lineObjectNumber: '6610', quantity: 1, lineType: 'Account' }], '1Z999');
    const r = await sender.send(p);
    r.should.containEql({ ok: true, action: 'fulfilled', orderId: '450789469' });
    shopify.fulfillments.length.should.equal(1);
    shopify.fulfillments[0]!.should.containEql({ location: '655441491', notify: true, tracking: { company: 'FedEx', number: '1Z999', url: 'https://track.example/1Z999' } });
    shopify.fos[0]!.status.should.equal('CLOSED');
    (await journal.getOrder(SHOP, '450789469'))!.documents['fulfillment:SSHP1']!.should.match(/"status":"done"/);
    (await sender.send(p)).action.should.equal('exists');
    journal.orders.clear(); // even without the journal marker, remaining quantities make the repeat a no-op
    (await sender.send(p)).should.containEql({ ok: true, action: 'already-fulfilled' });
    shopify.fulfillments.length.should.equal(1);
  });

  it('the same partial shipment delivered twice at once gives one fulfillment (handled one after the other)', async () => {
    const { shopify, sender } = setup();
    const p = shipment('SSHP9', [{ lineObjectNumber: 'IPOD2008GREEN', quantity: 1 }], '1Z777');
    const rs = await Promise.all([sender.send(p), sender.send(JSON.parse(JSON.stringify(p)))]);
    rs.map((r) => r.action).sort().should.eql(['exists', 'fulfilled']);
    shopify.fulfillments.length.should.equal(1);
    shopify.fos[0]!.lines[0]!.remaining.should.equal(1);
  });

  it('reads every fulfillment order and line across pages (12 locations, 70 lines at one)', async () => {
    const { shopify, sender } = setup();
    shopify.fos = [];
    const many = Array.from({ length: 70 }, (_, i) => ({ lineItemId: String(9000 + i), sku: `SKU${i}`, quantity: 1 }));
    shopify.addFo('1', many);
    for (let i = 2; i <= 12; i++) shopify.addFo(String(i), [{ lineItemId: String(100 + i), sku: `LOC${i}`, quantity: 1 }]);
    const r = await sender.send(shipment('SSHP7', [{ lineObjectNumber: 'SKU69', quantity: 1 }, { lineObjectNumber: 'LOC12', quantity: 1 }], '1Z070'));
    r.should.containEql({ ok: true, action: 'fulfilled' });
    shopify.fulfillments.map((f) => [f.location, f.lines.length]).sort().should.eql([['1', 1], ['12', 1]]);
    shopify.ops.filter((o) => o === 'd365MoreFulfillmentOrders').length.should.equal(1);
    shopify.ops.filter((o) => o === 'd365MoreFulfillmentOrderLines').length.should.equal(1);
  });

  it('partial shipments and several locations: one fulfillmentCreate per location, IN_PROGRESS in between', async () => {
    const { shopify, sender } = setup();
    shopify.fos = [];
    shopify.addFo('655441491', [{ lineItemId: '466157049', sku: 'IPOD2008GREEN', quantity: 2 }]);
    shopify.addFo('655441492', [{ lineItemId: '518995019', sku: 'IPOD2008RED', quantity: 1 }]);
    (await sender.send(shipment('SSHP2', [{ lineObjectNumber: 'IPOD2008GREEN', quantity: 1 }]))).ok.should.be.true();
    shopify.fos[0]!.status.should.equal('IN_PROGRESS');
    const r = await sender.send(shipment('SSHP3', [{ lineObjectNumber: 'IPOD2008GREEN', quantity: 1 }, { lineObjectNumber: 'IPOD2008RED', quantity: 1 }], 'T3'));
    r.fulfillments.map((f) => f.locationId).sort().should.eql(['655441491', '655441492']);
    shopify.fulfillments.length.should.equal(3);
    shopify.fos.every((fo) => fo.status === 'CLOSED').should.be.true();
  });

  it('a lost fulfillmentCreate answer is recovered by the tracking number on retry (one fulfillment)', async () => {
    const { shopify, sender } = setup();
    shopify.fos = [];
    shopify.addFo('655441491', [{ lineItemId: '466157049', sku: 'IPOD2008GREEN', quantity: 3 }]);
    shopify.loseNextCreate = true;
    const p = shipment('SSHP4', [{ lineObjectNumber: 'IPOD2008GREEN', quantity: 1 }], 'TRK4');
    const first = await sender.send(p);
    first.findings.should.containDeep([{ code: 'SHOPIFY_UNAVAILABLE', retryable: true }]);
    (await sender.send(p)).should.containEql({ ok: true, action: 'exists' });
    shopify.fulfillments.length.should.equal(1);
    shopify.fos[0]!.lines[0]!.remaining.should.equal(2);
  });

  it('unknown SKUs, unknown orders and bad payloads are findings', async () => {
    const { sender } = setup();
    (await sender.send(shipment('SSHP5', [{ lineObjectNumber: 'NOPE', quantity: 1 }]))).findings.should.containDeep([{ code: 'SHIPMENT_UNMATCHED' }]);
    (await sender.send({ ...shipment('SSHP6', []), shipment: { number: 'SSHP6', externalDocumentNumber: '#999', salesShipmentLines: [] } })).findings.should.containDeep([{ code: 'ORDER_NOT_FOUND' }]);
    (await sender.send({ shipment: { number: 5, __proto__: null } })).findings.should.containDeep([{ code: 'PAYLOAD_INVALID' }]);
    (await sender.send(null)).findings.should.containDeep([{ code: 'PAYLOAD_INVALID' }]);
  });
});
