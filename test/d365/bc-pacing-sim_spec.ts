import 'should';
import { BcClient, type BcClientInput } from '../../nodes/lib/d365/bc-client';
import { ClientCredentialsTokenProvider } from '../../nodes/lib/d365/token-provider';
import { startBcSim, type BcSim } from '../../sim/bc';
import { buildCatalogue } from '../../sim/catalogue';

// The BC simulator enforces BC's per-user limits (sliding request window, 5 processed at once); here its
// 5-minute window is scaled down to one second so a burst larger than the window runs in a few seconds.
const WINDOW_MS = 1000;
const PER_WINDOW = 20;

function clientFor(sim: BcSim, o: Partial<BcClientInput> = {}): BcClient {
  return new BcClient({ tenant: sim.tenant, environment: sim.environment, companyId: sim.companyId, baseUrl: sim.url, backoffBaseMs: 5, ...o },
    new ClientCredentialsTokenProvider({ tenant: sim.tenant, clientId: sim.clientId, clientSecret: sim.clientSecret, tokenUrl: sim.tokenUrl }));
}

describe('BcClient pacing against the BC simulator', function () {
  this.timeout(20_000);
  let sim: BcSim;
  beforeEach(async () => {
    sim = await startBcSim({
      catalogue: buildCatalogue({ items: 5, customers: 5 }), latencyMs: 2,
      timeScale: WINDOW_MS / 300_000, limits: { requestsPerWindow: PER_WINDOW },
    });
  });
  afterEach(() => sim.close());

  const burst = (client: BcClient, n: number) => Promise.all(Array.from({ length: n }, (_, i) => client.get(`items`, { top: 1, skip: i })));

  it('drains a burst of 2.5 windows with no 429, in about the time the window allows', async () => {
    const client = clientFor(sim, { requestsPerWindow: PER_WINDOW, windowMs: WINDOW_MS });
    await client.list('locations'); // token and connection set up before the clock starts
    await new Promise((r) => setTimeout(r, WINDOW_MS + 50));
    sim.resetCounters();
    const n = PER_WINDOW * 2.5;
    const t0 = Date.now();
    const replies = await burst(client, n);
    const ms = Date.now() - t0;
    replies.should.have.length(n);
    const st = sim.stats();
    st.throttledWindow.should.equal(0);
    st.throttledQueueFull.should.equal(0);
    client.stats.throttled.should.equal(0);
    client.stats.calls.should.equal(n + 1);
    st.inFlightMax.should.be.belowOrEqual(5);
    // 20 at once, 20 more a window after the first finished, the last 10 a window after that.
    const least = Math.floor((n - 1) / PER_WINDOW) * WINDOW_MS;
    ms.should.be.aboveOrEqual(least);
    ms.should.be.below(least + 600, `${n} requests took ${ms} ms; the window allows ${least} ms`);
    client.limiter.stats.delayed.should.equal(n - PER_WINDOW);
  });

  it('without pacing (a client that thinks the window is BC online\'s) the same burst draws 429s', async () => {
    const client = clientFor(sim, { maxBackoffMs: 50 });
    await burst(client, PER_WINDOW + 10).then(() => undefined, () => undefined);
    sim.stats().throttledWindow.should.be.above(0);
    client.stats.throttled.should.be.above(0);
  });
});
