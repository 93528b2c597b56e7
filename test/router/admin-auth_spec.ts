import 'should';
import bcrypt from 'bcryptjs';
import { mkdtempSync, rmSync } from 'fs';
import os from 'os';
import path from 'path';
import { startNodeRed } from '../../scripts/lib/node-red';
import type { NodeRed } from '../../scripts/lib/node-red';
import { freePort } from '../../scripts/lib/ports';

// The hold queue's admin API lives under Node-RED's admin app: with adminAuth on, it must refuse
// callers without a token, and refuse changes to users who may only read.
describe('exception admin API behind Node-RED adminAuth (real runtime)', function () {
  this.timeout(60_000);
  let nr: NodeRed;
  let dir: string;
  const hash = bcrypt.hashSync('s3cret-pass', 8);

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'nr-auth-'));
    nr = await startNodeRed({
      userDir: dir, packageRoot: path.resolve(__dirname, '..', '..'), port: await freePort(),
      extraSettings: {
        adminAuth: {
          type: 'credentials',
          users: [
            { username: 'ops', password: hash, permissions: '*' },
            { username: 'viewer', password: hash, permissions: 'read' },
          ],
        },
      },
    });
  });
  after(async () => {
    await nr?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const token = async (username: string, scope: string): Promise<string> => {
    const r = await fetch(`${nr.url}/auth/token`, {
      method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: 'node-red-admin', grant_type: 'password', scope, username, password: 's3cret-pass' }),
    });
    r.status.should.equal(200);
    return ((await r.json()) as { access_token: string }).access_token;
  };
  const call = (method: string, p: string, bearer?: string) => fetch(`${nr.url}${p}`, {
    method, headers: { 'content-type': 'application/json', ...(bearer ? { authorization: `Bearer ${bearer}` } : {}) },
    body: method === 'POST' ? '{}' : undefined,
  });

  it('refuses an unauthenticated caller', async () => {
    (await call('GET', '/shopify-d365/holds')).status.should.equal(401);
    (await call('POST', '/shopify-d365/holds/some-id/release')).status.should.equal(401);
    (await call('POST', '/shopify-d365/holds/some-id/discard')).status.should.equal(401);
  });

  it('lets a read-only user list but not release', async () => {
    const t = await token('viewer', 'read');
    const list = await call('GET', '/shopify-d365/holds', t);
    list.status.should.equal(200);
    ((await list.json()) as { counts: { total: number } }).counts.total.should.equal(0);
    [401, 403].should.containEql((await call('POST', '/shopify-d365/holds/some-id/release', t)).status);
  });

  it('lets a full user act (an unknown hold is then a 404, not an auth error)', async () => {
    const t = await token('ops', '*');
    (await call('POST', '/shopify-d365/holds/some-id/release', t)).status.should.equal(404);
  });
});
