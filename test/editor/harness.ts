// One real Node-RED 4.1 (child process, loading this package from the project root) and one headless
// Debian Chromium (playwright-core) for the whole editor suite: started by the first editor spec,
// stopped by a root-level after hook once every spec has run.
import { spawn } from 'child_process';
import type { ChildProcess } from 'child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'fs';
import net from 'net';
import os from 'os';
import path from 'path';
import { chromium } from 'playwright-core';
import type { Browser, BrowserContext, Page } from 'playwright-core';

export const ROOT = path.resolve(__dirname, '..', '..');
export const CATEGORY = 'Shopify → D365';
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
export const SCREENSHOTS = path.join(ROOT, 'docs', 'screenshots');

const INSTALL_HINT = [
  '',
  '==================================================================================',
  ` Editor tests need Debian's Chromium at ${CHROMIUM}, and it is not there.`,
  ' Install it:   sudo apt-get update && sudo apt-get install -y chromium',
  ' (.ci/run installs it on CI, so CI always runs these tests.)',
  ' Another binary: CHROMIUM_PATH=/path/to/chromium npm test',
  ' To skip the editor tests on purpose: SKIP_EDITOR_TESTS=1 npm test',
  '==================================================================================',
  '',
].join('\n');

export type FlowNode = Record<string, unknown> & { id: string; type: string };

export interface Editor {
  base: string;
  userDir: string;
  page: Page;
  /** Everything Node-RED printed (warnings and errors only: logging is quiet). */
  log(): string;
  /** Uncaught errors thrown by editor scripts since the page was opened. */
  pageErrors: string[];
  api(method: string, url: string, body?: unknown): Promise<{ status: number; body: any }>;
  getFlows(): Promise<FlowNode[]>;
  /** Full deploy through the admin API, as a CI pipeline would. */
  deploy(flows: FlowNode[]): Promise<void>;
  /** A fresh editor tab (the previous one is closed without its unload prompt), ready to use;
   * `setup` runs on the new page before it loads (e.g. to record traffic). */
  reload(setup?: (page: Page) => void): Promise<Page>;
}

interface Shared {
  child: ChildProcess;
  browser: Browser;
  context: BrowserContext;
  editor: Editor;
}

let shared: Promise<Shared> | undefined;

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address() as net.AddressInfo;
      srv.close(() => resolve(port));
    });
  });
}

function settingsJs(userDir: string, port: number): string {
  // nodesDir is the package root: a folder whose package.json has a node-red section is loaded as a
  // real module (namespace, resources/, examples/), unlike loose files in dist/nodes.
  return `module.exports = ${JSON.stringify({
    uiPort: port,
    uiHost: '127.0.0.1',
    userDir,
    nodesDir: [ROOT],
    flowFile: 'flows.json',
    credentialSecret: false,
    editorTheme: { tours: false, projects: { enabled: false } },
    externalModules: { palette: { allowInstall: false } },
    logging: { console: { level: 'warn', metrics: false, audit: false } },
    telemetry: { enabled: false },
    diagnostics: { enabled: false },
  }, null, 2)};\n`;
}

async function waitForHttp(base: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) throw new Error(`Node-RED exited with code ${child.exitCode}:\n${log()}`);
    try {
      const res = await fetch(`${base}/settings`);
      if (res.ok) return;
    } catch { /* not listening yet */ }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`Node-RED did not answer on ${base} within 60 s:\n${log()}`);
}

async function start(): Promise<Shared> {
  if (!existsSync(path.join(ROOT, 'dist', 'nodes'))) {
    throw new Error('dist/nodes is missing: run `npm run build` first (npm test does it for you)');
  }
  const userDir = mkdtempSync(path.join(os.tmpdir(), 'sd365-editor-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  writeFileSync(path.join(userDir, 'settings.js'), settingsJs(userDir, port));
  writeFileSync(path.join(userDir, 'flows.json'), '[]');

  let output = '';
  const child = spawn(process.execPath, [require.resolve('node-red/red.js'), '-u', userDir, '-p', String(port)], {
    cwd: userDir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NODE_RED_ENABLE_PROJECTS: 'false' },
  });
  const keep = (chunk: Buffer) => { output = (output + chunk.toString()).slice(-20_000); };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  // mocha --exit ends the process without running async hooks: never leave Node-RED behind.
  process.once('exit', () => { if (child.exitCode === null) child.kill('SIGKILL'); });
  await waitForHttp(base, child, () => output);

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--no-first-run', '--disable-dev-shm-usage'],
  });
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, deviceScaleFactor: 1 });

  const api = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(base + url, {
      method,
      headers: { 'Content-Type': 'application/json', 'Node-RED-API-Version': 'v2', 'Node-RED-Deployment-Type': 'full' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    let parsed: unknown = text;
    try { parsed = JSON.parse(text); } catch { /* not JSON */ }
    return { status: res.status, body: parsed as any };
  };

  const editor: Editor = {
    base,
    userDir,
    page: undefined as unknown as Page,
    pageErrors: [],
    log: () => output,
    api,
    async getFlows() {
      const res = await api('GET', '/flows');
      if (res.status !== 200) throw new Error(`GET /flows answered ${res.status}`);
      return res.body.flows as FlowNode[];
    },
    async deploy(flows) {
      const res = await api('POST', '/flows', { flows });
      if (res.status !== 200) throw new Error(`POST /flows answered ${res.status}: ${JSON.stringify(res.body)}\n${output}`);
    },
    async reload(setup) {
      if (editor.page) await editor.page.close();
      const page = await context.newPage();
      editor.pageErrors = [];
      page.on('pageerror', (e) => editor.pageErrors.push(String(e)));
      setup?.(page);
      await page.goto(base + '/');
      await waitForEditor(page);
      editor.page = page;
      return page;
    },
  };
  return { child, browser, context, editor };
}

/** The editor is usable once a workspace is active, the loading overlay is gone and the palette is built. */
export async function waitForEditor(page: Page): Promise<void> {
  await page.waitForFunction(() => {
    const g = globalThis as any;
    const overlay = g.document.querySelector('#red-ui-loading-progress');
    return !!g.RED?.workspaces?.active() && (!overlay || g.getComputedStyle(overlay).display === 'none')
      && !!g.document.querySelector('.red-ui-palette-node[data-palette-type="inject"]');
  }, null, { timeout: 30_000 });
}

async function stop(): Promise<void> {
  if (!shared) return;
  const s = await shared.catch(() => undefined);
  shared = undefined;
  if (!s) return;
  await s.browser.close().catch(() => undefined);
  if (s.child.exitCode === null) {
    const exited = new Promise((r) => s.child.once('exit', r));
    s.child.kill('SIGTERM');
    await Promise.race([exited, new Promise((r) => setTimeout(r, 5000))]);
    if (s.child.exitCode === null) s.child.kill('SIGKILL');
  }
  rmSync(s.editor.userDir, { recursive: true, force: true });
}

// Root-level hook (registered while mocha loads the spec files): one stop after the whole run.
after(stop);

/**
 * Call inside a describe: before its tests, the shared Node-RED and browser are up (started on first
 * use). Fails loudly when Chromium is missing, unless SKIP_EDITOR_TESTS=1 asks to skip.
 */
export function useEditor(): () => Editor {
  let editor: Editor | undefined;
  before(async function () {
    this.timeout(120_000);
    if (process.env.SKIP_EDITOR_TESTS === '1') {
      console.warn('    SKIP_EDITOR_TESTS=1: editor tests skipped');
      this.skip();
    }
    if (!existsSync(CHROMIUM)) {
      console.error(INSTALL_HINT);
      throw new Error(`Chromium not found at ${CHROMIUM}: sudo apt-get install -y chromium (or SKIP_EDITOR_TESTS=1)`);
    }
    shared ??= start();
    editor = (await shared).editor;
  });
  return () => {
    if (!editor) throw new Error('editor not started');
    return editor;
  };
}

/**
 * Where a screenshot goes: docs/screenshots/<name> only with UPDATE_SCREENSHOTS=1, else nowhere (the
 * screenshot is still taken, so the test still renders it), so that test runs leave the tree clean.
 */
export function screenshotPath(name: string): string | undefined {
  if (process.env.UPDATE_SCREENSHOTS !== '1') return undefined;
  mkdirSync(SCREENSHOTS, { recursive: true });
  return path.join(SCREENSHOTS, name);
}
