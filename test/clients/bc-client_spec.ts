import 'should';
import type { Request, Response } from 'express';
import { BcClient, BcClientInput, buildQuery } from '../../nodes/lib/d365/bc-client';
import { odataString } from '../../nodes/lib/d365/bc-api';
import { BcApiError } from '../../nodes/lib/d365/errors';
import { AccessTokenSource, ClientCredentialsTokenProvider } from '../../nodes/lib/d365/token-provider';
import { LocalServer, assertNoSecret, delay, startServer } from './local-server';

const CID = '5106c77d-af37-4e2d-bb88-45d87aba1033';
const PREFIX = `/v2.0/tenant-1/sandbox/api/v2.0/companies(${CID})/`;
const TOKEN = 'bearer-token-SECRET-123';

/** A fixed token that counts invalidations. */
class FixedToken implements AccessTokenSource {
  invalidated = 0;
  constructor(private token = TOKEN) {}
  async getToken() {
    return this.token;
  }
  invalidate() {
    this.invalidated++;
  }
}

describe('BcClient', () => {
  let srv: LocalServer | undefined;
  let tokenSrv: LocalServer | undefined;
  let open: LocalServer[] = [];
  afterEach(async () => {
    await Promise.all(open.map((s) => s.close()));
    await tokenSrv?.close();
    open = [];
    srv = tokenSrv = undefined;
  });

  async function setup(handler: (req: Request, res: Response) => void | Promise<void>, opts: Partial<BcClientInput> = {}, tokens: AccessTokenSource = new FixedToken()) {
    srv = await startServer(handler);
    open.push(srv);
    const client = new BcClient({ tenant: 'tenant-1', environment: 'sandbox', companyId: CID, baseUrl: srv.url, backoffBaseMs: 5, maxBackoffMs: 200, ...opts }, tokens);
    return { client, srv };
  }

  /** Path after the company prefix, decoded (express keeps `(`/`)` as they were sent). */
  const rel = (req: Request) => decodeURIComponent(req.path).replace(PREFIX, '');

  describe('URLs and queries', () => {
    it('builds the company URL, sends the bearer token and encodes every query option', async () => {
      const { client, srv } = await setup((_req, res) => {
        res.json({ value: [{ id: 1 }] });
      });
      const filter = `displayName eq ${odataString("O'Brien & Sons + #1")} and balanceDue gt 10`;
      const rows = await client.list('customers', { filter, select: ['id', 'number'], expand: 'customerFinancialDetails', orderby: 'number desc', top: 20, skip: 40 });
      rows.should.eql([{ id: 1 }]);
      const req = srv.requests[0];
      req.path.should.equal(`${PREFIX}customers`);
      req.headers.authorization!.should.equal(`Bearer ${TOKEN}`);
      req.query.should.eql({ $filter: "displayName eq 'O''Brien & Sons + #1' and balanceDue gt 10", $select: 'id,number',
        $expand: 'customerFinancialDetails', $orderby: 'number desc', $top: '20', $skip: '40' });
    });

    it('escapes quotes in filter literals and rejects bad $top', () => {
      odataString("O'Brien").should.equal("'O''Brien'");
      buildQuery({ filter: `email eq ${odataString("o'brien+x@example.com")}` }).should.equal("?$filter=email%20eq%20'o''brien%2Bx%40example.com'");
      (() => buildQuery({ top: -1 })).should.throw(/\$top/);
      buildQuery(undefined).should.equal('');
    });

    it('uses custom API routes and refuses paths with a query string', async () => {
      const { client, srv } = await setup((_req, res) => {
        res.json({ id: 'x' });
      });
      await client.get('itemAvailabilities(1)', undefined, { api: 'shopifyD365/integration/v1.0' });
      srv.requests[0].path.should.equal(`/v2.0/tenant-1/sandbox/api/shopifyD365/integration/v1.0/companies(${CID})/itemAvailabilities(1)`);
      await client.get('customers?$top=1').should.be.rejectedWith(/without query string/);
      await client.get('x', undefined, { api: 'bad' }).should.be.rejectedWith(/publisher\/group\/version/);
    });

    it('follows @odata.nextLink up to maxPages and refuses links to another host', async () => {
      const { client } = await setup((req, res) => {
        const page = Number(req.query.page ?? 1);
        const next = page < 3 ? `http://${req.headers.host}${PREFIX}items?page=${page + 1}` : undefined;
        res.json({ value: [{ page }], ...(next ? { '@odata.nextLink': next } : {}) });
      });
      (await client.list('items')).should.eql([{ page: 1 }, { page: 2 }, { page: 3 }]);
      (await client.list('items', undefined, { maxPages: 2 })).should.eql([{ page: 1 }, { page: 2 }]);
      client.stats.calls.should.equal(5);

      const evil = await setup((_req, res) => {
        res.json({ value: [], '@odata.nextLink': 'http://evil.example/steal' });
      });
      const err = await evil.client.list('items').then(() => null, (e) => e);
      err.should.be.instanceOf(BcApiError);
      err.code.should.equal('InvalidNextLink');
    });
  });

  describe('writes', () => {
    it('sends If-Match on PATCH and DELETE, JSON bodies on POST, and POSTs bound actions', async () => {
      const { client, srv } = await setup((req, res) => {
        if (req.method === 'DELETE' || rel(req).endsWith('shipAndInvoice')) res.status(204).end();
        else res.status(req.method === 'POST' ? 201 : 200).json({ ...req.body, id: 'so-1', '@odata.etag': 'W/"2"' });
      });
      (await client.post('salesOrders', { customerNumber: '10000' })).should.containEql({ customerNumber: '10000', id: 'so-1' });
      await client.patch('salesOrders(so-1)', { externalDocumentNumber: '#1001' }, 'W/"1"');
      await client.delete('salesOrders(so-1)');
      await client.action('salesOrders(so-1)/Microsoft.NAV.shipAndInvoice');
      const [post, patch, del, act] = srv.requests;
      post.headers['content-type']!.should.match(/application\/json/);
      patch.method.should.equal('PATCH');
      patch.headers['if-match']!.should.equal('W/"1"');
      del.headers['if-match']!.should.equal('*');
      act.method.should.equal('POST');
      await client.patch('x', {}, '').should.be.rejectedWith(/etag is required/);
    });
  });

  describe('errors and retries', () => {
    it('maps an OData error body to BcApiError with code, message and correlation id', async () => {
      const { client } = await setup((_req, res) => {
        res.status(409).json({ error: { code: 'Request_EntityChanged', message: 'Another user has already changed the record.  CorrelationId:  2d1e3c4b-aaaa-bbbb-cccc-123456789abc.' } });
      });
      const err = await client.patch('salesOrders(1)', {}, 'W/"old"').then(() => null, (e) => e);
      err.should.be.instanceOf(BcApiError);
      err.status.should.equal(409);
      err.code.should.equal('Request_EntityChanged');
      err.correlationId.should.equal('2d1e3c4b-aaaa-bbbb-cccc-123456789abc');
      err.retryable.should.be.false();
      err.method.should.equal('PATCH');
      err.message.should.match(/Another user has already changed the record/);
      client.stats.calls.should.equal(1);
    });

    it('retries 429 honouring Retry-After, and with back-off when it is absent', async () => {
      let n = 0;
      const times: number[] = [];
      const { client } = await setup((_req, res) => {
        times.push(Date.now());
        n++;
        if (n === 1) res.status(429).set('Retry-After', '0.15').json({ error: { code: 'TooManyRequests', message: 'slow down' } });
        else if (n === 2) res.status(429).json({ error: { code: 'TooManyRequests', message: 'slow down' } });
        else res.json({ id: 'ok' });
      }, { backoffBaseMs: 1 });
      (await client.get('customers(1)')).should.eql({ id: 'ok' });
      client.stats.should.eql({ calls: 3, retries: 2, throttled: 2 });
      (times[1] - times[0]).should.be.aboveOrEqual(140);
      times.length.should.equal(3);
    });

    it('reports non-OData error bodies and malformed collections clearly', async () => {
      const { client } = await setup((req, res) => {
        if (req.path.endsWith('items')) res.status(200).type('text/plain').send('not json');
        else res.status(500).type('text/html').send('<html>Internal Server Error</html>');
      }, { maxRetries: 0 });
      const e1 = await client.list('items').then(() => null, (e) => e);
      e1.code.should.equal('InvalidResponse');
      const e2 = await client.get('customers').then(() => null, (e) => e);
      e2.should.be.instanceOf(BcApiError);
      e2.status.should.equal(500);
      e2.code.should.equal('HTTP_500');
      e2.message.should.match(/Internal Server Error/);
    });

    it('gives up after maxRetries with a retryable BcApiError', async () => {
      const { client } = await setup((_req, res) => {
        res.status(503).set('Retry-After', 'Wed, 21 Oct 2015 07:28:00 GMT').json({ error: { code: 'ServiceUnavailable', message: 'queue full' } });
      }, { maxRetries: 2 });
      const err = await client.get('items').then(() => null, (e) => e);
      err.status.should.equal(503);
      err.retryable.should.be.true();
      client.stats.should.eql({ calls: 3, retries: 2, throttled: 3 });
    });

    it('retries a POST on 429 but not after a 504 unless retryUnsafe is set', async () => {
      let n = 0;
      const handler = (_req: Request, res: Response) => {
        n++;
        if (n === 1) res.status(429).json({ error: { code: 'x', message: 'throttled' } });
        else if (n === 2) res.status(504).json({ error: { code: 'GatewayTimeout', message: 'timed out' } });
        else res.status(201).json({ id: 'created' });
      };
      const safe = await setup(handler);
      const err = await safe.client.post('salesOrders', { a: 1 }).then(() => null, (e) => e);
      err.status.should.equal(504);
      err.retryable.should.be.true();
      safe.client.stats.calls.should.equal(2);

      n = 0;
      const unsafe = await setup(handler, { retryUnsafe: true });
      (await unsafe.client.post('salesOrders', { a: 1 })).should.eql({ id: 'created' });
      unsafe.client.stats.calls.should.equal(3);
      unsafe.client.stats.retries.should.equal(2);
    });

    it('retries GETs after a timeout but not POSTs', async () => {
      let n = 0;
      const { client } = await setup(async (_req, res) => {
        n++;
        if (n === 1) await delay(1500);
        res.status(200).json({ n });
      }, { timeoutMs: 400 });
      (await client.get('items(1)')).should.eql({ n: 2 });
      n = 0;
      const err = await client.post('salesOrders', {}).then(() => null, (e) => e);
      err.should.be.instanceOf(BcApiError);
      err.status.should.equal(0);
      err.code.should.equal('ETIMEDOUT');
      err.retryable.should.be.true();
    });

    it('retries refused connections and reports a network BcApiError', async () => {
      const client = new BcClient({ tenant: 't', companyId: CID, baseUrl: 'http://127.0.0.1:1', maxRetries: 2, backoffBaseMs: 1 }, new FixedToken());
      const err = await client.post('salesOrders', {}).then(() => null, (e) => e);
      err.should.be.instanceOf(BcApiError);
      err.code.should.equal('ECONNREFUSED');
      client.stats.calls.should.equal(3);
    });

    it('refreshes the token once on 401, then treats a second 401 as final', async () => {
      let issued = 0;
      tokenSrv = await startServer((_req, res) => {
        issued++;
        res.json({ expires_in: 3599, access_token: `tok-${issued}` });
      });
      const tokens = new ClientCredentialsTokenProvider({ tenant: 't', clientId: 'c', clientSecret: 'the-client-secret', tokenUrl: `${tokenSrv.url}/t/token` });
      const { client } = await setup((req, res) => {
        if (req.headers.authorization === 'Bearer tok-1') res.status(401).json({ error: { code: 'Authentication_InvalidCredentials', message: 'expired' } });
        else res.json({ token: req.headers.authorization });
      }, {}, tokens);
      (await client.get('companies')).should.eql({ token: 'Bearer tok-2' });
      (await client.get('companies')).should.eql({ token: 'Bearer tok-2' });
      issued.should.equal(2);

      const fixed = new FixedToken();
      const always401 = await setup((_req, res) => {
        res.status(401).json({ error: { code: 'Authentication_InvalidCredentials', message: 'no' } });
      }, {}, fixed);
      const err = await always401.client.get('items').then(() => null, (e) => e);
      err.status.should.equal(401);
      fixed.invalidated.should.equal(1);
      always401.client.stats.calls.should.equal(2);
    });

    it('never has more than 5 requests in flight (default), or the configured limit', async () => {
      for (const limit of [undefined, 2]) {
        let inFlight = 0;
        let peak = 0;
        const { client } = await setup(async (_req, res) => {
          inFlight++;
          peak = Math.max(peak, inFlight);
          await delay(40);
          inFlight--;
          res.json({ value: [] });
        }, limit ? { maxConcurrency: limit } : {});
        await Promise.all(Array.from({ length: 17 }, (_, i) => client.list(`items${i}`)));
        // The client-side count is deterministic; the server's depends on scheduling but may never exceed the limit.
        client.peakInFlight.should.equal(limit ?? 5);
        peak.should.be.belowOrEqual(limit ?? 5).and.aboveOrEqual(2);
      }
    });

    it('keeps the bearer token out of errors even when the server echoes it', async () => {
      const { client } = await setup((req, res) => {
        res.status(400).json({ error: { code: 'BadRequest', message: `bad header ${req.headers.authorization}` } });
      });
      const err = await client.get('items').then(() => null, (e) => e);
      err.message.should.match(/bad header Bearer \*\*\*/);
      assertNoSecret(err, [TOKEN]);
      const net = await new BcClient({ tenant: 't', companyId: CID, baseUrl: 'http://127.0.0.1:1', maxRetries: 0 }, new FixedToken()).get('items').then(() => null, (e) => e);
      assertNoSecret(net, [TOKEN]);
    });
  });

  describe('$batch', () => {
    const batchHandler = (calls: { size: number; isolation?: string }[]) => (req: Request, res: Response) => {
      req.path.should.equal('/v2.0/tenant-1/sandbox/api/v2.0/$batch');
      const requests = req.body.requests as { id: string; method: string; url: string; headers: Record<string, string> }[];
      calls.push({ size: requests.length, isolation: req.headers.isolation as string | undefined });
      // Reversed, to prove results are matched by id, not position; every 3rd op fails.
      res.json({ responses: requests.map((r) => (Number(r.id) % 3 === 0
        ? { id: r.id, status: 400, headers: {}, body: { error: { code: 'Application_FieldValidationException', message: `bad ${r.id}` } } }
        : { id: r.id, status: 201, headers: {}, body: { url: r.url, ifMatch: r.headers['If-Match'] } })).reverse() });
    };

    it('splits >100 operations, maps responses by id and reports inner failures per operation', async () => {
      const calls: { size: number; isolation?: string }[] = [];
      const { client } = await setup(batchHandler(calls));
      const ops = Array.from({ length: 150 }, (_, i) => ({ id: String(i + 1), method: 'POST' as const, path: 'salesOrders', body: { n: i + 1 } }));
      const results = await client.batch(ops);
      calls.map((c) => c.size).should.eql([100, 50]);
      (calls[0].isolation === undefined).should.be.true();
      results.map((r) => r.id).should.eql(ops.map((o) => o.id));
      results[0].should.eql({ id: '1', status: 201, body: { url: `companies(${CID})/salesOrders` } });
      results[2].status.should.equal(400);
      results[2].error!.should.eql({ code: 'Application_FieldValidationException', message: 'bad 3' });
      results.filter((r) => r.error).length.should.equal(50);
    });

    it('sends Isolation: snapshot for atomic batches, If-Match per op, and refuses atomic batches over 100', async () => {
      const calls: { size: number; isolation?: string }[] = [];
      const { client } = await setup(batchHandler(calls));
      const results = await client.batch([{ id: '1', method: 'PATCH', path: 'salesOrders(1)', body: {}, etag: 'W/"9"' }, { id: '2', method: 'GET', path: 'items' }], { atomic: true });
      calls[0].isolation!.should.equal('snapshot');
      (results[0].body as { ifMatch: string }).ifMatch.should.equal('W/"9"');
      const many = Array.from({ length: 101 }, (_, i) => ({ id: `x${i}`, method: 'GET' as const, path: 'items' }));
      await client.batch(many, { atomic: true }).should.be.rejectedWith(/at most 100/);
      await client.batch([{ id: 'a', method: 'DELETE', path: 'items(1)' }]).should.be.rejectedWith(/needs an etag/);
      await client.batch([{ id: 'a', method: 'GET', path: 'items' }, { id: 'a', method: 'GET', path: 'items' }]).should.be.rejectedWith(/unique/);
    });

    it('marks operations the server did not answer', async () => {
      const { client } = await setup((_req, res) => {
        res.json({ responses: [{ id: '1', status: 204 }] });
      });
      const results = await client.batch([{ id: '1', method: 'DELETE', path: 'x(1)', etag: '*' }, { id: '2', method: 'GET', path: 'x' }]);
      results[0].should.eql({ id: '1', status: 204 });
      results[1].error!.code.should.equal('BatchResponseMissing');
    });
  });

  it('validates options with clear messages', () => {
    (() => new BcClient({ tenant: 't', companyId: 'not-a-guid' }, new FixedToken())).should.throw(/companyId: must be the company GUID/);
  });
});
