import 'should';
import helper from 'node-red-node-test-helper';
import { mkdtempSync, rmSync } from 'fs';
import os from 'os';
import path from 'path';
import d365Connection = require('../../nodes/d365-connection');
import orderJournal = require('../../nodes/order-journal');
import shopifyStore = require('../../nodes/shopify-store');
import inventorySync = require('../../nodes/shopify-inventory-sync');
import { buildCatalogue } from '../../sim/catalogue';
import { startBcSim, type BcSim } from '../../sim/bc';
import { startShopifySim, type ShopifySim } from '../../sim/shopify';

// The sync node with the real shopify-store, d365-connection and order-journal config nodes, pointed at the simulators.
const catalogue = buildCatalogue({ items: 20, customers: 5 });

describe('shopify-inventory-sync node (simulators)', () => {
  let bc: BcSim;
  let shop: ShopifySim;
  before(async () => {
    bc = await startBcSim({ latencyMs: 0, catalogue });
    shop = await startShopifySim({ catalogue });
  });
  after(async () => { await bc.close(); await shop.close(); });
  afterEach(() => helper.unload());

  const load = (cfg: Record<string, unknown> = {}, journalFile = ':memory:') => helper.load([d365Connection, orderJournal, shopifyStore, inventorySync], [
    { id: 't', type: 'tab' },
    { id: 'bc', type: 'd365-connection', tenant: bc.tenant, environment: bc.environment, companyId: bc.companyId, baseUrl: bc.url, tokenUrl: bc.tokenUrl },
    { id: 'j', type: 'order-journal', file: journalFile },
    { id: 's', type: 'shopify-store', shopDomain: shop.options.shop, baseUrl: shop.url },
    { id: 'n', z: 't', type: 'shopify-inventory-sync', store: 's', connection: 'bc', journal: 'j', intervalS: '0', batchSize: '250',
      locations: catalogue.locations.map((l) => ({ d365Location: l.code, shopifyLocation: `gid://shopify/Location/${l.shopifyLocationId}` })),
      separator: '-', skuMapping: [], safetyStock: '3', safetyStockItems: [], subtractReservations: true, ...cfg, wires: [['report'], ['failed']] },
    { id: 'report', z: 't', type: 'helper' },
    { id: 'failed', z: 't', type: 'helper' },
  ], { bc: { clientId: bc.clientId, clientSecret: bc.clientSecret }, s: { accessToken: shop.options.accessToken } });
  const trigger = (msg: Record<string, unknown> = { payload: 'go' }) => {
    const got = new Promise<any>((r) => helper.getNode('report').once('input', r));
    helper.getNode('n').receive(msg as never);
    return got;
  };

  it('an input message runs it: report on output 1; a second run sends nothing; no secret in the output or status', async () => {
    await load();
    const first = await trigger({ topic: 'd365/shipment', payload: { any: 1 } });
    first.topic.should.equal('inventory/sync');
    first.payload.should.match({ ran: true, errors: 0, stale: 0 });
    first.payload.sent.should.be.above(0);
    const item = catalogue.items.find((i) => i.type === 'Inventory' && !i.variants.length && i.sku && (i.stock.EAST ?? 0) > 3)!;
    shop.available(item.sku!).EAST!.should.equal(item.stock.EAST! - 3);
    const second = await trigger();
    second.payload.should.match({ sent: 0, calls: 0 });
    const n = helper.getNode('n');
    n.status.should.be.calledWithMatch({ fill: 'green', text: `${first.payload.sent} sent` });
    const seen = JSON.stringify([first, second, (n.status as any).args]);
    seen.should.not.containEql(shop.options.accessToken);
    seen.should.not.containEql(bc.clientSecret);
  });

  it('failed levels go to output 2', async () => {
    await load({ locations: [{ d365Location: 'EAST', shopifyLocation: '42' }] });
    const failed = new Promise<any>((r) => helper.getNode('failed').once('input', r));
    const report = await trigger();
    report.payload.errors.should.be.above(0);
    const f = await failed;
    f.topic.should.equal('inventory/sync-failed');
    f.payload[0].should.match({ code: 'ITEM_NOT_STOCKED_AT_LOCATION', shopifyLocation: '42' });
    helper.getNode('n').status.should.be.calledWithMatch({ fill: 'yellow' });
  });

  it('after a redeploy the new instance runs at once: the stopped one gave its lease back', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'sync-node-'));
    try {
      const file = path.join(dir, 'journal.sqlite');
      await load({}, file);
      (await trigger()).payload.ran.should.be.true();
      await helper.unload();
      // Same node id, new instance (a new lease owner), same journal file: as a deploy restarts the node.
      await load({}, file);
      const next = await Promise.race([trigger(), new Promise((r) => setTimeout(() => r('no report'), 5000))]);
      next.should.match({ payload: { ran: true } }, 'the redeployed sync stood by behind its predecessor\'s lease');
      helper.getNode('n').status.should.not.be.calledWithMatch({ text: 'standby (lease elsewhere)' });
    } finally {
      await helper.unload();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe('timer and input message on one run: one report', function () {
    this.timeout(15000);
    // Slow D365 answers keep the first run going past the first timer tick (2 s after deploy).
    beforeEach(() => bc.setLatency(2100));
    afterEach(() => bc.setLatency(0));
    const reports = () => {
      const got: any[] = [];
      helper.getNode('report').on('input', (m: any) => got.push(m));
      return got;
    };
    const until = async (cond: () => boolean, ms: number) => {
      for (const end = Date.now() + ms; !cond() && Date.now() < end;) await new Promise((r) => setTimeout(r, 50));
    };

    it('a tick that joins the run an input message started sends no second report', async () => {
      await load({ intervalS: '10' });
      const got = reports();
      helper.getNode('n').receive({ payload: 'go', _mine: 1 } as never);
      await until(() => got.length > 0, 12000);
      await new Promise((r) => setTimeout(r, 500));
      got.length.should.equal(1);
      got[0].should.match({ _mine: 1, topic: 'inventory/sync', payload: { ran: true } });
    });

    it('an input message that joins a timed run gets its report, and the tick sends none of its own', async () => {
      await load({ intervalS: '10' });
      const got = reports();
      await new Promise((r) => setTimeout(r, 2400));
      got.length.should.equal(0);
      helper.getNode('n').receive({ payload: 'go', _mine: 2 } as never);
      await until(() => got.length > 0, 12000);
      await new Promise((r) => setTimeout(r, 500));
      got.length.should.equal(1);
      got[0].should.match({ _mine: 2, topic: 'inventory/sync', payload: { ran: true } });
    });
  });

  it('refuses invalid settings with node.error and a red status', async () => {
    await load({ locations: [], intervalS: '5' });
    const n = helper.getNode('n');
    n.error.should.be.calledWithMatch(/shopify-inventory-sync: invalid configuration: .*map at least one D365 location/);
    n.status.should.be.calledWithMatch({ fill: 'red', text: 'invalid config' });
  });
});
