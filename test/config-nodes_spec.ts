import 'should';
import helper from 'node-red-node-test-helper';
import { inspect } from 'util';
import shopifyStoreNode = require('../nodes/shopify-store');
import d365ConnectionNode = require('../nodes/d365-connection');
import { BcClient } from '../nodes/lib/d365/bc-client';
import type { D365ConnectionNode } from '../nodes/lib/d365/connection-config';
import { D365ConnectionRuntime } from '../nodes/lib/d365/connection-config';
import { ShopifyAdminClient } from '../nodes/lib/shopify/admin-client';
import type { ShopifyStoreNode } from '../nodes/lib/shopify/store-config';
import { ShopifyStoreRuntime } from '../nodes/lib/shopify/store-config';
import { LocalServer, startServer } from './clients/local-server';

const CID = '5106c77d-af37-4e2d-bb88-45d87aba1033';
const SECRETS = ['shpat_token_SECRET_1', 'whsec_current_SECRET', 'whsec_previous_SECRET', 'bc_client_SECRET~x'];

/** Everything the runtime was told through status/log/warn/error spies, as text. */
function reported(node: { status: unknown; error: unknown; warn: unknown; log: unknown }): string {
  const spies = [node.status, node.error, node.warn, node.log] as unknown as { args: unknown[][] }[];
  return spies.map((s) => inspect(s.args, { depth: 5 })).join('\n');
}

describe('config nodes', () => {
  afterEach(() => helper.unload());

  describe('shopify-store', () => {
    it('exposes shop domain, API version, one shared client and the webhook secrets (current first)', async () => {
      const flow = [{ id: 's1', type: 'shopify-store', name: 'EU', shopDomain: 'demo-shop.myshopify.com', apiVersion: '', baseUrl: 'http://127.0.0.1:9' }];
      await helper.load(shopifyStoreNode, flow, { s1: { accessToken: SECRETS[0], webhookSecret: SECRETS[1], previousWebhookSecret: SECRETS[2] } });
      const s1 = helper.getNode('s1') as unknown as ShopifyStoreNode;
      s1.shopDomain.should.equal('demo-shop.myshopify.com');
      s1.apiVersion.should.equal('2026-07');
      const client = s1.getClient();
      client.should.be.instanceOf(ShopifyAdminClient);
      s1.getClient().should.equal(client);
      s1.webhookSecrets().should.eql([SECRETS[1], SECRETS[2]]);
      const text = reported(s1 as never);
      for (const s of SECRETS) text.should.not.containEql(s);
    });

    it('reports bad settings with node.error instead of throwing, and getClient explains why', async () => {
      const flow = [{ id: 's1', type: 'shopify-store', shopDomain: 'https://shop.example.com', apiVersion: '26-07' }];
      await helper.load(shopifyStoreNode, flow, { s1: { accessToken: SECRETS[0], webhookSecret: SECRETS[1] } });
      const s1 = helper.getNode('s1') as unknown as ShopifyStoreNode & { error: { args: unknown[][] }; status: { args: unknown[][] } };
      s1.error.args.length.should.equal(1);
      String(s1.error.args[0][0]).should.match(/^shopify-store: shopDomain: shop domain must look like your-shop\.myshopify\.com; apiVersion: API version must be YYYY-MM/);
      (s1.status.args[0][0] as object).should.eql({ fill: 'red', shape: 'ring', text: 'invalid config' });
      (() => s1.getClient()).should.throw(/misconfigured: shopDomain/);
      const text = reported(s1 as never);
      for (const s of SECRETS) text.should.not.containEql(s);
    });

    it('needs an access token for the client but not for webhook secrets', () => {
      const rt = new ShopifyStoreRuntime({ shopDomain: ' Demo-Shop.myshopify.com ' }, { webhookSecret: SECRETS[1], previousWebhookSecret: '' });
      rt.shopDomain.should.equal('demo-shop.myshopify.com');
      rt.webhookSecrets().should.eql([SECRETS[1]]);
      (() => rt.getClient()).should.throw(/no Admin API access token/);
      new ShopifyStoreRuntime({ shopDomain: 'x.myshopify.com' }, undefined).webhookSecrets().should.eql([]);
    });
  });

  describe('d365-connection', () => {
    let srv: LocalServer | undefined;
    afterEach(async () => {
      await srv?.close();
      srv = undefined;
    });

    it('builds one shared BcClient from the settings and talks to the overridden URLs', async () => {
      srv = await startServer((req, res) => {
        if (req.path === '/tenant-1/oauth2/v2.0/token') {
          res.json({ expires_in: 3599, access_token: `tok-for-${req.body.client_id}` });
        } else {
          res.json({ value: [{ path: req.path, auth: req.headers.authorization }] });
        }
      });
      const flow = [{ id: 'c1', type: 'd365-connection', flavour: 'bc', tenant: 'tenant-1', environment: 'sandbox', companyId: CID,
        baseUrl: srv.url, tokenUrl: `${srv.url}/{tenant}/oauth2/v2.0/token`, maxConcurrency: '3', dryRun: true }];
      await helper.load(d365ConnectionNode, flow, { c1: { clientId: 'app-1', clientSecret: SECRETS[3] } });
      const c1 = helper.getNode('c1') as unknown as D365ConnectionNode;
      c1.dryRun.should.be.true();
      c1.companyId.should.equal(CID);
      const client = c1.getClient() as BcClient;
      client.should.be.instanceOf(BcClient);
      c1.getClient().should.equal(client);
      client.config.maxConcurrency.should.equal(3);
      const rows = await client.list('customers');
      rows.should.eql([{ path: `/v2.0/tenant-1/sandbox/api/v2.0/companies(${CID})/customers`, auth: 'Bearer tok-for-app-1' }]);
      const text = reported(c1 as never);
      text.should.not.containEql(SECRETS[3]);
    });

    it('reports bad settings with node.error instead of throwing, and getClient explains why', async () => {
      const flow = [{ id: 'c1', type: 'd365-connection', flavour: 'fo', tenant: '', companyId: 'Cronus', maxConcurrency: 'lots', dryRun: false }];
      await helper.load(d365ConnectionNode, flow, { c1: { clientId: 'app-1', clientSecret: SECRETS[3] } });
      const c1 = helper.getNode('c1') as unknown as D365ConnectionNode & { error: { args: unknown[][] } };
      const message = String(c1.error.args[0][0]);
      message.should.match(/^d365-connection: /);
      message.should.match(/only Business Central/).and.match(/tenant is required/).and.match(/company id must be the company GUID/).and.match(/maxConcurrency/);
      (() => c1.getClient()).should.throw(/D365 connection is misconfigured/);
      c1.dryRun.should.be.true();
      reported(c1 as never).should.not.containEql(SECRETS[3]);
    });

    it('parses editor strings and requires credentials for the client', () => {
      const rt = new D365ConnectionRuntime({ tenant: 'contoso.onmicrosoft.com', environment: '', companyId: CID, baseUrl: '', tokenUrl: '', maxConcurrency: '', dryRun: 'false' }, {});
      (rt.configError === undefined).should.be.true();
      rt.dryRun.should.be.false();
      (() => rt.getClient()).should.throw(/no client id\/secret/);
      const ok = new D365ConnectionRuntime({ tenant: 't', companyId: CID }, { clientId: 'a', clientSecret: 'b' });
      (ok.getClient() as BcClient).config.should.containEql({ environment: 'production', maxConcurrency: 5 });
    });
  });
});
