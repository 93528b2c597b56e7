import 'should';
import type { BcClient } from '../../nodes/lib/d365/bc-client';
import { D365ConnectionRuntime } from '../../nodes/lib/d365/connection-config';

const CID = '5106c77d-af37-4e2d-bb88-45d87aba1033';
const creds = { clientId: 'app', clientSecret: 'SECRET-value-1' };

describe('d365-connection request window settings', () => {
  it('defaults to BC online\'s 6,000 requests per 300 s when the fields are empty or missing', () => {
    for (const extra of [{}, { requestsPerWindow: '', windowS: ' ' }]) {
      const rt = new D365ConnectionRuntime({ tenant: 't', companyId: CID, ...extra }, creds);
      (rt.configError === undefined).should.be.true();
      (rt.getClient() as BcClient).limiter.limits.should.eql({ requestsPerWindow: 6000, windowMs: 300_000, maxInFlight: 5 });
    }
  });

  it('passes the editor\'s strings to the client: a time-scaled simulator window of 120 per 3 s, 5 in flight', () => {
    const rt = new D365ConnectionRuntime({ tenant: 't', companyId: CID, requestsPerWindow: '120', windowS: '3', maxConcurrency: '5' }, creds);
    const client = rt.getClient() as BcClient;
    client.config.should.containEql({ requestsPerWindow: 120, windowMs: 3000, maxConcurrency: 5 });
    client.limiter.limits.should.eql({ requestsPerWindow: 120, windowMs: 3000, maxInFlight: 5 });
  });

  it('reports bad values by field name instead of throwing, and never names the secret', () => {
    for (const bad of [{ requestsPerWindow: '0' }, { requestsPerWindow: '12.5' }, { requestsPerWindow: 'lots' }, { windowS: '-1' }, { windowS: '0' }, { windowS: '99999' }]) {
      const rt = new D365ConnectionRuntime({ tenant: 't', companyId: CID, ...bad }, creds);
      rt.configError!.should.match(new RegExp(Object.keys(bad)[0]!));
      rt.configError!.should.not.containEql(creds.clientSecret);
      (() => rt.getClient()).should.throw(/misconfigured/);
    }
  });
});
