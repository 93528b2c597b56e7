import 'should';
import { createHmac, timingSafeEqual } from 'crypto';
import request from 'supertest';
import { Order, TOPIC_SCHEMAS, isShopifyTopic } from '../../nodes/lib/contract';
import { startShopifySim, type ShopifySim } from '../../sim/shopify';
import { WebhookReceiver, type ReceivedDelivery } from '../../sim/shopify/receiver';

const SECRET = 'test-client-secret';
const REQUIRED = ['x-shopify-topic', 'x-shopify-hmac-sha256', 'x-shopify-shop-domain', 'x-shopify-api-version', 'x-shopify-webhook-id', 'x-shopify-triggered-at', 'x-shopify-event-id'];

/** Verifies a delivery the way Shopify's docs say, independently of the simulator's code. */
function verify(d: ReceivedDelivery): void {
  for (const h of REQUIRED) (d.headers[h] as string).should.be.a.String().and.not.be.empty();
  const digest = createHmac('sha256', SECRET).update(d.raw).digest();
  const given = Buffer.from(d.headers['x-shopify-hmac-sha256'] as string, 'base64');
  given.length.should.equal(digest.length);
  timingSafeEqual(given, digest).should.be.true();
  d.headers['x-shopify-shop-domain']!.should.equal('demo-shop.myshopify.com');
  d.headers['x-shopify-api-version']!.should.equal('2026-07');
  (d.headers['x-shopify-webhook-id'] as string).should.match(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  Number.isNaN(Date.parse(d.headers['x-shopify-triggered-at'] as string)).should.be.false();
  const topic = d.headers['x-shopify-topic'] as string;
  if (isShopifyTopic(topic)) TOPIC_SCHEMAS[topic].safeParse(JSON.parse(d.raw.toString('utf8'))).success.should.be.true();
}

describe('Shopify simulator: webhooks', function () {
  this.timeout(15000);
  let sim: ShopifySim | undefined;
  let rx: WebhookReceiver | undefined;

  afterEach(async () => {
    await sim?.close();
    await rx?.close();
    sim = undefined;
    rx = undefined;
  });

  it('signs every delivery with the client secret and sends all headers; events and webhook ids behave like Shopify', async () => {
    sim = await startShopifySim({ webhookSecret: SECRET, timeScale: 0.0001 });
    rx = await WebhookReceiver.start();
    for (const t of ['orders/create', 'orders/paid', 'refunds/create', 'orders/updated', 'inventory_levels/update']) sim.subscribe(t, rx.url);
    const second = sim.subscribe('orders/create', rx.url.replace('/webhooks', '/webhooks?copy=1'));
    second.id.should.be.a.Number();
    const o = sim.placeOrder({ lines: [{ sku: 'IPOD2008GREEN', quantity: 1 }], customer: 'C10000', shippingCode: 'Standard' });
    sim.refundOrder(Number(o.id), { lines: [{ sku: 'IPOD2008GREEN', quantity: 1, restockType: 'return' }] });
    await sim.settled();
    rx.deliveries.length.should.be.above(4);
    rx.deliveries.forEach(verify);
    const ids = rx.deliveries.map((d) => d.headers['x-shopify-webhook-id']);
    new Set(ids).size.should.equal(ids.length);
    // Two subscriptions to orders/create: different webhook ids, one event id; orders/paid is a different event.
    const creates = rx.byTopic('orders/create');
    creates.should.have.length(2);
    creates[0]!.headers['x-shopify-event-id']!.should.equal(creates[1]!.headers['x-shopify-event-id']);
    creates[0]!.raw.equals(creates[1]!.raw).should.be.true();
    rx.byTopic('orders/paid')[0]!.headers['x-shopify-event-id']!.should.not.equal(creates[0]!.headers['x-shopify-event-id']);
    Order.parse(JSON.parse(creates[0]!.raw.toString())).name.should.equal(o.name);
    rx.byTopic('refunds/create').should.have.length(1);
    const c = sim.counters().webhooks;
    c.succeeded.should.equal(rx.deliveries.length);
    c.failed.should.equal(0);
  });

  it('retries a failed delivery with the same webhook id and body, then succeeds', async () => {
    sim = await startShopifySim({ webhookSecret: SECRET, timeScale: 0.0001 });
    // 500, a redirect (3xx is a failure too), then 200.
    rx = await WebhookReceiver.start((n) => [500, 302, 200][n] ?? 200);
    sim.subscribe('orders/create', rx.url);
    sim.placeOrder();
    await sim.settled();
    rx.deliveries.should.have.length(3);
    rx.deliveries.forEach(verify);
    new Set(rx.deliveries.map((d) => d.headers['x-shopify-webhook-id'])).size.should.equal(1);
    new Set(rx.deliveries.map((d) => d.headers['x-shopify-event-id'])).size.should.equal(1);
    rx.deliveries[1]!.raw.equals(rx.deliveries[0]!.raw).should.be.true();
    rx.deliveries[2]!.raw.equals(rx.deliveries[0]!.raw).should.be.true();
    const c = sim.counters().webhooks;
    [c.attempted, c.failed, c.succeeded].should.eql([3, 2, 1]);
    sim.webhooks.subscriptions().should.have.length(1);
    sim.webhooks.log[0]!.status.should.equal('delivered');
  });

  it('counts a slow answer (over deliveryTimeoutMs) as a failure', async () => {
    sim = await startShopifySim({ webhookSecret: SECRET, timeScale: 0.0001, deliveryTimeoutMs: 100 });
    rx = await WebhookReceiver.start((n) => (n === 0 ? { status: 200, delayMs: 400 } : 200));
    sim.subscribe('orders/create', rx.url);
    sim.placeOrder();
    await sim.settled();
    rx.deliveries.should.have.length(2);
    rx.deliveries[0]!.headers['x-shopify-webhook-id']!.should.equal(rx.deliveries[1]!.headers['x-shopify-webhook-id']);
    sim.counters().webhooks.failed.should.equal(1);
    sim.webhooks.log[0]!.last!.should.equal(200);
  });

  it('retries 8 times on the exponential schedule, then deletes the API-created subscription', async () => {
    sim = await startShopifySim({ webhookSecret: SECRET, timeScale: 0.0001 });
    rx = await WebhookReceiver.start(() => 503);
    const sub = sim.subscribe('orders/create', rx.url);
    const kept = sim.subscribe('orders/create', rx.url.replace('/webhooks', '/webhooks?managed'), { managed: true });
    const started = Date.now();
    sim.placeOrder();
    await sim.settled();
    // 1 attempt + 8 retries per subscription, each retry the same webhook id.
    rx.deliveries.should.have.length(18);
    new Set(rx.deliveries.map((d) => d.headers['x-shopify-webhook-id'])).size.should.equal(2);
    // ~240 minutes × 0.0001 ≈ 1.44 s of waits.
    (Date.now() - started).should.be.above(1300);
    const gaps = rx.deliveries.filter((d) => d.headers['x-shopify-webhook-id'] === rx!.deliveries[0]!.headers['x-shopify-webhook-id'])
      .map((d, i, a) => (i ? d.receivedAt - a[i - 1]!.receivedAt : 0)).slice(1);
    gaps[gaps.length - 1]!.should.be.above(600); // exponential: the last wait is 117 min × 0.0001 = 702 ms
    gaps[gaps.length - 1]!.should.be.above(gaps[0]! * 3); // the first is 1 min = 6 ms
    (sim.webhooks.subscription(sub.id) === undefined).should.be.true();
    (sim.webhooks.subscription(kept.id) !== undefined).should.be.true();
    const c = sim.counters().webhooks;
    [c.attempted, c.failed, c.abandoned, c.subscriptionsDeleted].should.eql([18, 18, 2, 1]);
  });

  it('counts a refused connection as a failure', async () => {
    sim = await startShopifySim({ webhookSecret: SECRET, timeScale: 0.0001, retryScheduleMinutes: [1, 1] });
    rx = await WebhookReceiver.start();
    const deadUrl = rx.url;
    await rx.close();
    rx = undefined;
    sim.subscribe('orders/create', deadUrl);
    sim.placeOrder();
    await sim.settled();
    const c = sim.counters().webhooks;
    c.attempted.should.equal(3);
    c.failed.should.equal(3);
    c.subscriptionsDeleted.should.equal(1);
    String(sim.webhooks.log[0]!.last).should.equal('ECONNREFUSED');
  });

  it('chaos: duplicates keep the webhook id; drops are never delivered; both repeat for a seed', async () => {
    sim = await startShopifySim({ webhookSecret: SECRET, timeScale: 0.0001, seed: 42, chaos: { duplicateProbability: 1 } });
    rx = await WebhookReceiver.start();
    sim.subscribe('orders/create', rx.url);
    for (let i = 0; i < 3; i++) sim.placeOrder();
    await sim.settled();
    rx.deliveries.should.have.length(6);
    rx.deliveries.forEach(verify);
    new Set(rx.deliveries.map((d) => d.headers['x-shopify-webhook-id'])).size.should.equal(3);
    sim.counters().webhooks.duplicated.should.equal(3);

    const dropped = async (seed: number) => {
      const s = await startShopifySim({ webhookSecret: SECRET, seed, chaos: { dropProbability: 0.5 } });
      const r = await WebhookReceiver.start();
      s.subscribe('orders/create', r.url);
      const names = Array.from({ length: 12 }, () => s.placeOrder().name);
      await s.settled();
      const got = new Set(r.deliveries.map((d) => (JSON.parse(d.raw.toString()) as { name: string }).name));
      const missing = names.filter((n) => !got.has(n));
      s.counters().webhooks.dropped.should.equal(missing.length);
      await s.close();
      await r.close();
      return missing;
    };
    const a = await dropped(7);
    const b = await dropped(7);
    a.length.should.be.above(0);
    a.length.should.be.below(12);
    a.should.eql(b);
  });

  it('chaos: out-of-order and late deliveries arrive after later events', async () => {
    sim = await startShopifySim({ webhookSecret: SECRET, timeScale: 0.0001, seed: 3, chaos: { outOfOrderProbability: 1, outOfOrderMaxDelayMs: 150 } });
    rx = await WebhookReceiver.start();
    sim.subscribe('orders/create', rx.url);
    const names = Array.from({ length: 10 }, () => sim!.placeOrder().name);
    await sim.settled();
    const arrived = rx.deliveries.map((d) => (JSON.parse(d.raw.toString()) as { name: string }).name);
    arrived.slice().sort().should.eql(names.slice().sort());
    arrived.should.not.eql(names);

    rx.deliveries.length = 0;
    // 50 min late × timeScale 0.0001 = 300 ms.
    const late = await startShopifySim({ webhookSecret: SECRET, timeScale: 0.0001, chaos: { lateProbability: 1, lateDelayMs: 3_000_000 } });
    try {
      late.subscribe('orders/create', rx.url);
      const t0 = Date.now();
      late.placeOrder();
      await late.settled();
      rx.deliveries.should.have.length(1);
      (rx.deliveries[0]!.receivedAt - t0).should.be.aboveOrEqual(280);
      late.counters().webhooks.delayed.should.equal(1);
    } finally {
      await late.close();
    }
  });

  it('webhookSubscriptionCreate over GraphQL subscribes, and the control API can too', async () => {
    sim = await startShopifySim({ webhookSecret: SECRET, accessToken: 'shpat_t' });
    rx = await WebhookReceiver.start();
    const res = await request(sim.url).post('/admin/api/2026-07/graphql.json').set('X-Shopify-Access-Token', 'shpat_t')
      .send({ query: `mutation($url: URL!) { webhookSubscriptionCreate(topic: ORDERS_CREATE, webhookSubscription: { callbackUrl: $url, format: JSON }) { webhookSubscription { id topic endpoint { callbackUrl } } userErrors { field message } } }`, variables: { url: rx.url } });
    res.status.should.equal(200);
    res.body.data.webhookSubscriptionCreate.userErrors.should.eql([]);
    res.body.data.webhookSubscriptionCreate.webhookSubscription.topic.should.equal('ORDERS_CREATE');
    const ctl = await request(sim.url).post('/_sim/webhooks').send({ topic: 'orders/paid', url: rx.url });
    ctl.status.should.equal(200);
    const placed = await request(sim.url).post('/_sim/orders').send({ customer: 'C10000' });
    placed.status.should.equal(200);
    await sim.settled();
    rx.byTopic('orders/create').should.have.length(1);
    rx.byTopic('orders/paid').should.have.length(1);
    rx.deliveries.forEach(verify);
    (await request(sim.url).post('/_sim/webhooks').send({ topic: 'nope/nope', url: rx.url })).status.should.equal(400);
  });
});
