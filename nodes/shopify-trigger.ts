import { hostname } from 'os';
import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import type { OrderJournal } from './lib/journal/journal';
import type { ShopifyAdminApi } from './lib/shopify/admin-api';
import { reconcileOnce } from './lib/shopify/reconcile';
import type { ReconcileResult } from './lib/shopify/reconcile';
import { parseTriggerConfig } from './lib/shopify/webhook-config';
import type { TriggerConfig } from './lib/shopify/webhook-config';
import { fullNodePath, hasRoute, keepRawBodiesBeforeAdminParsers, removeRoute, webhookHandler } from './lib/shopify/webhook-http';
import type { HttpApp } from './lib/shopify/webhook-http';
import { WebhookIntake } from './lib/shopify/webhook-intake';
import { StatusCounter } from './lib/node-red/status';
import { onInput, toError } from './lib/node-red/types';

/** What this node uses of its config nodes (shopify-store, order-journal). */
interface StoreNode { shopDomain: string; apiVersion: string; getClient(): ShopifyAdminApi; webhookSecrets(): string[] }
interface JournalNode { getJournal(): OrderJournal }

function configNode<T>(RED: NodeAPI, id: string, type: string, has: string): T {
  const n = RED.nodes.getNode(id) as (Node & Record<string, unknown>) | null;
  if (!n) throw new Error(`the ${type} config node is not deployed (or is disabled)`);
  if (n.type !== type || typeof n[has] !== 'function') throw new Error(`node ${id} is not a ${type}`);
  return n as unknown as T;
}

type Def = NodeDef & Record<string, unknown>;

export = function (RED: NodeAPI) {
  /** Full URL path → body limit of every deployed trigger, for the raw-body guard on the admin app. */
  const rawBodyPaths = new Map<string, number>();

  function ShopifyTriggerNode(this: Node, def: Def) {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new StatusCounter(node, ['received', 'reconciled', 'duplicate', 'stale', 'ignored', 'rejected'], ['rejected']);

    let cfg: TriggerConfig;
    let store: StoreNode;
    let journal: OrderJournal;
    try {
      cfg = parseTriggerConfig(def);
      store = configNode<StoreNode>(RED, cfg.store, 'shopify-store', 'webhookSecrets');
      journal = configNode<JournalNode>(RED, cfg.journal, 'order-journal', 'getJournal').getJournal();
    } catch (e) {
      node.error(`shopify-trigger: ${toError(e).message}`);
      status.fail('invalid settings');
      return;
    }
    const shop = store.shopDomain.toLowerCase();
    if (!shop) {
      node.error('shopify-trigger: the Shopify store has no shop domain');
      status.fail('invalid settings');
      return;
    }
    const topics = new Set<string>(cfg.topics);
    let closed = false;

    const intake = new WebhookIntake({
      journal,
      // Read per delivery: a rotated secret applies without keeping secrets in this node.
      policy: () => ({ shopDomain: shop, secrets: store.webhookSecrets(), topics, ignoreTest: cfg.ignoreTest }),
      ignoreOwnWriteBacks: cfg.ignoreOwnWriteBacks,
      custody: cfg.custody,
      emit: (msg) => {
        if (!closed) node.send(msg as unknown as NodeMessage);
      },
      onOutcome: (outcome, reason) => {
        status.add(outcome);
        if (outcome === 'rejected') node.warn(`webhook rejected: ${reason}`);
        else if (outcome === 'ignored') node.debug(`webhook ignored: ${reason}`);
      },
      onError: (err, msg) => node.error(err.message, msg as NodeMessage | undefined),
    });

    // --- the webhook route ------------------------------------------------------------------------
    const app = RED.httpNode as unknown as HttpApp & { post: (path: string, handler: unknown) => void };
    if (hasRoute(app, cfg.path)) {
      node.error(`shopify-trigger: POST ${cfg.path} is already used by another node; choose another path`);
      status.fail('path in use');
      return;
    }
    const handler = webhookHandler({
      maxBytes: cfg.maxBodyKb * 1024,
      receive: async (headers, raw) => {
        if (store.webhookSecrets().length === 0) {
          status.fail('no webhook secret');
          return { status: 503, message: 'webhook secret not configured' };
        }
        const a = await intake.receive(headers, raw);
        if (a.error) {
          node.error(`shopify-trigger: ${a.error.message}`);
          status.fail('journal unavailable');
        }
        return a;
      },
      onUnreadable: (code, reason) => {
        status.add('rejected');
        node.warn(`webhook rejected (${code}): ${reason}`);
      },
      onCrash: (err) => {
        node.error(`shopify-trigger: ${err.message}`);
        status.fail('internal error');
      },
    });
    app.post(cfg.path, handler);
    const fullPath = fullNodePath(RED.settings.httpNodeRoot, cfg.path);
    rawBodyPaths.set(fullPath, cfg.maxBodyKb * 1024);
    keepRawBodiesBeforeAdminParsers(RED.httpAdmin, rawBodyPaths);

    // --- reconciliation -------------------------------------------------------------------------------
    const owner = `${hostname()}:${process.pid}:${node.id}`;
    let running: Promise<ReconcileResult> | undefined;
    const reconcile = (since?: string): Promise<ReconcileResult> => {
      if (running) return running;
      status.busy('reconciling…');
      // Inside a promise: getClient() throws when the store has no access token.
      running = Promise.resolve().then(() => reconcileOnce({
        api: store.getClient(), journal, ingest: (e) => intake.ingest(e), shop, apiVersion: store.apiVersion, owner,
        leaseTtlMs: cfg.reconcileIntervalS * 2000, lookbackMs: cfg.reconcileLookbackMin * 60_000,
        ignoreTest: cfg.ignoreTest, ignoreOwnWriteBacks: cfg.ignoreOwnWriteBacks,
        onInvalid: (id, reason) => node.warn(`reconciliation: order ${id} skipped, not a valid order: ${reason}`),
      }, since)).then((r) => {
        status.show();
        if (r.emitted) node.log(`reconciliation emitted ${r.emitted} order version(s) whose webhook had not arrived`);
        return r;
      }, (e: unknown) => {
        status.fail('reconcile failed');
        throw toError(e);
      }).finally(() => { running = undefined; });
      return running;
    };
    let timer: NodeJS.Timeout | undefined;
    const scheduled = () => {
      reconcile().catch((e: Error) => node.error(`shopify-trigger: reconciliation failed: ${e.message}`));
    };

    // Input: run a reconciliation now (msg.since: re-read from that time).
    onInput(node, async (msg) => {
      const since = (msg as { since?: unknown }).since;
      if (since !== undefined && typeof since !== 'string') throw new Error('msg.since must be an ISO-8601 timestamp string');
      await reconcile(since);
    });

    // --- start: first re-emit what was acknowledged but never settled, then reconcile ---------------
    // Waits for "flows:started": during a (re)deploy the nodes wired after this one may not exist yet,
    // and a message sent to a node that does not exist is dropped — an acknowledged order lost.
    const startedAt = Date.now();
    const start = () => {
      if (closed) return;
      intake.replayUnemitted(shop, startedAt, { windowMs: cfg.replayWindowH * 3_600_000 }).then(({ replayed, expired }) => {
        if (replayed) node.log(`re-emitted ${replayed} acknowledged event(s) that were not settled before the last stop`);
        if (expired.length) {
          const some = expired.slice(0, 20).map((e) => `${e.topic} ${e.resourceId ?? '?'} (event ${e.seq})`).join(', ');
          node.warn(`${expired.length} acknowledged event(s) older than the replay window (${cfg.replayWindowH} h) were never settled `
            + `(no writer or router recorded them) and are not replayed: ${some}${expired.length > 20 ? ', …' : ''}`);
        }
      }, (e: unknown) => {
        node.error(`shopify-trigger: could not re-emit unfinished events: ${toError(e).message}`);
        status.fail('journal unavailable');
      }).then(() => {
        if (closed || !cfg.reconcile) return;
        scheduled();
        timer = setInterval(scheduled, cfg.reconcileIntervalS * 1000);
      });
    };
    RED.events.once('flows:started', start);

    node.on('close', (_removed: boolean, done: () => void) => {
      closed = true;
      RED.events.removeListener('flows:started', start);
      if (timer) clearInterval(timer);
      removeRoute(app, cfg.path);
      rawBodyPaths.delete(fullPath);
      const pending = running ?? Promise.resolve();
      pending.catch(() => undefined).then(() => {
        node.status({});
        done();
      });
    });
  }

  RED.nodes.registerType('shopify-trigger', ShopifyTriggerNode);
};
