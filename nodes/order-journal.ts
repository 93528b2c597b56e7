import type { Node, NodeAPI, NodeDef } from 'node-red';
import { parseJournalConfig, resolveJournalFile } from './lib/journal/config-node';
import type { OrderJournalConfigNode } from './lib/journal/config-node';
import type { OrderJournal } from './lib/journal/journal';
import { SqliteJournal } from './lib/journal/sqlite-journal';

const DAY_MS = 24 * 3600 * 1000;
/** Dedupe keys only need pruning at a pace far below the retention (days); hourly keeps the table small. */
const PRUNE_EVERY_MS = 3600 * 1000;

export = function (RED: NodeAPI) {
  function OrderJournalNode(this: OrderJournalConfigNode, def: NodeDef) {
    RED.nodes.createNode(this, def);
    const node = this;
    let journal: OrderJournal | undefined;
    let failure: Error | undefined;
    let timer: NodeJS.Timeout | undefined;

    try {
      const config = parseJournalConfig(def);
      const file = resolveJournalFile(config.file, RED.settings.userDir as string | undefined);
      journal = SqliteJournal.open(file);
      const retentionMs = config.retentionDays * DAY_MS;
      const prune = () => {
        journal?.pruneEvents(retentionMs).then((n) => {
          if (n > 0) node.log(`pruned ${n} emitted webhook event(s) older than ${config.retentionDays} day(s)`);
        }, (e: Error) => node.error(`order journal: pruning failed: ${e.message}`));
      };
      prune();
      // unref: a pending prune must never keep a stopping Node-RED alive.
      timer = setInterval(prune, PRUNE_EVERY_MS).unref();
    } catch (e) {
      failure = e instanceof Error ? e : new Error(String(e));
      node.error(failure.message);
      node.status({ fill: 'red', shape: 'ring', text: 'not available' });
    }

    node.getJournal = () => {
      if (journal) return journal;
      throw new Error(`order journal "${def.name || def.id}" is not available: ${failure?.message ?? 'not opened'}`);
    };

    node.on('close', (_removed: boolean, done: () => void) => {
      if (timer) clearInterval(timer);
      // Node-RED closes config nodes together with the nodes that use them: their close handlers (a
      // lease given back, a last write) run in this same turn, so the journal stays open until the next.
      setImmediate(() => {
        const j = journal;
        journal = undefined;
        failure = new Error('it was stopped (redeploy in progress)');
        (j ? j.close() : Promise.resolve()).then(() => done(), (e: Error) => {
          node.error(`order journal: close failed: ${e.message}`);
          done();
        });
      });
    });
  }
  RED.nodes.registerType('order-journal', OrderJournalNode as unknown as (this: Node, def: NodeDef) => void);
};
