import { GraphQLError } from 'graphql';

export interface PageArgs { first?: number | null; after?: string | null; last?: number | null; before?: string | null }
export type CursorKey = (string | number)[];

const MAX_PAGE = 250;

export const encodeCursor = (key: CursorKey) => Buffer.from(JSON.stringify(key)).toString('base64url');

function decodeCursor(c: string): CursorKey {
  try {
    const v = JSON.parse(Buffer.from(c, 'base64url').toString('utf8')) as unknown;
    if (Array.isArray(v) && v.every((x) => typeof x === 'string' || typeof x === 'number')) return v;
  } catch { /* fall through */ }
  throw new GraphQLError('Invalid cursor for current pagination sort.', { extensions: { code: 'BAD_REQUEST' } });
}

export function compareKeys(a: CursorKey, b: CursorKey): number {
  for (let i = 0; i < Math.max(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === y) continue;
    if (x === undefined) return -1;
    if (y === undefined) return 1;
    return x < y ? -1 : 1;
  }
  return 0;
}

/**
 * A Relay connection over items already sorted by `keyOf` (ascending, or descending when `reverse`).
 * Cursors carry the sort key, so paging stays correct while items change between pages.
 */
export function connection<T>(items: readonly T[], args: PageArgs, keyOf: (t: T) => CursorKey, reverse = false) {
  const { first, last, after, before } = args;
  if (first == null && last == null) throw new GraphQLError('you must provide one of first or last', { extensions: { code: 'BAD_REQUEST' } });
  for (const [name, v] of [['first', first], ['last', last]] as const) {
    if (v != null && (v < 0 || v > MAX_PAGE)) throw new GraphQLError(`The ${name} argument must be between 0 and ${MAX_PAGE}.`, { extensions: { code: 'BAD_REQUEST' } });
  }
  const dir = reverse ? -1 : 1;
  let list = [...items];
  if (after) {
    const k = decodeCursor(after);
    list = list.filter((t) => compareKeys(keyOf(t), k) * dir > 0);
  }
  if (before) {
    const k = decodeCursor(before);
    list = list.filter((t) => compareKeys(keyOf(t), k) * dir < 0);
  }
  let hasNextPage = false;
  let hasPreviousPage = false;
  if (first != null) {
    hasNextPage = list.length > first;
    list = list.slice(0, first);
  }
  if (last != null) {
    hasPreviousPage = list.length > last;
    list = list.slice(Math.max(0, list.length - last));
  }
  const edges = list.map((node) => ({ cursor: encodeCursor(keyOf(node)), node }));
  return {
    edges,
    nodes: list,
    pageInfo: { hasNextPage, hasPreviousPage, startCursor: edges[0]?.cursor ?? null, endCursor: edges[edges.length - 1]?.cursor ?? null },
  };
}

/** A connection over items in their natural order (their position is the key), or the reverse order. */
export function indexConnection<T>(items: readonly T[], args: PageArgs, reverse = false) {
  const indexed = items.map((item, i) => ({ item, i }));
  const c = connection(reverse ? indexed.reverse() : indexed, args, (x) => [x.i], reverse);
  return { ...c, edges: c.edges.map((e) => ({ cursor: e.cursor, node: e.node.item })), nodes: c.nodes.map((n) => n.item) };
}
