import { z } from 'zod';
import { fromMinor } from '../contract';
import type { Erp, Order } from '../contract';
import type { CheckOutcome } from '../node-red/check-node';
import { allowedDifference, decimalSetting, minor, percentSetting, sumMinor, withinTolerance } from './price-math';

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
export interface D365ItemPrice { number: string; unitPrice: string; priceIncludesTax: boolean }

export interface PriceLookups {
  /** By item number. Undefined when D365 could not be asked (the node reports that). */
  itemPrices?: ReadonlyMap<string, D365ItemPrice | null>;
}

type Finding = CheckOutcome['findings'][number];

/** The item numbers whose D365 price the check will need (lines not covered by a price-list row). */
export function itemsToLookUp(order: Order, rules: PriceRules, erp: Erp | undefined): string[] {
  // D365 item prices are in the company currency; other currencies are priced from the price list only.
  if (!erp?.lines || order.currency !== rules.companyCurrency) return [];
  const numbers = new Set<string>();
  for (const l of erp.lines) {
    if (l.itemNumber && !priceListRow(rules, l.itemNumber, order.currency)) numbers.add(l.itemNumber);
  }
  return [...numbers];
}

export function checkPrices(order: Order, rules: PriceRules, erp: Erp | undefined, lookups: PriceLookups): CheckOutcome {
  const findings: Finding[] = [
    ...checkLinePrices(order, rules, erp, lookups),
    ...checkDiscounts(order, rules),
    ...checkTotals(order, rules),
  ];
  return { findings };
}

function priceListRow(rules: PriceRules, item: string, currency: string): PriceListRow | undefined {
  return rules.priceList.find((r) => r.item === item && r.currency === currency);
}

export function toleranceFor(rules: PriceRules, item: string): ToleranceRow {
  return rules.tolerances.find((r) => r.item === '*' || r.item === item || (r.item.endsWith('*') && item.startsWith(r.item.slice(0, -1))))
    ?? { item: '*', absolute: '0', percent: '0' };
}

function checkLinePrices(order: Order, rules: PriceRules, erp: Erp | undefined, lookups: PriceLookups): Finding[] {
  const out: Finding[] = [];
  const cur = order.currency;
  order.line_items.forEach((l, i) => {
    if (minor(l.price) === 0n && rules.zeroPrice !== 'allow') {
      out.push({ code: 'ZERO_PRICE', severity: rules.zeroPrice, path: `line_items[${i}].price`,
        message: `Line ${i + 1} (${l.sku || l.title}) has a unit price of 0.00 ${cur}` });
    }
  });
  if (!erp?.lines) {
    out.push({ code: 'PRICE_NOT_CHECKED', severity: 'warning', path: 'line_items',
      message: 'Line prices were not compared with D365: msg.erp.lines is missing (put a d365-sku-validator before this node)' });
    return out;
  }
  const hasListPrices = rules.priceList.some((r) => r.currency === cur);
  if (cur !== rules.companyCurrency && !hasListPrices) {
    out.push({ code: 'CURRENCY_MISMATCH', severity: 'error', path: 'currency',
      message: `Order currency ${cur} differs from the D365 company currency ${rules.companyCurrency} and the price list has no ${cur} prices, so line prices cannot be compared` });
    return out;
  }
  order.line_items.forEach((l, i) => {
    const path = `line_items[${i}].price`;
    if (minor(l.price) === 0n && rules.zeroPrice !== 'allow') return; // reported as ZERO_PRICE
    const erpLine = erp.lines!.find((e) => e.lineItemId === String(l.id));
    const item = erpLine?.itemNumber;
    if (!item) {
      out.push({ code: 'PRICE_UNKNOWN', severity: 'warning', path,
        message: `Line ${i + 1} (${l.sku || l.title}) is not mapped to a D365 item, so its price was not checked` });
      return;
    }
    let expected: string;
    let source: string;
    let basisNote = '';
    const listed = priceListRow(rules, item, cur);
    if (listed) {
      expected = listed.unitPrice;
      source = `price list (${cur})`;
    } else if (cur !== rules.companyCurrency) {
      out.push({ code: 'CURRENCY_MISMATCH', severity: 'error', path,
        message: `Item ${item} has no ${cur} price-list row and its D365 unit price is in ${rules.companyCurrency}` });
      return;
    } else {
      if (!lookups.itemPrices) return; // D365 unreachable: the node reports that once for the order
      const d = lookups.itemPrices.get(item);
      if (!d) {
        out.push({ code: 'PRICE_UNKNOWN', severity: 'warning', path,
          message: `Item ${item} (line ${i + 1}) was not found in D365, so its price was not checked` });
        return;
      }
      expected = d.unitPrice;
      source = 'D365 unit price';
      if (d.priceIncludesTax !== order.taxes_included) {
        basisNote = d.priceIncludesTax ? ' (the D365 price includes tax, the Shopify price does not)' : ' (the Shopify price includes tax, the D365 price does not)';
      }
    }
    const tol = toleranceFor(rules, item);
    const exp = minor(expected);
    if (!withinTolerance(minor(l.price), exp, tol)) {
      out.push({ code: 'PRICE_MISMATCH', severity: 'error', path,
        message: `Line ${i + 1} item ${item}: Shopify price ${l.price} ${cur} differs from the ${source} ${fromMinor(exp)} by more than ${fromMinor(allowedDifference(exp, tol))}${basisNote}` });
    }
  });
  return out;
}

function checkDiscounts(order: Order, rules: PriceRules): Finding[] {
  const out: Finding[] = [];
  const tol = { absolute: rules.totalsTolerance, percent: '0' };
  order.line_items.forEach((l, i) => {
    const allocated = sumMinor(l.discount_allocations.map((d) => d.amount));
    const gross = minor(l.price) * BigInt(l.quantity);
    if (allocated > gross) {
      out.push({ code: 'DISCOUNT_ALLOCATION_MISMATCH', severity: 'error', path: `line_items[${i}].discount_allocations`,
        message: `Line ${i + 1} has ${fromMinor(allocated)} of discounts allocated but is only worth ${fromMinor(gross)}` });
    }
  });
  if (order.total_discounts !== undefined) {
    const lines = order.line_items.flatMap((l) => l.discount_allocations.map((d) => d.amount));
    const shipping = order.shipping_lines.filter((s) => !s.is_removed).flatMap((s) => s.discount_allocations.map((d) => d.amount));
    const allocated = sumMinor([...lines, ...shipping]);
    if (!withinTolerance(allocated, minor(order.total_discounts), tol)) {
      out.push({ code: 'DISCOUNT_ALLOCATION_MISMATCH', severity: 'error', path: 'total_discounts',
        message: `Discount allocations add up to ${fromMinor(allocated)} but the order's total discounts are ${order.total_discounts}` });
    }
  }
  return out;
}

function checkTotals(order: Order, rules: PriceRules): Finding[] {
  const out: Finding[] = [];
  const tol = { absolute: rules.totalsTolerance, percent: '0' };
  const mismatch = (path: string, label: string, computed: bigint, stated: string) => {
    if (!withinTolerance(minor(stated), computed, tol)) {
      out.push({ code: 'TOTALS_MISMATCH', severity: 'error', path,
        message: `${label} is ${stated} but the order's parts add up to ${fromMinor(computed)}` });
    }
  };
  const lineGross = order.line_items.reduce((s, l) => s + minor(l.price) * BigInt(l.quantity), 0n);
  const lineDiscounts = sumMinor(order.line_items.flatMap((l) => l.discount_allocations.map((d) => d.amount)));
  const ship = order.shipping_lines.filter((s) => !s.is_removed);
  const shipping = sumMinor(ship.map((s) => s.price)) - sumMinor(ship.flatMap((s) => s.discount_allocations.map((d) => d.amount)));
  const tax = sumMinor([...order.line_items, ...ship].flatMap((l) => l.tax_lines.map((t) => t.price)));
  const tip = typeof (order as Record<string, unknown>).total_tip_received === 'string' ? toMinorSafe((order as Record<string, string>).total_tip_received!) : 0n;

  if (order.total_line_items_price !== undefined) mismatch('total_line_items_price', 'Total of line items', lineGross, order.total_line_items_price);
  if (order.subtotal_price !== undefined) mismatch('subtotal_price', 'Subtotal', lineGross - lineDiscounts, order.subtotal_price);
  if (order.total_tax !== undefined) mismatch('total_tax', 'Total tax', tax, order.total_tax);
  const statedTax = order.total_tax !== undefined ? minor(order.total_tax) : tax;
  mismatch('total_price', 'Total price', lineGross - lineDiscounts + shipping + (order.taxes_included ? 0n : statedTax) + tip, order.total_price);
  return out;
}

function toMinorSafe(s: string): bigint {
  return /^-?\d+(\.\d+)?$/.test(s) ? minor(s) : 0n;
}
