// A real BcClient (with its client-credentials token provider) against a running BC simulator.
import type { BcSim } from '../../sim/bc';
import { BcClient } from '../../nodes/lib/d365/bc-client';
import { ClientCredentialsTokenProvider } from '../../nodes/lib/d365/token-provider';

/** Short backoff so retry tests stay fast; `maxRetries` omitted = the client's default. */
export function simClient(sim: BcSim, maxRetries?: number): BcClient {
  return new BcClient({ tenant: sim.tenant, environment: sim.environment, companyId: sim.companyId, baseUrl: sim.url, backoffBaseMs: 5,
    ...(maxRetries === undefined ? {} : { maxRetries }) },
  new ClientCredentialsTokenProvider({ tenant: sim.tenant, clientId: sim.clientId, clientSecret: sim.clientSecret, tokenUrl: sim.tokenUrl }));
}
