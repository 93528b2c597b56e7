/** OData system query options: parsing ($select, $expand with nested options, $orderby, $top, $skip) and applying them. */
import { querySyntax } from '../errors';
import { evaluate, parseFilter, filterProperties, type Expr } from './filter';

export interface ExpandItem { nav: string; options: QueryOptions }

export interface QueryOptions {
  filter?: Expr;
  select?: string[];
  expand?: ExpandItem[];
  orderby?: { prop: string; desc: boolean }[];
  top?: number;
  skip?: number;
}

/** Splits on `sep` at parenthesis depth 0, ignoring separators inside string literals. */
function splitTop(s: string, sep: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inStr = false;
  let cur = '';
  for (const c of s) {
    if (c === "'") inStr = !inStr;
    if (!inStr) {
      if (c === '(') depth++;
      if (c === ')') depth--;
      if (depth < 0) throw querySyntax(`Unbalanced parentheses in '${s}'.`);
      if (c === sep && depth === 0) { out.push(cur); cur = ''; continue; }
    }
    cur += c;
  }
  if (depth !== 0 || inStr) throw querySyntax(`Unbalanced parentheses or quotes in '${s}'.`);
  out.push(cur);
  return out.map((x) => x.trim()).filter((x) => x.length > 0);
}

const NAME = /^[A-Za-z_]\w*$/;

function nonNegativeInt(name: string, raw: string): number {
  if (!/^\d+$/.test(raw.trim())) throw querySyntax(`Invalid value '${raw}' for ${name}.`);
  return Number(raw.trim());
}

function parseExpand(raw: string): ExpandItem[] {
  return splitTop(raw, ',').map((part) => {
    const open = part.indexOf('(');
    const nav = (open < 0 ? part : part.slice(0, open)).trim();
    if (!NAME.test(nav)) throw querySyntax(`Invalid $expand segment '${part}'.`);
    if (open < 0) return { nav, options: {} };
    if (!part.endsWith(')')) throw querySyntax(`Invalid $expand segment '${part}'.`);
    const inner: Record<string, string> = {};
    for (const opt of splitTop(part.slice(open + 1, -1), ';')) {
      const eq = opt.indexOf('=');
      if (eq < 0) throw querySyntax(`Invalid $expand option '${opt}'.`);
      inner[opt.slice(0, eq).trim()] = opt.slice(eq + 1);
    }
    return { nav, options: parseQueryOptions(inner) };
  });
}

/** Parses the `$…` parameters of a request (unknown `$` options are a syntax error, as in BC). */
export function parseQueryOptions(q: Record<string, string | undefined>): QueryOptions {
  const o: QueryOptions = {};
  for (const [key, raw] of Object.entries(q)) {
    if (raw === undefined || !key.startsWith('$')) continue;
    switch (key) {
      case '$filter': o.filter = parseFilter(raw); break;
      case '$select':
        o.select = raw.split(',').map((s) => s.trim()).filter(Boolean);
        if (o.select.some((s) => !NAME.test(s))) throw querySyntax(`Invalid $select '${raw}'.`);
        break;
      case '$expand': o.expand = parseExpand(raw); break;
      case '$orderby':
        o.orderby = raw.split(',').map((s) => s.trim()).filter(Boolean).map((s) => {
          const m = s.match(/^([A-Za-z_]\w*)(\s+(asc|desc))?$/);
          if (!m) throw querySyntax(`Invalid $orderby '${raw}'.`);
          return { prop: m[1]!, desc: m[3] === 'desc' };
        });
        break;
      case '$top': o.top = nonNegativeInt('$top', raw); break;
      case '$skip': o.skip = nonNegativeInt('$skip', raw); break;
      case '$skiptoken': case '$count': case '$format': case '$schemaversion': break;
      default: throw querySyntax(`The query parameter '${key}' is not supported.`);
    }
  }
  return o;
}

/** Property names a query refers to on the top-level entity (for "Could not find a property" errors). */
export function referencedProperties(o: QueryOptions): string[] {
  return [
    ...(o.filter ? filterProperties(o.filter) : []),
    ...(o.select ?? []),
    ...(o.orderby ?? []).map((x) => x.prop),
  ];
}

export function applyFilterSort(rows: Record<string, unknown>[], o: QueryOptions): Record<string, unknown>[] {
  let out = o.filter ? rows.filter((r) => Boolean(evaluate(o.filter!, r))) : rows.slice();
  if (o.orderby?.length) {
    const keys = o.orderby;
    out = out.sort((a, b) => {
      for (const { prop, desc } of keys) {
        const x = a[prop] as string | number | null;
        const y = b[prop] as string | number | null;
        if (x === y) continue;
        const c = x === null || x === undefined ? -1 : y === null || y === undefined ? 1 : x < y ? -1 : 1;
        return desc ? -c : c;
      }
      return 0;
    });
  }
  return out;
}

export function applySelect(row: Record<string, unknown>, select: string[] | undefined, keep: string[]): Record<string, unknown> {
  if (!select) return row;
  const out: Record<string, unknown> = {};
  for (const k of Object.keys(row)) if (k.startsWith('@odata.') || select.includes(k) || keep.includes(k)) out[k] = row[k];
  return out;
}
