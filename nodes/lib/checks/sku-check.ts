import type { ErpLine, Order } from '../contract';
import type { CheckOutcome } from '../node-red/check-node';
import type { BcItem, BcItemVariant, D365Lookups } from '../d365/lookups';
import { normCode } from '../d365/lookups';
import { retryableOrThrow } from '../d365/lookups-errors';
import { andThen, isThenable } from '../node-red/types';
import type { Maybe } from '../node-red/types';
import { SKU_STRATEGY_LABELS, normalizeSku } from './sku-rules';
import type { SkuRules, SkuStrategyName } from './sku-rules';

export const SKU_CHECK = 'd365-sku-validator';

export type SkuLookups = Pick<D365Lookups, 'itemsByNumber' | 'itemsByGtin' | 'itemsByCustomField' | 'variantsOfItems'>
  & Partial<Pick<D365Lookups, 'cachedItemsByNumber' | 'cachedVariantsOfItems'>>;

const itemsOf = (l: SkuLookups, numbers: string[]) => l.cachedItemsByNumber?.(numbers) ?? l.itemsByNumber(numbers);
const variantsOf = (l: SkuLookups, numbers: string[]) => l.cachedVariantsOfItems?.(numbers) ?? l.variantsOfItems(numbers);
/** Items and variants of the same numbers, together. */
function itemsAndVariants(l: SkuLookups, itemNumbers: string[], variantNumbers: string[]): Maybe<[Map<string, BcItem[]>, Map<string, BcItemVariant[]>]> {
  const i = itemsOf(l, itemNumbers);
  const v = variantsOf(l, variantNumbers);
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

interface StrategyResult {
  decided: Map<number, Resolution>;
  /** Lines whose item exists but not the variant: reported as VARIANT_UNKNOWN if no later strategy maps them. */
  hints: Map<number, Resolution & { kind: 'variantUnknown' }>;
}

type Strategy = (lines: Pending[], rules: SkuRules, lookups: SkuLookups) => Maybe<StrategyResult>;

const result = (): StrategyResult => ({ decided: new Map(), hints: new Map() });
const distinctItems = (list: BcItem[]) => list.filter((c, i) => list.findIndex((o) => o.id === c.id) === i);
/** Candidates whose number agrees with the SKU under the case rule (lookups compare case-insensitively). */
const sameCode = (code: string, wanted: string, rules: SkuRules) => (rules.caseRule === 'exact' ? code === wanted : code.toUpperCase() === wanted.toUpperCase());

function oneOf(items: BcItem[]): Resolution | undefined {
  const list = distinctItems(items);
  if (!list.length) return undefined;
  return list.length === 1 ? { kind: 'match', item: list[0]! } : { kind: 'ambiguous', candidates: list.map((i) => i.number) };
}

const STRATEGIES: Record<SkuStrategyName, Strategy> = {
  mapping(lines, rules, lookups) {
    const out = result();
    if (!rules.mapping.length) return out;
    const table = new Map(rules.mapping.map((m) => [normalizeSku(m.sku, rules), m] as const));
    const mapped = lines.flatMap((l) => (table.has(l.key) ? [{ line: l, m: table.get(l.key)! }] : []));
    if (!mapped.length) return out;
    const numbers = mapped.map((x) => x.m.itemNumber);
    return andThen(itemsAndVariants(lookups, numbers, mapped.filter((x) => x.m.variantCode).map((x) => x.m.itemNumber)), ([items, variants]) => {
      for (const { line, m } of mapped) {
        const item = (items.get(normCode(m.itemNumber)) ?? []).find((i) => normCode(i.number) === normCode(m.itemNumber));
        if (!item) {
          out.decided.set(line.index, { kind: 'unmapped', message: `the mapping table maps SKU "${line.sku}" to item ${m.itemNumber}, which D365 does not have` });
          continue;
        }
        if (!m.variantCode) {
          out.decided.set(line.index, { kind: 'match', item });
          continue;
        }
        const known = variants.get(normCode(m.itemNumber)) ?? [];
        const variant = known.find((v) => normCode(v.code) === normCode(m.variantCode));
        out.decided.set(line.index, variant ? { kind: 'match', item, variant }
          : { kind: 'variantUnknown', itemNumber: item.number, code: m.variantCode, known: known.map((v) => v.code) });
      }
      return out;
    });
  },

  itemNumber(lines, rules, lookups) {
    const out = result();
    return andThen(itemsOf(lookups, lines.map((l) => l.key)), (found) => {
      for (const l of lines) {
        const r = oneOf((found.get(normCode(l.key)) ?? []).filter((i) => sameCode(i.number, l.key, rules)));
        if (r) out.decided.set(l.index, r);
      }
      return out;
    });
  },

  itemVariant(lines, rules, lookups) {
    const out = result();
    // Item numbers may themselves contain the separator ("AB-100-RED"), so every split is a candidate.
    const splits = new Map<number, { prefix: string; code: string }[]>();
    for (const l of lines) {
      const s: { prefix: string; code: string }[] = [];
      for (let at = l.key.indexOf(rules.separator); at > 0; at = l.key.indexOf(rules.separator, at + 1)) {
        const code = l.key.slice(at + rules.separator.length);
        if (code) s.push({ prefix: l.key.slice(0, at), code });
      }
      if (s.length) splits.set(l.index, s);
    }
    const prefixes = [...splits.values()].flat().map((s) => s.prefix);
    if (!prefixes.length) return out;
    return andThen(itemsAndVariants(lookups, prefixes, prefixes), ([items, variants]) => {
      for (const [index, candidates] of splits) {
        const matches: Resolution[] = [];
        for (const { prefix, code } of candidates) {
          const item = (items.get(normCode(prefix)) ?? []).find((i) => sameCode(i.number, prefix, rules));
          if (!item) continue;
          const known = variants.get(normCode(prefix)) ?? [];
          const variant = known.find((v) => sameCode(v.code, code, rules));
          if (variant) matches.push({ kind: 'match', item, variant });
          else out.hints.set(index, { kind: 'variantUnknown', itemNumber: item.number, code, known: known.map((v) => v.code) });
        }
        if (matches.length === 1) out.decided.set(index, matches[0]!);
        else if (matches.length > 1) {
          out.decided.set(index, { kind: 'ambiguous', candidates: matches.map((m) => (m.kind === 'match' ? `${m.item.number}/${m.variant!.code}` : '')) });
        }
      }
      return out;
    });
  },

  async gtin(lines, _rules, lookups) {
    const out = result();
    const items = await lookups.itemsByGtin(lines.map((l) => l.sku));
    for (const l of lines) {
      const r = oneOf(items.get(l.sku.trim()) ?? []);
      if (r) out.decided.set(l.index, r);
    }
    return out;
  },

  async vendorItem(lines, rules, lookups) {
    const out = result();
    const src = { api: rules.vendorItemApi, entitySet: rules.vendorItemEntitySet, field: rules.vendorItemField };
    const items = await lookups.itemsByCustomField(src, lines.map((l) => l.sku));
    for (const l of lines) {
      const r = oneOf(items.get(l.sku.trim()) ?? []);
      if (r) out.decided.set(l.index, r);
    }
    return out;
  },
};

/** Upstream msg.erp.lines by line item id (read defensively: it may come from any node). */
function upstreamLines(erpLines: unknown): Map<string, Record<string, unknown>> {
  const out = new Map<string, Record<string, unknown>>();
  if (!Array.isArray(erpLines)) return out;
  for (const l of erpLines) {
    if (l && typeof l === 'object' && (typeof l.lineItemId === 'string' || typeof l.lineItemId === 'number')) out.set(String(l.lineItemId), l);
  }
  return out;
}

// Fields other checks may have put on a line; kept when this check rebuilds msg.erp.lines.
const CARRIED = ['locationCode', 'discountAmount', 'taxCode', 'unitPrice'] as const;

/**
 * Maps every line's SKU to a D365 item (and variant) by the enabled strategies in order, batching
 * each strategy's lookups for the whole order, and reports every problem of every line.
 * `erpLines` is msg.erp.lines as received (its quantities are checked; its other fields kept).
 */
export function checkSkus(order: Order, rules: SkuRules, lookups: SkuLookups, erpLines?: unknown): Maybe<CheckOutcome> {
  const findings: Findings = [];
  const upstream = upstreamLines(erpLines);
  const quantities = order.line_items.map((line, i) => {
    const prior = upstream.get(String(line.id));
    const q = prior && 'quantity' in prior ? prior.quantity : line.quantity;
    const valid = typeof q === 'number' && Number.isInteger(q) && q > 0;
    if (!valid) {
      findings.push({ code: 'QUANTITY_INVALID', severity: 'error', path: `line_items[${i}].quantity`,
        message: `line ${i + 1} (${line.sku || line.title}): quantity ${JSON.stringify(q)}${prior ? ' from msg.erp.lines' : ''} is not a positive whole number` });
    }
    return valid ? (q as number) : undefined;
  });

  let pending: Pending[] = [];
  for (const [index, line] of order.line_items.entries()) {
    const key = typeof line.sku === 'string' ? normalizeSku(line.sku, rules) : '';
    if (!key.trim()) {
      findings.push({ code: 'SKU_MISSING', severity: 'error', path: `line_items[${index}].sku`, message: `line ${index + 1} (${line.title}) has no SKU` });
    } else pending.push({ index, sku: line.sku!, key });
  }

  const decided = new Map<number, Resolution>();
  const hints = new Map<number, Resolution>();
  const tried: string[] = [];
  const strategies = rules.strategies.filter((s) => s.enabled);
  const failed = (e: unknown, name: SkuStrategyName): CheckOutcome => {
    const text = retryableOrThrow(e, `D365 item lookup (${SKU_STRATEGY_LABELS[name]})`);
    findings.push({ code: 'SKU_LOOKUP_FAILED', severity: 'error', retryable: true, message: `${text}; the order can be retried later` });
    return { findings };
  };
  // The strategies in order, each on the lines still undecided; synchronous while lookups are cached.
  const step = (at: number): Maybe<CheckOutcome> => {
    const s = strategies[at];
    if (!s || !pending.length) return outcome();
    tried.push(SKU_STRATEGY_LABELS[s.name]);
    const apply = (r: StrategyResult) => {
      for (const [i, res] of r.decided) decided.set(i, res);
      for (const [i, res] of r.hints) if (!hints.has(i)) hints.set(i, res);
      pending = pending.filter((l) => !decided.has(l.index));
      return step(at + 1);
    };
    let r: Maybe<StrategyResult>;
    try {
      r = STRATEGIES[s.name](pending, rules, lookups);
    } catch (e) {
      return failed(e, s.name);
    }
    return isThenable(r) ? r.then(apply, (e: unknown) => failed(e, s.name)) : apply(r);
  };
  const outcome = (): CheckOutcome => buildLines(order, rules, findings, quantities, upstream, decided, hints, tried);
  return step(0);
}

/** msg.erp.lines and the per-line findings, once every strategy had its turn. */
function buildLines(order: Order, rules: SkuRules, findings: Findings, quantities: (number | undefined)[], upstream: Map<string, Record<string, unknown>>,
  decided: Map<number, Resolution>, hints: Map<number, Resolution>, tried: string[]): CheckOutcome {
  const lines: ErpLine[] = [];
  for (const [index, line] of order.line_items.entries()) {
    const path = `line_items[${index}].sku`;
    const label = `line ${index + 1}: SKU "${line.sku ?? ''}"`;
    const res = decided.get(index) ?? hints.get(index);
    let item: BcItem | undefined;
    let variant: BcItemVariant | undefined;
    if (res?.kind === 'match') {
      ({ item, variant } = res);
      if (item.blocked) findings.push({ code: 'ITEM_BLOCKED', severity: 'error', path, message: `${label} maps to D365 item ${item.number} (${item.displayName}), which is blocked` });
      if (item.type !== 'Inventory' && rules.nonInventory !== 'allow') {
        findings.push({ code: 'ITEM_NOT_INVENTORY', severity: rules.nonInventory === 'block' ? 'error' : 'warning', path,
          message: `${label} maps to D365 item ${item.number} (${item.displayName}), a ${item.type} item, not Inventory` });
      }
    } else if (res?.kind === 'ambiguous') {
      findings.push({ code: 'SKU_AMBIGUOUS', severity: 'error', path, message: `${label} matches several D365 items: ${res.candidates.join(', ')}` });
    } else if (res?.kind === 'variantUnknown') {
      findings.push({ code: 'VARIANT_UNKNOWN', severity: 'error', path,
        message: `${label}: D365 item ${res.itemNumber} has no variant ${res.code}${res.known.length ? ` (its variants: ${res.known.join(', ')})` : ' (it has no variants)'}` });
    } else if (res?.kind === 'unmapped') {
      findings.push({ code: 'SKU_UNMAPPED', severity: 'error', path, message: `${label}: ${res.message}` });
    } else if (typeof line.sku === 'string' && line.sku.trim()) {
      findings.push({ code: 'SKU_UNMAPPED', severity: 'error', path, message: `${label} matches no D365 item (tried: ${tried.join(', ')})` });
    }

    const quantity = quantities[index];
    if (quantity === undefined) continue; // reported as QUANTITY_INVALID; an ErpLine needs a valid quantity
    const prior = upstream.get(String(line.id));
    const out: ErpLine = { lineItemId: String(line.id), sku: line.sku ?? null, quantity, unitPrice: line.price };
    for (const k of CARRIED) if (typeof prior?.[k] === 'string') out[k] = prior[k] as string;
    if (item) Object.assign(out, { itemNumber: item.number, itemId: item.id });
    if (variant) Object.assign(out, { variantCode: variant.code, variantId: variant.id });
    lines.push(out);
  }
  return { findings, erp: { lines } };
}
