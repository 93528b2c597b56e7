/**
 * `npm run bench`: the figures an integration team needs for the day the store takes 1,000+ orders a
 * minute and the ERP throttles, each measured beside its baseline in the same run. Prints one table
 * and writes bench-results.json (or --out FILE). `--only chain,erp,…` runs some phases; `--quick`
 * shrinks every phase (a smoke run, not figures to quote).
 */
import { spawn } from 'child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'fs';
import os from 'os';
import path from 'path';
import { formatTable, type Row } from './lib/report';
import { chainPhase } from './phases/chain';
import { drainPhase, erpCallsPhase } from './phases/erp';
import { memoryPhase } from './phases/memory';
import { webhookPhase } from './phases/webhook';

const packageRoot = path.resolve(__dirname, '..', '..');

interface Phase { name: string; run: (quick: boolean, log: (s: string) => void) => Promise<Row[]> }

const PHASES: Phase[] = [
  {
    name: 'chain',
    run: (q, log) => chainPhase(
      { packageRoot, orders: q ? 5_000 : 30_000, pool: q ? 100 : 200, rounds: q ? 1 : 3 }, log),
  },
  {
    name: 'erp',
    run: (q, log) => erpCallsPhase({ packageRoot, templates: q ? 20 : 60, orders: q ? 60 : 200, ordersOff: q ? 30 : 100 }, log),
  },
  {
    name: 'drain',
    run: (q, log) => drainPhase({ packageRoot, templates: q ? 20 : 60, orders: q ? 200 : 600 }, log),
  },
  {
    name: 'webhook',
    run: (q, log) => webhookPhase({ packageRoot, rate: 1000, seconds: 5, rounds: q ? 1 : 3 }, log),
  },
  {
    name: 'memory',
    run: (q, log) => memoryPhase({ packageRoot, orders: q ? 10_000 : 100_000, live: q ? 500 : 2_000 }, log),
  },
];

/** Runs one phase in a fresh process (its own Node-RED runtime and heap), returning its rows. */
function inChild(name: string, quick: boolean): Promise<Row[]> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'bench-phase-'));
  const file = path.join(dir, 'rows.json');
  const child = spawn(process.execPath, [__filename, '--phase', name, '--rows', file, ...(quick ? ['--quick'] : [])], { stdio: ['ignore', 'ignore', 'inherit'] });
  return new Promise<Row[]>((resolve, reject) => {
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      try {
        resolve(JSON.parse(readFileSync(file, 'utf8')) as Row[]);
      } catch {
        reject(new Error(`phase process ended (${signal ?? `exit ${code}`}) without results`));
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
}

/** Child side: run one phase and write its rows. */
async function childMain(name: string, rowsFile: string, quick: boolean): Promise<void> {
  const phase = PHASES.find((p) => p.name === name);
  if (!phase) throw new Error(`unknown phase ${name}`);
  const started = Date.now();
  const log = (s: string) => process.stderr.write(`[bench ${name} ${((Date.now() - started) / 1000).toFixed(1)}s] ${s}\n`);
  let rows: Row[];
  try {
    rows = await phase.run(quick, log);
  } catch (e) {
    // One broken phase still leaves the other rows: partial figures are better than none.
    log(`failed: ${(e as Error).stack ?? String(e)}`);
    rows = [{ figure: name, value: '—', baseline: '—', target: '—', note: `phase failed: ${(e as Error).message}` }];
  }
  writeFileSync(rowsFile, JSON.stringify(rows));
}

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
      rows.push(...await inChild(p.name, quick));
    } catch (e) {
      rows.push({ figure: p.name, value: '—', baseline: '—', target: '—', note: (e as Error).message });
    }
  }
  const table = formatTable(rows);
  process.stdout.write(`\n${table}\n`);
  const machine = { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model, totalMemMb: Math.round(os.totalmem() / 2 ** 20), node: process.version, platform: `${os.platform()} ${os.release()}`, loadAverage: os.loadavg() };
  writeFileSync(out, `${JSON.stringify({ at: new Date().toISOString(), quick, durationS: (Date.now() - started) / 1000, machine, rows }, null, 2)}\n`);
  process.stdout.write(`\nresults written to ${path.relative(process.cwd(), out) || out}\n`);
  if (rows.some((r) => r.pass === undefined)) process.exitCode = 1;
}

const childPhase = arg('phase');
const rowsFile = arg('rows');
(childPhase && rowsFile ? childMain(childPhase, rowsFile, process.argv.includes('--quick')) : main()).then(() => process.exit(), (e: unknown) => {
  process.stderr.write(`bench failed: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
