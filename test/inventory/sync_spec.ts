import 'should';
import { buildCatalogue } from '../../sim/catalogue';
import { startBcSim, type BcSim } from '../../sim/bc';
import { startShopifySim, type ShopifySim } from '../../sim/shopify';
import { BcClient } from '../../nodes/lib/d365/bc-client';
import { ClientCredentialsTokenProvider } from '../../nodes/lib/d365/token-provider';
import { ShopifyAdminClient } from '../../nodes/lib/shopify/admin-client';
import type { ShopifyAdminApi } from '../../nodes/lib/shopify/admin-api';
import { SqliteJournal } from '../../nodes/lib/journal/sqlite-journal';
import { InventorySync } from '../../nodes/lib/inventory/sync';
import { SyncRules } from '../../nodes/lib/inventory/sync-settings';

// D365 → Shopify inventory sync against both simulators (same seeded catalogue), through the real
// clients and a real SqliteJournal. Mutations are counted at the client.
const catalogue = buildCatalogue({ items: 40, customers: 5 });
const LOCS = catalogue.locations;
const tracked = catalogue.items.filter((i) => i.type === 'Inventory');
const skus = tracked.flatMap((i) => (i.variants.length ? i.variants.map((v) => ({ sku: v.sku, item: i.number, variant: v.code, stock: (l: string) => i.stock[`${l}:${v.code}`] ?? 0 })) : [{ sku: i.sku!, item: i.number, variant: '', stock: (l: string) => i.stock[l] ?? 0 }]));

describe('shopify-inventory-sync against the simulators', () => {
  let bc: BcSim;
  let shop: ShopifySim;
  let journal: SqliteJournal;
  let shopify: ShopifyAdminClient;
  let bcClient: BcClient;
  let mutations: number;
  const counting = (): ShopifyAdminApi => ({
    graphql: (q, v, o) => { if (/^\s*mutation/.test(q)) mutations++; return shopify.graphql(q, v, o); },
  });

  beforeEach(async () => {
    bc = await startBcSim({ latencyMs: 0, catalogue });
    shop = await startShopifySim({ catalogue });
    journal = SqliteJournal.open(':memory:');
    shopify = new ShopifyAdminClient({ shopDomain: shop.options.shop, baseUrl: shop.url, accessToken: shop.options.accessToken, backoffBaseMs: 5 });
    bcClient = new BcClient({ tenant: bc.tenant, environment: bc.environment, companyId: bc.companyId, baseUrl: bc.url, backoffBaseMs: 5 },
      new ClientCredentialsTokenProvider({ tenant: bc.tenant, clientId: bc.clientId, clientSecret: bc.clientSecret, tokenUrl: bc.tokenUrl }));
    mutations = 0;
  });
  afterEach(async () => {
    await journal.close();
    await bc.close();
    await shop.close();
  });

  const sync = (rules: Record<string, unknown> = {}, owner = 'me') => new InventorySync({
    rules: SyncRules.parse({ locations: LOCS.map((l) => ({ d365Location: l.code, shopifyLocation: String(l.shopifyLocationId) })), ...rules }),
    bc: () => bcClient, shopify: counting, journal, name: 'inventory-sync:n1', owner, leaseMs: 60_000,
  });
  const expectConverged = (safety: number) => {
    for (const s of skus) {
      const want = Object.fromEntries(LOCS.map((l) => [l.code, Math.max(0, s.stock(l.code) - safety)]));
      shop.available(s.sku).should.eql(want, s.sku);
    }
  };

  it('converges every mapped level (safety stock applied), in batches of at most the batch size', async () => {
    const s = sync({ safetyStock: '2', batchSize: '50' });
    const r = await s.run();
    const changed = skus.flatMap((x) => LOCS.filter((l) => x.stock(l.code) > 0)).length;
    r.should.match({ ran: true, sent: changed, errors: 0, stale: 0 });
    r.calls.should.equal(Math.ceil(changed / 50));
    mutations.should.equal(r.calls);
    expectConverged(2);
  });

  it('sends nothing (no Shopify request at all) when nothing changed since the last push', async () => {
    const s = sync({ safetyStock: '1' });
    const first = await s.run();
    first.sent.should.be.above(0);
    const before = shop.counters().graphql.requests;
    const again = await s.run();
    again.should.match({ sent: 0, calls: 0, errors: 0, unchanged: first.sent + first.unchanged });
    shop.counters().graphql.requests.should.equal(before);
    // A second node instance on the same journal remembers the last push too.
    (await sync({ safetyStock: '1' }).run()).sent.should.equal(0);
  });

  it('sends only what D365 changed, and in-flight reservations lower what Shopify shows', async () => {
    const s = sync();
    await s.run();
    const [a, b] = [skus[0]!, skus[1]!];
    bc.setStock(a.item, a.variant, 'EAST', 17);
    await journal.reserve('demo:1', [{ item: b.variant ? `${b.item}:${b.variant}` : b.item, location: 'WEST', quantity: 2, limit: 1000 }]);
    mutations = 0;
    const r = await s.run();
    r.should.match({ sent: 2, calls: 1, stale: 0 });
    mutations.should.equal(1);
    shop.available(a.sku).EAST!.should.equal(17);
    shop.available(b.sku).WEST!.should.equal(Math.max(0, b.stock('WEST') - 2));
  });

  it('recovers a stale compare: Shopify changed behind the sync\'s back, it re-reads and sets the target', async () => {
    const s = sync();
    await s.run();
    const [a, b] = [skus[0]!, skus[2]!];
    const inv = (sku: string) => [...shop.store.inventoryItems.entries()].find(([, i]) => i.sku === sku)![0];
    const east = LOCS.find((l) => l.code === 'EAST')!.shopifyLocationId;
    // Someone sets a level in Shopify; then D365 changes for it and for another item.
    shop.store.setQuantities({ name: 'available', reason: 'correction', quantities: [{ inventoryItemId: `gid://shopify/InventoryItem/${inv(a.sku)}`, locationId: `gid://shopify/Location/${east}`, quantity: 99, changeFromQuantity: null }] }, false);
    bc.setStock(a.item, a.variant, 'EAST', 7);
    bc.setStock(b.item, b.variant, 'EAST', 8);
    mutations = 0;
    const r = await s.run();
    r.should.match({ sent: 2, stale: 1, errors: 0, calls: 2 });
    shop.available(a.sku).EAST!.should.equal(7);
    shop.available(b.sku).EAST!.should.equal(8);
    // Shopify moved to the target by itself (e.g. a sale): the re-read finds it there and sends nothing for it.
    bc.setStock(a.item, a.variant, 'EAST', 6);
    shop.store.setQuantities({ name: 'available', reason: 'correction', quantities: [{ inventoryItemId: `gid://shopify/InventoryItem/${inv(a.sku)}`, locationId: `gid://shopify/Location/${east}`, quantity: 6, changeFromQuantity: null }] }, false);
    const r2 = await s.run();
    r2.should.match({ sent: 0, stale: 1, calls: 1, errors: 0 });
    (await s.run()).should.match({ sent: 0, calls: 0 });
  });

  it('takes a lease: a second instance stands by while the first holds it', async () => {
    (await sync({}, 'a').run()).ran.should.be.true();
    (await sync({}, 'b').run()).should.match({ ran: false, sent: 0 });
  });

  it('reports levels Shopify does not stock as failed items, and the rest still converge', async () => {
    const r = await sync({ locations: [{ d365Location: 'EAST', shopifyLocation: String(LOCS[0]!.shopifyLocationId) }, { d365Location: 'WEST', shopifyLocation: '123' }], safetyStock: '1' }).run();
    r.errors.should.be.above(0);
    r.failed.every((f) => f.code === 'ITEM_NOT_STOCKED_AT_LOCATION' && f.shopifyLocation === '123').should.be.true();
    shop.available(skus[0]!.sku).EAST!.should.equal(Math.max(0, skus[0]!.stock('EAST') - 1));
  });

  it('Shopify down: the batch fails with SHOPIFY_UNAVAILABLE (output 2 material) and is sent on the next run', async () => {
    let down = false;
    const s = new InventorySync({
      rules: SyncRules.parse({ locations: [{ d365Location: 'EAST', shopifyLocation: String(LOCS[0]!.shopifyLocationId) }] }),
      bc: () => bcClient, journal, name: 'x', owner: 'o', leaseMs: 1000,
      shopify: () => (down ? { graphql: async () => { throw new Error('Shopify answered HTTP 503 after 5 retries'); } } : shopify),
    });
    await s.run();
    const a = skus[0]!;
    bc.setStock(a.item, a.variant, 'EAST', 31);
    down = true;
    const r = await s.run();
    r.should.match({ sent: 0, errors: 1, failed: [{ sku: a.sku, shopifyLocation: String(LOCS[0]!.shopifyLocationId), quantity: 31, code: 'SHOPIFY_UNAVAILABLE', message: /503/ }] });
    down = false;
    (await s.run()).should.match({ sent: 1, errors: 0 });
    shop.available(a.sku).EAST!.should.equal(31);
  });
});
