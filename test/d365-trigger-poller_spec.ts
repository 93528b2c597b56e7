import 'should';
import { D365EventPoller } from '../nodes/lib/d365-events/event-poller';
import type { D365Event } from '../nodes/lib/d365-events/event-poller';
import { FakeBc } from './writer/fake-bc';
import { MemoryJournal } from './writer/memory-journal';

async function withOrder(bc: FakeBc) {
  const so: any = await bc.post('salesOrders', { externalDocumentNumber: '#1001', customerNumber: 'C10000',
    salesOrderLines: [{ sequence: 10000, lineType: 'Item', lineObjectNumber: 'IPOD2008GREEN', quantity: 5 }] });
  return so.number as string;
}

function poller(bc: FakeBc, journal: MemoryJournal, events: D365Event[], over: Partial<ConstructorParameters<typeof D365EventPoller>[0]> = {}) {
  return new D365EventPoller({ bc, journal: journal.asJournal(), name: 'd365-trigger:n1', owner: 'me', leaseMs: 60_000, orderStatus: false,
    tracking: true, startFrom: 'beginning', emit: (e) => { events.push(e); }, ...over });
}

describe('d365-trigger: event poller', () => {
  it('emits each posted shipment once with lines and tracking, across restarts and equal timestamps', async () => {
    const bc = new FakeBc();
    const journal = new MemoryJournal();
    const so = await withOrder(bc);
    const events: D365Event[] = [];
    bc.postShipment(so, { lines: [{ sequence: 10000, quantity: 1 }], trackingNumber: '1Z1', shippingAgentCode: 'UPS' });
    (await poller(bc, journal, events).poll()).shipments.should.equal(1);
    const e = events[0]!;
    e.topic.should.equal('d365/shipment');
    e.payload.should.containEql({ orderNumber: so, externalDocumentNumber: '#1001' });
    (e.payload.shipment as any).salesShipmentLines.should.containDeep([{ lineObjectNumber: 'IPOD2008GREEN', quantity: 1 }]);
    (e.payload.tracking as any).should.containEql({ packageTrackingNo: '1Z1', shippingAgentCode: 'UPS' });
    // two more shipments with the same timestamp as each other, one arriving after the first poll saw the other
    bc.freezeClock = true;
    bc.postShipment(so, { lines: [{ sequence: 10000, quantity: 1 }] });
    (await poller(bc, journal, events).poll()).shipments.should.equal(1); // a "restarted" poller: cursor from the journal
    bc.postShipment(so, { lines: [{ sequence: 10000, quantity: 1 }] });
    (await poller(bc, journal, events).poll()).shipments.should.equal(1);
    (await poller(bc, journal, events).poll()).shipments.should.equal(0);
    events.map((x) => (x.payload.shipment as any).number).should.eql([...new Set(events.map((x) => (x.payload.shipment as any).number))]);
    events.length.should.equal(3);
    (events[1]!.payload.tracking === null).should.be.true();
  });

  it('does not advance the cursor past an event whose emit failed (at-least-once)', async () => {
    const bc = new FakeBc();
    const journal = new MemoryJournal();
    const so = await withOrder(bc);
    bc.postShipment(so, { lines: [{ sequence: 10000, quantity: 1 }] });
    const events: D365Event[] = [];
    await poller(bc, journal, events, { emit: () => { throw new Error('downstream broke'); } }).poll().should.be.rejectedWith(/downstream/);
    (await poller(bc, journal, events).poll()).shipments.should.equal(1);
  });

  it('only the lease holder polls; startFrom "now" skips history; order status changes are optional events', async () => {
    const bc = new FakeBc();
    const journal = new MemoryJournal();
    const so = await withOrder(bc);
    bc.postShipment(so, { lines: [{ sequence: 10000, quantity: 1 }] });
    const events: D365Event[] = [];
    (await poller(bc, journal, events).poll()).shipments.should.equal(1);
    (await poller(bc, journal, events, { owner: 'other' }).poll()).should.eql({ skipped: 'lease', shipments: 0, orders: 0 });
    const fresh = new MemoryJournal();
    const later: D365Event[] = [];
    (await poller(bc, fresh, later, { startFrom: 'now', now: () => new Date('2027-01-01T00:00:00Z') }).poll()).shipments.should.equal(0);
    const withStatus: D365Event[] = [];
    (await poller(bc, new MemoryJournal(), withStatus, { orderStatus: true }).poll()).orders.should.equal(1);
    withStatus.find((x) => x.topic === 'd365/order-status')!.payload.should.containEql({ orderNumber: so, externalDocumentNumber: '#1001' });
  });
});
