/**
 * `npm start`: the whole lifecycle on one machine with no accounts. Starts the Shopify and Business
 * Central simulators, Node-RED with this package and the full-lifecycle example deployed against them,
 * and a steady stream of shop activity (orders clean and faulty, cancellations, refunds, shipments).
 * Ports: --shopify-port / SHOPIFY_SIM_PORT (8101), --bc-port / BC_SIM_PORT (8102), --port / NODE_RED_PORT (1880).
 * --interval / DEMO_INTERVAL_MS: time between shop events (2500 ms). --quiet: no line per event.
 */
import { rmSync } from 'fs';
import path from 'path';
import { startDemo, type Demo } from './lib/demo-runtime';
import { PortInUseError, assertPortFree, portSetting } from './lib/ports';
import { packageRoot } from './lib/root';

const root = packageRoot();

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const quiet = argv.includes('--quiet');
  const ports = {
    shopify: { what: 'Shopify simulator', port: portSetting(argv, '--shopify-port', 'SHOPIFY_SIM_PORT', 8101), env: 'SHOPIFY_SIM_PORT', flag: '--shopify-port' },
    bc: { what: 'Business Central simulator', port: portSetting(argv, '--bc-port', 'BC_SIM_PORT', 8102), env: 'BC_SIM_PORT', flag: '--bc-port' },
    nodeRed: { what: 'Node-RED editor', port: portSetting(argv, '--port', 'NODE_RED_PORT', 1880), env: 'NODE_RED_PORT', flag: '--port' },
  };
  const intervalMs = portSetting(argv, '--interval', 'DEMO_INTERVAL_MS', 2500);
  // Checked before anything changes, so a taken port leaves the last demo's directory alone.
  try {
    for (const p of Object.values(ports)) await assertPortFree(p);
  } catch (e) {
    if (!(e instanceof PortInUseError)) throw e;
    console.error(`\n${e.message}\n`);
    process.exit(1);
  }
  const userDir = path.join(root, '.demo');
  // A throwaway user dir: the simulators start empty, so yesterday's journal would only contradict them.
  rmSync(userDir, { recursive: true, force: true });

  console.log('Starting the simulators and Node-RED …');
  let demo: Demo;
  try {
    demo = await startDemo({ packageRoot: root, userDir, ports, intervalMs, log: quiet ? undefined : (l) => console.log(l) });
  } catch (e) {
    if (e instanceof PortInUseError) {
      console.error(`\n${e.message}\n`);
      process.exit(1);
    }
    throw e;
  }
  const { sims, nodeRed } = demo;
  console.log(`
Node-RED editor:        ${nodeRed.url}/
  flow "Full order lifecycle" is deployed against the simulators; a shop event every ${(intervalMs / 1000).toFixed(1)} s.

What to look at:
  • the node statuses under each node: orders received, checked, held, written, fulfilled
  • the Debug sidebar (bug icon, top right): sales orders written, orders held with their findings, fulfillments
  • the Order exceptions sidebar tab: held orders with every reason; release or discard them there
  • Business Central simulator: ${sims.bc.url}/_sim/stats (requests), ${sims.bc.url}/_sim/orders/<number> (a sales order)
  • Shopify simulator:        ${sims.shopify.url}/_sim/orders (orders), ${sims.shopify.url}/_sim/deliveries (webhooks)
  • Node-RED's own log:       ${path.relative(process.cwd(), path.join(userDir, 'node-red.log')) || '.demo/node-red.log'}

Simulator credentials (local test values, already in the flow's config nodes): see npm run sim.
Press Ctrl-C to stop.
`);

  let stopping = false;
  const stop = (why: string) => {
    if (stopping) return;
    stopping = true;
    console.log(`\n${why}: stopping …`);
    void demo.stop().then(() => {
      const c = demo.traffic.counts;
      console.log(`Stopped. Shop events: ${c.clean} clean and ${c.faulty} faulty orders, ${c.cancelled} cancellations, ${c.refunded} refunds, ${c.shipped} shipments.`);
      process.exit(0);
    }, (e: unknown) => {
      console.error(`Stopping failed: ${(e as Error).message}`);
      process.exit(1);
    });
  };
  process.on('SIGINT', () => stop('Ctrl-C'));
  process.on('SIGTERM', () => stop('SIGTERM'));
  void nodeRed.exited.then((code) => { if (!stopping) { console.error(`Node-RED exited (code ${code}); see .demo/node-red.log`); stop('Node-RED exited'); } });
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : String(e));
  process.exit(1);
});
