import 'should';
import helper from 'node-red-node-test-helper';
import type { Node, NodeAPI } from 'node-red';
import writerNode = require('../../nodes/d365-order-writer');
import triggerNode = require('../../nodes/d365-trigger');
import senderNode = require('../../nodes/shopify-fulfillment-sender');
import { FakeBc } from '../writer/fake-bc';
import { MemoryJournal } from '../writer/memory-journal';
import { FakeShopify } from '../fulfillment/fake-shopify';
import { SHOP, createMsg, order1001 } from '../writer/fixtures';

// Config nodes stand-ins with the runtime API of d365-connection, order-journal and shopify-store.
let bc: FakeBc; let journal: MemoryJournal; let shopify: FakeShopify; let dryRun = false;
function configModule(RED: NodeAPI) {
  RED.nodes.registerType('d365-connection', function (this: Node & Record<string, unknown>, c: any) { RED.nodes.createNode(this, c); this.getClient = () => bc; this.dryRun = dryRun; });
  RED.nodes.registerType('order-journal', function (this: Node & Record<string, unknown>, c: any) { RED.nodes.createNode(this, c); this.getJournal = () => journal.asJournal(); });
  RED.nodes.registerType('shopify-store', function (this: Node & Record<string, unknown>, c: any) { RED.nodes.createNode(this, c); this.getClient = () => shopify; this.shopDomain = SHOP; });
}

const flow = [
  { id: 'conn', type: 'd365-connection' }, { id: 'jr', type: 'order-journal' }, { id: 'store', type: 'shopify-store' },
  { id: 'w', type: 'd365-order-writer', connection: 'conn', journal: 'jr', store: 'store', retryBaseMs: '0', wires: [['wdone'], ['wfail']] },
  { id: 't', type: 'd365-trigger', connection: 'conn', journal: 'jr', intervalS: '3600', startFrom: 'beginning', wires: [['s']] },
  { id: 's', type: 'shopify-fulfillment-sender', store: 'store', journal: 'jr', notifyCustomer: true, locations: 'EAST=655441491', wires: [['sdone'], ['sfail']] },
  { id: 'wdone', type: 'helper' }, { id: 'wfail', type: 'helper' }, { id: 'sdone', type: 'helper' }, { id: 'sfail', type: 'helper' },
];
const next = (id: string) => new Promise<any>((r) => helper.getNode(id).once('input', r));

describe('e2e on fakes: create → ship → fulfilled, cancel, dry run', () => {
  beforeEach(() => {
    bc = new FakeBc(); journal = new MemoryJournal(); shopify = new FakeShopify(); dryRun = false;
    shopify.addFo('655441491', [{ lineItemId: '466157049', sku: 'IPOD2008GREEN', quantity: 2 }, { lineItemId: '518995019', sku: 'IPOD2008RED', quantity: 1 }]);
  });
  afterEach(() => helper.unload());

  it('creates the D365 order (number written back), then a posted shipment becomes one Shopify fulfillment with tracking', async () => {
    await helper.load([configModule, writerNode, triggerNode, senderNode] as never, flow);
    const created = next('wdone');
    helper.getNode('w').receive(createMsg() as never);
    const m = await created;
    m.erp.salesOrder.number.should.equal(bc.sets.salesOrders![0]!.number);
    m.writer.action.should.equal('created');
    shopify.metafields['gid://shopify/Order/450789469:d365.sales_order_number']!.should.equal(m.erp.salesOrder.number);

    bc.postShipment(m.erp.salesOrder.number, { lines: [{ sequence: 10000, quantity: 2 }, { sequence: 20000, quantity: 1 }, { sequence: 30000, quantity: 1 }], trackingNumber: '1Z999', shippingAgentCode: 'UPS' });
    const sent = next('sdone');
    helper.getNode('t').receive({ payload: 'poll' } as never);
    const f = await sent;
    f.fulfillment.action.should.equal('fulfilled');
    shopify.fulfillments.length.should.equal(1);
    shopify.fulfillments[0]!.tracking!.should.eql({ company: 'UPS', number: '1Z999', url: undefined });
    // the same event again (at-least-once delivery) → no second fulfillment
    const again = next('sdone');
    helper.getNode('s').receive({ topic: 'd365/shipment', payload: { shipment: bc.sets.salesShipments![0], tracking: null } } as never);
    (await again).fulfillment.action.should.equal('exists');
    shopify.fulfillments.length.should.equal(1);
  });

  it('a redeployed d365-trigger polls at once: the stopped one gave its lease back', async () => {
    await helper.load([configModule, writerNode, triggerNode, senderNode] as never, flow);
    helper.getNode('t').receive({ payload: 'poll' } as never);
    await new Promise((r) => setTimeout(r, 50));
    const j = journal.asJournal();
    (await j.acquireLease('d365-trigger:t:lease', 'someone-else', 60_000)).should.be.false();
    await helper.unload();
    (await j.acquireLease('d365-trigger:t:lease', 'someone-else', 60_000)).should.be.true();
    await j.releaseLease('d365-trigger:t:lease', 'someone-else');
  });

  it('cancel before shipment deletes the order; failures go to output 2 with findings', async () => {
    await helper.load([configModule, writerNode, triggerNode, senderNode] as never, flow);
    const created = next('wdone');
    helper.getNode('w').receive(createMsg() as never);
    await created;
    const cancelled = next('wdone');
    helper.getNode('w').receive({ topic: 'orders/cancelled', payload: order1001(), shopify: { shop: SHOP, topic: 'orders/cancelled' } } as never);
    (await cancelled).writer.action.should.equal('cancelled');
    bc.sets.salesOrders!.should.eql([]);
    const failed = next('wfail');
    helper.getNode('w').receive({ topic: 'orders/create', payload: { id: 'x' }, shopify: { shop: SHOP, topic: 'orders/create' } } as never);
    (await failed).findings.should.containDeep([{ check: 'd365-order-writer', code: 'PAYLOAD_INVALID' }]);
  });

  it('dry run: the request is on msg.d365Request, nothing is sent', async () => {
    dryRun = true;
    await helper.load([configModule, writerNode, triggerNode, senderNode] as never, flow);
    const done = next('wdone');
    helper.getNode('w').receive(createMsg() as never);
    const m = await done;
    m.writer.action.should.equal('dry-run');
    m.d365Request[0].body.externalDocumentNumber.should.equal('#1001');
    bc.sets.salesOrders!.should.eql([]);
  });
});
