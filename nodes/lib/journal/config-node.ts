import type { Node, NodeAPI } from 'node-red';
import path from 'path';
import { z } from 'zod';
import { formatZodError } from '../contract';
import type { OrderJournal } from './journal';

/** What other nodes rely on: the `order-journal` config node hands out one shared journal. */
export const ORDER_JOURNAL_TYPE = 'order-journal';
export const DEFAULT_JOURNAL_FILE = 'shopify-d365-journal.sqlite';

export interface OrderJournalConfigNode extends Node {
  /** The journal opened by this config node (synchronous so constructors can use it); throws if it could not be opened. */
  getJournal(): OrderJournal;
}

const emptyToUndefined = (v: unknown) => (v === '' || v === null ? undefined : v);

/** The editor sends every field as a string (numbers too), and older flows may lack newer fields. */
export const OrderJournalConfig = z.object({
  name: z.string().default(''),
  backend: z.preprocess(emptyToUndefined, z.literal('sqlite', {
    error: (iss) => (iss.input === 'redis'
      ? 'the Redis backend is planned but not available yet; use sqlite'
      : `unknown backend ${JSON.stringify(iss.input)}; use sqlite`),
  }).default('sqlite')),
  file: z.preprocess(emptyToUndefined, z.string().trim().optional()),
  retentionDays: z.preprocess(emptyToUndefined, z.coerce.number().positive().max(3650).default(7)),
});
export type OrderJournalConfig = z.infer<typeof OrderJournalConfig>;

export function parseJournalConfig(raw: unknown): OrderJournalConfig {
  const r = OrderJournalConfig.safeParse(raw);
  if (!r.success) throw new Error(`invalid order journal settings: ${formatZodError(r.error)}`);
  return r.data;
}

/**
 * Where the SQLite file lives: the configured path (relative paths are taken from the Node-RED user
 * directory, like Node-RED's own files), else `<userDir>/shopify-d365-journal.sqlite`; the current
 * directory stands in when Node-RED runs without a user directory (embedded runtimes, tests).
 */
export function resolveJournalFile(file: string | undefined, userDir: string | undefined): string {
  const base = userDir || process.cwd();
  if (file === ':memory:') return file;
  return path.resolve(base, file || DEFAULT_JOURNAL_FILE);
}

/**
 * The journal behind a node's config field (e.g. `config.journal`), with errors that tell the user
 * what to fix instead of "cannot read properties of null".
 */
export function journalFromConfig(RED: NodeAPI, id: string | undefined): OrderJournal {
  if (!id) throw new Error('no order journal selected: choose one in the node\'s settings');
  const n = RED.nodes.getNode(id) as Partial<OrderJournalConfigNode> | null;
  if (!n) throw new Error(`order journal ${id} is not deployed (or is disabled)`);
  if (n.type !== ORDER_JOURNAL_TYPE || typeof n.getJournal !== 'function') throw new Error(`node ${id} is not an order journal`);
  return n.getJournal();
}
