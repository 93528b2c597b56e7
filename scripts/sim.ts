/**
 * `npm run sim`: both simulators standalone, for trying the nodes in your own Node-RED.
 * Ports: --shopify-port / SHOPIFY_SIM_PORT (8101), --bc-port / BC_SIM_PORT (8102).
 * --generate <orders per second>: also place a realistic mix of orders (needs a webhook subscription to be useful).
 */
import { ORDER_FAULTS } from '../sim/shopify';
import { PortInUseError, assertPortFree, portSetting } from './lib/ports';
import { startSims } from './lib/sims';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const shopifyPort = { what: 'Shopify simulator', port: portSetting(argv, '--shopify-port', 'SHOPIFY_SIM_PORT', 8101), env: 'SHOPIFY_SIM_PORT', flag: '--shopify-port', command: 'npm run sim' };
  const bcPort = { what: 'Business Central simulator', port: portSetting(argv, '--bc-port', 'BC_SIM_PORT', 8102), env: 'BC_SIM_PORT', flag: '--bc-port', command: 'npm run sim' };
  const at = argv.indexOf('--generate');
  const rate = at >= 0 ? Number(argv[at + 1]) : 0;
  if (!Number.isFinite(rate) || rate < 0 || rate > 100) throw new Error('--generate: orders per second, 0 to 100');
  for (const p of [shopifyPort, bcPort]) await assertPortFree(p);
  const sims = await startSims({ shopify: shopifyPort, bc: bcPort });
  const { shopify, bc } = sims;
  const o = shopify.options;
  console.log(`Shopify simulator       ${shopify.url}
  shopify-store config:  shop domain ${o.shop}, API version ${o.apiVersion}, Base URL ${shopify.url}
  credentials:           access token ${o.accessToken}, webhook secret ${o.webhookSecret}
  Admin GraphQL:         ${shopify.graphqlUrl}
  control:               ${shopify.url}/_sim/orders, /_sim/deliveries, POST /_sim/webhooks {"topic","url"}, POST /_sim/orders {"faults":["unknown_sku"]}

Business Central simulator ${bc.url}
  d365-connection config: tenant ${bc.tenant}, environment ${bc.environment}, company id ${bc.companyId}
                          Base URL ${bc.url}, Token URL ${bc.tokenUrl}
  credentials:            client id ${bc.clientId}, client secret ${bc.clientSecret}
  control:                ${bc.url}/_sim/stats, POST ${bc.url}/_sim/orders/<number>/shipments

These are the simulators' local test credentials, not secrets. Order faults: ${ORDER_FAULTS.join(', ')}.`);
  if (rate > 0) {
    shopify.startGenerator({ ratePerSecond: rate, maxOrders: 100_000 });
    console.log(`Placing about ${rate} order(s) per second (30% with one fault).`);
  }
  console.log('Press Ctrl-C to stop.');
  const stop = () => void sims.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof PortInUseError ? `\n${e.message}\n` : e instanceof Error ? e.message : String(e));
  process.exit(1);
});
