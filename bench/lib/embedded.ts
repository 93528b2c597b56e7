import http from 'http';
import { mkdirSync, mkdtempSync, rmSync } from 'fs';
import os from 'os';
import path from 'path';

/** A flow node as deployed (config-node credentials ride on `credentials`, as with the admin API). */
export type FlowNode = Record<string, unknown> & { id: string; type: string };

interface RuntimeNode { receive(msg: Record<string, unknown>): void; [k: string]: unknown }
interface Red {
  init(server: http.Server, settings: Record<string, unknown>): void;
  start(): Promise<void>;
  stop(): Promise<void>;
  nodes: { getNode(id: string): RuntimeNode | null };
  runtime: { flows: { setFlows(opts: { flows: { flows: FlowNode[] }; deploymentType: string }): Promise<unknown> } };
  util: Record<string, unknown>;
}

export interface Embedded {
  red: Red;
  userDir: string;
  /** Full deploy; resolves when the new flows have started. */
  deploy(flow: FlowNode[]): Promise<void>;
  node(id: string): RuntimeNode;
  stop(): Promise<void>;
}

/**
 * Node-RED 4.1 embedded in this process (no HTTP listener, editor off), loading this package the way
 * an installed module is loaded. The benchmark measures the runtime itself, so there is no test
 * helper in between (its sinon spies on every send would dominate the figures).
 */
export async function startEmbedded(opts: { packageRoot: string; globals?: Record<string, unknown> }): Promise<Embedded> {
  const userDir = mkdtempSync(path.join(os.tmpdir(), 'shopify-d365-bench-'));
  mkdirSync(userDir, { recursive: true });
  const red = require('node-red') as Red;
  const server = http.createServer();
  red.init(server, {
    userDir,
    flowFile: 'flows.json',
    credentialSecret: false,
    nodesDir: [opts.packageRoot],
    httpAdminRoot: '/admin',
    httpNodeRoot: '/',
    disableEditor: true,
    logging: { console: { level: process.env.BENCH_NR_LOG ?? 'warn', metrics: false, audit: false } },
    diagnostics: { enabled: false },
    telemetry: { enabled: false },
    editorTheme: { tours: false, projects: { enabled: false } },
    functionGlobalContext: opts.globals ?? {},
  });
  const events = (require('@node-red/util') as { events: NodeJS.EventEmitter }).events;
  const started = () => new Promise<void>((resolve) => events.once('flows:started', () => resolve()));
  // The (empty) initial flows start after start() resolves; a deploy before that would race them.
  const initial = started();
  await red.start();
  await initial;
  return {
    red,
    userDir,
    deploy: async (flow) => {
      const s = started();
      await red.runtime.flows.setFlows({ flows: { flows: flow }, deploymentType: 'full' });
      await s;
    },
    node: (id) => {
      const n = red.nodes.getNode(id);
      if (!n) throw new Error(`node ${id} is not deployed`);
      return n;
    },
    stop: async () => {
      await red.stop();
      server.close();
      rmSync(userDir, { recursive: true, force: true });
    },
  };
}
