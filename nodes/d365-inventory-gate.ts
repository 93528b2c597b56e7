import type { Node, NodeAPI, NodeDef, NodeMessageInFlow, NodeStatus } from 'node-red';
import { formatZodError } from './lib/contract';
import type { OrderMessage } from './lib/contract';
import type { BcApi } from './lib/d365/bc-api';
import { refuseConfig } from './lib/d365/lookups-node';
import { InventoryGate } from './lib/inventory/gate';
import { GateConfig } from './lib/inventory/gate-settings';
import { StockReader } from './lib/inventory/stock';
import { journalFromConfig } from './lib/journal/config-node';
import { wireCheckNode } from './lib/node-red/check-node';
import { inputHandler } from './lib/node-red/types';
import type { Done, InputHandler, Send } from './lib/node-red/types';

const TYPE = 'd365-inventory-gate';
/** Topics that give units back; handled here because wireCheckNode would check orders/cancelled as an order. */
const RELEASE_TOPICS = new Set(['orders/cancelled', 'refunds/create']);

export = function (RED: NodeAPI) {
  function D365InventoryGate(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const node = this;
    const parsed = GateConfig.safeParse(def);
    if (!parsed.success) {
      refuseConfig(node, TYPE, formatZodError(parsed.error));
      return;
    }
    const cfg = parsed.data;
    const conn = RED.nodes.getNode(cfg.connection) as unknown as { getClient?: () => BcApi; dryRun?: unknown } | null;
    if (!conn || typeof conn.getClient !== 'function') {
      refuseConfig(node, TYPE, 'connection: the selected D365 connection does not exist (deploy it, or pick another)');
      return;
    }
    let gate: InventoryGate;
    try {
      gate = new InventoryGate({
        rules: cfg,
        journal: journalFromConfig(RED, cfg.journal),
        stock: new StockReader(() => conn.getClient!(), { ttlMs: cfg.cacheTtlS * 1000 }),
        dryRun: () => conn.dryRun === true,
      });
    } catch (e) {
      refuseConfig(node, TYPE, `journal: ${(e as Error).message}`);
      return;
    }

    // The shared check runtime handles order topics; cancellations and refunds release units instead, so
    // its input handler is captured (not registered) and called for the other topics only.
    let released = 0;
    let inner: NodeStatus = {};
    const show = () => node.status(released && inner.fill !== 'red'
      ? { fill: inner.fill === 'grey' ? 'green' : inner.fill, shape: 'dot', text: `${inner.fill === 'grey' ? '' : `${String(inner.text)} · `}${released} released` }
      : inner);
    let check: InputHandler | undefined;
    const facade = new Proxy(node, {
      get(target, prop) {
        if (prop === 'on') return (event: string, h: InputHandler) => (event === 'input' ? (check = h) : target.on(event as 'close', h as never));
        if (prop === 'status') return (st: NodeStatus) => { inner = st; show(); };
        const v = Reflect.get(target, prop) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const status = wireCheckNode(facade, TYPE, cfg.mode, (order, msg) => gate.check(order, msg));
    // Cancellations and refunds: done on every path, like any onInput handler.
    const release = inputHandler(async (msg: NodeMessageInFlow, send) => {
      const topic = String(msg.topic ?? '');
      const r = await gate.release(topic, msg as unknown as OrderMessage);
      released += r.released;
      show();
      send([msg, null]);
    }, (err) => status.fail(err.message));
    // Orders go straight to the check runtime's handler (it calls done itself): no extra promise per order.
    node.on('input', (msg: NodeMessageInFlow, send: Send, done: Done) => (RELEASE_TOPICS.has(String(msg.topic ?? '')) ? release : check!)(msg, send, done));
  }
  RED.nodes.registerType(TYPE, D365InventoryGate);
};
