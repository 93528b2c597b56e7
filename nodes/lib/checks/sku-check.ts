import type { ErpLine, Order } from '../contract';
import type { CheckOutcome } from '../node-red/check-node';
import type { BcItem, BcItemVariant, D365Lookups } from '../d365/lookups';
import { normCode } from '../d365/lookups';
import { retryableOrThrow } from '../d365/lookups-errors';
import { andThen, isThenable } from '../node-red/types';
import type { Maybe } from '../node-red/types';
import { SKU_STRATEGY_LABELS, normalizeSku } from './sku-rules';
import type { SkuMapping, SkuRules, SkuStrategyName } from './sku-rules';

export const SKU_CHECK = 'd365-sku-validator';

export type SkuLookups = Pick<D365Lookups, 'itemsByNumber' | 'itemsByGtin' | 'itemsByCustomField' | 'variantsOfItems'>
  & Partial<Pick<D365Lookups, 'cachedItemsByNumber' | 'cachedVariantsOfItem'>>;

type Lists<T> = (readonly T[])[];

/** Each value's answer from the cache, in the order asked; undefined when any is not cached (or the lookups have no cache). */
function cachedLists<T>(peek: ((value: string) => readonly T[] | undefined) | undefined, lookups: SkuLookups, values: readonly string[]): Lists<T> | undefined {
  if (!peek) return undefined;
  const out: Lists<T> = new Array(values.length);
  for (let i = 0; i < values.length; i++) {
    const hit = peek.call(lookups, values[i]!);
    if (!hit) return undefined;
    out[i] = hit;
  }
  return out;
}

/** A lookup's answer (keyed by normalised item number) as lists in the order of `values`. */
const inOrder = <T>(found: Map<string, T[]>, values: readonly string[]): Lists<T> => values.map((v) => found.get(normCode(v)) ?? []);

/** The items of each number, in the order asked: at once from a warm cache, else in one batched request. */
function itemLists(l: SkuLookups, numbers: readonly string[]): Maybe<Lists<BcItem>> {
  return cachedLists(l.cachedItemsByNumber, l, numbers) ?? l.itemsByNumber(numbers).then((found) => inOrder(found, numbers));
}

function variantLists(l: SkuLookups, numbers: readonly string[]): Maybe<Lists<BcItemVariant>> {
  return cachedLists(l.cachedVariantsOfItem, l, numbers) ?? l.variantsOfItems(numbers).then((found) => inOrder(found, numbers));
}

/** Items and variants, together. */
function itemsAndVariants(l: SkuLookups, itemNumbers: readonly string[], variantNumbers: readonly string[]): Maybe<[Lists<BcItem>, Lists<BcItemVariant>]> {
  const i = itemLists(l, itemNumbers);
  const v = variantLists(l, variantNumbers);
  return isThenable(i) || isThenable(v) ? Promise.all([i, v]) : [i, v];
}

type Findings = CheckOutcome['findings'];

/** A line still to be mapped: its index in line_items and its SKU as the rules compare it. */
interface Pending { index: number; sku: string; key: string }

/** What a strategy decided for a line. Lines a strategy does not decide go on to the next strategy. */
type Resolution =
  | { kind: 'match'; item: BcItem; variant?: BcItemVariant }
  | { kind: 'ambiguous'; candidates: string[] }
  | { kind: 'unmapped'; message: string }
  | { kind: 'variantUnknown'; itemNumber: string; code: string; known: string[] };
type VariantUnknown = Resolution & { kind: 'variantUnknown' };

/** One check's decisions so far, by line index. */
interface Decisions {
  decided: (Resolution | undefined)[];
  /** Lines whose item exists but not the variant: reported as VARIANT_UNKNOWN if no later strategy maps them. */
  hints: (VariantUnknown | undefined)[];
}

/** A strategy decides what it can of `lines` into `d` (a hint only where no earlier strategy left one). */
type Strategy = (lines: readonly Pending[], rules: SkuRules, lookups: SkuLookups, d: Decisions) => Maybe<void>;

const hint = (d: Decisions, index: number, h: VariantUnknown) => { d.hints[index] ??= h; };

const distinctItems = (list: readonly BcItem[]): readonly BcItem[] =>
  (list.length < 2 ? list : list.filter((c, i) => list.findIndex((o) => o.id === c.id) === i));
/** Candidates whose number agrees with the SKU under the case rule (lookups compare case-insensitively). */
const sameCode = (code: string, wanted: string, rules: SkuRules) =>
  code === wanted || (rules.caseRule !== 'exact' && code.toUpperCase() === wanted.toUpperCase());

function oneOf(items: readonly BcItem[]): Resolution | undefined {
  const list = distinctItems(items);
  if (!list.length) return undefined;
  return list.length === 1 ? { kind: 'match', item: list[0]! } : { kind: 'ambiguous', candidates: list.map((i) => i.number) };
}

/** The first entity whose `field` agrees with `code` under the case rule. */
function withCode<K extends string, T extends Record<K, string>>(list: readonly T[], field: K, code: string, rules: SkuRules): T | undefined {
  for (let i = 0; i < list.length; i++) if (sameCode(list[i]![field], code, rules)) return list[i];
  return undefined;
}

/** The items whose number agrees with `code`; the list itself when all do (the usual one-item answer). */
function agreeing(items: readonly BcItem[], code: string, rules: SkuRules): readonly BcItem[] {
  for (let i = 0; i < items.length; i++) if (!sameCode(items[i]!.number, code, rules)) return items.filter((x) => sameCode(x.number, code, rules));
  return items;
}

// The mapping table by normalised SKU, built once per rules object (config is parsed once, in the constructor).
const mappingTables = new WeakMap<SkuRules, Map<string, SkuMapping>>();
function mappingTable(rules: SkuRules): Map<string, SkuMapping> {
  let table = mappingTables.get(rules);
  if (!table) mappingTables.set(rules, (table = new Map(rules.mapping.map((m) => [normalizeSku(m.sku, rules), m] as const))));
  return table;
}

const STRATEGIES: Record<SkuStrategyName, Strategy> = {
  mapping(lines, rules, lookups, d) {
    if (!rules.mapping.length) return;
    const table = mappingTable(rules);
    const mapped = lines.flatMap((l) => (table.has(l.key) ? [{ line: l, m: table.get(l.key)! }] : []));
    if (!mapped.length) return;
    const numbers = mapped.map((x) => x.m.itemNumber);
    return andThen(itemsAndVariants(lookups, numbers, mapped.filter((x) => x.m.variantCode).map((x) => x.m.itemNumber)), ([items, variants]) => {
      let v = 0; // variants were asked for the rows with a variant code, in this order
      for (const [j, { line, m }] of mapped.entries()) {
        const known = m.variantCode ? variants[v++]! : [];
        const item = items[j]!.find((i) => normCode(i.number) === normCode(m.itemNumber));
        if (!item) {
          d.decided[line.index] = { kind: 'unmapped', message: `the mapping table maps SKU "${line.sku}" to item ${m.itemNumber}, which D365 does not have` };
          continue;
        }
        if (!m.variantCode) {
          d.decided[line.index] = { kind: 'match', item };
          continue;
        }
        const variant = known.find((x) => normCode(x.code) === normCode(m.variantCode));
        d.decided[line.index] = variant ? { kind: 'match', item, variant }
          : { kind: 'variantUnknown', itemNumber: item.number, code: m.variantCode, known: known.map((x) => x.code) };
      }
    });
  },

  itemNumber(lines, rules, lookups, d) {
    const keys = lines.map((l) => l.key);
    const found = itemLists(lookups, keys);
    if (!isThenable(found)) return decideByNumber(lines, found, rules, d);
    return found.then((f) => decideByNumber(lines, f, rules, d));
  },

  itemVariant(lines, rules, lookups, d) {
    // Item numbers may themselves contain the separator ("AB-100-RED"), so every split is a candidate:
    // prefixes[c] (the item number) and codes[c] (the variant code) of line lines[owners[c]].
    const prefixes: string[] = [];
    const codes: string[] = [];
    const owners: number[] = [];
    const sep = rules.separator;
    for (let j = 0; j < lines.length; j++) {
      const key = lines[j]!.key;
      for (let at = key.indexOf(sep); at > 0; at = key.indexOf(sep, at + 1)) {
        const code = key.slice(at + sep.length);
        if (code) { prefixes.push(key.slice(0, at)); codes.push(code); owners.push(j); }
      }
    }
    if (!prefixes.length) return;
    const found = itemsAndVariants(lookups, prefixes, prefixes);
    if (!isThenable(found)) return decideByVariant(lines, prefixes, codes, owners, found[0], found[1], rules, d);
    return found.then(([items, variants]) => decideByVariant(lines, prefixes, codes, owners, items, variants, rules, d));
  },

  async gtin(lines, _rules, lookups, d) {
    const items = await lookups.itemsByGtin(lines.map((l) => l.sku));
    for (const l of lines) {
      const r = oneOf(items.get(l.sku.trim()) ?? []);
      if (r) d.decided[l.index] = r;
    }
  },

  async vendorItem(lines, rules, lookups, d) {
    const src = { api: rules.vendorItemApi, entitySet: rules.vendorItemEntitySet, field: rules.vendorItemField };
    const items = await lookups.itemsByCustomField(src, lines.map((l) => l.sku));
    for (const l of lines) {
      const r = oneOf(items.get(l.sku.trim()) ?? []);
      if (r) d.decided[l.index] = r;
    }
  },
};

function decideByNumber(lines: readonly Pending[], found: Lists<BcItem>, rules: SkuRules, d: Decisions): void {
  for (let j = 0; j < lines.length; j++) {
    const l = lines[j]!;
    const r = oneOf(agreeing(found[j]!, l.key, rules));
    if (r) d.decided[l.index] = r;
  }
}

function decideByVariant(lines: readonly Pending[], prefixes: readonly string[], codes: readonly string[], owners: readonly number[],
  items: Lists<BcItem>, variants: Lists<BcItemVariant>, rules: SkuRules, d: Decisions): void {
  // A line's candidates are consecutive: c runs over them, line by line.
  for (let c = 0; c < prefixes.length;) {
    const owner = owners[c]!;
    let match: (Resolution & { kind: 'match' }) | undefined;
    let matches: (Resolution & { kind: 'match' })[] | undefined; // only when a line has several
    let last: VariantUnknown | undefined;
    for (; c < prefixes.length && owners[c] === owner; c++) {
      const item = withCode(items[c]!, 'number', prefixes[c]!, rules);
      if (!item) continue;
      const known = variants[c]!;
      const variant = withCode(known, 'code', codes[c]!, rules);
      if (!variant) {
        last = { kind: 'variantUnknown', itemNumber: item.number, code: codes[c]!, known: known.map((v) => v.code) };
        continue;
      }
      const m = { kind: 'match' as const, item, variant };
      if (!match) match = m;
      else (matches ??= [match]).push(m);
    }
    const index = lines[owner]!.index;
    if (last) hint(d, index, last);
    if (matches) d.decided[index] = { kind: 'ambiguous', candidates: matches.map((m) => `${m.item.number}/${m.variant!.code}`) };
    else if (match) d.decided[index] = match;
  }
}

/** Upstream msg.erp.lines, read defensively (it may come from any node): the last entry for a line item id. */
function upstreamLine(erpLines: unknown, id: string): Record<string, unknown> | undefined {
  if (!Array.isArray(erpLines)) return undefined;
  for (let i = erpLines.length - 1; i >= 0; i--) {
    const l = erpLines[i];
    if (l && typeof l === 'object' && (typeof l.lineItemId === 'string' || typeof l.lineItemId === 'number') && String(l.lineItemId) === id) return l;
  }
  return undefined;
}

const lineId = (line: Order['line_items'][number]): string => (typeof line.id === 'string' ? line.id : String(line.id));

/** The line's quantity (an upstream line's wins), or undefined when it is not a positive whole number. */
function quantityOf(line: Order['line_items'][number], prior: Record<string, unknown> | undefined): unknown {
  return prior && 'quantity' in prior ? prior.quantity : line.quantity;
}
const validQuantity = (q: unknown): q is number => typeof q === 'number' && Number.isInteger(q) && q > 0;

// Fields other checks may have put on a line; kept when this check rebuilds msg.erp.lines.
const CARRIED = ['locationCode', 'discountAmount', 'taxCode', 'unitPrice'] as const;

/** One check's state while its strategies run. */
interface Run {
  order: Order;
  rules: SkuRules;
  lookups: SkuLookups;
  erpLines: unknown;
  findings: Findings;
  pending: Pending[];
  d: Decisions;
  /** How many enabled strategies have had their turn (named in SKU_UNMAPPED's message). */
  tried: number;
}

/**
 * Maps every line's SKU to a D365 item (and variant) by the enabled strategies in order, batching
 * each strategy's lookups for the whole order, and reports every problem of every line.
 * `erpLines` is msg.erp.lines as received (its quantities are checked; its other fields kept).
 */
export function checkSkus(order: Order, rules: SkuRules, lookups: SkuLookups, erpLines?: unknown): Maybe<CheckOutcome> {
  const findings: Findings = [];
  const upstream = Array.isArray(erpLines) && erpLines.length > 0;
  const lines = order.line_items;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const prior = upstream ? upstreamLine(erpLines, lineId(line)) : undefined;
    const q = quantityOf(line, prior);
    if (!validQuantity(q)) {
      findings.push({ code: 'QUANTITY_INVALID', severity: 'error', path: `line_items[${i}].quantity`,
        message: `line ${i + 1} (${line.sku || line.title}): quantity ${JSON.stringify(q)}${prior ? ' from msg.erp.lines' : ''} is not a positive whole number` });
    }
  }

  const pending: Pending[] = [];
  for (let index = 0; index < lines.length; index++) {
    const line = lines[index]!;
    const key = typeof line.sku === 'string' ? normalizeSku(line.sku, rules) : '';
    if (!key.trim()) {
      findings.push({ code: 'SKU_MISSING', severity: 'error', path: `line_items[${index}].sku`, message: `line ${index + 1} (${line.title}) has no SKU` });
    } else pending.push({ index, sku: line.sku!, key });
  }
  return step({ order, rules, lookups, erpLines: upstream ? erpLines : undefined, findings, pending, d: { decided: new Array(lines.length), hints: [] }, tried: 0 }, 0);
}

/** The enabled strategies from `from` on, each on the lines still undecided; synchronous while lookups are cached. */
function step(run: Run, from: number): Maybe<CheckOutcome> {
  const strategies = run.rules.strategies;
  let at = from;
  while (at < strategies.length && !strategies[at]!.enabled) at++;
  const s = strategies[at];
  if (!s || !run.pending.length) return buildLines(run);
  run.tried++;
  let r: Maybe<void>;
  try {
    r = STRATEGIES[s.name](run.pending, run.rules, run.lookups, run.d);
  } catch (e) {
    return failed(run, e, s.name);
  }
  if (isThenable(r)) return r.then(() => next(run, at), (e: unknown) => failed(run, e, s.name));
  return next(run, at);
}

function next(run: Run, at: number): Maybe<CheckOutcome> {
  // Keep the undecided lines, in place.
  const { pending, d } = run;
  let kept = 0;
  for (let i = 0; i < pending.length; i++) if (!d.decided[pending[i]!.index]) pending[kept++] = pending[i]!;
  pending.length = kept;
  return step(run, at + 1);
}

function failed(run: Run, e: unknown, name: SkuStrategyName): CheckOutcome {
  const text = retryableOrThrow(e, `D365 item lookup (${SKU_STRATEGY_LABELS[name]})`);
  run.findings.push({ code: 'SKU_LOOKUP_FAILED', severity: 'error', retryable: true, message: `${text}; the order can be retried later` });
  return { findings: run.findings };
}

/** The labels of the strategies that had their turn. */
function triedLabels(run: Run): string {
  return run.rules.strategies.filter((s) => s.enabled).slice(0, run.tried).map((s) => SKU_STRATEGY_LABELS[s.name]).join(', ');
}

/** msg.erp.lines and the per-line findings, once every strategy had its turn. */
function buildLines(run: Run): CheckOutcome {
  const { order, rules, findings, d } = run;
  const lines: ErpLine[] = [];
  const items = order.line_items;
  for (let index = 0; index < items.length; index++) {
    const line = items[index]!;
    const res = d.decided[index] ?? d.hints[index];
    let item: BcItem | undefined;
    let variant: BcItemVariant | undefined;
    if (res?.kind === 'match') {
      ({ item, variant } = res);
      if (item.blocked) findings.push({ code: 'ITEM_BLOCKED', severity: 'error', path: skuPath(index), message: `${label(index, line)} maps to D365 item ${item.number} (${item.displayName}), which is blocked` });
      if (item.type !== 'Inventory' && rules.nonInventory !== 'allow') {
        findings.push({ code: 'ITEM_NOT_INVENTORY', severity: rules.nonInventory === 'block' ? 'error' : 'warning', path: skuPath(index),
          message: `${label(index, line)} maps to D365 item ${item.number} (${item.displayName}), a ${item.type} item, not Inventory` });
      }
    } else if (res?.kind === 'ambiguous') {
      findings.push({ code: 'SKU_AMBIGUOUS', severity: 'error', path: skuPath(index), message: `${label(index, line)} matches several D365 items: ${res.candidates.join(', ')}` });
    } else if (res?.kind === 'variantUnknown') {
      findings.push({ code: 'VARIANT_UNKNOWN', severity: 'error', path: skuPath(index),
        message: `${label(index, line)}: D365 item ${res.itemNumber} has no variant ${res.code}${res.known.length ? ` (its variants: ${res.known.join(', ')})` : ' (it has no variants)'}` });
    } else if (res?.kind === 'unmapped') {
      findings.push({ code: 'SKU_UNMAPPED', severity: 'error', path: skuPath(index), message: `${label(index, line)}: ${res.message}` });
    } else if (typeof line.sku === 'string' && line.sku.trim()) {
      findings.push({ code: 'SKU_UNMAPPED', severity: 'error', path: skuPath(index), message: `${label(index, line)} matches no D365 item (tried: ${triedLabels(run)})` });
    }

    const id = lineId(line);
    const prior = run.erpLines ? upstreamLine(run.erpLines, id) : undefined;
    const quantity = quantityOf(line, prior);
    if (!validQuantity(quantity)) continue; // reported as QUANTITY_INVALID; an ErpLine needs a valid quantity
    const out: ErpLine = { lineItemId: id, sku: line.sku ?? null, quantity, unitPrice: line.price };
    if (prior) for (const k of CARRIED) if (typeof prior[k] === 'string') out[k] = prior[k] as string;
    if (item) { out.itemNumber = item.number; out.itemId = item.id; }
    if (variant) { out.variantCode = variant.code; out.variantId = variant.id; }
    lines.push(out);
  }
  return { findings, erp: { lines } };
}

const skuPath = (index: number) => `line_items[${index}].sku`;
const label = (index: number, line: Order['line_items'][number]) => `line ${index + 1}: SKU "${line.sku ?? ''}"`;
