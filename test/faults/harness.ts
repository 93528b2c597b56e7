import { existsSync, mkdtempSync, readdirSync, readlinkSync, rmSync } from 'fs';
import os from 'os';
import path from 'path';
import { SqliteJournal } from '../../nodes/lib/journal/sqlite-journal';
import { FULL_LIFECYCLE, pointAtSims, readExample, subscribeWebhooks, type FlowNode } from '../../scripts/lib/flows';
import { startNodeRed, type NodeRed } from '../../scripts/lib/node-red';
import { freePort } from '../../scripts/lib/ports';
import type { Sims } from '../../scripts/lib/sims';
import { startBcSim, type BcSimOptionsInput } from '../../sim/bc';
import { startShopifySim, type ShopifySimOptions } from '../../sim/shopify';

export const PACKAGE_ROOT = path.resolve(__dirname, '..', '..');

/** Fault tests run the built package in a real Node-RED process, as a user installs it. */
export function requireBuild(): void {
  if (!existsSync(path.join(PACKAGE_ROOT, 'dist', 'nodes', 'shopify-trigger.js'))) {
    throw new Error('the fault tests load the built package: run `npm run build` first (npm test does)');
  }
}

/** Size multiplier for the fault tests (FAULT_SCALE=4 for a longer soak; default sized for CI). */
export const SCALE = Math.max(0.1, Number(process.env.FAULT_SCALE ?? 1) || 1);
export const scaled = (n: number) => Math.max(10, Math.round(n * SCALE));

export interface Rig {
  sims: Sims;
  nodeRed: NodeRed;
  userDir: string;
  journalFile: string;
  flow: FlowNode[];
  /** Restarts Node-RED on the same user dir and journal (after a crash or a stop). */
  restart(): Promise<void>;
  kill(signal: NodeJS.Signals): Promise<void>;
  stop(): Promise<void>;
}

/**
 * The full-lifecycle example on both simulators in a Node-RED child process with the SQLite journal
 * on a temp file. Only timings are changed (retry-later after seconds, not minutes; a faster
 * reconciliation when asked), so what is tested is the example a user deploys.
 */
export async function startRig(o: { bc?: BcSimOptionsInput; shopify?: ShopifySimOptions; reconcileIntervalS?: number } = {}): Promise<Rig> {
  requireBuild();
  const shopify = await startShopifySim({ port: 0, timeScale: 0.0005, ...o.shopify });
  const bc = await startBcSim({ port: 0, ...o.bc });
  const sims: Sims = { shopify, bc, close: async () => { await Promise.all([shopify.close(), bc.close()]); } };
  const userDir = mkdtempSync(path.join(os.tmpdir(), 'faults-'));
  const journalFile = path.join(userDir, 'journal.sqlite');
  const flow = pointAtSims(readExample(PACKAGE_ROOT, FULL_LIFECYCLE), sims).map((n) => {
    if (n.type === 'order-journal') return { ...n, file: journalFile };
    if (n.type === 'order-exception-router') return { ...n, retrySchedule: '1s, 2s, 3s, 5s, 8s', retryPollS: '0.5' };
    if (n.type === 'shopify-trigger') {
      return { ...n, reconcile: o.reconcileIntervalS !== undefined, reconcileIntervalS: String(o.reconcileIntervalS ?? 300), reconcileLookbackMin: '60' };
    }
    if (n.type === 'd365-order-writer') return { ...n, retryBaseMs: '200' };
    return n;
  });
  const port = await freePort();
  let nodeRed = await startNodeRed({ userDir, packageRoot: PACKAGE_ROOT, port, logFile: path.join(userDir, 'node-red.log') });
  await nodeRed.deploy(flow);
  const subs = subscribeWebhooks(flow, sims, nodeRed.url);
  const rig: Rig = {
    sims, userDir, journalFile, flow,
    get nodeRed() { return nodeRed; },
    restart: async () => {
      // flows.json and the credentials stay in the user dir: Node-RED starts the same flows again.
      nodeRed = await startNodeRed({ userDir, packageRoot: PACKAGE_ROOT, port, logFile: path.join(userDir, `node-red-${Date.now()}.log`) });
    },
    kill: async (signal) => {
      process.kill(nodeRedPid(userDir), signal);
      await nodeRed.exited;
    },
    stop: async () => {
      subs.unsubscribe();
      await nodeRed.stop();
      await sims.close();
      rmSync(userDir, { recursive: true, force: true });
    },
  };
  return rig;
}

/**
 * The pid of the Node-RED process started in this (unique, temporary) user dir: startNodeRed does not
 * expose its child, Node-RED overwrites its command line (process.title), but the child's working
 * directory is its user dir. A crash test must SIGKILL exactly that process.
 */
function nodeRedPid(userDir: string): number {
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`) === userDir) return Number(entry);
    } catch {
      // gone, or not ours to read
    }
  }
  throw new Error(`no Node-RED process running in ${userDir}`);
}

export interface Counts { sent: number; created: number; held: number; duplicated: number; lost: number; failed: number }

/** Where every sent order ended: created in BC (by external document number), held in the journal, or neither. */
export async function tally(rig: Rig, names: readonly string[], ids: readonly number[]): Promise<Counts & { missing: string[] }> {
  const byExt = new Map<string, number>();
  for (const so of rig.sims.bc.db.all('salesOrders')) {
    const ext = String(so.externalDocumentNumber ?? '');
    byExt.set(ext, (byExt.get(ext) ?? 0) + 1);
  }
  const j = SqliteJournal.open(rig.journalFile);
  try {
    const held = new Set((await j.listHolds({ status: 'held', limit: 1_000_000 })).map((h) => h.orderId));
    let created = 0;
    let onHold = 0;
    let duplicated = 0;
    let failed = 0;
    const missing: string[] = [];
    for (let i = 0; i < names.length; i++) {
      const n = byExt.get(names[i]!) ?? 0;
      if (n > 1) duplicated++;
      if (n >= 1) created++;
      else if (held.has(String(ids[i]))) onHold++;
      else {
        const rec = await j.getOrder(rig.sims.shopify.options.shop, String(ids[i]));
        if (rec?.state === 'failed') failed++;
        missing.push(`${names[i]} (${rec?.state ?? 'no journal record'})`);
      }
    }
    return { sent: names.length, created, held: onHold, duplicated, lost: missing.length, failed, missing };
  } finally {
    await j.close();
  }
}

export function countsLine(c: Counts): string {
  return `orders sent ${c.sent}, created ${c.created}, held ${c.held}, duplicated ${c.duplicated}, lost ${c.lost}`;
}

/** Polls `check` until it is true or the time is up (then returns false). */
export async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, everyMs = 500): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() > end) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** The pid of the rig's Node-RED process right now (a test that must see it never restarted compares two reads). */
export function nodeRedPidOf(rig: Rig): number {
  return nodeRedPid(rig.userDir);
}

/** Waits (up to `timeoutMs`) until every order is created in BC or held, none lost, then tallies them. */
export async function awaitEveryOrder(rig: Rig, orders: readonly { name: string; id: number | string }[], timeoutMs: number):
  Promise<Counts & { missing: string[] }> {
  const names = orders.map((o) => o.name);
  const ids = orders.map((o) => Number(o.id));
  await rig.sims.shopify.settled();
  await until(async () => {
    const c = await tally(rig, names, ids);
    return c.lost === 0 && c.created + c.held === c.sent;
  }, timeoutMs, 1000);
  return tally(rig, names, ids);
}
