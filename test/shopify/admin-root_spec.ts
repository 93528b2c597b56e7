import 'should';
import { createHmac, randomUUID } from 'crypto';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import os from 'os';
import path from 'path';
import { startNodeRed } from '../../scripts/lib/node-red';
import type { NodeRed } from '../../scripts/lib/node-red';
import { freePort } from '../../scripts/lib/ports';

// README recommends serving the editor under its own root in production (httpAdminRoot '/admin'), so webhooks
// do not pass the editor's middleware; the benchmark runs that way. The trigger must work there as at the default.
describe('shopify-trigger with the editor under /admin (real runtime)', function () {
  this.timeout(60_000);
  const SHOP = 'admin-root-shop.myshopify.com';
  const SECRET = 'admin_root_secret';
  let nr: NodeRed;
  let dir: string;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'nr-admin-root-'));
    nr = await startNodeRed({ userDir: dir, packageRoot: path.resolve(__dirname, '..', '..'), port: await freePort(), adminRoot: '/admin' });
    await nr.deploy([
      { id: 't', type: 'tab', label: 'admin root' },
      { id: 'st', type: 'shopify-store', shopDomain: SHOP, apiVersion: '2026-07', baseUrl: '', credentials: { accessToken: 'unused', webhookSecret: SECRET } },
      { id: 'j', type: 'order-journal', backend: 'sqlite', file: path.join(dir, 'journal.sqlite'), retentionDays: '7' },
      {
        id: 'tr', z: 't', type: 'shopify-trigger', store: 'st', journal: 'j', path: '/shopify/webhooks', topics: ['orders/create'],
        maxBodyKb: '1024', ignoreTest: false, ignoreOwnWriteBacks: false, reconcile: false, reconcileIntervalS: '300', reconcileLookbackMin: '60', wires: [[]],
      },
    ] as never);
  });
  after(async () => {
    await nr?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  const deliver = (body: string, hmac: string) => fetch(`${nr.url}/shopify/webhooks`, {
    method: 'POST', body,
    headers: {
      'content-type': 'application/json', 'x-shopify-topic': 'orders/create', 'x-shopify-hmac-sha256': hmac,
      'x-shopify-shop-domain': SHOP, 'x-shopify-webhook-id': randomUUID(), 'x-shopify-api-version': '2026-07',
    },
  });
  const order = readFileSync(path.join(__dirname, '..', 'fixtures', 'order-1001.json'), 'utf8');

  it('serves the editor and admin API under /admin only', async () => {
    (await fetch(`${nr.url}/admin/settings`)).status.should.equal(200);
    (await fetch(`${nr.url}/settings`)).status.should.equal(404);
  });

  it('answers a signed delivery at the node root 200 after recording it, a forged one 401', async () => {
    const ok = await deliver(order, createHmac('sha256', SECRET).update(order).digest('base64'));
    ok.status.should.equal(200);
    ((await ok.json()) as { status: string }).status.should.equal('ok');
    const forged = await deliver(order, createHmac('sha256', 'not-the-secret').update(order).digest('base64'));
    forged.status.should.equal(401);
  });
});
