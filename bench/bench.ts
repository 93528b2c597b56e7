/**
 * `npm run bench`: the figures an integration team needs for the day the store takes 1,000+ orders a
 * minute and the ERP throttles, each measured beside its baseline in the same run. Prints one table
 * and writes bench-results.json (or --out FILE). `--only chain,erp,…` runs some phases; `--quick`
 * shrinks every phase (a smoke run, not figures to quote).
 */
import { writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { formatTable, type Row } from './lib/report';
import { chainPhase } from './phases/chain';

const packageRoot = path.resolve(__dirname, '..', '..');

interface Phase { name: string; run: (quick: boolean, log: (s: string) => void) => Promise<Row[]> }

const PHASES: Phase[] = [
  {
    name: 'chain',
    run: (q, log) => chainPhase(
      { packageRoot, orders: q ? 5_000 : 30_000, pool: 300, rounds: q ? 1 : 3 }, log),
  },
];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(`--${name}`);
  if (i >= 0) return process.argv[i + 1];
  const eq = process.argv.find((a) => a.startsWith(`--${name}=`));
  return eq?.slice(name.length + 3);
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const only = arg('only')?.split(',').map((s) => s.trim()).filter(Boolean);
  const out = path.resolve(arg('out') ?? path.join(packageRoot, 'bench-results.json'));
  const unknown = only?.filter((n) => !PHASES.some((p) => p.name === n)) ?? [];
  if (unknown.length) throw new Error(`unknown phase(s) ${unknown.join(', ')}; phases: ${PHASES.map((p) => p.name).join(', ')}`);
  const started = Date.now();
  const log = (s: string) => process.stderr.write(`[bench ${((Date.now() - started) / 1000).toFixed(1)}s] ${s}\n`);
  const rows: Row[] = [];
  for (const p of PHASES) {
    if (only && !only.includes(p.name)) continue;
    log(`phase ${p.name}…`);
    try {
      rows.push(...await p.run(quick, log));
    } catch (e) {
      // One broken phase still leaves the other rows: partial figures are better than none.
      rows.push({ figure: p.name, value: '—', baseline: '—', target: '—', note: `phase failed: ${(e as Error).message}` });
      log(`phase ${p.name} failed: ${(e as Error).stack ?? String(e)}`);
    }
  }
  const table = formatTable(rows);
  process.stdout.write(`\n${table}\n`);
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, totalMemMb: Math.round(os.totalmem() / 2 ** 20), node: process.version, platform: `${os.platform()} ${os.release()}`, loadAverage: os.loadavg() };
  writeFileSync(out, `${JSON.stringify({ at: new Date().toISOString(), quick, durationS: (Date.now() - started) / 1000, machine, rows }, null, 2)}\n`);
  process.stdout.write(`\nresults written to ${path.relative(process.cwd(), out) || out}\n`);
  if (rows.some((r) => r.pass === undefined)) process.exitCode = 1;
}

main().then(() => process.exit(), (e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
