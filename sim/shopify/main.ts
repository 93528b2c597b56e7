/**
 * Starts the Shopify simulator standalone:
 *   node dist/sim/shopify/main.js [--port 8081] [--seed 1] [--time-scale 0.01] [--generate 2]
 * Env: SHOPIFY_SIM_PORT, SHOPIFY_SIM_TOKEN (access token), SHOPIFY_SIM_SECRET (webhook secret), SHOPIFY_SIM_CONTROL_TOKEN.
 */
import { startShopifySim } from './server';

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

async function main(): Promise<void> {
  const num = (v: string | undefined) => (v === undefined ? undefined : Number(v));
  const sim = await startShopifySim({
    port: num(arg('port') ?? process.env.SHOPIFY_SIM_PORT) ?? 0,
    seed: num(arg('seed')),
    timeScale: num(arg('time-scale')),
    accessToken: process.env.SHOPIFY_SIM_TOKEN || undefined,
    webhookSecret: process.env.SHOPIFY_SIM_SECRET || undefined,
    controlToken: process.env.SHOPIFY_SIM_CONTROL_TOKEN || undefined,
  });
  const rate = num(arg('generate'));
  if (rate) sim.startGenerator({ ratePerSecond: rate, maxOrders: num(arg('max-orders')) ?? 1000 });
  // The URL only: tokens come from the environment and are not echoed.
  console.log(`Shopify simulator listening on ${sim.url}`);
  console.log(`  GraphQL: ${sim.graphqlUrl}`);
  console.log(`  Control: ${sim.url}/_sim/stats`);
  const stop = () => void sim.close().then(() => process.exit(0));
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
