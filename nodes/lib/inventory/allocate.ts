import type { FindingInput } from '../contract';
import type { ReservationLine } from '../journal/journal';
import { backorderAllowance } from './gate-settings';
import type { GateRules, LocationRule } from './gate-settings';

type Finding = Omit<FindingInput, 'check'>;

/** One order line the gate must promise. */
export interface DemandLine {
  /** Position in msg.payload.line_items (finding paths). */
  index: number;
  lineItemId: string;
  /** The Shopify line's SKU, if it has one (for findings: see lineLabel). */
  sku?: string;
  /** D365 item key (`itemNumber` or `itemNumber:variantCode`). */
  item: string;
  quantity: number;
  /** Numeric Shopify location id the line (or order) names, if any. */
  shopifyLocation?: string;
}

/** How a person recognises the line in a finding, e.g. `line 2 (SKU 1000-RED, item 1000:RED)`. */
export const lineLabel = (l: DemandLine): string => `line ${l.index + 1} (${l.sku ? `SKU ${l.sku}, ` : ''}item ${l.item})`;

/** The numbers behind available-to-promise for one item key at one D365 location. */
export interface Place {
  inventory: number;
  onSalesOrders: number;
  safety: number;
  /** Units other orders in flight hold (journal reservations not of this order). */
  reservedByOthers: number;
}

/** What D365 + the journal let an order reserve: stock − open sales-order demand − safety stock. */
export const limitOf = (p: Place): number => p.inventory - p.onSalesOrders - p.safety;
/** Available to promise: the limit less what other orders in flight hold. */
export const atpOf = (p: Place): number => limitOf(p) - p.reservedByOthers;

export interface AllocationInput {
  lines: readonly DemandLine[];
  rules: GateRules;
  place(item: string, location: string): Place;
  /** D365 locations with a stock record for any of the order's items (priority order when the table names none). */
  stockedLocations: readonly string[];
  /** Item keys D365 keeps no stock record for; with `unstocked: skip` their lines are not reserved. */
  unstocked: ReadonlySet<string>;
}

export interface Allocation {
  /** D365 location code per line item id (only lines that got one). */
  locations: Map<string, string>;
  /** What to reserve in the journal (empty when a blocking finding was raised). */
  reservations: ReservationLine[];
  findings: Finding[];
  blocked: boolean;
  /** Item keys whose available-to-promise after this order is at or below the refresh threshold (or short). */
  tight: Set<string>;
}

// The journal wants a finite limit; "allow backorders" is a limit nobody reaches.
const UNLIMITED = Number.MAX_SAFE_INTEGER;

const describe = (p: Place): string =>
  `D365 stock ${p.inventory} − on sales orders ${p.onSalesOrders} − reserved for other orders ${p.reservedByOthers} − safety stock ${p.safety}`;

const allowanceText = (a: number): string => (a === Infinity ? 'backorders allowed' : `backorders allowed up to ${a}`);

/**
 * Decides where each line ships from and what to reserve, by the strategy:
 * - mapped: the D365 location mapped to the line's Shopify location (or the `*` row);
 * - first: the whole order from the first location (priority order) that has enough of every line;
 * - split: each line from the first location that has enough of it.
 * A line that does not fit is backordered where the location's policy allows it, else it is short
 * (INSUFFICIENT_STOCK, blocking). Pure: the caller reads D365 and the journal and reserves atomically.
 */
export function allocate(input: AllocationInput): Allocation {
  const { rules } = input;
  const out: Allocation = { locations: new Map(), reservations: [], findings: [], blocked: false, tight: new Set() };
  // Units this order takes per item, then location (nested: no key string per question).
  const taken = new Map<string, Map<string, number>>();
  const takenAt = (item: string, loc: string) => taken.get(item)?.get(loc) ?? 0;
  const left = (item: string, loc: string) => atpOf(input.place(item, loc)) - takenAt(item, loc);
  const planned: { line: DemandLine; location: string; backorder: number }[] = [];
  const take = (line: DemandLine, location: string) => {
    const before = left(line.item, location);
    let byLoc = taken.get(line.item);
    if (!byLoc) taken.set(line.item, (byLoc = new Map()));
    byLoc.set(location, takenAt(line.item, location) + line.quantity);
    const backorder = Math.max(0, line.quantity - Math.max(0, before));
    planned.push({ line, location, backorder });
    out.locations.set(line.lineItemId, location);
    if (before - line.quantity <= rules.refreshBelow) out.tight.add(line.item);
    if (backorder > 0) {
      const p = input.place(line.item, location);
      out.findings.push({
        code: 'BACKORDERED', severity: 'warning', path: `line_items[${line.index}]`,
        message: `${lineLabel(line)}: ${line.quantity} ordered, ${Math.max(0, before)} available to promise at ${show(location)} (${describe(p)}); ${backorder} backordered (${allowanceText(allowanceAt(location))})`,
      });
    }
  };
  const short = (line: DemandLine, locations: readonly string[], why = '') => {
    out.blocked = true;
    out.tight.add(line.item);
    const per = locations.map((l) => `${show(l)} ${Math.max(0, left(line.item, l))}`).join(', ');
    const first = locations.length === 1 ? ` (${describe(input.place(line.item, locations[0]!))})` : '';
    out.findings.push({
      code: 'INSUFFICIENT_STOCK', severity: 'error', path: `line_items[${line.index}]`,
      message: `${lineLabel(line)}: ${line.quantity} ordered, available to promise: ${per || 'no D365 location has stock'}${first}${why}`,
    });
  };

  const ruleFor = (location: string): LocationRule | undefined => rules.locations.find((r) => r.d365Location === location);
  const allowanceAt = (location: string) => backorderAllowance(rules, ruleFor(location));
  const priority = rules.locations.length ? tablePriority(rules) : [...new Set(input.stockedLocations)].sort();

  const skipped = rules.unstocked === 'skip' ? input.lines.filter((l) => input.unstocked.has(l.item)) : [];
  const lines = skipped.length ? input.lines.filter((l) => !skipped.includes(l)) : input.lines;

  if (rules.strategy === 'mapped') {
    for (const line of input.lines) {
      const rule = rules.locations.find((r) => r.shopifyLocation !== '' && r.shopifyLocation === line.shopifyLocation)
        ?? rules.locations.find((r) => r.shopifyLocation === '*');
      if (!rule) {
        out.blocked = true;
        out.findings.push({
          code: 'LOCATION_UNMAPPED', severity: 'error', path: `line_items[${line.index}]`,
          message: line.shopifyLocation
            ? `${lineLabel(line)}: ${line.quantity} ordered from Shopify location ${line.shopifyLocation}, which the location table does not map to a D365 location (and it has no * row)`
            : `${lineLabel(line)}: ${line.quantity} ordered; the order names no Shopify location and the location table has no * row`,
        });
        continue;
      }
      if (skipped.includes(line)) { out.locations.set(line.lineItemId, rule.d365Location); continue; }
      if (left(line.item, rule.d365Location) >= line.quantity || line.quantity - left(line.item, rule.d365Location) <= allowanceAt(rule.d365Location)) take(line, rule.d365Location);
      else short(line, [rule.d365Location]);
    }
  } else if (rules.strategy === 'split') {
    for (const line of lines) {
      const whole = priority.find((l) => left(line.item, l) >= line.quantity);
      const back = whole ?? priority.find((l) => line.quantity - left(line.item, l) <= allowanceAt(l));
      if (back !== undefined) take(line, back);
      else short(line, priority);
    }
  } else {
    const need = new Map<string, number>();
    for (const l of lines) need.set(l.item, (need.get(l.item) ?? 0) + l.quantity);
    const fits = (loc: string, allowance: number) => [...need].every(([item, q]) => q - left(item, loc) <= allowance);
    const chosen = priority.find((l) => fits(l, 0)) ?? priority.find((l) => fits(l, allowanceAt(l)));
    if (chosen !== undefined) {
      for (const line of lines) take(line, chosen);
    } else {
      const hopeless = lines.filter((line) => !priority.some((l) => left(line.item, l) >= line.quantity));
      for (const line of hopeless) short(line, priority);
      if (!hopeless.length && lines.length) {
        out.blocked = true;
        for (const l of lines) out.tight.add(l.item);
        const gaps = priority.map((loc) => `${show(loc)} lacks ${lines.filter((l) => left(l.item, loc) < l.quantity)
          .map((l) => `${lineLabel(l)} (${Math.max(0, left(l.item, loc))} of ${l.quantity})`).join(', ')}`);
        out.findings.push({
          code: 'INSUFFICIENT_STOCK', severity: 'error',
          message: `no single D365 location can ship the whole order: ${gaps.join('; ')}. The split strategy would ship it from several locations`,
        });
      }
    }
  }

  const fallback = out.locations.size ? [...out.locations.values()][0]! : priority[0];
  for (const line of skipped) {
    if (!out.locations.has(line.lineItemId) && fallback !== undefined) out.locations.set(line.lineItemId, fallback);
    out.findings.push({
      code: 'ITEM_NOT_STOCKED', severity: 'info', path: `line_items[${line.index}]`,
      message: `${lineLabel(line)}: D365 keeps no stock record for item ${line.item} (service or non-inventory?); ${line.quantity} not reserved`,
    });
  }

  if (out.blocked) return out;
  // A location that backorders any line of an item lets that item's whole demand there use the allowance
  // (the journal checks the order's total per item and location against one limit).
  const backordered = (item: string, location: string) => planned.some((p) => p.backorder > 0 && p.line.item === item && p.location === location);
  for (const p of planned) {
    const base = limitOf(input.place(p.line.item, p.location));
    const allowance = backordered(p.line.item, p.location) ? allowanceAt(p.location) : 0;
    out.reservations.push({
      item: p.line.item, location: p.location, quantity: p.line.quantity, limit: allowance === Infinity ? UNLIMITED : base + allowance, lineItemId: p.line.lineItemId,
    });
  }
  return out;
}

const show = (location: string): string => (location === '' ? '(blank location)' : location);

/** The location table's D365 locations in table order, once per set of rules (they do not change). */
const priorities = new WeakMap<GateRules, string[]>();
function tablePriority(rules: GateRules): string[] {
  let p = priorities.get(rules);
  if (!p) priorities.set(rules, (p = [...new Set(rules.locations.map((r) => r.d365Location))]));
  return p;
}
