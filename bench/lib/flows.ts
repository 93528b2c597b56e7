import { FULL_LIFECYCLE, pointAtSims, readExample } from '../../scripts/lib/flows';
import type { Sims } from '../../scripts/lib/sims';
import type { FlowNode } from './embedded';

/** The five checks of the full-lifecycle example, in flow order (the default chain of checkChainFlow). */
export const CHAIN_TYPES = ['shopify-order-check', 'd365-customer-matcher', 'd365-sku-validator', 'd365-price-check', 'd365-tax-check'] as const;
/** The example's whole chain between trigger and router: the checks, then the inventory gate (a journal reservation per order). */
export const EXAMPLE_CHAIN_TYPES = [...CHAIN_TYPES, 'd365-inventory-gate'] as const;
const CONFIG_TYPES = ['shopify-store', 'd365-connection', 'order-journal'];
const TAB = 'bench-tab';

/** `global.get('benchSink')(msg)`: every benchmark flow ends in the same sink, a plain function node. */
const sink = (id: string): FlowNode => ({
  id, z: TAB, type: 'function', name: 'sink', func: "global.get('benchSink')(msg);\nreturn null;", outputs: 1, noerr: 0,
  initialize: '', finalize: '', libs: [], wires: [[]],
});

export interface ChainOptions {
  /** Append the order writer after the router (ERP calls, backlog drain). */
  writer?: boolean;
  /** Lookup cache TTL of every check (0 = caching off); the example's own setting when undefined. */
  cacheTtlS?: number;
  /** The inventory gate's stock cache TTL; the example's own setting when undefined. */
  stockTtlS?: number;
  /** Retry poll of the router, seconds. */
  retryPollS?: number;
  /** The router's retry-later schedule (default 1h: nothing retries within a run unless asked to). */
  retrySchedule?: string;
  journalFile: string;
  /** The chain's node types, in order (default CHAIN_TYPES). */
  types?: readonly string[];
  /** Appended to every chain node id, so a second chain can share the first one's deployment (and caches). */
  idSuffix?: string;
  /** Include the tab, config nodes and sink (default true; false for a second chain beside the first). */
  base?: boolean;
}

/**
 * The example's own node settings (read from examples/, pointed at the simulators), rewired into a
 * straight chain ending in the sink. Router outputs: clean → writer or sink, held → sink, re-check →
 * first check (a released hold runs through the checks again, as in the example). Writer failures go
 * back to the router so a retryable D365 failure becomes a retry-later hold.
 */
export function checkChainFlow(sims: Sims, packageRoot: string, o: ChainOptions): { flow: FlowNode[]; first: string; router: string; journal: string } {
  const example = pointAtSims(readExample(packageRoot, FULL_LIFECYCLE), sims) as FlowNode[];
  const byType = (t: string) => {
    const n = example.find((x) => x.type === t);
    if (!n) throw new Error(`the example has no ${t} node`);
    return n;
  };
  const configs = CONFIG_TYPES.map((t) => ({ ...byType(t) }));
  const journal = configs.find((c) => c.type === 'order-journal')!;
  journal.file = o.journalFile;
  const types = o.types ?? CHAIN_TYPES;
  const sfx = o.idSuffix ?? '';
  const ids = types.map((t) => `${byType(t).id}${sfx}`);
  const router = { ...byType('order-exception-router') };
  router.id = `${router.id}${sfx}`;
  const chain: FlowNode[] = types.map((t, i) => {
    const n: FlowNode = { ...byType(t), id: ids[i]!, z: TAB, wires: [[ids[i + 1] ?? router.id], []] };
    const ttl = t === 'd365-inventory-gate' ? o.stockTtlS ?? o.cacheTtlS : o.cacheTtlS;
    if (ttl !== undefined && 'cacheTtlS' in n) n.cacheTtlS = String(ttl);
    return n;
  });
  const writer = o.writer ? { ...byType('d365-order-writer'), id: `${byType('d365-order-writer').id}${sfx}`, z: TAB, writeBack: false, retryBaseMs: '50', wires: [['bench-sink'], [router.id]] } : undefined;
  const routerNode: FlowNode = {
    ...router, z: TAB, retrySchedule: o.retrySchedule ?? '1h', retryPollS: String(o.retryPollS ?? 0.05),
    outputs: 3, wires: [[writer ? writer.id : 'bench-sink'], ['bench-sink'], [ids[0]!]],
  };
  const base = o.base ?? true;
  const flow: FlowNode[] = [...(base ? [{ id: TAB, type: 'tab', label: 'bench' }, ...configs] : []), ...chain, routerNode, ...(writer ? [writer] : []), ...(base ? [sink('bench-sink')] : [])];
  return { flow, first: ids[0]!, router: router.id, journal: journal.id };
}

/** The floor: as many empty function nodes (`return msg;`) as the chain has nodes, into the same sink. */
export function emptyChainFlow(length: number, name = 'floor'): { flow: FlowNode[]; first: string } {
  const tab = `${name}-tab`;
  const ids = Array.from({ length }, (_, i) => `${name}-empty-${i}`);
  const nodes: FlowNode[] = ids.map((id, i) => ({
    id, z: tab, type: 'function', name: `empty ${i + 1}`, func: 'return msg;', outputs: 1, noerr: 0,
    initialize: '', finalize: '', libs: [], wires: [[ids[i + 1] ?? `${name}-sink`]],
  }));
  return { flow: [{ id: tab, type: 'tab', label: name }, ...nodes, { ...sink(`${name}-sink`), z: tab }], first: ids[0]! };
}
