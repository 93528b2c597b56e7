import 'should';
import { startBcSim, type BcSim, type BcSimOptionsInput } from '../../sim/bc';
import { buildCatalogue } from '../../sim/catalogue';

async function tokenFor(sim: BcSim, clientId = sim.clientId, secret = sim.clientSecret): Promise<string> {
  const r = await fetch(sim.tokenUrl, {
    method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', client_id: clientId, client_secret: secret, scope: sim.scope }),
  });
  return ((await r.json()) as { access_token: string }).access_token;
}

describe('BC simulator throttling', function () {
  this.timeout(15000);
  let sim: BcSim | undefined;
  afterEach(async () => { await sim?.close(); sim = undefined; });

  const start = async (o: BcSimOptionsInput) => {
    sim = await startBcSim({ catalogue: buildCatalogue({ items: 5, customers: 5 }), ...o });
    const token = await tokenFor(sim);
    const get = (t = token) => fetch(`${sim!.apiUrl}/companies(${sim!.companyId})/locations`, { headers: { authorization: `Bearer ${t}` } });
    return { sim, get };
  };

  it('never processes more than maxConcurrent requests of one client at once; the rest wait in order', async () => {
    const { sim, get } = await start({ latencyMs: 400 }); // long enough for all 20 to arrive on a loaded machine
    const replies = await Promise.all(Array.from({ length: 20 }, () => get()));
    replies.map((r) => r.status).should.eql(Array(20).fill(200));
    sim.stats().inFlightMax.should.equal(5);
    sim.stats().queuedMax.should.be.aboveOrEqual(10);
  });

  it('answers 429 when the queue is full (maxQueue), with Retry-After unless switched off', async () => {
    // A long processing time keeps the first two busy until all ten requests have arrived, even on a
    // loaded machine where the client needs a while to open ten connections.
    const { sim, get } = await start({ latencyMs: 800, limits: { maxConcurrent: 2, maxQueue: 3 } });
    const replies = await Promise.all(Array.from({ length: 10 }, () => get()));
    const statuses = replies.map((r) => r.status).sort();
    statuses.filter((s) => s === 200).should.have.length(5);
    statuses.filter((s) => s === 429).should.have.length(5);
    const rejected = replies.find((r) => r.status === 429)!;
    rejected.headers.get('retry-after')!.should.equal('1');
    ((await rejected.json()) as { error: { code: string } }).error.code.should.equal('Application_TooManyRequests');
    sim.stats().throttledQueueFull.should.equal(5);

    sim.setLimits({ maxConcurrent: 2, maxQueue: 3, retryAfterOn429: false });
    const again = await Promise.all(Array.from({ length: 10 }, () => get()));
    const r429 = again.find((r) => r.status === 429)!;
    (r429.headers.get('retry-after') === null).should.be.true();
  });

  it('answers 429 past requestsPerWindow in the sliding window, per client, and recovers when the window slides', async () => {
    const { sim, get } = await start({
      latencyMs: 0, timeScale: 0.001, limits: { requestsPerWindow: 10 }, extraClients: { other: 'other-secret' },
    });
    for (let i = 0; i < 10; i++) (await get()).status.should.equal(200);
    const over = await get();
    over.status.should.equal(429);
    Number(over.headers.get('retry-after')).should.be.aboveOrEqual(1);
    const other = await tokenFor(sim, 'other', 'other-secret');
    (await get(other)).status.should.equal(200);
    sim.stats().throttledWindow.should.equal(1);
    await new Promise((r) => setTimeout(r, 320)); // the 300 s window scaled by 0.001
    (await get()).status.should.equal(200);
  });

  it('answers 503 with Retry-After when a request waits in the queue longer than queueTimeoutMs', async () => {
    const { sim, get } = await start({ latencyMs: 250, limits: { maxConcurrent: 1, queueTimeoutMs: 50 } });
    const [first, second] = await Promise.all([get(), get()]);
    first!.status.should.equal(200);
    second!.status.should.equal(503);
    second!.headers.get('retry-after')!.should.match(/^\d+$/);
    sim.stats().queueTimeouts.should.equal(1);
  });

  it('validates its options', async () => {
    await startBcSim({ limits: { maxConcurrent: 0 } }).should.be.rejected();
    await startBcSim({ faults: { errorRate: 2 } }).should.be.rejected();
  });
});
