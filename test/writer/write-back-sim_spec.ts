import 'should';
import { startShopifySim, type ShopifySim } from '../../sim/shopify';
import { WebhookReceiver } from '../../sim/shopify/receiver';
import { SqliteJournal } from '../../nodes/lib/journal/sqlite-journal';
import type { Order } from '../../nodes/lib/contract';
import type { ShopifyAdminApi } from '../../nodes/lib/shopify/admin-api';
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
  // The simulator's clock for order timestamps: a write-back happens seconds after the order was placed.
  let clock: number;

  beforeEach(async () => {
    clock = Date.parse('2026-03-10T16:00:00Z');
    sim = await startShopifySim({ seed: 5, now: () => clock });
    rx = await WebhookReceiver.start();
    sim.subscribe('orders/updated', rx.url);
    journal = SqliteJournal.open(':memory:');
  });
  afterEach(async () => {
    journal.close();
    await sim.close();
    await rx.close();
  });

  const writerFor = (shopify: ShopifyAdminApi) => new OrderWriter({ bc: new FakeBc(), journal, shopify, settings: WriterSettings.parse({ retryBaseMs: 0 }), dryRun: false, owner: 'test' });
  const create = (writer: OrderWriter, placed: Order) => writer.handle({
    topic: 'orders/create', payload: placed, shopify: { shop: sim.options.shop, topic: 'orders/create', source: 'webhook' }, findings: [],
    erp: { customer: { number: 'C10000' }, lines: placed.line_items.map((l) => ({ lineItemId: String(l.id), sku: l.sku ?? '', quantity: l.quantity, itemNumber: l.sku ?? '' })) },
  });
  const client = () => new ShopifyAdminClient({ shopDomain: sim.options.shop, baseUrl: sim.url, accessToken: sim.options.accessToken, backoffBaseMs: 5 });
  const updates = () => rx.deliveries.map((d) => ({ shop: String(d.headers['x-shopify-shop-domain']), body: JSON.parse(d.raw.toString('utf8')) as { id: number; updated_at: string; note: string | null } }));

  it('the orders/updated caused by the D365 number is our own; a later real change is not', async () => {
    const placed = sim.placeOrder({ lines: [{ sku: 'IPOD2008GREEN', quantity: 1 }], customer: 'C10000' });
    clock += 4000;
    const r = await create(writerFor(client()), placed);
    r.should.containEql({ ok: true, action: 'created' });
    r.findings.should.eql([]);
    sim.order(Number(placed.id))!.updated_at.should.not.equal(placed.updated_at);

    await sim.settled();
    const echo = updates();
    echo.length.should.equal(1);
    echo[0]!.body.id.should.equal(Number(placed.id));
    (await isOwnWriteBack(journal, echo[0]!.shop, placed.id, echo[0]!.body.updated_at)).should.be.true();

    clock += 60_000;
    sim.updateOrder(Number(placed.id), { note: 'leave at the back door' });
    await sim.settled();
    const later = updates().slice(1);
    later.length.should.equal(1);
    later[0]!.body.note!.should.equal('leave at the back door');
    (await isOwnWriteBack(journal, later[0]!.shop, placed.id, later[0]!.body.updated_at)).should.be.false();
  });

  it('an edit right after the write-back is not taken for ours; our own echo still is (the answer carries the order as the write left it)', async () => {
    const placed = sim.placeOrder({ lines: [{ sku: 'IPOD2008GREEN', quantity: 1 }], customer: 'C10000' });
    clock += 4000;
    const real = client();
    const racing: ShopifyAdminApi = {
      graphql: async (query, variables, opts) => {
        const r = await real.graphql(query, variables, opts);
        // A person edits the order in the same second, right after our metafield was written.
        if (/mutation d365WriteBack/.test(query)) sim.updateOrder(Number(placed.id), { note: 'gift wrap, please' });
        return r as never;
      },
    };
    (await create(writerFor(racing), placed)).should.containEql({ ok: true, action: 'created', findings: [] });
    await sim.settled();
    const got = updates();
    got.length.should.equal(2);
    const edit = got.find((u) => u.body.note === 'gift wrap, please')!;
    (await isOwnWriteBack(journal, edit.shop, placed.id, edit.body.updated_at)).should.be.false();
    const echo = got.find((u) => u !== edit)!;
    (await isOwnWriteBack(journal, echo.shop, placed.id, echo.body.updated_at)).should.be.true();
  });
});
