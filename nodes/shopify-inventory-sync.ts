import type { Node, NodeAPI, NodeDef } from 'node-red';
import { randomUUID } from 'crypto';
import { formatZodError } from './lib/contract';
import { InventorySync } from './lib/inventory/sync';
import type { SyncReport } from './lib/inventory/sync';
import { SharedRun } from './lib/inventory/sync-run';
import { SyncConfig } from './lib/inventory/sync-settings';
import { StatusCounter } from './lib/node-red/status';
import { onInput } from './lib/node-red/types';
import { lookupConfigNodes } from './lib/writer/config-nodes';

const TYPE = 'shopify-inventory-sync';

export = function (RED: NodeAPI) {
  function ShopifyInventorySync(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new StatusCounter(node, ['sent', 'failed'], ['failed']);
    const parsed = SyncConfig.safeParse(def);
    const refuse = (why: string) => {
      const text = `${TYPE}: invalid configuration: ${why}`;
      node.error(text);
      node.status({ fill: 'red', shape: 'ring', text: 'invalid config' });
      onInput(node, () => { throw new Error(text); });
    };
    if (!parsed.success) return refuse(formatZodError(parsed.error));
    const cfg = parsed.data;
    const deps = lookupConfigNodes(RED, cfg);
    if (!deps.bc) return refuse('connection: the selected D365 connection does not exist (deploy it, or pick another)');
    if (!deps.shopify) return refuse('store: the selected Shopify store does not exist (deploy it, or pick another)');
    if (!deps.journal) return refuse('journal: the selected order journal does not exist (deploy it, or pick another)');

    let sync: InventorySync | undefined;
    const getSync = () => (sync ??= new InventorySync({
      rules: cfg, bc: deps.bc!, shopify: deps.shopify!, journal: deps.journal!(),
      // Same name on every instance (identical flows), so one instance runs it and all share the last push.
      name: `inventory-sync:${node.id}`, owner: `${node.id}:${randomUUID()}`,
      // Outlives an interval so the holder keeps it between runs; an input-only node holds it for ten minutes.
      leaseMs: (cfg.intervalS || 200) * 3000,
    }));
    // One run at a time; the timer and input messages share it with one report per trigger (see SharedRun).
    const runs = new SharedRun(async (): Promise<SyncReport> => {
      status.busy('syncing…');
      const r = await getSync().run();
      if (!r.ran) node.status({ fill: 'grey', shape: 'ring', text: 'standby (lease elsewhere)' });
      else {
        status.add('sent', r.sent);
        if (r.errors) status.add('failed', r.errors);
        if (!r.sent && !r.errors) status.show();
      }
      return r;
    });
    /** Output 1: the run's counts; output 2 (only when something failed): the failed levels. */
    const outputs = (r: SyncReport, msg: Record<string, unknown> = {}) => {
      const { failed, ...summary } = r;
      return [{ ...msg, topic: 'inventory/sync', payload: summary }, failed.length ? { topic: 'inventory/sync-failed', payload: failed } : null];
    };
    const tick = () => runs.tick().then((t) => { if (t?.result.ran) node.send(outputs(t.result)); },
      (e: Error) => { status.fail(e.message); node.error(`${TYPE}: run failed: ${e.message}`); });
    const timer = cfg.intervalS > 0 ? setInterval(tick, cfg.intervalS * 1000) : undefined;
    // A timed sync also runs soon after deploy instead of waiting a whole interval.
    const first = cfg.intervalS > 0 ? setTimeout(tick, 2000) : undefined;
    // An input message (inject, or a D365 event) runs it at once, or joins the run in progress and gets its
    // report; failures reach Catch nodes through done(err).
    onInput(node, async (msg, send) => {
      const r = await runs.answer();
      if (r.ran) send(outputs(r, msg as unknown as Record<string, unknown>));
    }, (err) => status.fail(err.message));
    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(timer);
      clearTimeout(first);
      // Every deploy starts a new instance with a new owner: without this it would stand by until the old lease lapsed.
      // A journal already closed fails the release; the lease then just lapses.
      (sync ? sync.release() : Promise.resolve()).catch(() => undefined).then(() => done());
    });
  }
  RED.nodes.registerType(TYPE, ShopifyInventorySync);
};
