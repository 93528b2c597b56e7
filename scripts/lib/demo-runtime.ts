import path from 'path';
import { FULL_LIFECYCLE, pointAtSims, readExample, subscribeWebhooks, type FlowNode } from './flows';
import { startNodeRed, type NodeRed } from './node-red';
import { assertPortFree, type PortWish } from './ports';
import { startSims, type Sims } from './sims';
import { DemoTraffic } from './traffic';

export interface StackOptions {
  packageRoot: string;
  userDir: string;
  ports: { shopify: PortWish; bc: PortWish; nodeRed: PortWish };
}

export interface Stack {
  sims: Sims;
  nodeRed: NodeRed;
  /** Deploys an example file pointed at the simulators and subscribes its triggers' webhooks (replacing the previous example's). */
  deployExample(file: string): Promise<FlowNode[]>;
  stop(): Promise<void>;
}

/**
 * The simulators plus Node-RED with this package, on 127.0.0.1: the start-up the demo and the example
 * flow tests share. Ports are checked first, so a taken port fails before anything starts.
 */
export async function startStack(o: StackOptions): Promise<Stack> {
  for (const p of [o.ports.shopify, o.ports.bc, o.ports.nodeRed]) await assertPortFree(p);
  const sims = await startSims({ shopify: o.ports.shopify, bc: o.ports.bc });
  let nodeRed: NodeRed;
  try {
    nodeRed = await startNodeRed({ userDir: o.userDir, packageRoot: o.packageRoot, port: o.ports.nodeRed.port, logFile: path.join(o.userDir, 'node-red.log') });
  } catch (e) {
    await sims.close();
    throw e;
  }
  let subscriptions: { unsubscribe(): void } | undefined;
  return {
    sims,
    nodeRed,
    deployExample: async (file) => {
      const flow = pointAtSims(readExample(o.packageRoot, file), sims);
      subscriptions?.unsubscribe();
      await nodeRed.deploy(flow);
      subscriptions = subscribeWebhooks(flow, sims, nodeRed.url);
      return flow;
    },
    stop: async () => {
      subscriptions?.unsubscribe();
      // Node-RED first: its nodes may still be talking to the simulators.
      await nodeRed.stop();
      await sims.close();
    },
  };
}

export interface Demo extends Stack {
  traffic: DemoTraffic;
}

/** The demo: the stack, the full-lifecycle example deployed, and shop traffic at a steady pace. */
export async function startDemo(o: StackOptions & { intervalMs: number; log?: (line: string) => void }): Promise<Demo> {
  const stack = await startStack(o);
  try {
    await stack.deployExample(FULL_LIFECYCLE);
  } catch (e) {
    await stack.stop();
    throw e;
  }
  const traffic = new DemoTraffic(stack.sims, { intervalMs: o.intervalMs, log: o.log }).start();
  return { ...stack, traffic, stop: async () => { traffic.stop(); await stack.stop(); } };
}
