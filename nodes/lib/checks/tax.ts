import { z } from 'zod';
import { fromMinor } from '../contract';
import type { Address, Erp, Order } from '../contract';
import type { CheckOutcome } from '../node-red/check-node';
import { allowedDifference, decimalSetting, minor, percentSetting, sumOf, taxAt, taxRate, times, withinTolerance } from './price-math';
import type { Tolerance } from './price-math';

/**
 * The d365-tax-check rules: tax area by ship-to (country / state / ZIP prefix table), taxes_included
 * consistency, tax lines present where taxable, recomputed tax vs Shopify's within a rounding
 * tolerance, tax-exempt customers. BC v2.0 taxAreas carry no rates, so the rate lives in the table.
 */

export const TaxAreaRow = z.object({
  country: z.string().trim().toUpperCase().regex(/^[A-Z]{2}$/, 'country must be a two-letter ISO code, e.g. US'),
  /** Province/state code; empty matches any. */
  state: z.string().trim().toUpperCase().default(''),
  /** ZIP/postcode prefix; empty matches any. */
  zip: z.string().trim().toUpperCase().default(''),
  code: z.string().trim().min(1, 'tax area code is empty').max(20, 'tax area code is longer than 20 characters (a Business Central code)'),
  rate: percentSetting('tax rate %'),
  /** yes/no: whether orders shipped here must have prices including tax; empty accepts either. */
  pricesIncludeTax: z.enum(['', 'yes', 'no']).default(''),
});
export type TaxAreaRow = z.infer<typeof TaxAreaRow>;

export const TaxRules = z.object({
  areas: z.array(TaxAreaRow).default([]),
  toleranceAbs: decimalSetting('absolute tax tolerance').default('0.01'),
  tolerancePct: percentSetting('percent tax tolerance').default('0'),
  taxShipping: z.boolean().default(true),
});
export type TaxRules = z.infer<typeof TaxRules>;

/** What D365 said; each part undefined when not asked (no connection) or not applicable. */
export interface TaxLookups {
  /** The mapped tax area exists in D365 (null = it does not). */
  taxArea?: { id: string; code: string } | null;
  /** The order's D365 customer (msg.erp.customer), if there is one. */
  customer?: { number: string; taxLiable?: boolean; taxAreaId?: string } | null;
}

type Finding = CheckOutcome['findings'][number];

/** The most specific row for an address: a ZIP prefix beats a state, a state beats the country; ties go to the first row. */
export function findTaxArea(rows: readonly TaxAreaRow[], addr: Pick<Address, 'country_code' | 'province_code' | 'zip'> | null | undefined): TaxAreaRow | undefined {
  const country = (addr?.country_code ?? '').trim().toUpperCase();
  if (!country) return undefined;
  const state = (addr?.province_code ?? '').trim().toUpperCase();
  let zip: string | undefined; // normalised when a row of the country names a ZIP prefix
  let best: TaxAreaRow | undefined;
  let bestScore = -1;
  for (const r of rows) {
    if (r.country !== country || (r.state && r.state !== state)) continue;
    if (r.zip && !(zip ??= (addr?.zip ?? '').replace(/\s+/g, '').toUpperCase()).startsWith(r.zip.replace(/\s+/g, ''))) continue;
    const score = (r.zip ? 100 + r.zip.length : 0) + (r.state ? 10 : 0);
    if (score > bestScore) { best = r; bestScore = score; }
  }
  return best;
}

/** The address taxes follow: the ship-to, or the billing address for orders that ship nothing. */
export function taxAddress(order: Order): Address | null | undefined {
  return order.shipping_address ? order.shipping_address : order.billing_address;
}

/**
 * `area`: the tax area row of the order's tax address (findTaxArea over taxAddress), for a caller
 * that has looked it up already.
 */
export function checkTax(order: Order, rules: TaxRules, erp: Erp | undefined, lookups: TaxLookups,
  area = findTaxArea(rules.areas, taxAddress(order))): CheckOutcome {
  const findings: Finding[] = [];
  const out: Partial<Erp> = {};
  const addr = taxAddress(order);
  const addrPath = order.shipping_address ? 'shipping_address' : 'billing_address';
  if (!area) {
    const where = addr ? [addr.country_code, addr.province_code, addr.zip].filter(Boolean).join(' / ') || 'no country' : 'no ship-to or billing address';
    findings.push({ code: 'TAX_AREA_UNMAPPED', severity: 'error', path: `${addrPath}.country_code`,
      message: `No tax area is mapped for ${where}` });
  } else {
    out.taxAreaCode = area.code;
    if (lookups.taxArea === null) {
      findings.push({ code: 'TAX_AREA_UNKNOWN', severity: 'error', path: `${addrPath}.country_code`,
        message: `Tax area ${area.code} (mapped for ${addr?.country_code}${addr?.province_code ? `/${addr.province_code}` : ''}) does not exist in D365` });
    } else if (lookups.taxArea && lookups.customer?.taxAreaId && lookups.customer.taxAreaId !== lookups.taxArea.id) {
      findings.push({ code: 'CUSTOMER_TAX_AREA_DIFFERS', severity: 'warning', path: `${addrPath}.country_code`,
        message: `The ship-to maps to tax area ${area.code}, but D365 customer ${lookups.customer.number} has a different default tax area` });
    }
  }

  // Prices including tax: a customer's own setting wins over the area's; empty accepts Shopify's.
  const customerIncl = (erp?.customer as { pricesIncludeTax?: unknown } | undefined)?.pricesIncludeTax;
  const expectIncl = typeof customerIncl === 'boolean' ? customerIncl : area?.pricesIncludeTax ? area.pricesIncludeTax === 'yes' : undefined;
  if (expectIncl !== undefined && expectIncl !== order.taxes_included) {
    const who = typeof customerIncl === 'boolean' ? `D365 customer ${erp?.customer?.number}` : `tax area ${area?.code}`;
    findings.push({ code: 'TAXES_INCLUDED_MISMATCH', severity: 'error', path: 'taxes_included',
      message: `Shopify prices ${order.taxes_included ? 'include' : 'exclude'} tax, but ${who} expects prices ${expectIncl ? 'including' : 'excluding'} tax` });
  }
  out.pricesIncludeTax = expectIncl ?? order.taxes_included;

  const exemptBy = order.tax_exempt ? 'the order is tax exempt'
    : order.customer?.tax_exempt ? 'the Shopify customer is tax exempt'
      : erp?.customer?.taxLiable === false || lookups.customer?.taxLiable === false ? `D365 customer ${erp?.customer?.number ?? lookups.customer?.number} is not tax liable`
        : undefined;
  if (exemptBy) {
    let charged = 0n;
    for (const l of order.line_items) charged += sumOf(l.tax_lines, 'price');
    for (const s of order.shipping_lines) if (!s.is_removed) charged += sumOf(s.tax_lines, 'price');
    if (charged > 0n) {
      findings.push({ code: 'TAX_EXEMPT_CHARGED', severity: 'error', path: 'total_tax',
        message: `${fromMinor(charged)} ${order.currency} tax was charged although ${exemptBy}` });
    }
    return { findings, erp: out };
  }
  if (!area) return { findings, erp: out };

  const tol = { absolute: rules.toleranceAbs, percent: rules.tolerancePct };
  const rate = taxRate(area.rate);
  const incl = order.taxes_included;
  const lines = order.line_items;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    const base = times(minor(l.price), l.quantity) - sumOf(l.discount_allocations, 'amount');
    const expected = l.taxable !== false ? taxAt(base, rate, incl) : 0n;
    const actual = sumOf(l.tax_lines, 'price');
    if (!taxAgrees(actual, expected, tol)) findings.push(taxFinding(`line_items[${i}]`, `Line ${i + 1} (${l.sku || l.title})`, area, actual, expected, tol));
  }
  const ship = order.shipping_lines;
  for (let i = 0; i < ship.length; i++) {
    const s = ship[i]!;
    if (s.is_removed) continue;
    const base = minor(s.price) - sumOf(s.discount_allocations, 'amount');
    const expected = rules.taxShipping ? taxAt(base, rate, incl) : 0n;
    const actual = sumOf(s.tax_lines, 'price');
    if (!taxAgrees(actual, expected, tol)) findings.push(taxFinding(`shipping_lines[${i}]`, `Shipping "${s.title}"`, area, actual, expected, tol));
  }
  return { findings, erp: out };
}

/** Shopify's tax on a line agrees with the area's rate: some is charged where some is due, within the tolerance. */
const taxAgrees = (actual: bigint, expected: bigint, tol: Tolerance): boolean =>
  !(expected > 0n && actual === 0n) && withinTolerance(actual, expected, tol);

/** TAX_MISSING or TAX_MISMATCH for a line whose tax does not agree; `path` and `label` name the line. */
function taxFinding(path: string, label: string, area: TaxAreaRow, actual: bigint, expected: bigint, tol: Tolerance): Finding {
  if (expected > 0n && actual === 0n) {
    return { code: 'TAX_MISSING', severity: 'error', path: `${path}.tax_lines`,
      message: `${label} is taxable in ${area.code} (${area.rate} %) but carries no tax; expected ${fromMinor(expected)}` };
  }
  return { code: 'TAX_MISMATCH', severity: 'error', path: `${path}.tax_lines`,
    message: `${label}: Shopify charged ${fromMinor(actual)} tax, ${area.code} at ${area.rate} % gives ${fromMinor(expected)} (tolerance ${fromMinor(allowedDifference(expected, tol))})` };
}
