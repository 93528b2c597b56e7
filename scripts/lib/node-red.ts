import { spawn, type ChildProcess } from 'child_process';
import { createWriteStream, mkdirSync, writeFileSync, type WriteStream } from 'fs';
import path from 'path';
import axios from 'axios';
import type { FlowNode } from './flows';

export interface NodeRedOptions {
  /** The Node-RED user directory (created; settings.js is written into it). */
  userDir: string;
  /** The package root: loaded through nodesDir, as an installed module would be. */
  packageRoot: string;
  port: number;
  /** Where Node-RED's own console output goes (a file), so the demo's output stays readable. */
  logFile?: string;
  startTimeoutMs?: number;
  /** More settings.js entries (plain JSON values), e.g. adminAuth for a test of the admin API's permissions. */
  extraSettings?: Record<string, unknown>;
  /** httpAdminRoot, e.g. `/admin`: the editor and admin API there, off the flows' HTTP routes (default `/`). */
  adminRoot?: string;
}

export interface NodeRed {
  /** Where the flows' HTTP routes are (httpNodeRoot `/`). */
  url: string;
  /** Replaces all flows (as a full deploy from the editor); config-node credentials ride on `credentials`. */
  deploy(flow: FlowNode[]): Promise<void>;
  /** GET/POST on the admin API (e.g. /shopify-d365/holds, /inject/:id). */
  get<T = unknown>(urlPath: string): Promise<T>;
  post<T = unknown>(urlPath: string, body?: unknown): Promise<T>;
  /** Node-RED's console output (the last 2000 lines), from line number `from` on (see lineCount). */
  output(from?: number): string[];
  /** Number of output lines so far: a mark for output(from). */
  lineCount(): number;
  /** Stops Node-RED (SIGINT: flows are stopped, the journal is closed); resolves when the process has exited. */
  stop(): Promise<void>;
  readonly exited: Promise<number | null>;
}

/** settings.js of a throwaway user dir: this package from `packageRoot`, editor on 127.0.0.1, no tours. */
export function settingsJs(packageRoot: string, port: number, extra: Record<string, unknown> = {}): string {
  return `// Generated for a throwaway Node-RED user dir (demo or test); overwritten on every start.
module.exports = {
    uiHost: '127.0.0.1',
    uiPort: ${port},
    flowFile: 'flows.json',
    // Stores flows_cred.json in clear text. Acceptable ONLY because the only credentials in this
    // directory are the local simulators' well-known test credentials. Never do this with real ones.
    credentialSecret: false,
    // Loads this package the way Node-RED loads an installed module (package.json "node-red" section).
    nodesDir: [${JSON.stringify(packageRoot)}],
    editorTheme: { tours: false, projects: { enabled: false } },
    logging: { console: { level: 'info', metrics: false, audit: false } },
    diagnostics: { enabled: false },
    telemetry: { enabled: false },
${Object.entries(extra).map(([k, v]) => `    ${JSON.stringify(k)}: ${JSON.stringify(v)},\n`).join('')}};
`;
}

const API = { 'Node-RED-API-Version': 'v2' };

/** Starts Node-RED 4.1 as a child process on 127.0.0.1 with a fresh settings.js in `userDir`. */
export async function startNodeRed(opts: NodeRedOptions): Promise<NodeRed> {
  mkdirSync(opts.userDir, { recursive: true });
  const adminRoot = opts.adminRoot ?? '';
  const extra = adminRoot ? { ...opts.extraSettings, httpAdminRoot: adminRoot } : opts.extraSettings;
  writeFileSync(path.join(opts.userDir, 'settings.js'), settingsJs(opts.packageRoot, opts.port, extra));
  const redJs = require.resolve('node-red/red.js', { paths: [opts.packageRoot] });
  const child: ChildProcess = spawn(process.execPath, [redJs, '-u', opts.userDir, '-p', String(opts.port)], {
    cwd: opts.userDir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false' },
  });
  const lines: string[] = [];
  let dropped = 0;
  const log: WriteStream | undefined = opts.logFile ? createWriteStream(opts.logFile) : undefined;
  const collect = (chunk: Buffer) => {
    log?.write(chunk);
    for (const l of chunk.toString('utf8').split(/\r?\n/)) if (l) lines.push(l);
    if (lines.length > 2000) dropped += lines.splice(0, lines.length - 2000).length;
  };
  child.stdout!.on('data', collect);
  child.stderr!.on('data', collect);
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => { log?.end(); resolve(code); }));
  let hasExited = false;
  void exited.then(() => { hasExited = true; });

  const url = `http://127.0.0.1:${opts.port}`;
  const http = axios.create({ baseURL: `${url}${adminRoot}`, headers: API, timeout: 15_000 });
  const stop = async () => {
    if (hasExited) return;
    child.kill('SIGINT');
    const timer = setTimeout(() => child.kill('SIGKILL'), 8000);
    await exited;
    clearTimeout(timer);
  };

  const deadline = Date.now() + (opts.startTimeoutMs ?? 30_000);
  for (;;) {
    if (hasExited) throw new Error(`Node-RED exited while starting:\n${lines.slice(-20).join('\n')}`);
    try {
      const r = await http.get('/settings', { timeout: 2000, validateStatus: () => true });
      if (r.status === 200 || r.status === 401) break; // 401: up, behind adminAuth
    } catch { /* not listening yet */ }
    if (Date.now() > deadline) {
      await stop();
      throw new Error(`Node-RED did not start within ${opts.startTimeoutMs ?? 30_000} ms:\n${lines.slice(-20).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  const registeredTypes = async (): Promise<Set<string>> => {
    const sets = (await http.get<{ types: string[]; enabled: boolean }[]>('/nodes', { headers: { Accept: 'application/json' } })).data;
    return new Set(sets.filter((s) => s.enabled).flatMap((s) => s.types));
  };

  return {
    url,
    exited,
    output: (from = 0) => lines.slice(Math.max(0, from - dropped)),
    lineCount: () => dropped + lines.length,
    stop,
    get: async <T>(p: string) => (await http.get<T>(p)).data,
    post: async <T>(p: string, body?: unknown) => (await http.post<T>(p, body ?? {})).data,
    deploy: async (flow) => {
      const known = await registeredTypes();
      const structural = new Set(['tab', 'group', 'subflow', 'junction']);
      const missing = [...new Set(flow.map((n) => n.type))].filter((t) => !structural.has(t) && !t.startsWith('subflow:') && !known.has(t));
      if (missing.length) throw new Error(`Node-RED has no node type ${missing.join(', ')}: is it built (npm run build) and listed in package.json "node-red.nodes"?`);
      const mark = dropped + lines.length;
      await http.post('/flows', { flows: flow }, { headers: { 'Node-RED-Deployment-Type': 'full' } });
      // The admin API answers before every node has started (and registered its HTTP routes): wait for the log line.
      const deadline = Date.now() + 15_000;
      while (!lines.slice(Math.max(0, mark - dropped)).some((l) => /\[info\] Started flows/.test(l))) {
        if (hasExited) throw new Error(`Node-RED exited during the deploy:\n${lines.slice(-20).join('\n')}`);
        if (Date.now() > deadline) throw new Error(`the flows did not start within 15 s:\n${lines.slice(-20).join('\n')}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    },
  };
}
