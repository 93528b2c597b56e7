/**
 * A small OData v4 `$filter` parser and evaluator (no eval): the subset Business Central supports —
 * eq ne gt ge lt le, and/or/not, parentheses, startswith/endswith/contains/substring/tolower/toupper/
 * length/trim, `in (...)`, string literals with '' escaping, numbers, booleans, null, GUIDs and
 * unquoted dates/datetimes. BC rejects `or` across different fields, so this does too.
 */
import { querySyntax, BcError } from '../errors';

type Tok =
  | { t: 'str'; v: string }
  | { t: 'num'; v: number }
  | { t: 'date'; v: string }
  | { t: 'guid'; v: string }
  | { t: 'id'; v: string }
  | { t: 'punc'; v: '(' | ')' | ',' };

export type Expr =
  | { k: 'lit'; v: string | number | boolean | null; date?: boolean; guid?: boolean }
  | { k: 'prop'; name: string }
  | { k: 'call'; name: string; args: Expr[] }
  | { k: 'bin'; op: string; l: Expr; r: Expr }
  | { k: 'not'; e: Expr }
  | { k: 'in'; l: Expr; list: Expr[] };

const GUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-])/;
const DATE = /^\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})?)?(?![\w:.-])/;
const NUM = /^-?\d+(\.\d+)?([eE][+-]?\d+)?(?![\w.])/;
const IDENT = /^[A-Za-z_][\w]*(\/[A-Za-z_][\w]*)*/;

function tokenize(src: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < src.length) {
    const c = src[i]!;
    if (/\s/.test(c)) { i++; continue; }
    if (c === '(' || c === ')' || c === ',') { out.push({ t: 'punc', v: c }); i++; continue; }
    if (c === "'") {
      let v = '';
      i++;
      for (;;) {
        if (i >= src.length) throw querySyntax('Unterminated string literal.');
        if (src[i] === "'") {
          if (src[i + 1] === "'") { v += "'"; i += 2; continue; }
          i++;
          break;
        }
        v += src[i++];
      }
      out.push({ t: 'str', v });
      continue;
    }
    const rest = src.slice(i);
    let m: RegExpMatchArray | null;
    if ((m = rest.match(GUID))) { out.push({ t: 'guid', v: m[0].toLowerCase() }); i += m[0].length; continue; }
    if ((m = rest.match(DATE))) { out.push({ t: 'date', v: m[0] }); i += m[0].length; continue; }
    if ((m = rest.match(NUM))) { out.push({ t: 'num', v: Number(m[0]) }); i += m[0].length; continue; }
    if ((m = rest.match(IDENT))) { out.push({ t: 'id', v: m[0] }); i += m[0].length; continue; }
    throw querySyntax(`Syntax error at position ${i} in '${src}'.`);
  }
  return out;
}

const CMP = new Set(['eq', 'ne', 'gt', 'ge', 'lt', 'le']);
const FUNCS: Record<string, number[]> = {
  startswith: [2], endswith: [2], contains: [2], substringof: [2], tolower: [1], toupper: [1], trim: [1], length: [1], substring: [2, 3],
};

export function parseFilter(src: string): Expr {
  const toks = tokenize(src);
  let p = 0;
  const peek = () => toks[p];
  const isWord = (w: string) => { const t = peek(); return t?.t === 'id' && t.v === w; };
  const expectPunc = (v: string) => {
    const t = toks[p++];
    if (!t || t.t !== 'punc' || t.v !== v) throw querySyntax(`'${v}' expected in '${src}'.`);
  };

  const orExpr = (): Expr => {
    let l = andExpr();
    while (isWord('or')) { p++; l = { k: 'bin', op: 'or', l, r: andExpr() }; }
    return l;
  };
  const andExpr = (): Expr => {
    let l = unary();
    while (isWord('and')) { p++; l = { k: 'bin', op: 'and', l, r: unary() }; }
    return l;
  };
  const unary = (): Expr => {
    if (isWord('not')) { p++; return { k: 'not', e: unary() }; }
    return comparison();
  };
  const comparison = (): Expr => {
    const l = primary();
    const t = peek();
    if (t?.t === 'id' && CMP.has(t.v)) { p++; return { k: 'bin', op: t.v, l, r: primary() }; }
    if (t?.t === 'id' && t.v === 'in') {
      p++;
      expectPunc('(');
      const list: Expr[] = [primary()];
      while (peek()?.t === 'punc' && peek()!.v === ',') { p++; list.push(primary()); }
      expectPunc(')');
      return { k: 'in', l, list };
    }
    return l;
  };
  const primary = (): Expr => {
    const t = toks[p++];
    if (!t) throw querySyntax(`Expression expected at the end of '${src}'.`);
    switch (t.t) {
      case 'str': return { k: 'lit', v: t.v };
      case 'num': return { k: 'lit', v: t.v };
      case 'date': return { k: 'lit', v: t.v, date: true };
      case 'guid': return { k: 'lit', v: t.v, guid: true };
      case 'punc':
        if (t.v !== '(') break;
        {
          const e = orExpr();
          expectPunc(')');
          return e;
        }
      case 'id': {
        if (t.v === 'true' || t.v === 'false') return { k: 'lit', v: t.v === 'true' };
        if (t.v === 'null') return { k: 'lit', v: null };
        const next = peek();
        if (next?.t === 'punc' && next.v === '(') {
          const arity = FUNCS[t.v];
          if (!arity) throw querySyntax(`Unknown function '${t.v}'.`);
          p++;
          const args: Expr[] = [];
          if (!(peek()?.t === 'punc' && peek()!.v === ')')) {
            args.push(orExpr());
            while (peek()?.t === 'punc' && peek()!.v === ',') { p++; args.push(orExpr()); }
          }
          expectPunc(')');
          if (!arity.includes(args.length)) throw querySyntax(`Function '${t.v}' takes ${arity.join(' or ')} arguments.`);
          return { k: 'call', name: t.v, args };
        }
        if (CMP.has(t.v) || ['and', 'or', 'not', 'in'].includes(t.v)) break;
        return { k: 'prop', name: t.v };
      }
    }
    throw querySyntax(`Syntax error at token ${p} in '${src}'.`);
  };

  const e = orExpr();
  if (p !== toks.length) throw querySyntax(`Syntax error at token ${p + 1} in '${src}'.`);
  checkOrFields(e);
  return e;
}

function propsOf(e: Expr, into: Set<string>): Set<string> {
  switch (e.k) {
    case 'prop': into.add(e.name); break;
    case 'call': e.args.forEach((a) => propsOf(a, into)); break;
    case 'bin': propsOf(e.l, into); propsOf(e.r, into); break;
    case 'not': propsOf(e.e, into); break;
    case 'in': propsOf(e.l, into); e.list.forEach((a) => propsOf(a, into)); break;
    case 'lit': break;
  }
  return into;
}

/** BC translates a filter into per-field filters, so `a eq 1 or b eq 2` cannot be expressed. */
function checkOrFields(e: Expr): void {
  if (e.k === 'bin' && e.op === 'or') {
    const fields = propsOf(e, new Set());
    if (fields.size > 1) {
      throw new BcError(400, 'BadRequest_NotSupported',
        `The 'or' operator is only supported between conditions on the same field; found ${[...fields].join(', ')}.`);
    }
  }
  if (e.k === 'bin') { checkOrFields(e.l); checkOrFields(e.r); }
  if (e.k === 'not') checkOrFields(e.e);
}

/** Property names used, so a caller can reject unknown ones the way BC does. */
export function filterProperties(e: Expr): string[] {
  return [...propsOf(e, new Set())];
}

type Val = string | number | boolean | null | undefined;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2})?)?$/;

function compare(a: Val, b: Val, dateHint: boolean): number | undefined {
  if (a === null || a === undefined || b === null || b === undefined) return undefined;
  if (dateHint && typeof a === 'string' && typeof b === 'string' && ISO_DATE.test(a) && ISO_DATE.test(b)) {
    return Date.parse(a.length === 10 ? `${a}T00:00:00Z` : a) - Date.parse(b.length === 10 ? `${b}T00:00:00Z` : b);
  }
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  if (typeof a === 'boolean' && typeof b === 'boolean') return Number(a) - Number(b);
  if (typeof a === 'string' && typeof b === 'string') return a < b ? -1 : a > b ? 1 : 0;
  throw new BcError(400, 'BadRequest_NotFound', `A binary operator with incompatible types was detected. Found operand types '${typeof a}' and '${typeof b}'.`);
}

function isDateExpr(e: Expr): boolean {
  return e.k === 'lit' && e.date === true;
}

export function evaluate(e: Expr, row: Record<string, unknown>): Val {
  switch (e.k) {
    case 'lit': return e.v;
    case 'prop': {
      const v = row[e.name];
      return v === undefined ? null : (v as Val);
    }
    case 'not': return !evaluate(e.e, row);
    case 'in': {
      const l = evaluate(e.l, row);
      const guidish = e.list.some((x) => x.k === 'lit' && x.guid);
      return e.list.some((x) => {
        const r = evaluate(x, row);
        return guidish && typeof l === 'string' && typeof r === 'string' ? l.toLowerCase() === r.toLowerCase() : compare(l, r, isDateExpr(x)) === 0;
      });
    }
    case 'call': {
      const a = e.args.map((x) => evaluate(x, row));
      const s = (v: Val) => (v === null || v === undefined ? '' : String(v));
      switch (e.name) {
        case 'startswith': return s(a[0]).startsWith(s(a[1]));
        case 'endswith': return s(a[0]).endsWith(s(a[1]));
        case 'contains': return s(a[0]).includes(s(a[1]));
        case 'substringof': return s(a[1]).includes(s(a[0]));
        case 'tolower': return s(a[0]).toLowerCase();
        case 'toupper': return s(a[0]).toUpperCase();
        case 'trim': return s(a[0]).trim();
        case 'length': return s(a[0]).length;
        case 'substring': return a.length === 3 ? s(a[0]).substr(Number(a[1]), Number(a[2])) : s(a[0]).substring(Number(a[1]));
      }
      throw querySyntax(`Unknown function '${e.name}'.`);
    }
    case 'bin': {
      if (e.op === 'and') return Boolean(evaluate(e.l, row)) && Boolean(evaluate(e.r, row));
      if (e.op === 'or') return Boolean(evaluate(e.l, row)) || Boolean(evaluate(e.r, row));
      const l = evaluate(e.l, row);
      const r = evaluate(e.r, row);
      const guidish = (e.l.k === 'lit' && e.l.guid) || (e.r.k === 'lit' && e.r.guid);
      if (guidish && typeof l === 'string' && typeof r === 'string') {
        const eq = l.toLowerCase() === r.toLowerCase();
        if (e.op === 'eq') return eq;
        if (e.op === 'ne') return !eq;
      }
      if (e.op === 'eq' && (l === null || r === null)) return l === r;
      if (e.op === 'ne' && (l === null || r === null)) return l !== r;
      const c = compare(l, r, isDateExpr(e.l) || isDateExpr(e.r));
      if (c === undefined) return false;
      switch (e.op) {
        case 'eq': return c === 0;
        case 'ne': return c !== 0;
        case 'gt': return c > 0;
        case 'ge': return c >= 0;
        case 'lt': return c < 0;
        case 'le': return c <= 0;
      }
    }
  }
  return null;
}
