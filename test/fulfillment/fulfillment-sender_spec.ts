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

function setup(over: Partial<SenderSettings> = {}) {
  const shopify = new FakeShopify();
  shopify.addFo('655441491', [{ lineItemId: '466157049', sku: 'IPOD2008GREEN', quantity: 2 }, { lineItemId: '518995019', sku: 'IPOD2008RED', quantity: 1 }]);
  const journal = new MemoryJournal();
  const waits: number[] = [];
  const sender = new FulfillmentSender({ shopify, journal: journal.asJournal(), shop: SHOP, settings: { ...settings, ...over }, sleep: async (ms) => { waits.push(ms); } });
  return { shopify, journal, sender, waits };
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

  it('a lost fulfillmentCreate answer is recovered by the tracking number on a later delivery (one fulfillment)', async () => {
    const { shopify, sender } = setup({ attempts: 1 });
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

  it('a lost answer is retried in the same send: one fulfillment, reported as fulfilled (with and without tracking)', async () => {
    for (const tracking of ['TRK8', undefined]) {
      const { shopify, journal, sender, waits } = setup();
      shopify.fos = [];
      shopify.addFo('655441491', [{ lineItemId: '466157049', sku: 'IPOD2008GREEN', quantity: 3 }]);
      shopify.loseNextCreate = true;
      const p = shipment('SSHP8', [{ lineObjectNumber: 'IPOD2008GREEN', quantity: 1 }], tracking);
      const r = await sender.send(p);
      r.should.containEql({ ok: true, action: 'fulfilled', findings: [] });
      shopify.fulfillments.length.should.equal(1, `tracking ${tracking}`);
      r.fulfillments.map((f) => f.id).should.eql([shopify.fulfillments[0]!.id]);
      shopify.fos[0]!.lines[0]!.remaining.should.equal(2);
      waits.length.should.equal(1);
      (await journal.getOrder(SHOP, '450789469'))!.documents['fulfillment:SSHP8']!.should.match(/"status":"done"/);
      (await sender.send(p)).action.should.equal('exists');
      shopify.fulfillments.length.should.equal(1);
    }
  });

  it('without tracking, a later delivery recovers a lost answer by the fulfillments seen before, not another shipment\'s', async () => {
    const { shopify, sender } = setup({ attempts: 1 });
    shopify.fos = [];
    shopify.addFo('655441491', [{ lineItemId: '466157049', sku: 'IPOD2008GREEN', quantity: 4 }]);
    const before = await sender.send(shipment('SSHP10', [{ lineObjectNumber: 'IPOD2008GREEN', quantity: 1 }]));
    before.action.should.equal('fulfilled');
    shopify.loseNextCreate = true;
    const a = shipment('SSHP11', [{ lineObjectNumber: 'IPOD2008GREEN', quantity: 1 }]);
    (await sender.send(a)).findings.should.containDeep([{ code: 'SHOPIFY_UNAVAILABLE', retryable: true }]);
    const lost = shopify.fulfillments[1]!.id;
    // Another shipment of the order is sent (and recorded) before the lost one comes again.
    (await sender.send(shipment('SSHP12', [{ lineObjectNumber: 'IPOD2008GREEN', quantity: 1 }]))).action.should.equal('fulfilled');
    const again = await sender.send(a);
    again.should.containEql({ ok: true, action: 'exists' });
    again.fulfillments.map((f) => f.id).should.eql([lost]);
    shopify.fulfillments.length.should.equal(3);
    shopify.fos[0]!.lines[0]!.remaining.should.equal(1);
  });

  it('retryable failures are repeated with growing back-off; after the last attempt SHOPIFY_UNAVAILABLE stays retryable', async () => {
    const throttled = () => Object.assign(new Error('Shopify API still throttled after 5 attempts'), { name: 'ShopifyThrottledError', retryable: true });
    const flaky = setup({ retryBaseMs: 100 });
    let fail = 2;
    const real = flaky.shopify.graphql.bind(flaky.shopify);
    (flaky.shopify as any).graphql = async (q: string, v: any) => { if (fail > 0) { fail--; throw throttled(); } return real(q, v); };
    const p = shipment('SSHP13', [{ lineObjectNumber: 'IPOD2008GREEN', quantity: 1 }], 'TRK13');
    (await flaky.sender.send(p)).should.containEql({ ok: true, action: 'fulfilled' });
    flaky.waits.length.should.equal(2);
    flaky.waits[0]!.should.be.within(50, 100);
    flaky.waits[1]!.should.be.within(100, 200);
    flaky.shopify.fulfillments.length.should.equal(1);

    const down = setup({ attempts: 4, retryBaseMs: 10 });
    let calls = 0;
    (down.shopify as any).graphql = async () => { calls++; throw Object.assign(new Error('HTTP 503 Service Unavailable'), { name: 'ShopifyHttpError', status: 503, retryable: true }); };
    const r = await down.sender.send(p);
    r.should.containEql({ ok: false, action: 'rejected' });
    r.findings.should.eql([{ code: 'SHOPIFY_UNAVAILABLE', severity: 'error', retryable: true, message: 'Shopify did not answer after 4 attempt(s): HTTP 503 Service Unavailable' }]);
    calls.should.equal(4);
    down.waits.length.should.equal(3);
  });

  it('refusals are not repeated and are not retryable', async () => {
    const { shopify, sender, waits } = setup();
    let calls = 0;
    (shopify as any).graphql = async () => { calls++; throw Object.assign(new Error('Shopify GraphQL error: ACCESS_DENIED: no scope'), { name: 'ShopifyGraphqlError' }); };
    const r = await sender.send(shipment('SSHP14', [{ lineObjectNumber: 'IPOD2008GREEN', quantity: 1 }]));
    r.findings.should.match([{ code: 'FULFILLMENT_REJECTED', severity: 'error' }]);
    (r.findings[0]!.retryable === undefined).should.be.true();
    calls.should.equal(1);
    waits.should.eql([]);
    // A bug (not a Shopify failure) is thrown at once, not repeated.
    (shopify as any).graphql = async () => { calls++; throw new TypeError('x is undefined'); };
    await sender.send(shipment('SSHP15', [{ lineObjectNumber: 'IPOD2008GREEN', quantity: 1 }])).should.be.rejectedWith(TypeError);
    calls.should.equal(2);
  });

  it('settings: attempts 1 to 10 and back-off 0 to 60000 ms, numbers from the editor as strings', () => {
    SenderSettings.parse({}).should.containEql({ attempts: 3, retryBaseMs: 1000 });
    SenderSettings.parse({ attempts: '5', retryBaseMs: '250' }).should.containEql({ attempts: 5, retryBaseMs: 250 });
    for (const bad of [{ attempts: '0' }, { attempts: '11' }, { attempts: '2.5' }, { retryBaseMs: '-1' }, { retryBaseMs: '60001' }, { attempts: 'lots' }]) {
      SenderSettings.safeParse(bad).success.should.be.false(JSON.stringify(bad));
    }
  });

  it('unknown SKUs, unknown orders and bad payloads are findings', async () => {
    const { sender } = setup();
    (await sender.send(shipment('SSHP5', [{ lineObjectNumber: 'NOPE', quantity: 1 }]))).findings.should.containDeep([{ code: 'SHIPMENT_UNMATCHED' }]);
    (await sender.send({ ...shipment('SSHP6', []), shipment: { number: 'SSHP6', externalDocumentNumber: '#999', salesShipmentLines: [] } })).findings.should.containDeep([{ code: 'ORDER_NOT_FOUND' }]);
    (await sender.send({ shipment: { number: 5, __proto__: null } })).findings.should.containDeep([{ code: 'PAYLOAD_INVALID' }]);
    (await sender.send(null)).findings.should.containDeep([{ code: 'PAYLOAD_INVALID' }]);
  });
});
