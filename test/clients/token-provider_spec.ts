import 'should';
import { ClientCredentialsTokenProvider, BC_SCOPE } from '../../nodes/lib/d365/token-provider';
import { TokenError } from '../../nodes/lib/d365/errors';
import { LocalServer, assertNoSecret, delay, startServer } from './local-server';

const SECRET = 'cs~Very.Secret+Value/42=';

describe('ClientCredentialsTokenProvider', () => {
  let srv: LocalServer | undefined;
  afterEach(async () => {
    await srv?.close();
    srv = undefined;
  });

  /** A token endpoint that hands out tok-1, tok-2, … with the given lifetime. */
  async function tokenServer(expiresIn = 3599, waitMs = 0) {
    let n = 0;
    srv = await startServer(async (_req, res) => {
      if (waitMs) await delay(waitMs);
      n++;
      res.json({ token_type: 'Bearer', expires_in: expiresIn, ext_expires_in: expiresIn, access_token: `tok-${n}` });
    });
    return srv;
  }

  const provider = (url: string, now?: () => number, extra: object = {}) =>
    new ClientCredentialsTokenProvider({ tenant: 'contoso.onmicrosoft.com', clientId: 'app-1', clientSecret: SECRET,
      tokenUrl: `${url}/{tenant}/oauth2/v2.0/token`, backoffBaseMs: 5, ...extra }, now);

  it('posts a form-encoded client-credentials grant to the tenant token URL', async () => {
    const s = await tokenServer();
    (await provider(s.url).getToken()).should.equal('tok-1');
    const req = s.requests[0];
    req.method.should.equal('POST');
    req.path.should.equal('/contoso.onmicrosoft.com/oauth2/v2.0/token');
    req.headers['content-type']!.should.match(/application\/x-www-form-urlencoded/);
    ({ ...req.body }).should.eql({ grant_type: 'client_credentials', client_id: 'app-1', client_secret: SECRET, scope: BC_SCOPE });
  });

  it('caches the token and refreshes it before expires_in runs out (fake clock)', async () => {
    const s = await tokenServer(3600);
    let t = 1_000_000;
    const p = provider(s.url, () => t);
    (await p.getToken()).should.equal('tok-1');
    t += 3000_000;
    (await p.getToken()).should.equal('tok-1');
    p.fetches.should.equal(1);
    // 5-minute margin on a one-hour token: at 55 min + 1 s a new one is fetched.
    t = 1_000_000 + 3301_000;
    (await p.getToken()).should.equal('tok-2');
    p.fetches.should.equal(2);
    s.requests.length.should.equal(2);
  });

  it('uses a 10% margin for short lifetimes', async () => {
    const s = await tokenServer(10);
    let t = 0;
    const p = provider(s.url, () => t);
    await p.getToken();
    t = 8_900;
    (await p.getToken()).should.equal('tok-1');
    t = 9_100;
    (await p.getToken()).should.equal('tok-2');
  });

  it('lets concurrent callers share one in-flight token request', async () => {
    const s = await tokenServer(3599, 50);
    const p = provider(s.url);
    const tokens = await Promise.all(Array.from({ length: 10 }, () => p.getToken()));
    tokens.should.eql(Array(10).fill('tok-1'));
    s.requests.length.should.equal(1);
  });

  it('invalidate() drops only the token it names', async () => {
    const s = await tokenServer();
    const p = provider(s.url);
    await p.getToken();
    p.invalidate('some-older-token');
    (await p.getToken()).should.equal('tok-1');
    p.invalidate('tok-1');
    (await p.getToken()).should.equal('tok-2');
  });

  it('turns {error, error_description} into a TokenError without the secret, and does not retry it', async () => {
    srv = await startServer((req, res) => {
      res.status(401).json({ error: 'invalid_client', error_description: `AADSTS7000215: Invalid client secret provided: ${req.body.client_secret}`,
        error_codes: [7000215], correlation_id: 'c0ffee00-1111-2222-3333-444455556666' });
    });
    const err = await provider(srv.url).getToken().then(() => null, (e) => e);
    err.should.be.instanceOf(TokenError);
    err.status.should.equal(401);
    err.error.should.equal('invalid_client');
    err.correlationId.should.equal('c0ffee00-1111-2222-3333-444455556666');
    err.message.should.match(/invalid_client.*AADSTS7000215/);
    assertNoSecret(err, [SECRET, encodeURIComponent(SECRET)]);
    srv.requests.length.should.equal(1);
  });

  it('retries 5xx and network failures a bounded number of times', async () => {
    let n = 0;
    srv = await startServer((_req, res) => {
      n++;
      if (n < 3) res.status(503).json({ error: 'temporarily_unavailable' });
      else res.json({ expires_in: 3599, access_token: 'tok-ok' });
    });
    const p = provider(srv.url, undefined, { maxRetries: 2 });
    (await p.getToken()).should.equal('tok-ok');
    p.fetches.should.equal(3);

    const dead = provider('http://127.0.0.1:1', undefined, { maxRetries: 1 });
    const err = await dead.getToken().then(() => null, (e) => e);
    err.should.be.instanceOf(TokenError);
    err.status.should.equal(0);
    err.retryable.should.be.true();
    dead.fetches.should.equal(2);
    assertNoSecret(err, [SECRET]);
  });

  it('rejects a response without access_token', async () => {
    srv = await startServer((_req, res) => {
      res.json({ token_type: 'Bearer' });
    });
    const err = await provider(srv.url).getToken().then(() => null, (e) => e);
    err.should.be.instanceOf(TokenError);
    err.error.should.equal('invalid_response');
  });

  it('validates its options without echoing the secret', () => {
    let thrown: unknown;
    try {
      new ClientCredentialsTokenProvider({ tenant: '', clientId: 'x', clientSecret: SECRET, tokenUrl: 'ftp://nope' });
    } catch (e) {
      thrown = e;
    }
    (thrown as Error).message.should.match(/tenant/).and.match(/tokenUrl/);
    assertNoSecret(thrown, [SECRET]);
  });
});
