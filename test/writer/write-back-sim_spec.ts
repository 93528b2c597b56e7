import 'should';
import { startShopifySim, type ShopifySim } from '../../sim/shopify';
import { WebhookReceiver } from '../../sim/shopify/receiver';
import { SqliteJournal } from '../../nodes/lib/journal/sqlite-journal';
import { ShopifyAdminClient } from '../../nodes/lib/shopify/admin-client';
import { isOwnWriteBack } from '../../nodes/lib/shopify/webhook-own-writes';
import { OrderWriter } from '../../nodes/lib/writer/order-writer';
import { WriterSettings } from '../../nodes/lib/writer/settings';
import { FakeBc } from './fake-bc';

// The write-back's echo end to end: the writer sets the metafield on the Shopify simulator, the simulator
// sends orders/updated for it, and the trigger's own-write check recognises exactly that delivery.
describe('writer write-back against the Shopify simulator: own orders/updated', function () {
  this.timeout(15000);
  let sim: ShopifySim;
  let rx: WebhookReceiver;
  let journal: SqliteJournal;

  beforeEach(async () => {
    sim = await startShopifySim({ seed: 5 });
    rx = await WebhookReceiver.start();
    sim.subscribe('orders/updated', rx.url);
    journal = SqliteJournal.open(':memory:');
  });
  afterEach(async () => {
    journal.close();
    await sim.close();
    await rx.close();
  });

  const updates = () => rx.deliveries.map((d) => ({ shop: String(d.headers['x-shopify-shop-domain']), body: JSON.parse(d.raw.toString('utf8')) as { id: number; updated_at: string; note: string | null } }));

  it('the orders/updated caused by the D365 number is our own; a later real change is not', async () => {
    const placed = sim.placeOrder({ lines: [{ sku: 'IPOD2008GREEN', quantity: 1 }], customer: 'C10000' });
    const shopify = new ShopifyAdminClient({ shopDomain: sim.options.shop, baseUrl: sim.url, accessToken: sim.options.accessToken, backoffBaseMs: 5 });
    const writer = new OrderWriter({ bc: new FakeBc(), journal, shopify, settings: WriterSettings.parse({ retryBaseMs: 0 }), dryRun: false, owner: 'test' });
    const r = await writer.handle({
      topic: 'orders/create', payload: placed, shopify: { shop: sim.options.shop, topic: 'orders/create', source: 'webhook' }, findings: [],
      erp: { customer: { number: 'C10000' }, lines: placed.line_items.map((l) => ({ lineItemId: String(l.id), sku: l.sku ?? '', quantity: l.quantity, itemNumber: l.sku ?? '' })) },
    });
    r.should.containEql({ ok: true, action: 'created' });
    r.findings.should.eql([]);
    sim.order(Number(placed.id))!.updated_at.should.not.equal(placed.updated_at);

    await sim.settled();
    const echo = updates();
    echo.length.should.equal(1);
    echo[0]!.body.id.should.equal(Number(placed.id));
    (await isOwnWriteBack(journal, echo[0]!.shop, placed.id, echo[0]!.body.updated_at)).should.be.true();

    sim.updateOrder(Number(placed.id), { note: 'leave at the back door' });
    await sim.settled();
    const later = updates().slice(1);
    later.length.should.equal(1);
    later[0]!.body.note!.should.equal('leave at the back door');
    (await isOwnWriteBack(journal, later[0]!.shop, placed.id, later[0]!.body.updated_at)).should.be.false();
  });
});
