import type { NodeAPI } from 'node-red';
import type { BcApi } from './bc-api';
import { sharedLookups } from './lookups';
import type { D365ConnectionLike, D365Lookups } from './lookups';

/** How a check node reaches the shared lookups of its `d365-connection`. */
export interface ConnectionLookups {
  /** The shared, cached lookups (created on first use; throws if the connection cannot give a client). */
  lookups(): D365Lookups;
  /** The connection's dry-run switch, read per message. */
  dryRun(): boolean;
}

/** Finds the selected `d365-connection` node; a string says why it cannot be used (`remedy`: what the user can do). */
export function connectionLookups(RED: NodeAPI, connectionId: unknown, cache: { ttlS: number; max: number },
  remedy = 'deploy it, or pick another'): ConnectionLookups | string {
  if (typeof connectionId !== 'string' || !connectionId) return 'connection: no D365 connection selected';
  const conn = RED.nodes.getNode(connectionId) as unknown as Partial<D365ConnectionLike> | null;
  if (!conn || typeof conn.getClient !== 'function') return `connection: the selected D365 connection does not exist (${remedy})`;
  const connection = conn as D365ConnectionLike & { getClient(): BcApi };
  // Created on first use, then the same object for the node's life (same connection, same settings): no
  // key string and map lookups per message.
  let shared: D365Lookups | undefined;
  return {
    lookups: () => (shared ??= sharedLookups(connection, { ttlMs: cache.ttlS * 1000, max: cache.max })),
    dryRun: () => connection.dryRun === true,
  };
}

// Moved to the shared check runtime; still exported here because d365-inventory-gate imports it from this module.
export { refuseConfig } from '../node-red/check-node';
