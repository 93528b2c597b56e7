import { GraphQLError } from 'graphql';

/** One term of Shopify's search syntax as used by `orders(query:)`: `updated_at:>'2026-01-01T00:00:00Z'`. */
export interface SearchTerm { field: string; op: '=' | '>' | '>=' | '<' | '<='; value: string }

const TERM = /(-?[a-z_]+):(>=|<=|>|<)?('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*"|\S+)|(\S+)/g;

export function parseSearch(query: string | null | undefined, fields: readonly string[]): SearchTerm[] {
  const terms: SearchTerm[] = [];
  if (!query) return terms;
  for (const m of query.matchAll(TERM)) {
    if (m[4] !== undefined) {
      if (m[4] === 'AND') continue;
      throw new GraphQLError(`Simulator search supports field:value terms joined by AND only; got '${m[4]}'.`, { extensions: { code: 'BAD_REQUEST' } });
    }
    const field = m[1]!;
    if (!fields.includes(field)) throw new GraphQLError(`Simulator search does not support the field '${field}'. Supported: ${fields.join(', ')}.`, { extensions: { code: 'BAD_REQUEST' } });
    let value = m[3]!;
    if ((value.startsWith("'") && value.endsWith("'")) || (value.startsWith('"') && value.endsWith('"'))) value = value.slice(1, -1).replace(/\\(.)/g, '$1');
    terms.push({ field, op: (m[2] ?? '=') as SearchTerm['op'], value });
  }
  return terms;
}

export function compareOp(op: SearchTerm['op'], a: number | string, b: number | string): boolean {
  switch (op) {
    case '>': return a > b;
    case '>=': return a >= b;
    case '<': return a < b;
    case '<=': return a <= b;
    default: return a === b;
  }
}

export function parseDateTerm(t: SearchTerm): number {
  const ms = Date.parse(t.value);
  if (Number.isNaN(ms)) throw new GraphQLError(`Invalid date in search term ${t.field}: '${t.value}'.`, { extensions: { code: 'BAD_REQUEST' } });
  return ms;
}
