import 'should';
import { Order } from '../../nodes/lib/contract';
import { SqliteJournal } from '../../nodes/lib/journal/sqlite-journal';
import type { ShopifyAdminApi } from '../../nodes/lib/shopify/admin-api';
import {
  GqlOrder, ORDER_DISCOUNTS_QUERY, ORDER_LINES_QUERY, reconcileCursorName, reconcileOnce, RECONCILE_DEFAULTS, RECONCILE_QUERY, toRestOrder,
} from '../../nodes/lib/shopify/reconcile';
import type { ReconcileOptions } from '../../nodes/lib/shopify/reconcile';
import type { TriggerEvent } from '../../nodes/lib/shopify/webhook';
import { signShopifyBody } from '../../nodes/lib/shopify/hmac';
import { WebhookIntake } from '../../nodes/lib/shopify/webhook-intake';
import { noteOwnWriteBack } from '../../nodes/lib/shopify/webhook-own-writes';
import { startShopifySim, type ShopifySim } from '../../sim/shopify';
import { WebhookReceiver } from '../../sim/shopify/receiver';

const SHOP = 'demo-shop.myshopify.com';
const bag = (amount: string) => ({ shopMoney: { amount, currencyCode: 'USD' }, presentmentMoney: { amount, currencyCode: 'USD' } });
const tax = (amount: string) => ({ title: 'State Tax', rate: 0.06, priceSet: bag(amount) });

/** Order #1001 of the fixtures as the Admin GraphQL API returns it. */
function gqlOrder(id: number, updatedAt: string, over: Record<string, unknown> = {}) {
  return {
    id: `gid://shopify/Order/${id}`, legacyResourceId: String(id), name: `#${id}`, email: 'bob.norman@mail.example.com', phone: null,
    createdAt: '2026-03-10T16:00:00Z', updatedAt, processedAt: '2026-03-10T16:00:00Z', closedAt: null, cancelledAt: null, cancelReason: null,
    currencyCode: 'USD', presentmentCurrencyCode: 'USD', displayFinancialStatus: 'PAID', displayFulfillmentStatus: 'UNFULFILLED',
    taxesIncluded: false, taxExempt: false, test: false, tags: ['vip', 'web'], note: null, sourceName: 'web', poNumber: null,
    paymentGatewayNames: ['bogus'], customAttributes: [{ key: 'gift_message', value: 'Happy Birthday' }],
    subtotalPriceSet: bag('587.0'), totalPriceSet: bag('632.82'), totalTaxSet: bag('35.82'), totalDiscountsSet: bag('10.0'),
    totalShippingPriceSet: bag('10.0'), totalOutstandingSet: bag('0.0'), taxLines: [tax('35.82')],
    customer: { id: 'gid://shopify/Customer/207119551', legacyResourceId: '207119551', email: 'bob.norman@mail.example.com', firstName: 'Bob', lastName: 'Norman', phone: null },
    shippingAddress: { firstName: 'Bob', lastName: 'Norman', name: 'Bob Norman', company: null, address1: 'Chestnut Street 92', address2: '', city: 'Louisville', province: 'Kentucky', provinceCode: 'KY', zip: '40202', country: 'United States', countryCodeV2: 'US', phone: null },
    billingAddress: null,
    lineItems: { nodes: [{
      id: 'gid://shopify/LineItem/466157049', sku: 'IPOD2008GREEN', title: 'IPod Nano - 8gb', variantTitle: 'green', name: 'IPod Nano - 8gb - green', vendor: null,
      quantity: 2, currentQuantity: 2, requiresShipping: true, taxable: true, variant: { legacyResourceId: '39072856' }, product: { legacyResourceId: '632910392' },
      originalUnitPriceSet: bag('199.0'), totalDiscountSet: bag('10.0'), taxLines: [tax('23.28')],
    }] },
    shippingLines: { nodes: [{ id: 'gid://shopify/ShippingLine/369256396', code: 'Standard', title: 'Standard', source: 'shopify', carrierIdentifier: null, originalPriceSet: bag('10.0'), discountedPriceSet: bag('10.0'), taxLines: [tax('0.60')] }] },
    ...over,
  };
}

/** A fake Admin API holding orders; answers the reconciliation query like Shopify: updated_at filter, UPDATED_AT order, cursor paging. */
class FakeShop implements ShopifyAdminApi {
  orders: ReturnType<typeof gqlOrder>[] = [];
  calls: Record<string, unknown>[] = [];
  async graphql<T>(query: string, variables: Record<string, unknown> = {}): Promise<T> {
    this.calls.push(variables);
    const linePage = (lines: unknown[], after: unknown, first: unknown) => {
      const start = after ? Number(after) : 0;
      const nodes = lines.slice(start, start + Number(first));
      return { pageInfo: { hasNextPage: start + nodes.length < lines.length, endCursor: String(start + nodes.length) }, nodes };
    };
    if (query === ORDER_LINES_QUERY) {
      const o = this.orders.find((x) => x.id === variables.id);
      return { order: o ? { lineItems: linePage(o.lineItems.nodes, variables.after, variables.first) } : null } as T;
    }
    if (query === ORDER_DISCOUNTS_QUERY) {
      const o = this.orders.find((x) => x.id === variables.id) as { discountApplications?: { nodes: unknown[] } } | undefined;
      return { order: o ? { discountApplications: linePage(o.discountApplications?.nodes ?? [], variables.after, variables.first) } : null } as T;
    }
    query.should.equal(RECONCILE_QUERY);
    const m = /^updated_at:>'(.+)'$/.exec(String(variables.query));
    if (!m) throw new Error(`unexpected search ${String(variables.query)}`);
    const since = Date.parse(m[1]);
    const all = this.orders.filter((o) => Date.parse(o.updatedAt) > since).sort((a, b) => Date.parse(a.updatedAt) - Date.parse(b.updatedAt));
    const start = variables.after ? Number(variables.after) : 0;
    const nodes = all.slice(start, start + Number(variables.first)).map((o) => {
      const d = (o as { discountApplications?: { nodes: unknown[] } }).discountApplications;
      return { ...o, lineItems: linePage(o.lineItems.nodes, null, variables.lines), ...(d ? { discountApplications: linePage(d.nodes, null, 5) } : {}) };
    });
    const end = start + nodes.length;
    return { orders: { pageInfo: { hasNextPage: end < all.length, endCursor: nodes.length ? String(end) : null }, nodes } } as T;
  }
}

describe('shopify reconcile: GraphQL → REST mapping', () => {
  it('produces a payload the Order schema accepts, with webhook-shaped fields', () => {
    const rest = toRestOrder(GqlOrder.parse(gqlOrder(450789469, '2026-03-10T16:00:01Z')));
    const o = Order.parse(rest);
    o.id.should.equal(450789469);
    o.financial_status!.should.equal('paid');
    (o.fulfillment_status === null).should.be.true();
    o.tags.should.equal('vip, web');
    o.total_price.should.equal('632.82');
    o.note_attributes.should.eql([{ name: 'gift_message', value: 'Happy Birthday' }]);
    o.line_items[0].should.containEql({ id: 466157049, variant_id: 39072856, product_id: 632910392, sku: 'IPOD2008GREEN', quantity: 2, price: '199.0' });
    o.line_items[0].total_discount!.should.equal('10.0');
    o.total_discounts!.should.equal('10.0');
    o.discount_applications.should.eql([]);
    o.discount_codes.should.eql([]);
    o.line_items[0].discount_allocations.should.eql([]);
    o.shipping_lines[0].should.containEql({ id: 369256396, code: 'Standard', price: '10.0' });
    o.shipping_address!.country_code!.should.equal('US');
    o.customer!.id.should.equal(207119551);
  });
});

const app = (index: number, typename: string, targetType: string, value: unknown, extra: Record<string, unknown>) =>
  ({ __typename: typename, index, allocationMethod: 'ACROSS', targetSelection: 'ALL', targetType, value, ...extra });
const alloc = (index: number, amount: string) => ({ allocatedAmountSet: bag(amount), discountApplication: { index } });
const restAlloc = (index: number, amount: string) => ({
  amount, discount_application_index: index,
  amount_set: { shop_money: { amount, currency_code: 'USD' }, presentment_money: { amount, currency_code: 'USD' } },
});

describe('shopify reconcile: discounts', () => {
  /** A code, an automatic percentage and a manual free-shipping discount, listed out of index order. */
  function discounted(id: number, extraApps: ReturnType<typeof app>[] = []) {
    const base = gqlOrder(id, '2026-03-10T16:40:00Z');
    const line = base.lineItems.nodes[0];
    return {
      ...base,
      discountApplications: { nodes: [
        app(2, 'ManualDiscountApplication', 'SHIPPING_LINE', { percentage: 100 }, { title: 'Free shipping', description: 'staff courtesy' }),
        app(0, 'DiscountCodeApplication', 'LINE_ITEM', { amount: '10.0', currencyCode: 'USD' }, { code: 'TENOFF' }),
        app(1, 'AutomaticDiscountApplication', 'LINE_ITEM', { percentage: 12.5 }, { title: 'Spring' }),
        ...extraApps,
      ] },
      lineItems: { nodes: [
        { ...line, discountAllocations: [alloc(0, '6.67'), alloc(1, '48.92')] },
        { ...line, id: 'gid://shopify/LineItem/2', sku: 'IPOD2008RED', quantity: 1, discountAllocations: [alloc(0, '3.33'), alloc(1, '24.46')] },
      ] },
      shippingLines: { nodes: [{ ...base.shippingLines.nodes[0], discountedPriceSet: bag('0.00'), discountAllocations: [alloc(2, '10.00')] }] },
    };
  }

  it('maps applications in index order, line and shipping allocations, and the codes with what they took off', () => {
    const o = Order.parse(toRestOrder(GqlOrder.parse(discounted(7001))));
    o.discount_applications.should.eql([
      { target_type: 'line_item', type: 'discount_code', value: '10.0', value_type: 'fixed_amount', allocation_method: 'across', target_selection: 'all', code: 'TENOFF' },
      { target_type: 'line_item', type: 'automatic', value: '12.5', value_type: 'percentage', allocation_method: 'across', target_selection: 'all', title: 'Spring' },
      { target_type: 'shipping_line', type: 'manual', value: '100.0', value_type: 'percentage', allocation_method: 'across', target_selection: 'all', title: 'Free shipping', description: 'staff courtesy' },
    ]);
    o.line_items.map((l) => l.discount_allocations).should.eql([[restAlloc(0, '6.67'), restAlloc(1, '48.92')], [restAlloc(0, '3.33'), restAlloc(1, '24.46')]]);
    o.shipping_lines[0].discount_allocations.should.eql([restAlloc(2, '10.00')]);
    o.discount_codes.should.eql([{ code: 'TENOFF', amount: '10.00', type: 'fixed_amount' }]);
  });

  it('types a shipping code "shipping", and keeps an application type it does not know under a readable name', () => {
    const g = discounted(7002);
    g.discountApplications.nodes[0] = app(2, 'DiscountCodeApplication', 'SHIPPING_LINE', { percentage: 100 }, { code: 'FREESHIP' });
    g.discountApplications.nodes.push(app(3, 'FutureDiscountApplication', 'LINE_ITEM', { amount: '1.0', currencyCode: 'USD' }, {}));
    const o = Order.parse(toRestOrder(GqlOrder.parse(g)));
    o.discount_codes.should.eql([{ code: 'TENOFF', amount: '10.00', type: 'fixed_amount' }, { code: 'FREESHIP', amount: '10.00', type: 'shipping' }]);
    o.discount_applications[3].type.should.equal('future');
  });

  it('rejects an application without a value as an unmappable order', () => {
    const g = discounted(7003);
    delete (g.discountApplications.nodes[1] as { value?: unknown }).value;
    GqlOrder.safeParse(g).success.should.be.false();
  });
});

describe('shopify reconcile: runs', () => {
  let journal: SqliteJournal;
  let shop: FakeShop;
  let emitted: any[];
  let invalid: string[];
  let now: number;
  const intake = () => new WebhookIntake({
    journal, ignoreOwnWriteBacks: true, emit: (m) => emitted.push(m),
    policy: () => ({ shopDomain: SHOP, secrets: ['s'], topics: new Set(['orders/create', 'orders/updated']), ignoreTest: false }),
  });
  const opts = (over: Partial<ReconcileOptions> = {}): ReconcileOptions => {
    const i = intake();
    return {
      api: shop, journal, ingest: (e) => i.ingest(e), shop: SHOP, apiVersion: '2026-07', owner: 'a', leaseTtlMs: 60_000,
      lookbackMs: 3_600_000, pageSize: 2, ignoreTest: true, ignoreOwnWriteBacks: true, now: () => now,
      onInvalid: (id, reason) => invalid.push(`${id}: ${reason}`), ...over,
    };
  };
  beforeEach(() => {
    journal = SqliteJournal.open(':memory:');
    shop = new FakeShop();
    emitted = [];
    invalid = [];
    now = Date.parse('2026-03-10T17:00:00Z');
  });
  afterEach(() => journal.close());

  it('emits orders updated since the lookback, pages through, and emits each version once across runs', async () => {
    shop.orders = [1, 2, 3].map((n) => gqlOrder(1000 + n, `2026-03-10T16:0${n}:00Z`));
    shop.orders.push(gqlOrder(999, '2026-03-10T15:00:00Z')); // before the lookback window
    const r = await reconcileOnce(opts());
    r.should.containEql({ ran: true, fetched: 3, emitted: 3, skipped: 0, cursor: '2026-03-10T16:03:00.000Z', more: false });
    shop.calls.length.should.equal(2);
    shop.calls[0].query!.should.equal("updated_at:>'2026-03-10T16:00:00.000Z'");
    emitted.map((m) => m.payload.id).should.eql([1001, 1002, 1003]);
    emitted[0].topic.should.equal('orders/updated');
    emitted[0].shopify.should.eql({ shop: SHOP, topic: 'orders/updated', apiVersion: '2026-07', source: 'reconcile' });
    (await journal.getCursor(reconcileCursorName(SHOP)))!.should.equal('2026-03-10T16:03:00.000Z');

    // Next run re-reads the overlap before the cursor: nothing new is emitted; a new version is.
    shop.orders[1] = gqlOrder(1002, '2026-03-10T16:04:00Z', { displayFinancialStatus: 'REFUNDED' });
    const r2 = await reconcileOnce(opts());
    r2.should.containEql({ fetched: 2, emitted: 1, skipped: 1, cursor: '2026-03-10T16:04:00.000Z' });
    shop.calls[2].query!.should.equal("updated_at:>'2026-03-10T16:01:00.000Z'");
    emitted.slice(3).map((m) => [m.payload.id, m.payload.financial_status]).should.eql([[1002, 'refunded']]);
  });

  it('skips a version whose webhook already arrived, and emits one whose webhook was dropped', async () => {
    const i = intake();
    const seen = toRestOrder(GqlOrder.parse(gqlOrder(2001, '2026-03-10T16:10:00Z')));
    const raw = Buffer.from(JSON.stringify({ ...seen, updated_at: '2026-03-10T11:10:00-05:00' })); // same instant, shop offset
    const a = await i.receive({
      'x-shopify-hmac-sha256': signShopifyBody('s', raw), 'x-shopify-topic': 'orders/create', 'x-shopify-shop-domain': SHOP, 'x-shopify-webhook-id': 'wh-2001',
    }, raw);
    await a.after!();
    shop.orders = [gqlOrder(2001, '2026-03-10T16:10:00Z'), gqlOrder(2002, '2026-03-10T16:11:00Z')];
    const r = await reconcileOnce(opts());
    r.should.containEql({ fetched: 2, emitted: 1, skipped: 1 });
    emitted.map((m) => [m.payload.id, m.shopify.source]).should.eql([[2001, 'webhook'], [2002, 'reconcile']]);
  });

  it('fetches the remaining line items of an order with more lines than fit in one request', async () => {
    const base = gqlOrder(6001, '2026-03-10T16:30:00Z');
    const line = base.lineItems.nodes[0];
    const lines = [1, 2, 3, 4, 5].map((n) => ({ ...line, id: `gid://shopify/LineItem/${n}`, sku: `SKU-${n}` }));
    shop.orders = [{ ...base, lineItems: { nodes: lines } }];
    const r = await reconcileOnce(opts({ linesPerOrder: 2 }));
    r.should.containEql({ emitted: 1, invalid: 0 });
    emitted[0].payload.line_items.map((l: any) => l.sku).should.eql(['SKU-1', 'SKU-2', 'SKU-3', 'SKU-4', 'SKU-5']);
    shop.calls.length.should.equal(2); // orders page, then one page of the remaining lines (50 per request)
  });

  it('fetches the remaining discount applications of an order with more than fit in one request', async () => {
    const base = gqlOrder(6101, '2026-03-10T16:31:00Z');
    const apps = Array.from({ length: 7 }, (_, i) => ({ __typename: 'AutomaticDiscountApplication', index: i, allocationMethod: 'EACH', targetSelection: 'ENTITLED',
      targetType: 'LINE_ITEM', value: { percentage: i + 1 }, title: `Promo ${i}` }));
    shop.orders = [{ ...base, discountApplications: { nodes: apps } } as ReturnType<typeof gqlOrder>];
    const r = await reconcileOnce(opts());
    r.should.containEql({ emitted: 1, invalid: 0 });
    emitted[0].payload.discount_applications.map((a: any) => [a.title, a.value, a.allocation_method]).should.eql(apps.map((_, i) => [`Promo ${i}`, `${i + 1}.0`, 'each']));
    shop.calls.length.should.equal(2);
  });

  it('stands by when another instance holds the lease', async () => {
    shop.orders = [gqlOrder(3001, '2026-03-10T16:10:00Z')];
    (await journal.acquireLease(reconcileCursorName(SHOP), 'other-instance', 60_000)).should.be.true();
    const r = await reconcileOnce(opts());
    r.ran.should.be.false();
    shop.calls.length.should.equal(0);
    emitted.length.should.equal(0);
  });

  it('ignores test orders and our own write-backs, reports an unmappable order and carries on', async () => {
    await noteOwnWriteBack(journal, SHOP, 4002, '2026-03-10T16:12:00Z');
    shop.orders = [
      gqlOrder(4001, '2026-03-10T16:11:00Z', { test: true }),
      gqlOrder(4002, '2026-03-10T16:12:00Z'),
      gqlOrder(4003, '2026-03-10T16:13:00Z', { lineItems: { nodes: [] } }),
      gqlOrder(4004, '2026-03-10T16:14:00Z'),
    ];
    const r = await reconcileOnce(opts());
    r.should.containEql({ fetched: 4, emitted: 1, ignored: 2, invalid: 1, cursor: '2026-03-10T16:14:00.000Z' });
    invalid.should.have.length(1);
    invalid[0].should.match(/^4003: line_items/);
    emitted.map((m) => m.payload.id).should.eql([4004]);
  });

  it('stops at maxPages and continues from the cursor next time; "since" re-reads without moving the cursor back', async () => {
    shop.orders = [1, 2, 3, 4, 5].map((n) => gqlOrder(5000 + n, `2026-03-10T16:2${n}:00Z`));
    const r = await reconcileOnce(opts({ pageSize: 1, maxPages: 2 }));
    r.should.containEql({ emitted: 2, more: true, cursor: '2026-03-10T16:22:00.000Z' });
    const r2 = await reconcileOnce(opts({ pageSize: 10, overlapMs: 0 }));
    r2.should.containEql({ emitted: 3, more: false, cursor: '2026-03-10T16:25:00.000Z' });
    const r3 = await reconcileOnce(opts({ pageSize: 10 }), '2026-03-10T16:00:00Z');
    r3.should.containEql({ fetched: 5, emitted: 0, skipped: 5, cursor: '2026-03-10T16:25:00.000Z' });
    await reconcileOnce(opts(), 'yesterday').should.be.rejectedWith(/since/);
  });

  it('continues where a run stopped at maxPages, even when more orders than one run reads share the overlap', async () => {
    // Nine orders within ten seconds (well inside the 120 s overlap), three per run.
    shop.orders = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((n) => gqlOrder(6000 + n, `2026-03-10T16:20:0${n}Z`));
    const ids: string[] = [];
    const o = opts({ pageSize: 1, maxPages: 3, ingest: async (e: TriggerEvent) => {
      const r = await journal.recordEvent(e.record);
      if (r.status === 'new') ids.push(String((e.msg.payload as { id: unknown }).id));
      return r;
    } });
    (await reconcileOnce(o)).should.containEql({ emitted: 3, more: true, cursor: '2026-03-10T16:20:03.000Z' });
    // Each run continues the same query after the last page the one before read.
    (await reconcileOnce(o)).should.containEql({ emitted: 3, skipped: 0, more: true, cursor: '2026-03-10T16:20:06.000Z' });
    (await reconcileOnce(o)).should.containEql({ emitted: 3, skipped: 0, more: false, cursor: '2026-03-10T16:20:09.000Z' });
    ids.should.eql(['6001', '6002', '6003', '6004', '6005', '6006', '6007', '6008', '6009']);
    // Caught up: the next run looks back by the overlap again (and finds nothing new).
    (await journal.getCursor(`${reconcileCursorName(SHOP)}:continue`) === undefined).should.be.true();
    (await reconcileOnce(o)).should.containEql({ fetched: 3, emitted: 0, more: true });
    // An unreadable continuation is ignored (a fresh look back), never an error.
    await journal.setCursor(`${reconcileCursorName(SHOP)}:continue`, 'not json');
    (await reconcileOnce(o)).should.containEql({ fetched: 3, emitted: 0 });
  });

  it('orders updated in the same second as more than a run reads are all reached', async () => {
    shop.orders = Array.from({ length: 7 }, (_, n) => gqlOrder(7000 + n, '2026-03-10T16:30:00Z'));
    const seen = new Set<string>();
    const o = opts({ pageSize: 1, maxPages: 2, ingest: async (e: TriggerEvent) => {
      const r = await journal.recordEvent(e.record);
      if (r.status === 'new') seen.add(String((e.msg.payload as { id: unknown }).id));
      return r;
    } });
    for (let run = 0; run < 4; run++) await reconcileOnce(o);
    seen.size.should.equal(7);
  });

  it('fails the run on an unexpected API answer without moving the cursor', async () => {
    const broken: ShopifyAdminApi = { graphql: async <T>() => ({ orders: null }) as T };
    await reconcileOnce(opts({ api: broken })).should.be.rejectedWith(/unexpected orders response/);
    (await journal.getCursor(reconcileCursorName(SHOP)) === undefined).should.be.true();
  });
});

describe('shopify reconcile: discounts against the Shopify simulator', function () {
  this.timeout(15000);
  let sim: ShopifySim;
  let rx: WebhookReceiver;
  let journal: SqliteJournal;

  beforeEach(async () => {
    sim = await startShopifySim({ seed: 11 });
    rx = await WebhookReceiver.start();
    sim.subscribe('orders/create', rx.url);
    journal = SqliteJournal.open(':memory:');
  });
  afterEach(async () => {
    journal.close();
    await sim.close();
    await rx.close();
  });

  /** The Admin API over HTTP, keeping the requested cost the simulator reports for every request. */
  const costs: { query: string; requested: number }[] = [];
  const api: ShopifyAdminApi = {
    graphql: async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
      const res = await fetch(`${sim.url}/admin/api/${sim.options.apiVersion}/graphql.json`, {
        method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Shopify-Access-Token': sim.options.accessToken }, body: JSON.stringify({ query, variables }),
      });
      const body = await res.json() as { data?: T; errors?: unknown; extensions: { cost: { requestedQueryCost: number } } };
      costs.push({ query, requested: body.extensions.cost.requestedQueryCost });
      if (body.errors) throw new Error(JSON.stringify(body.errors));
      return body.data!;
    },
  };

  it('a reconciled order carries the same discount fields as its orders/create webhook, each request under 1,000 points', async () => {
    costs.length = 0;
    const placed = [
      sim.placeOrder({ lines: [{ sku: 'IPOD2008GREEN', quantity: 2 }, { sku: 'IPOD2008RED', quantity: 1 }], customer: 'C10000', discount: { code: 'TENOFF', type: 'fixed_amount', value: '10.00' } }),
      sim.placeOrder({ lineCount: 3, shipTo: 'NL-VAT', customer: 'new', discount: { code: 'SPRING12', type: 'percentage', value: '12.50' } }),
      // More lines than one request reads: the rest come by follow-up requests, allocations included.
      sim.placeOrder({ lineCount: RECONCILE_DEFAULTS.linesPerOrder + 4, currency: 'CAD', discount: { code: 'BIG5', type: 'fixed_amount', value: '5.00' } }),
      sim.placeOrder({ lineCount: 2 }),
    ];
    placed[2]!.line_items.length.should.be.above(RECONCILE_DEFAULTS.linesPerOrder);
    await sim.settled();
    const hooks = new Map<number, Record<string, any>>();
    for (const d of rx.deliveries) {
      const body = JSON.parse(d.raw.toString('utf8')) as Record<string, any>;
      hooks.set(body.id, body);
    }
    hooks.size.should.equal(placed.length);

    const emitted: Record<string, any>[] = [];
    const r = await reconcileOnce({
      api, journal, shop: sim.options.shop, owner: 'test', leaseTtlMs: 60_000, lookbackMs: 3_600_000, ignoreTest: false, ignoreOwnWriteBacks: false,
      ingest: async (e) => {
        emitted.push(e.msg.payload as Record<string, any>);
        return { status: 'new', seq: emitted.length };
      },
    });
    r.should.containEql({ fetched: placed.length, emitted: placed.length, invalid: 0 });

    const discountFields = (o: Record<string, any>) => ({
      discount_applications: o.discount_applications,
      discount_codes: o.discount_codes,
      lines: o.line_items.map((l: any) => [l.id, l.discount_allocations]),
      shipping: o.shipping_lines.map((s: any) => s.discount_allocations),
    });
    for (const got of emitted) discountFields(got).should.eql(discountFields(hooks.get(got.id)!));
    emitted.filter((o) => o.discount_codes.length).length.should.equal(3);
    emitted.find((o) => o.id === placed[1]!.id)!.line_items[0].discount_allocations[0].amount_set.presentment_money.currency_code.should.equal('EUR');

    costs.map((c) => c.query).should.containEql(ORDER_LINES_QUERY);
    for (const c of costs) c.requested.should.be.belowOrEqual(1000);
    costs.find((c) => c.query === RECONCILE_QUERY)!.requested.should.be.above(800); // the defaults use most of the budget, not a tiny page
  });
});
