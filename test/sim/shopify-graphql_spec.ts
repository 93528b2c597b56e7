import 'should';
import request from 'supertest';
import { InventoryLevel, Order, Refund } from '../../nodes/lib/contract';
import { startShopifySim, type ShopifySim } from '../../sim/shopify';
import { WebhookReceiver } from '../../sim/shopify/receiver';

const TOKEN = 'shpat_test';
type Body = { data?: any; errors?: any; extensions?: any }; // eslint-disable-line @typescript-eslint/no-explicit-any

describe('Shopify simulator: Admin GraphQL', function () {
  this.timeout(10000);
  let sim: ShopifySim;
  let rx: WebhookReceiver;
  let now = Date.parse('2026-08-01T12:00:00Z');

  const gql = async (query: string, variables?: Record<string, unknown>, version = '2026-07'): Promise<Body & { status: number }> => {
    const res = await request(sim.url).post(`/admin/api/${version}/graphql.json`).set('X-Shopify-Access-Token', TOKEN).send({ query, variables });
    return { status: res.status, ...(res.body as Body) };
  };

  beforeEach(async () => {
    now = Date.parse('2026-08-01T12:00:00Z');
    sim = await startShopifySim({ accessToken: TOKEN, webhookSecret: 's', mutationLatencyMs: 30, now: () => now });
    rx = await WebhookReceiver.start();
    for (const t of ['orders/updated', 'orders/cancelled', 'orders/fulfilled', 'orders/partially_fulfilled', 'fulfillments/create', 'refunds/create', 'inventory_levels/update']) sim.subscribe(t, rx.url);
  });
  afterEach(async () => {
    await sim.close();
    await rx.close();
  });

  it('answers 401 with Shopify\'s body without a valid token', async () => {
    for (const token of [undefined, 'wrong']) {
      const r = request(sim.url).post('/admin/api/2026-07/graphql.json');
      if (token) void r.set('X-Shopify-Access-Token', token);
      const res = await r.send({ query: '{ shop { name } }' });
      res.status.should.equal(401);
      res.body.should.eql({ errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
    }
    sim.counters().graphql.unauthorized.should.equal(2);
  });

  it('answers malformed requests with clear 400s, never a crash', async () => {
    const raw = await request(sim.url).post('/admin/api/2026-07/graphql.json').set('X-Shopify-Access-Token', TOKEN).set('Content-Type', 'application/json').send('{"query": ');
    raw.status.should.equal(400);
    raw.body.should.have.property('errors');
    const noQuery = await request(sim.url).post('/admin/api/2026-07/graphql.json').set('X-Shopify-Access-Token', TOKEN).send({ variables: {} });
    noQuery.status.should.equal(400);
    (await request(sim.url).post('/admin/api/not-a-version/graphql.json').set('X-Shopify-Access-Token', TOKEN).send({ query: '{ shop { name } }' })).status.should.equal(404);
    const badVars = await gql('query($id: ID!) { order(id: $id) { id } }', { id: { __proto__: 1 } });
    badVars.errors[0].message.should.match(/\$id/);
    const ctl = await request(sim.url).post('/_sim/orders').send({ lines: [{ sku: 'IPOD2008GREEN', quantity: -1 }], __proto__: { polluted: true } });
    ctl.status.should.equal(400);
    ctl.body.error.should.match(/quantity/);
    (({} as Record<string, unknown>).polluted === undefined).should.be.true();
    (await request(sim.url).post('/_sim/orders/123/cancel').send({})).status.should.equal(400);
  });

  it('puts extensions.cost on every answer and refuses queries over 1000 points', async () => {
    const ok = await gql('{ shop { name currencyCode } }');
    ok.data.shop.currencyCode.should.equal('USD');
    ok.extensions.cost.should.have.properties(['requestedQueryCost', 'actualQueryCost', 'throttleStatus']);
    ok.extensions.cost.throttleStatus.should.have.properties({ maximumAvailable: 2000, restoreRate: 100 });
    const invalid = await gql('{ shop { nope } }');
    invalid.errors[0].message.should.match(/nope/);
    invalid.extensions.cost.throttleStatus.maximumAvailable.should.equal(2000);
    const big = await gql('{ orders(first: 250) { edges { node { id lineItems(first: 50) { nodes { sku } } } } } }');
    big.errors[0].extensions.code.should.equal('MAX_COST_EXCEEDED');
    big.extensions.cost.requestedQueryCost.should.equal(2 + 250 * (1 + 2 + 50));
    const m = await gql('mutation { tagsAdd(id: "gid://shopify/Order/1", tags: ["x"]) { userErrors { message } } }');
    m.extensions.cost.requestedQueryCost.should.equal(10);
    m.data.tagsAdd.userErrors[0].message.should.equal('Resource not found');
  });

  it('throttles with Shopify\'s THROTTLED body when the bucket is empty (200, or 429 + Retry-After when switched)', async () => {
    for (let i = 0; i < 10; i++) sim.placeOrder();
    // Charged the requested cost up-front, refunded down to the actual cost (10 orders returned, not 50).
    const refunded = await gql('{ orders(first: 50) { nodes { id } } }');
    refunded.extensions.cost.should.containDeep({ requestedQueryCost: 52, actualQueryCost: 12 });
    refunded.extensions.cost.throttleStatus.currentlyAvailable.should.be.within(1980, 2000); // without the refund: ≤ 1948 + restore
    sim.setThrottle({ maximumAvailable: 50, restoreRate: 1 });
    const q = '{ orders(first: 10) { nodes { id } } }'; // requested (and, with 10 orders, actual) 2 + 10 × 1 = 12
    const seen: Body[] = [];
    for (let i = 0; i < 6; i++) seen.push(await gql(q));
    const throttled = seen.find((b) => b.errors)!;
    throttled.should.eql({
      status: 200,
      errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
      extensions: { cost: { requestedQueryCost: 12, actualQueryCost: null, throttleStatus: { maximumAvailable: 50, currentlyAvailable: throttled.extensions.cost.throttleStatus.currentlyAvailable, restoreRate: 1 } } },
    });
    throttled.extensions.cost.throttleStatus.currentlyAvailable.should.be.below(12);
    seen.filter((b) => !b.errors).length.should.equal(4); // 4 × 12 fit in 50 points
    sim.setThrottle({ httpStatus: 429 });
    const res = await request(sim.url).post('/admin/api/2026-07/graphql.json').set('X-Shopify-Access-Token', TOKEN).send({ query: q });
    res.status.should.equal(429);
    Number(res.headers['retry-after']).should.be.aboveOrEqual(1);
    res.body.errors[0].extensions.code.should.equal('THROTTLED');
    sim.counters().graphql.throttled.should.equal(3);
  });

  it('fulfillmentCreate: partial then full, with validation and webhooks', async () => {
    const o = sim.placeOrder({ lines: [{ sku: 'IPOD2008GREEN', quantity: 3 }, { sku: 'IPOD2008RED', quantity: 1 }], customer: 'C10000' });
    const fo = (await gql(`query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { edges { node { id status assignedLocation { location { legacyResourceId } }
      lineItems(first: 10) { edges { node { id totalQuantity remainingQuantity lineItem { id sku } } } } } } } } }`, { id: o.admin_graphql_api_id })).data.order.fulfillmentOrders.edges[0].node;
    fo.status.should.equal('OPEN');
    fo.assignedLocation.location.legacyResourceId.should.equal('655441491');
    const green = fo.lineItems.edges.find((e: any) => e.node.lineItem.sku === 'IPOD2008GREEN').node; // eslint-disable-line @typescript-eslint/no-explicit-any
    const create = `mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { fulfillment { id status trackingInfo { company number url } } userErrors { field message } } }`;
    const tooMany = await gql(create, { f: { lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: fo.id, fulfillmentOrderLineItems: [{ id: green.id, quantity: 4 }] }] } });
    tooMany.data.fulfillmentCreate.userErrors[0].message.should.match(/quantity/);
    const unknown = await gql(create, { f: { lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: 'gid://shopify/FulfillmentOrder/1' }] } });
    unknown.data.fulfillmentCreate.userErrors[0].message.should.match(/does not exist/);
    const partial = await gql(create, { f: { trackingInfo: { company: 'UPS', number: '1Z999', url: 'https://ups.example/1Z999' }, lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: fo.id, fulfillmentOrderLineItems: [{ id: green.id, quantity: 2 }] }] } });
    partial.data.fulfillmentCreate.userErrors.should.eql([]);
    partial.data.fulfillmentCreate.fulfillment.status.should.equal('SUCCESS');
    partial.data.fulfillmentCreate.fulfillment.trackingInfo.should.eql([{ company: 'UPS', number: '1Z999', url: 'https://ups.example/1Z999' }]);
    const mid = (await gql(`query($id: ID!) { order(id: $id) { displayFulfillmentStatus fulfillmentOrders(first: 1) { nodes { status } } } }`, { id: o.admin_graphql_api_id })).data.order;
    mid.displayFulfillmentStatus.should.equal('PARTIALLY_FULFILLED');
    mid.fulfillmentOrders.nodes[0].status.should.equal('IN_PROGRESS');
    const rest = await gql(create, { f: { lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: fo.id }] } });
    rest.data.fulfillmentCreate.userErrors.should.eql([]);
    const end = (await gql(`query($id: ID!) { order(id: $id) { displayFulfillmentStatus fulfillments { status } fulfillmentOrders(first: 1) { nodes { status lineItems(first: 5) { nodes { remainingQuantity } } } } } }`, { id: o.admin_graphql_api_id })).data.order;
    end.displayFulfillmentStatus.should.equal('FULFILLED');
    end.fulfillments.should.have.length(2);
    end.fulfillmentOrders.nodes[0].status.should.equal('CLOSED');
    end.fulfillmentOrders.nodes[0].lineItems.nodes.map((n: { remainingQuantity: number }) => n.remainingQuantity).should.eql([0, 0]);
    const again = await gql(create, { f: { lineItemsByFulfillmentOrder: [{ fulfillmentOrderId: fo.id }] } });
    again.data.fulfillmentCreate.userErrors[0].message.should.match(/closed/);
    await sim.settled();
    rx.byTopic('fulfillments/create').should.have.length(2);
    rx.byTopic('orders/partially_fulfilled').should.have.length(1);
    rx.byTopic('orders/fulfilled').should.have.length(1);
    rx.byTopic('orders/updated').should.have.length(2);
  });

  it('fulfillmentCreate refuses fulfillment orders of different locations', async () => {
    // EU stock of IPOD2008RED is 5: ordering 6 from Europe makes the line ship from a US location.
    const o = sim.placeOrder({ lines: [{ sku: 'IPOD2008GREEN', quantity: 1 }, { sku: 'IPOD2008RED', quantity: 6 }], customer: 'new', shipTo: 'NL-VAT' });
    const fos = (await gql(`query($id: ID!) { order(id: $id) { fulfillmentOrders(first: 5) { nodes { id assignedLocation { location { legacyResourceId } } } } } }`, { id: o.admin_graphql_api_id })).data.order.fulfillmentOrders.nodes;
    fos.should.have.length(2);
    const r = await gql(`mutation($f: FulfillmentInput!) { fulfillmentCreate(fulfillment: $f) { fulfillment { id } userErrors { message } } }`,
      { f: { lineItemsByFulfillmentOrder: fos.map((f: { id: string }) => ({ fulfillmentOrderId: f.id })) } });
    r.data.fulfillmentCreate.userErrors[0].message.should.match(/same location/);
  });

  it('inventorySetQuantities: @idempotent required, changeFromQuantity required and compared, replay and concurrency', async () => {
    const read = async () => (await gql(`{ inventoryItem(id: "gid://shopify/InventoryItem/808950810") { sku inventoryLevel(locationId: "gid://shopify/Location/655441491") { quantities(names: ["available", "on_hand"]) { name quantity } } } }`))
      .data.inventoryItem.inventoryLevel.quantities.find((q: { name: string }) => q.name === 'available').quantity as number;
    const start = await read();
    start.should.equal(50);
    const m = (key: string | null) => `mutation($input: InventorySetQuantitiesInput!) { inventorySetQuantities(input: $input)${key ? ` @idempotent(key: "${key}")` : ''} { inventoryAdjustmentGroup { id changes { name delta quantityAfterChange } } userErrors { field message code } } }`;
    const q = (quantity: number, changeFrom?: number | null) => ({ input: { name: 'available', reason: 'correction', referenceDocumentUri: 'gid://erp-connector/SyncJob/1', quantities: [{ inventoryItemId: 'gid://shopify/InventoryItem/808950810', locationId: 'gid://shopify/Location/655441491', quantity, ...(changeFrom === undefined ? {} : { changeFromQuantity: changeFrom }) }] } });

    const noKey = await gql(m(null), q(40, 50));
    noKey.errors[0].message.should.match(/@idempotent/);
    (noKey.data.inventorySetQuantities === null).should.be.true();
    (await gql(m(null), q(50, 50), '2026-01')).data.inventorySetQuantities.userErrors.should.eql([]); // optional before 2026-04

    (await gql(m('k-missing'), q(40))).data.inventorySetQuantities.userErrors[0].code.should.equal('CHANGE_FROM_QUANTITY_REQUIRED');
    const stale = await gql(m('k-stale'), q(40, 49));
    stale.data.inventorySetQuantities.userErrors[0].code.should.equal('CHANGE_FROM_QUANTITY_STALE');
    stale.data.inventorySetQuantities.userErrors[0].field.should.eql(['input', 'quantities', '0', 'changeFromQuantity']);
    (await read()).should.equal(50);

    const first = await gql(m('k-1'), q(40, 50));
    first.data.inventorySetQuantities.userErrors.should.eql([]);
    first.data.inventorySetQuantities.inventoryAdjustmentGroup.changes.should.eql([{ name: 'available', delta: -10, quantityAfterChange: 40 }]);
    const replay = await gql(m('k-1'), q(40, 50));
    replay.data.inventorySetQuantities.inventoryAdjustmentGroup.id.should.equal(first.data.inventorySetQuantities.inventoryAdjustmentGroup.id);
    (await read()).should.equal(40);
    (await gql(m('k-1'), q(41, 40))).data.inventorySetQuantities.userErrors[0].code.should.equal('IDEMPOTENCY_KEY_PARAMETER_MISMATCH');

    const [a, b] = await Promise.all([gql(m('k-2'), q(30, null)), gql(m('k-2'), q(30, null))]);
    const codes = [a, b].map((r) => r.data.inventorySetQuantities.userErrors[0]?.code ?? 'OK').sort();
    codes.should.eql(['IDEMPOTENCY_CONCURRENT_REQUEST', 'OK']);
    (await read()).should.equal(30);

    const tooMany = { input: { ...q(1, null).input, quantities: Array.from({ length: 251 }, () => q(1, null).input.quantities[0]) } };
    (await gql(m('k-3'), tooMany)).data.inventorySetQuantities.userErrors[0].message.should.match(/250/);

    await sim.settled();
    const levels = rx.byTopic('inventory_levels/update').map((d) => InventoryLevel.parse(JSON.parse(d.raw.toString())));
    levels.map((l) => l.available).should.eql([40, 30]); // setting 50 to 50 changes nothing, so no webhook
  });

  it('orderCancel runs as a job and emits orders/cancelled and refunds/create', async () => {
    const o = sim.placeOrder({ customer: 'C10000', lines: [{ sku: 'IPOD2008GREEN', quantity: 1 }] });
    const r = await gql(`mutation { orderCancel(orderId: "${o.admin_graphql_api_id}", reason: CUSTOMER, restock: true, refund: true, notifyCustomer: false, staffNote: "dup") { job { id done } orderCancelUserErrors { field message code } } }`);
    r.data.orderCancel.orderCancelUserErrors.should.eql([]);
    r.data.orderCancel.job.done.should.be.false();
    await new Promise((res) => setTimeout(res, 60));
    (await gql(`{ job(id: "${r.data.orderCancel.job.id}") { done } }`)).data.job.done.should.be.true();
    const after = (await gql(`{ order(id: "${o.admin_graphql_api_id}") { cancelledAt cancelReason displayFinancialStatus } }`)).data.order;
    after.cancelReason.should.equal('CUSTOMER');
    after.displayFinancialStatus.should.equal('REFUNDED');
    await sim.settled();
    const cancelled = Order.parse(JSON.parse(rx.byTopic('orders/cancelled')[0]!.raw.toString()));
    cancelled.cancel_reason!.should.equal('customer');
    Refund.parse(JSON.parse(rx.byTopic('refunds/create')[0]!.raw.toString())).transactions[0]!.amount.should.equal(o.total_price);
    const twice = await gql(`mutation { orderCancel(orderId: "${o.admin_graphql_api_id}", reason: CUSTOMER, restock: true) { job { id } orderCancelUserErrors { code message } } }`);
    twice.data.orderCancel.orderCancelUserErrors[0].code.should.equal('INVALID');
  });

  it('refundCreate (idempotent) emits refunds/create and moves the financial status', async () => {
    const o = sim.placeOrder({ customer: 'C10000', lines: [{ sku: 'IPOD2008GREEN', quantity: 2 }], shippingCode: 'Standard' });
    const line = o.line_items[0]!;
    const refund = `mutation($input: RefundInput!) { refundCreate(input: $input) @idempotent(key: "r-1") { refund { id totalRefundedSet { shopMoney { amount } } refundLineItems(first: 5) { nodes { quantity restockType } } } order { displayFinancialStatus } userErrors { field message code } } }`;
    const input = { orderId: o.admin_graphql_api_id, note: 'damaged', refundLineItems: [{ lineItemId: line.admin_graphql_api_id, quantity: 1, restockType: 'RETURN', locationId: 'gid://shopify/Location/655441491' }],
      transactions: [{ orderId: o.admin_graphql_api_id, gateway: 'shopify_payments', kind: 'REFUND', amount: '210.94' }] };
    const r1 = await gql(refund, { input });
    r1.data.refundCreate.userErrors.should.eql([]);
    r1.data.refundCreate.order.displayFinancialStatus.should.equal('PARTIALLY_REFUNDED');
    r1.data.refundCreate.refund.totalRefundedSet.shopMoney.amount.should.equal('210.94');
    r1.data.refundCreate.refund.refundLineItems.nodes.should.eql([{ quantity: 1, restockType: 'RETURN' }]);
    const r2 = await gql(refund, { input });
    r2.data.refundCreate.refund.id.should.equal(r1.data.refundCreate.refund.id);
    const noKey = await gql(refund.replace(' @idempotent(key: "r-1")', ''), { input });
    noKey.errors[0].message.should.match(/@idempotent/);
    await sim.settled();
    const refunds = rx.byTopic('refunds/create').map((d) => Refund.parse(JSON.parse(d.raw.toString())));
    refunds.should.have.length(1);
    refunds[0]!.refund_line_items[0]!.restock_type.should.equal('return');
    refunds[0]!.transactions[0]!.amount.should.equal('210.94');
  });

  it('metafieldsSet writes back to the order and emits orders/updated; tagsAdd too', async () => {
    const o = sim.placeOrder({ customer: 'C10000' });
    const set = await gql(`mutation($m: [MetafieldsSetInput!]!) { metafieldsSet(metafields: $m) {
        metafields { key value updatedAt owner { ... on Order { id updatedAt metafield(namespace: "erp", key: "d365_order_no") { value } } } }
        userErrors { field message code } } }`,
      { m: [{ ownerId: o.admin_graphql_api_id, namespace: 'erp', key: 'd365_order_no', type: 'single_line_text_field', value: 'SO-1001' }] });
    set.data.metafieldsSet.userErrors.should.eql([]);
    // The owner as it is after the write (what a read of the order then shows).
    const after = (await gql(`{ order(id: "${o.admin_graphql_api_id}") { updatedAt } }`)).data.order;
    set.data.metafieldsSet.metafields[0].owner.should.eql({ id: o.admin_graphql_api_id, updatedAt: after.updatedAt, metafield: { value: 'SO-1001' } });
    const tags = await gql(`mutation { tagsAdd(id: "${o.admin_graphql_api_id}", tags: ["erp:created"]) { node { id } userErrors { message } } }`);
    tags.data.tagsAdd.node.id.should.equal(o.admin_graphql_api_id);
    const read = (await gql(`{ order(id: "${o.admin_graphql_api_id}") { tags metafield(namespace: "erp", key: "d365_order_no") { value } } }`)).data.order;
    read.should.eql({ tags: ['erp:created'], metafield: { value: 'SO-1001' } });
    const bad = await gql(`mutation { metafieldsSet(metafields: [{ ownerId: "gid://shopify/Order/1", namespace: "erp", key: "x1", type: "single_line_text_field", value: "v" }]) { userErrors { code } } }`);
    bad.data.metafieldsSet.userErrors[0].code.should.equal('INVALID');
    await sim.settled();
    const updates = rx.byTopic('orders/updated').map((d) => Order.parse(JSON.parse(d.raw.toString())));
    updates.should.have.length(2);
    updates.map((u) => u.tags).sort().should.eql(['', 'erp:created']);
  });

  it('serves discount applications and line allocations the way the order\'s webhook carries them, at the modelled cost', async () => {
    const pct = sim.placeOrder({ lineCount: 3, shipTo: 'NL-VAT', customer: 'new', discount: { code: 'SPRING12', type: 'percentage', value: '12.50' } });
    const fixed = sim.placeOrder({ lines: [{ sku: 'IPOD2008GREEN', quantity: 2 }, { sku: 'IPOD2008RED', quantity: 1 }], discount: { code: 'TENOFF', type: 'fixed_amount', value: '10.00' } });
    const plain = sim.placeOrder({ lineCount: 1 });
    const q = `query($id: ID!) { order(id: $id) {
      discountCode discountCodes
      discountApplications(first: 5) { edges { cursor } nodes { __typename index allocationMethod targetSelection targetType
        value { __typename ... on MoneyV2 { amount currencyCode } ... on PricingPercentageValue { percentage } }
        ... on DiscountCodeApplication { code } ... on ManualDiscountApplication { title } } }
      lineItems(first: 10) { nodes { id discountAllocations { allocatedAmountSet { shopMoney { amount currencyCode } presentmentMoney { amount currencyCode } }
        discountApplication { index ... on DiscountCodeApplication { code } } } } }
      shippingLines(first: 5) { nodes { discountAllocations { allocatedAmountSet { shopMoney { amount } } } } }
    } }`;
    const get = async (o: { admin_graphql_api_id?: string }) => {
      const r = await gql(q, { id: o.admin_graphql_api_id });
      (r.errors === undefined).should.be.true();
      return r;
    };

    const p = await get(pct);
    const o = p.data.order;
    [o.discountCode, o.discountCodes].should.eql(['SPRING12', ['SPRING12']]);
    o.discountApplications.nodes.should.eql([{
      __typename: 'DiscountCodeApplication', index: 0, allocationMethod: 'ACROSS', targetSelection: 'ALL', targetType: 'LINE_ITEM',
      value: { __typename: 'PricingPercentageValue', percentage: 12.5 }, code: 'SPRING12',
    }]);
    o.lineItems.nodes.length.should.equal(pct.line_items.length);
    for (const [i, line] of pct.line_items.entries()) {
      const g = o.lineItems.nodes[i];
      g.id.should.equal(line.admin_graphql_api_id);
      g.discountAllocations.map((d: any) => ({ // eslint-disable-line @typescript-eslint/no-explicit-any
        amount: d.allocatedAmountSet.shopMoney.amount,
        amount_set: { shop_money: { amount: d.allocatedAmountSet.shopMoney.amount, currency_code: d.allocatedAmountSet.shopMoney.currencyCode },
          presentment_money: { amount: d.allocatedAmountSet.presentmentMoney.amount, currency_code: d.allocatedAmountSet.presentmentMoney.currencyCode } },
        discount_application_index: d.discountApplication.index,
      })).should.eql(line.discount_allocations);
      g.discountAllocations.every((d: { discountApplication: { code: string } }) => d.discountApplication.code === 'SPRING12').should.be.true();
    }
    o.lineItems.nodes.some((l: { discountAllocations: { allocatedAmountSet: { presentmentMoney: { currencyCode: string } } }[] }) =>
      l.discountAllocations[0]?.allocatedAmountSet.presentmentMoney.currencyCode === 'EUR').should.be.true();
    o.shippingLines.nodes.should.eql([{ discountAllocations: [] }]);
    // Requested: order 1 + applications (2 + 5 × 2) + lines (2 + 10 × (1 + 5)) + shipping (2 + 5 × (1 + 1 + 2)); actual counts what came back.
    p.extensions.cost.requestedQueryCost.should.equal(1 + 12 + 62 + 22);
    p.extensions.cost.actualQueryCost.should.be.below(p.extensions.cost.requestedQueryCost);

    const f = (await get(fixed)).data.order;
    f.discountApplications.nodes[0].value.should.eql({ __typename: 'MoneyV2', amount: '10.0', currencyCode: 'USD' });
    f.lineItems.nodes.map((l: { discountAllocations: { allocatedAmountSet: { shopMoney: { amount: string } } }[] }) => l.discountAllocations.map((d) => d.allocatedAmountSet.shopMoney.amount))
      .should.eql([['6.67'], ['3.33']]);
    const none = (await get(plain)).data.order;
    [none.discountCode, none.discountCodes, none.discountApplications.nodes].should.eql([null, [], []]);
    none.lineItems.nodes[0].discountAllocations.should.eql([]);

    const paged = await gql(`query($id: ID!, $after: String) { order(id: $id) { discountApplications(first: 1, after: $after, reverse: true) { pageInfo { hasNextPage endCursor } nodes { index } } } }`,
      { id: fixed.admin_graphql_api_id, after: null });
    paged.data.order.discountApplications.should.eql({ pageInfo: { hasNextPage: false, endCursor: paged.data.order.discountApplications.pageInfo.endCursor }, nodes: [{ index: 0 }] });
    const missingFirst = await gql(`query($id: ID!) { order(id: $id) { discountApplications { nodes { index } } } }`, { id: fixed.admin_graphql_api_id });
    missingFirst.errors[0].message.should.match(/first or last/);
  });

  it('reconciliation: orders(query: "updated_at:>…") pages through changed orders only', async () => {
    const t0 = new Date(now).toISOString();
    const old = Array.from({ length: 5 }, () => sim.placeOrder());
    now += 5000;
    sim.updateOrder(Number(old[1]!.id), { note: 'changed' });
    sim.updateOrder(Number(old[3]!.id), { note: 'changed' });
    const fresh = Array.from({ length: 3 }, () => sim.placeOrder());
    const page = `query($q: String!, $after: String) { orders(first: 2, after: $after, query: $q, sortKey: UPDATED_AT) { pageInfo { hasNextPage endCursor } edges { node { name updatedAt } } } }`;
    const collect = async (q: string) => {
      const names: string[] = [];
      let after: string | null = null;
      let pages = 0;
      for (;;) {
        const r: Body = await gql(page, { q, after });
        const c = r.data.orders;
        names.push(...c.edges.map((e: { node: { name: string } }) => e.node.name));
        pages++;
        if (!c.pageInfo.hasNextPage) break;
        after = c.pageInfo.endCursor;
      }
      return { names, pages };
    };
    const changed = await collect(`updated_at:>'${t0}'`);
    changed.names.sort().should.eql([old[1]!.name, old[3]!.name, ...fresh.map((f) => f.name)].sort());
    changed.pages.should.equal(3);
    (await collect(`updated_at:>='${t0}'`)).names.should.have.length(8);
    const bad = await gql(page, { q: 'colour:red', after: null });
    bad.errors[0].message.should.match(/does not support the field 'colour'/);
  });
});
