/**
 * Runs the Business Central simulator standalone:
 *   node dist/sim/bc/main.js [--port 7048] [--host 127.0.0.1] [--tenant T] [--environment production]
 *                            [--client-id ID] [--seed N] [--latency MS] [--page-size N] [--time-scale X]
 * The client secret comes from BC_SIM_CLIENT_SECRET (default: the simulator's well-known test secret).
 */
import { startBcSim, type BcSimOptionsInput } from '.';

function parseArgs(argv: string[]): BcSimOptionsInput {
  const o: Record<string, string> = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (!a.startsWith('--')) throw new Error(`Unexpected argument '${a}'.`);
    const [k, inline] = a.slice(2).split('=', 2);
    const v = inline ?? argv[++i];
    if (v === undefined) throw new Error(`Missing value for --${k}.`);
    o[k!] = v;
  }
  const num = (k: string) => (o[k] === undefined ? undefined : Number(o[k]));
  const known = new Set(['port', 'host', 'tenant', 'environment', 'client-id', 'seed', 'latency', 'page-size', 'time-scale']);
  for (const k of Object.keys(o)) if (!known.has(k)) throw new Error(`Unknown option --${k}.`);
  const out: BcSimOptionsInput = { port: num('port') ?? 7048 };
  if (o.host) out.host = o.host;
  if (o.tenant) out.tenant = o.tenant;
  if (o.environment) out.environment = o.environment;
  if (o['client-id']) out.clientId = o['client-id'];
  if (process.env.BC_SIM_CLIENT_SECRET) out.clientSecret = process.env.BC_SIM_CLIENT_SECRET;
  if (o.seed) out.seed = num('seed');
  if (o.latency) out.latencyMs = num('latency');
  if (o['page-size']) out.pageSize = num('page-size');
  if (o['time-scale']) out.timeScale = num('time-scale');
  return out;
}

async function main(): Promise<void> {
  const sim = await startBcSim(parseArgs(process.argv.slice(2)));
  process.stdout.write([
    'Business Central simulator running',
    `  token URL:   ${sim.tokenUrl}`,
    `  API:         ${sim.apiUrl}/companies(${sim.companyId})/`,
    `  custom API:  ${sim.customApiUrl}/companies(${sim.companyId})/`,
    `  control:     ${sim.url}/_sim/`,
    `  tenant ${sim.tenant}, environment ${sim.environment}, client id ${sim.clientId}`,
    '',
  ].join('\n'));
  const stop = () => { void sim.close().then(() => process.exit(0)); };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
