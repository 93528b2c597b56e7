import 'should';
import type { Request, Response } from 'express';
import { BcClient, type BcClientInput } from '../../nodes/lib/d365/bc-client';
import type { AccessTokenSource } from '../../nodes/lib/d365/token-provider';
import { delay, startServer, type LocalServer } from '../clients/local-server';

const CID = '5106c77d-af37-4e2d-bb88-45d87aba1033';
const tokens: AccessTokenSource = { getToken: async () => 'token', invalidate: () => undefined };

describe('BcClient pacing and Retry-After', () => {
  let srv: LocalServer | undefined;
  afterEach(async () => { await srv?.close(); srv = undefined; });

  async function setup(handler: (req: Request, res: Response) => void | Promise<void>, opts: Partial<BcClientInput> = {}) {
    srv = await startServer(handler);
    return new BcClient({ tenant: 't', companyId: CID, baseUrl: srv.url, backoffBaseMs: 5, maxBackoffMs: 2000, ...opts }, tokens);
  }

  it('defaults to BC online\'s window (6,000 per 5 minutes) and validates the limits', () => {
    const c = new BcClient({ tenant: 't', companyId: CID }, tokens);
    c.config.should.containEql({ requestsPerWindow: 6000, windowMs: 300_000, maxConcurrency: 5 });
    c.limiter.limits.should.eql({ requestsPerWindow: 6000, windowMs: 300_000, maxInFlight: 5 });
    (() => new BcClient({ tenant: 't', companyId: CID, requestsPerWindow: 0 }, tokens)).should.throw(/requestsPerWindow/);
    (() => new BcClient({ tenant: 't', companyId: CID, windowMs: 0 }, tokens)).should.throw(/windowMs/);
  });

  it('waits for window room instead of sending: the fourth of three-per-window starts a window after the first finished', async () => {
    const arrivals: number[] = [];
    const client = await setup((_req, res) => { arrivals.push(Date.now()); res.json({ value: [] }); }, { requestsPerWindow: 3, windowMs: 300 });
    const t0 = Date.now();
    await Promise.all(Array.from({ length: 4 }, (_, i) => client.list(`items${i}`)));
    arrivals.should.have.length(4);
    (arrivals[2]! - t0).should.be.below(250);
    (arrivals[3]! - arrivals[0]!).should.be.aboveOrEqual(300);
    client.limiter.stats.delayed.should.equal(1);
    client.stats.should.eql({ calls: 4, retries: 0, throttled: 0 });
  });

  const refuse = (res: Response) => res.status(429).set('Retry-After', '0.4').json({ error: { code: 'Application_TooManyRequests', message: 'slow down' } });

  it('as many 429s in a row as requests in flight (BC refusing this user) hold back every request for Retry-After', async () => {
    const seen: { path: string; at: number }[] = [];
    const client = await setup((req, res) => {
      seen.push({ path: req.path, at: Date.now() });
      if (seen.length <= 2) refuse(res);
      else res.json({ id: 'ok' });
    }, { maxConcurrency: 2 });
    const firstTwo = [client.get('customers(1)'), client.get('customers(2)')];
    while (seen.length < 2) await delay(5);
    await delay(60); // both refusals have reached the client
    const third = client.get('customers(3)');
    await Promise.all([...firstTwo, third]);
    seen.should.have.length(5);
    const refusedAt = Math.max(seen[0]!.at, seen[1]!.at);
    for (const s of seen.slice(2)) (s.at - refusedAt).should.be.aboveOrEqual(390, `${s.path} was sent during the pause`);
    client.limiter.stats.pauses.should.equal(1);
    client.stats.should.eql({ calls: 5, retries: 2, throttled: 2 });
  });

  it('a lone 429 is waited out by its own request: the others carry on', async () => {
    const seen: { path: string; at: number }[] = [];
    const client = await setup((req, res) => {
      seen.push({ path: req.path, at: Date.now() });
      if (seen.length === 1) refuse(res);
      else res.json({ id: 'ok' });
    });
    const first = client.get('customers(1)');
    while (seen.length === 0) await delay(5);
    await delay(60);
    await client.get('customers(2)');
    (Date.now() - seen[0]!.at).should.be.below(350);
    await first;
    (seen[2]!.at - seen[0]!.at).should.be.aboveOrEqual(390);
    seen.map((s) => s.path.split('/').pop()).should.eql(['customers(1)', 'customers(2)', 'customers(1)']);
    client.limiter.stats.pauses.should.equal(0);
  });
});
