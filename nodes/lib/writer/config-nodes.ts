import type { Node, NodeAPI } from 'node-red';
import type { BcApi } from '../d365/bc-api';
import type { OrderJournal } from '../journal/journal';
import type { ShopifyAdminApi } from '../shopify/admin-api';

/** The config nodes these nodes use, read by shape so a missing or wrong node gives a clear message. */
export interface Collaborators {
  bc?: () => BcApi;
  dryRun: () => boolean;
  journal?: () => OrderJournal;
  shopify?: () => ShopifyAdminApi;
  shopDomain?: string;
}

export function lookupConfigNodes(RED: NodeAPI, ids: { connection?: string; journal?: string; store?: string }): Collaborators {
  const conn = ids.connection ? (RED.nodes.getNode(ids.connection) as (Node & { getClient?: () => BcApi; dryRun?: boolean | (() => boolean) }) | null) : null;
  const jn = ids.journal ? (RED.nodes.getNode(ids.journal) as (Node & { getJournal?: () => OrderJournal }) | null) : null;
  const store = ids.store ? (RED.nodes.getNode(ids.store) as (Node & { getClient?: () => ShopifyAdminApi; shopDomain?: string }) | null) : null;
  return {
    bc: typeof conn?.getClient === 'function' ? () => conn.getClient!() : undefined,
    dryRun: () => (typeof conn?.dryRun === 'function' ? conn.dryRun() : !!conn?.dryRun),
    journal: typeof jn?.getJournal === 'function' ? () => jn.getJournal!() : undefined,
    shopify: typeof store?.getClient === 'function' ? () => store.getClient!() : undefined,
    shopDomain: store?.shopDomain,
  };
}
