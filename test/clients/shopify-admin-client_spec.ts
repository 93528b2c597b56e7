import 'should';
import type { Request, Response } from 'express';
import { ShopifyAdminClient, ShopifyAdminClientInput } from '../../nodes/lib/shopify/admin-client';
import { ShopifyGraphqlError, ShopifyHttpError, ShopifyThrottledError } from '../../nodes/lib/shopify/admin-errors';
import { LocalServer, assertNoSecret, delay, startServer } from './local-server';

const TOKEN = 'shpat_0123456789abcdef_SECRET';

const cost = (requested: number, available: number, restoreRate = 1000, max = 2000) =>
  ({ cost: { requestedQueryCost: requested, actualQueryCost: requested, throttleStatus: { maximumAvailable: max, currentlyAvailable: available, restoreRate } } });

const throttled = (requested: number, available: number, restoreRate = 1000) => ({
  errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
  extensions: { cost: { requestedQueryCost: requested, actualQueryCost: null, throttleStatus: { maximumAvailable: 2000, currentlyAvailable: available, restoreRate } } },
});

describe('ShopifyAdminClient', () => {
  let open: LocalServer[] = [];
  afterEach(async () => {
    await Promise.all(open.map((s) => s.close()));
    open = [];
  });

  async function setup(handler: (req: Request, res: Response) => void | Promise<void>, opts: Partial<ShopifyAdminClientInput> = {}) {
    const srv = await startServer(handler);
    open.push(srv);
    const client = new ShopifyAdminClient({ shopDomain: 'demo-shop.myshopify.com', accessToken: TOKEN, baseUrl: srv.url, backoffBaseMs: 5, maxBackoffMs: 100, ...opts });
    return { client, srv };
  }

  it('POSTs to /admin/api/{version}/graphql.json with the access token and returns data', async () => {
    const { client, srv } = await setup((req, res) => {
      res.json({ data: { shop: { name: 'Demo' }, echo: req.body.variables }, extensions: cost(1, 1999) });
    }, { apiVersion: '2026-04' });
    const data = await client.graphql<{ shop: { name: string }; echo: unknown }>('{ shop { name } }', { a: 1 });
    data.shop.name.should.equal('Demo');
    data.echo!.should.eql({ a: 1 });
    const req = srv.requests[0];
    req.path.should.equal('/admin/api/2026-04/graphql.json');
    req.headers['x-shopify-access-token']!.should.equal(TOKEN);
    req.body.query.should.equal('{ shop { name } }');
    client.estimatedAvailable()!.should.be.within(1990, 2000);
  });

  it('defaults to https://{shopDomain} and API 2026-07, and validates options without echoing the token', () => {
    const c = new ShopifyAdminClient({ shopDomain: 'demo-shop.myshopify.com', accessToken: TOKEN });
    c.config.apiVersion.should.equal('2026-07');
    let thrown: unknown;
    try {
      new ShopifyAdminClient({ shopDomain: 'https://demo.example.com', accessToken: TOKEN, apiVersion: '2026-7' });
    } catch (e) {
      thrown = e;
    }
    (thrown as Error).message.should.match(/shopDomain: must look like your-shop\.myshopify\.com/).and.match(/apiVersion/);
    assertNoSecret(thrown, [TOKEN]);
  });

  it('returns userErrors inside data for the caller to judge', async () => {
    const { client } = await setup((_req, res) => {
      res.json({ data: { fulfillmentCreate: { fulfillment: null, userErrors: [{ field: ['fulfillment'], message: 'Invalid fulfillment order line item quantity requested.' }] } }, extensions: cost(10, 1990) });
    });
    const data = await client.graphql<{ fulfillmentCreate: { userErrors: { message: string }[] } }>('mutation { fulfillmentCreate { userErrors { field message } } }');
    data.fulfillmentCreate.userErrors[0].message.should.match(/quantity/);
    client.stats.calls.should.equal(1);
  });

  it('backs off on THROTTLED for (requested − available) / restoreRate, then succeeds with the same idempotency key', async () => {
    let n = 0;
    const { client, srv } = await setup((_req, res) => {
      n++;
      if (n === 1) res.json(throttled(200, 80, 1000)); // needs 120 more points at 1000/s → ~120 ms
      else res.json({ data: { ok: true }, extensions: cost(200, 1800) });
    });
    const started = Date.now();
    (await client.graphql('mutation m($idempotencyKey: String!) { inventorySetQuantities @idempotent(key: $idempotencyKey) { userErrors { message } } }',
      { input: { name: 'available' } }, { idempotencyKey: 'key-1' })).should.eql({ ok: true });
    (Date.now() - started).should.be.aboveOrEqual(110);
    client.stats.should.eql({ calls: 2, retries: 1, throttled: 1 });
    srv.requests.map((r) => r.body.variables).should.eql([
      { input: { name: 'available' }, idempotencyKey: 'key-1' },
      { input: { name: 'available' }, idempotencyKey: 'key-1' },
    ]);
  });

  it('waits before a request whose remembered cost exceeds the restored bucket', async () => {
    const times: number[] = [];
    const { client } = await setup((_req, res) => {
      times.push(Date.now());
      res.json({ data: {}, extensions: cost(150, 0, 1000) }); // bucket empty after each call, 1000 points/s
    });
    await client.graphql('{ a }');
    await client.graphql('{ a }'); // remembered cost 150 → must wait ~150 ms
    (times[1] - times[0]).should.be.aboveOrEqual(140);
    client.stats.throttled.should.equal(0);
  });

  it('waits Shopify\'s recommended 1 s on THROTTLED without a throttleStatus reading', async () => {
    let n = 0;
    const { client } = await setup((_req, res) => {
      n++;
      if (n === 1) res.json({ errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED' } }] });
      else res.json({ data: { ok: true } });
    });
    const started = Date.now();
    (await client.graphql('{ a }')).should.eql({ ok: true });
    (Date.now() - started).should.be.aboveOrEqual(990);
    client.stats.throttled.should.equal(1);
  });

  it('gives up with ShopifyThrottledError when still throttled after maxRetries', async () => {
    const { client } = await setup((_req, res) => {
      res.json(throttled(10, 9, 1000));
    }, { maxRetries: 2 });
    const err = await client.graphql('{ a }').then(() => null, (e) => e);
    err.should.be.instanceOf(ShopifyThrottledError);
    err.attempts.should.equal(3);
    client.stats.should.eql({ calls: 3, retries: 2, throttled: 3 });
  });

  it('retries HTTP 429 honouring Retry-After, and waits 1 s without it', async function () {
    this.timeout(5000);
    let n = 0;
    const times: number[] = [];
    const { client } = await setup((_req, res) => {
      times.push(Date.now());
      n++;
      if (n === 1) res.status(429).set('Retry-After', '0.1').json({ errors: 'Exceeded 2 calls per second for api client. Reduce request rates to resume uninterrupted service.' });
      else if (n === 2) res.status(429).json({ errors: 'Throttled' });
      else res.json({ data: { ok: 1 }, extensions: cost(1, 1999) });
    });
    (await client.graphql('{ a }')).should.eql({ ok: 1 });
    (times[1] - times[0]).should.be.aboveOrEqual(90).and.below(1000); // Retry-After, not the 1 s default
    (times[2] - times[1]).should.be.aboveOrEqual(990);
    client.stats.should.eql({ calls: 3, retries: 2, throttled: 2 });
  });

  it('retries 5xx for queries and idempotent mutations, but not for plain mutations', async () => {
    let fail = 0;
    const { client } = await setup((_req, res) => {
      if (fail-- > 0) res.status(502).send('<html>Bad gateway</html>');
      else res.json({ data: { ok: true } });
    });
    fail = 1;
    (await client.graphql('query { a }')).should.eql({ ok: true });
    fail = 1;
    (await client.graphql('mutation { a }', {}, { idempotencyKey: 'k' })).should.eql({ ok: true });
    fail = 1;
    const err = await client.graphql('# create\nmutation { fulfillmentCreate { x } }').then(() => null, (e) => e);
    err.should.be.instanceOf(ShopifyHttpError);
    err.status.should.equal(502);
    err.retryable.should.be.false();
    client.stats.calls.should.equal(5);
  });

  it('turns top-level errors into ShopifyGraphqlError with codes', async () => {
    const { client } = await setup((_req, res) => {
      res.json({ errors: [{ message: 'Access denied for fulfillmentCreate field.', path: ['fulfillmentCreate'], extensions: { code: 'ACCESS_DENIED' } },
        { message: "Field 'nope' doesn't exist on type 'QueryRoot'" }], extensions: cost(1, 1999) });
    });
    const err = await client.graphql('{ nope }').then(() => null, (e) => e);
    err.should.be.instanceOf(ShopifyGraphqlError);
    err.codes.should.eql(['ACCESS_DENIED']);
    err.errors[0].should.eql({ message: 'Access denied for fulfillmentCreate field.', code: 'ACCESS_DENIED', path: ['fulfillmentCreate'] });
    err.message.should.match(/ACCESS_DENIED: Access denied/);
    client.stats.calls.should.equal(1);
  });

  it('reports 401 as ShopifyHttpError and never leaks the token, even when echoed', async () => {
    const { client } = await setup((req, res) => {
      res.status(401).json({ errors: `[API] Invalid API key or access token (unrecognized login or wrong password): ${req.headers['x-shopify-access-token']}` });
    });
    const err = await client.graphql('{ a }').then(() => null, (e) => e);
    err.should.be.instanceOf(ShopifyHttpError);
    err.status.should.equal(401);
    err.message.should.match(/Invalid API key or access token/);
    assertNoSecret(err, [TOKEN]);

    const net = new ShopifyAdminClient({ shopDomain: 'x.myshopify.com', accessToken: TOKEN, baseUrl: 'http://127.0.0.1:1', maxRetries: 1, backoffBaseMs: 1 });
    const netErr = await net.graphql('{ a }').then(() => null, (e) => e);
    netErr.should.be.instanceOf(ShopifyHttpError);
    netErr.status.should.equal(0);
    netErr.code.should.equal('ECONNREFUSED');
    net.stats.calls.should.equal(2);
    assertNoSecret(netErr, [TOKEN]);
  });

  it('rejects a 200 reply that is not JSON', async () => {
    const { client } = await setup((_req, res) => {
      res.status(200).type('text/html').send('<html>maintenance</html>');
    });
    const err = await client.graphql('{ a }').then(() => null, (e) => e);
    err.should.be.instanceOf(ShopifyHttpError);
    err.message.should.match(/not JSON/);
  });

  it('keeps at most maxConcurrency requests in flight', async () => {
    let inFlight = 0;
    let peak = 0;
    const { client } = await setup(async (_req, res) => {
      inFlight++;
      peak = Math.max(peak, inFlight);
      await delay(20);
      inFlight--;
      res.json({ data: {}, extensions: cost(1, 2000) });
    }, { maxConcurrency: 2 });
    await Promise.all(Array.from({ length: 8 }, (_, i) => client.graphql(`{ q${i} }`)));
    peak.should.be.belowOrEqual(2).and.aboveOrEqual(1);
  });
});
