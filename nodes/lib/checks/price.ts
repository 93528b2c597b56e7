import { z } from 'zod';
import { fromMinor } from '../contract';
import type { Erp, Order } from '../contract';
import type { CheckOutcome } from '../node-red/check-node';
import { allowedDifference, decimalSetting, minor, percentSetting, sumOf, times, withinTolerance } from './price-math';
import type { Tolerance } from './price-math';

/**
 * The d365-price-check rules: each line's unit price against D365 (item unit price, or a price-list row
 * for the order's currency), discount allocations against the order's discounts, and the order totals.
 * Pure: the D365 prices arrive as a lookup result.
 */

export const ToleranceRow = z.object({
  /** An item number, a prefix ending in `*`, or `*` for every item. First matching row wins. */
  item: z.string().trim().min(1, 'item pattern is empty (use * for all items)'),
  absolute: decimalSetting('absolute tolerance'),
  percent: percentSetting('percent tolerance'),
});
export type ToleranceRow = z.infer<typeof ToleranceRow>;

export const PriceListRow = z.object({
  item: z.string().trim().min(1, 'price list item number is empty'),
  currency: z.string().trim().toUpperCase().regex(/^[A-Z]{3}$/, 'price list currency must be a three-letter code, e.g. EUR'),
  unitPrice: decimalSetting('price list unit price'),
});
export type PriceListRow = z.infer<typeof PriceListRow>;

export const PriceRules = z.object({
  tolerances: z.array(ToleranceRow).default([{ item: '*', absolute: '0.01', percent: '0' }]),
  priceList: z.array(PriceListRow).default([]),
  /** D365 item unit prices are in the company's local currency. */
  companyCurrency: z.string().trim().toUpperCase().regex(/^[A-Z]{3}$/, 'company currency must be a three-letter code, e.g. USD').default('USD'),
  /** Tolerance for the order-level sums (discounts, subtotal, total). */
  totalsTolerance: decimalSetting('totals tolerance').default('0.01'),
  zeroPrice: z.enum(['error', 'warning', 'allow']).default('warning'),
});
export type PriceRules = z.infer<typeof PriceRules>;

/** What D365 knows about an item's price; `null` in the lookup = no such item. */
export interface D365ItemPrice { readonly number: string; readonly unitPrice: string; readonly priceIncludesTax: boolean }

export interface PriceLookups {
  /** By item number. Undefined when D365 could not be asked (the node reports that). */
  itemPrices?: ReadonlyMap<string, D365ItemPrice | null>;
}

type Finding = CheckOutcome['findings'][number];

/** The item numbers whose D365 price the check will need (lines not covered by a price-list row). */
export function itemsToLookUp(order: Order, rules: PriceRules, erp: Erp | undefined): string[] {
  // D365 item prices are in the company currency; other currencies are priced from the price list only.
  if (!erp?.lines || order.currency !== rules.companyCurrency) return [];
  // An order has a handful of lines: a list beats a Set for keeping each number once.
  const numbers: string[] = [];
  for (const l of erp.lines) {
    if (l.itemNumber && !numbers.includes(l.itemNumber) && !priceListRow(rules, l.itemNumber, order.currency)) numbers.push(l.itemNumber);
  }
  return numbers;
}

export function checkPrices(order: Order, rules: PriceRules, erp: Erp | undefined, lookups: PriceLookups): CheckOutcome {
  const findings: Finding[] = [];
  checkLinePrices(order, rules, erp, lookups, findings);
  // One pass over the lines for both the discount check and the totals' sums.
  let lineGross = 0n;
  let lineDiscounts = 0n;
  let lineTax = 0n;
  const lines = order.line_items;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const allocated = sumOf(l.discount_allocations, 'amount');
    const gross = times(minor(l.price), l.quantity);
    if (allocated > gross) {
      findings.push({ code: 'DISCOUNT_ALLOCATION_MISMATCH', severity: 'error', path: `line_items[${i}].discount_allocations`,
        message: `Line ${i + 1} has ${fromMinor(allocated)} of discounts allocated but is only worth ${fromMinor(gross)}` });
    }
    lineGross += gross;
    lineDiscounts += allocated;
    lineTax += sumOf(l.tax_lines, 'price');
  }
  const tol = { absolute: rules.totalsTolerance, percent: '0' };
  checkTotalDiscounts(order, lineDiscounts, tol, findings);
  checkTotals(order, lineGross, lineDiscounts, lineTax, tol, findings);
  return { findings };
}

function priceListRow(rules: PriceRules, item: string, currency: string): PriceListRow | undefined {
  for (const r of rules.priceList) if (r.item === item && r.currency === currency) return r;
  return undefined;
}

const NO_TOLERANCE: ToleranceRow = Object.freeze({ item: '*', absolute: '0', percent: '0' });

export function toleranceFor(rules: PriceRules, item: string): ToleranceRow {
  for (const r of rules.tolerances) {
    if (r.item === '*' || r.item === item || (r.item.endsWith('*') && item.startsWith(r.item.slice(0, -1)))) return r;
  }
  return NO_TOLERANCE;
}

/** The order's D365 line for a Shopify line (by line item id). */
function erpLineOf(lines: NonNullable<Erp['lines']>, id: Order['line_items'][number]['id']): NonNullable<Erp['lines']>[number] | undefined {
  const key = typeof id === 'string' ? id : String(id);
  for (const e of lines) if (e.lineItemId === key) return e;
  return undefined;
}

// Findings are pushed onto `out` in the order the checks have always reported them; paths and messages
// are built only for a finding, not for every clean line.
function checkLinePrices(order: Order, rules: PriceRules, erp: Erp | undefined, lookups: PriceLookups, out: Finding[]): void {
  const cur = order.currency;
  const lines = order.line_items;
  const zeroIsFinding = rules.zeroPrice !== 'allow';
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (zeroIsFinding && minor(l.price) === 0n) {
      out.push({ code: 'ZERO_PRICE', severity: rules.zeroPrice as 'error' | 'warning', path: `line_items[${i}].price`,
        message: `Line ${i + 1} (${l.sku || l.title}) has a unit price of 0.00 ${cur}` });
    }
  }
  if (!erp?.lines) {
    out.push({ code: 'PRICE_NOT_CHECKED', severity: 'warning', path: 'line_items',
      message: 'Line prices were not compared with D365: msg.erp.lines is missing (put a d365-sku-validator before this node)' });
    return;
  }
  if (cur !== rules.companyCurrency && !rules.priceList.some((r) => r.currency === cur)) {
    out.push({ code: 'CURRENCY_MISMATCH', severity: 'error', path: 'currency',
      message: `Order currency ${cur} differs from the D365 company currency ${rules.companyCurrency} and the price list has no ${cur} prices, so line prices cannot be compared` });
    return;
  }
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const price = minor(l.price);
    if (price === 0n && zeroIsFinding) continue; // reported as ZERO_PRICE
    const item = erpLineOf(erp.lines, l.id)?.itemNumber;
    if (!item) {
      out.push({ code: 'PRICE_UNKNOWN', severity: 'warning', path: `line_items[${i}].price`,
        message: `Line ${i + 1} (${l.sku || l.title}) is not mapped to a D365 item, so its price was not checked` });
      continue;
    }
    let expected: string;
    let d: D365ItemPrice | null | undefined;
    const listed = priceListRow(rules, item, cur);
    if (listed) {
      expected = listed.unitPrice;
    } else if (cur !== rules.companyCurrency) {
      out.push({ code: 'CURRENCY_MISMATCH', severity: 'error', path: `line_items[${i}].price`,
        message: `Item ${item} has no ${cur} price-list row and its D365 unit price is in ${rules.companyCurrency}` });
      continue;
    } else {
      if (!lookups.itemPrices) continue; // D365 unreachable: the node reports that once for the order
      d = lookups.itemPrices.get(item);
      if (!d) {
        out.push({ code: 'PRICE_UNKNOWN', severity: 'warning', path: `line_items[${i}].price`,
          message: `Item ${item} (line ${i + 1}) was not found in D365, so its price was not checked` });
        continue;
      }
      expected = d.unitPrice;
    }
    const tol = toleranceFor(rules, item);
    const exp = minor(expected);
    if (!withinTolerance(price, exp, tol)) {
      const source = listed ? `price list (${cur})` : 'D365 unit price';
      const basisNote = !d || d.priceIncludesTax === order.taxes_included ? ''
        : d.priceIncludesTax ? ' (the D365 price includes tax, the Shopify price does not)' : ' (the Shopify price includes tax, the D365 price does not)';
      out.push({ code: 'PRICE_MISMATCH', severity: 'error', path: `line_items[${i}].price`,
        message: `Line ${i + 1} item ${item}: Shopify price ${l.price} ${cur} differs from the ${source} ${fromMinor(exp)} by more than ${fromMinor(allowedDifference(exp, tol))}${basisNote}` });
    }
  }
}

function checkTotalDiscounts(order: Order, lineDiscounts: bigint, tol: Tolerance, out: Finding[]): void {
  if (order.total_discounts === undefined) return;
  let allocated = lineDiscounts;
  for (const s of order.shipping_lines) if (!s.is_removed) allocated += sumOf(s.discount_allocations, 'amount');
  if (!withinTolerance(allocated, minor(order.total_discounts), tol)) {
    out.push({ code: 'DISCOUNT_ALLOCATION_MISMATCH', severity: 'error', path: 'total_discounts',
      message: `Discount allocations add up to ${fromMinor(allocated)} but the order's total discounts are ${order.total_discounts}` });
  }
}

/** The order's stated totals against its parts (`line…`: the lines' gross, discounts and tax). */
function checkTotals(order: Order, lineGross: bigint, lineDiscounts: bigint, lineTax: bigint, tol: Tolerance, out: Finding[]): void {
  const mismatch = (path: string, label: string, computed: bigint, stated: string) => {
    if (!withinTolerance(minor(stated), computed, tol)) {
      out.push({ code: 'TOTALS_MISMATCH', severity: 'error', path,
        message: `${label} is ${stated} but the order's parts add up to ${fromMinor(computed)}` });
    }
  };
  let shipping = 0n;
  let tax = lineTax;
  for (const s of order.shipping_lines) {
    if (s.is_removed) continue;
    shipping += minor(s.price) - sumOf(s.discount_allocations, 'amount');
    tax += sumOf(s.tax_lines, 'price');
  }
  const tip = typeof (order as Record<string, unknown>).total_tip_received === 'string' ? toMinorSafe((order as Record<string, string>).total_tip_received!) : 0n;

  if (order.total_line_items_price !== undefined) mismatch('total_line_items_price', 'Total of line items', lineGross, order.total_line_items_price);
  if (order.subtotal_price !== undefined) mismatch('subtotal_price', 'Subtotal', lineGross - lineDiscounts, order.subtotal_price);
  if (order.total_tax !== undefined) mismatch('total_tax', 'Total tax', tax, order.total_tax);
  const statedTax = order.total_tax !== undefined ? minor(order.total_tax) : tax;
  mismatch('total_price', 'Total price', lineGross - lineDiscounts + shipping + (order.taxes_included ? 0n : statedTax) + tip, order.total_price);
}

function toMinorSafe(s: string): bigint {
  return /^-?\d+(\.\d+)?$/.test(s) ? minor(s) : 0n;
}
