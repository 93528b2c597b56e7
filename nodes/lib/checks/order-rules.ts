import { z } from 'zod';
import { FinancialStatus } from '../contract';
import type { Erp, Order } from '../contract';
import type { CheckOutcome } from '../node-red/check-node';
import { commaList } from './csv';

/**
 * The shopify-order-check rules: required fields, shipping-method mapping, payment state, test and
 * cancelled orders, risk, currency. Pure: no D365, no Node-RED; every problem of an order is reported.
 */

/** `email`, `shipping_address.zip`, `line_items[*].sku`, `line_items[0].title`; `a|b` means "a or b". */
const PATH_ALT = /^[A-Za-z_][A-Za-z0-9_]*(\[(\d+|\*)\])*(\.[A-Za-z_][A-Za-z0-9_]*(\[(\d+|\*)\])*)*$/;
export const REQUIRED_PATH_HINT = 'a dotted path such as shipping_address.zip or line_items[*].sku; use | for alternatives (email|phone)';

export const RequiredFieldRow = z.object({
  path: z.string().trim().min(1, 'required field path is empty')
    .refine((p) => p.split('|').every((alt) => PATH_ALT.test(alt.trim())), { message: `not a field path: expected ${REQUIRED_PATH_HINT}` }),
  /** `shipping`: only when a line requires shipping (e.g. street and city of the ship-to). */
  when: z.enum(['always', 'shipping']).default('always'),
});
export type RequiredFieldRow = z.infer<typeof RequiredFieldRow>;

// BC shipment method, shipping agent and agent service codes are Code[10].
const bcCode = (what: string) => z.string().trim().max(10, `${what} is longer than 10 characters (a Business Central code)`);

export const ShippingMapRow = z.object({
  /** Matched case-insensitively against the shipping line's `code`, then its `title`. */
  match: z.string().trim().min(1, 'shipping code/title is empty'),
  method: bcCode('shipment method').min(1, 'shipment method code is empty'),
  agent: bcCode('shipping agent').default(''),
  service: bcCode('shipping agent service').default(''),
});
export type ShippingMapRow = z.infer<typeof ShippingMapRow>;

export const DEFAULT_REQUIRED_FIELDS: RequiredFieldRow[] = [
  { path: 'shipping_address.address1', when: 'shipping' },
  { path: 'shipping_address.city', when: 'shipping' },
];

export const OrderRules = z.object({
  requireContact: z.boolean().default(true),
  requireShippingAddress: z.boolean().default(true),
  requireCountry: z.boolean().default(true),
  requireSku: z.boolean().default(true),
  requiredFields: z.array(RequiredFieldRow).default(DEFAULT_REQUIRED_FIELDS),
  shippingMap: z.array(ShippingMapRow).default([]),
  /** Used for a shipping line no row maps; empty = report SHIPPING_METHOD_UNMAPPED instead. */
  defaultShipmentMethod: bcCode('default shipment method').default(''),
  allowedFinancialStatuses: commaList.pipe(z.array(FinancialStatus)).default(['paid', 'authorized']),
  testOrders: z.enum(['block', 'warn', 'allow']).default('block'),
  highRiskTags: commaList.default(['high-risk']),
  /** ISO codes; empty allows any currency. */
  allowedCurrencies: commaList.pipe(z.array(z.string().regex(/^[A-Z]{3}$/, 'currency codes are three capital letters, e.g. USD'))).default([]),
});
export type OrderRules = z.infer<typeof OrderRules>;

type Finding = CheckOutcome['findings'][number];

export function checkOrderRules(order: Order, rules: OrderRules): CheckOutcome {
  const findings: Finding[] = [];
  const erp: Partial<Erp> = { currencyCode: order.currency };
  let needsShipping = false;
  let linesLeft = false;
  for (const l of order.line_items) {
    if (l.requires_shipping !== false) needsShipping = true;
    if ((l.current_quantity ?? l.quantity) !== 0) linesLeft = true;
  }

  if (order.cancelled_at) {
    findings.push({ code: 'ORDER_CANCELLED', severity: 'error', path: 'cancelled_at',
      message: `Order ${order.name} was cancelled at ${order.cancelled_at}${order.cancel_reason ? ` (reason: ${order.cancel_reason})` : ''}` });
  }
  // An order edit can remove every line (current_quantity 0): a D365 order for it would carry only freight.
  if (!order.cancelled_at && !linesLeft) {
    findings.push({ code: 'NO_LINES_LEFT', severity: 'error', path: 'line_items',
      message: order.line_items.length ? `Every line of order ${order.name} was removed by an order edit (current quantity 0): nothing left to sell`
        : `Order ${order.name} has no lines` });
  }
  if (order.test && rules.testOrders !== 'allow') {
    findings.push({ code: 'TEST_ORDER', severity: rules.testOrders === 'block' ? 'error' : 'warning', path: 'test',
      message: `Order ${order.name} is a test order` });
  }

  // Built-in required fields, each with its own code so the router and a person can tell them apart.
  let shipToReported = false; // the whole ship-to is missing: its fields are not reported one by one
  if (rules.requireContact && !present(order.email) && !present(order.contact_email) && !present(order.phone)
    && !present(order.customer?.email) && !present(order.customer?.phone)) {
    findings.push({ code: 'CONTACT_MISSING', severity: 'error', path: 'email',
      message: `Order ${order.name} has neither an email address nor a phone number (order or customer)` });
  }
  const ship = order.shipping_address;
  if (rules.requireShippingAddress && needsShipping && !ship) {
    shipToReported = true;
    findings.push({ code: 'SHIPPING_ADDRESS_MISSING', severity: 'error', path: 'shipping_address',
      message: `Order ${order.name} has lines that require shipping but no shipping address` });
  }
  if (rules.requireCountry) {
    // Ship-to country when there is a ship-to; otherwise the billing country decides tax and customer defaults.
    const [addr, where] = ship ? [ship, 'shipping_address'] : [order.billing_address, 'billing_address'];
    if (!(ship == null && shipToReported) && !present(addr?.country_code)) {
      findings.push({ code: 'COUNTRY_MISSING', severity: 'error', path: `${where}.country_code`,
        message: addr ? `The ${where.replace('_', ' ')} of order ${order.name} has no country code` : `Order ${order.name} has no address with a country` });
    }
  }
  if (rules.requireSku) {
    const lines = order.line_items;
    for (let i = 0; i < lines.length; i++) {
      const l = lines[i]!;
      if (!present(l.sku)) {
        findings.push({ code: 'SKU_MISSING', severity: 'error', path: `line_items[${i}].sku`,
          message: `Line ${i + 1} ("${l.name ?? l.title}") has no SKU` });
      }
    }
  }
  for (const row of requiredFields(rules.requiredFields)) {
    if (row.when === 'shipping' && !needsShipping) continue;
    // A field under an object already reported missing (the whole ship-to) is not reported again.
    if (shipToReported && row.underShipTo) continue;
    reportMissing(order, row, findings);
  }

  // Shipping method: D365 carries one per order; the first shipping line decides.
  const shipping = order.shipping_lines;
  let firstAt = 0;
  while (firstAt < shipping.length && shipping[firstAt]!.is_removed) firstAt++;
  const first = firstAt < shipping.length ? { i: firstAt, s: shipping[firstAt]!, row: mapShipping(rules.shippingMap, shipping[firstAt]!.code, shipping[firstAt]!.title) } : undefined;
  if (first?.row) {
    erp.shipmentMethod = shipmentMethod(first.row);
  } else if (first || needsShipping) {
    const what = first ? `shipping line "${first.s.title}"${first.s.code ? ` (code ${first.s.code})` : ''}` : 'an order without a shipping line';
    if (rules.defaultShipmentMethod) {
      erp.shipmentMethod = { code: rules.defaultShipmentMethod };
      findings.push({ code: 'SHIPPING_METHOD_DEFAULTED', severity: 'info', path: first ? `shipping_lines[${first.i}]` : 'shipping_lines',
        message: `No mapping for ${what}; using the default shipment method ${rules.defaultShipmentMethod}` });
    } else {
      findings.push({ code: 'SHIPPING_METHOD_UNMAPPED', severity: 'error', path: first ? `shipping_lines[${first.i}].code` : 'shipping_lines',
        message: `No D365 shipment method is mapped for ${what}` });
    }
  }
  for (let i = firstAt + 1; erp.shipmentMethod && i < shipping.length; i++) {
    const s = shipping[i]!;
    if (s.is_removed) continue;
    const code = mapShipping(rules.shippingMap, s.code, s.title)?.method ?? rules.defaultShipmentMethod;
    if (code !== erp.shipmentMethod.code) {
      findings.push({ code: 'SHIPPING_METHOD_AMBIGUOUS', severity: 'warning', path: `shipping_lines[${i}]`,
        message: `Shipping line "${s.title}" maps to ${code || 'nothing'}, but the order uses ${erp.shipmentMethod.code} from its first shipping line` });
    }
  }

  const fs = order.financial_status ?? null;
  if (!fs || !rules.allowedFinancialStatuses.includes(fs)) {
    findings.push({ code: 'FINANCIAL_STATUS_NOT_ALLOWED', severity: 'error', path: 'financial_status',
      message: `Financial status ${fs ?? '(none)'} is not allowed (allowed: ${rules.allowedFinancialStatuses.join(', ') || 'none'})` });
  }

  const risk = riskReason(order, rules.highRiskTags);
  if (risk) findings.push({ code: 'HIGH_RISK', severity: 'error', path: risk.path, message: `Order ${order.name} is high risk: ${risk.why}` });

  if (rules.allowedCurrencies.length && !rules.allowedCurrencies.includes(order.currency)) {
    findings.push({ code: 'CURRENCY_NOT_ALLOWED', severity: 'error', path: 'currency',
      message: `Currency ${order.currency} is not allowed (allowed: ${rules.allowedCurrencies.join(', ')})` });
  }
  return { findings, erp };
}

function shipmentMethod(row: ShippingMapRow): NonNullable<Erp['shipmentMethod']> {
  const out: NonNullable<Erp['shipmentMethod']> = { code: row.method };
  if (row.agent) out.agent = row.agent;
  if (row.service) out.service = row.service;
  return out;
}

// What `a.localeCompare(b, undefined, { sensitivity: 'accent' })` uses, built once: localeCompare with
// options builds a collator on every call.
const ACCENT = new Intl.Collator(undefined, { sensitivity: 'accent' });

// A table's answers by shipping code/title: orders repeat the same few, and a collator comparison per row
// and order is not free. Per table object (config is parsed once); bounded, as titles come from orders.
const MATCH_MEMO_MAX = 1000;
const matchMemos = new WeakMap<readonly ShippingMapRow[], Map<string, ShippingMapRow | null>>();

/** The first row whose `match` equals `b` (trimmed) but for case; undefined for an empty `b`. */
function rowMatching(table: readonly ShippingMapRow[], b: string | null | undefined): ShippingMapRow | undefined {
  if (!b) return undefined;
  let memo = matchMemos.get(table);
  if (!memo) matchMemos.set(table, (memo = new Map()));
  let row = memo.get(b);
  if (row === undefined) {
    const wanted = b.trim();
    row = table.find((r) => ACCENT.compare(r.match, wanted) === 0) ?? null;
    if (memo.size >= MATCH_MEMO_MAX) memo.clear();
    memo.set(b, row);
  }
  return row ?? undefined;
}

export function mapShipping(table: readonly ShippingMapRow[], code: string | null | undefined, title: string): ShippingMapRow | undefined {
  return rowMatching(table, code) ?? rowMatching(table, title);
}

function riskReason(order: Order, tags: readonly string[]): { path: string; why: string } | undefined {
  // No tags on the order (the usual case) or none configured: no tag can match.
  if (tags.length && order.tags.trim()) {
    const orderTags = order.tags.split(',').map((t) => t.trim().toLowerCase()).filter(Boolean);
    const tag = tags.find((t) => orderTags.includes(t.toLowerCase()));
    if (tag) return { path: 'tags', why: `tagged "${tag}"` };
  }
  // REST orders carry no risk; a flow may merge the Order Risk resource in as `risks`.
  const risks = (order as Record<string, unknown>).risks;
  if (Array.isArray(risks)) {
    const i = risks.findIndex((r) => r && typeof r === 'object' && (r as { recommendation?: unknown }).recommendation === 'cancel');
    if (i >= 0) return { path: `risks[${i}]`, why: `risk assessment recommends cancelling${typeof risks[i].message === 'string' ? ` (${risks[i].message})` : ''}` };
  }
  return undefined;
}

function present(v: unknown): boolean {
  if (v == null) return false;
  if (typeof v === 'string') return v.trim() !== '';
  if (Array.isArray(v)) return v.length > 0;
  return true;
}

type Seg = string | number | '*';

/** A required-field row, parsed once per settings (not per order). */
interface RequiredField {
  when: RequiredFieldRow['when'];
  /** The alternatives as written (trimmed), and each one's segments. */
  alts: string[];
  segs: Seg[][];
  /** Every alternative lies under shipping_address. */
  underShipTo: boolean;
  /** Per alternative without `[*]`: the concrete path it names (as a finding states it); undefined with `[*]`. */
  concrete: (string | undefined)[];
}

const compiled = new WeakMap<readonly RequiredFieldRow[], RequiredField[]>();
function requiredFields(rows: readonly RequiredFieldRow[]): RequiredField[] {
  let out = compiled.get(rows);
  if (!out) {
    out = rows.map((row) => {
      const alts = row.path.split('|').map((p) => p.trim());
      const segs = alts.map(splitPath);
      return { when: row.when, alts, segs, underShipTo: alts.every((p) => p.split(/[.[]/)[0] === 'shipping_address'),
        concrete: segs.map((sg) => (sg.includes('*') ? undefined : resolve(undefined, sg)[0]!.path)) };
    });
    compiled.set(rows, out);
  }
  return out;
}

function splitPath(path: string): Seg[] {
  const segs: Seg[] = [];
  for (const part of path.split('.')) {
    const m = /^([^[]+)((?:\[(?:\d+|\*)\])*)$/.exec(part)!;
    segs.push(m[1]!);
    for (const idx of m[2]!.matchAll(/\[(\d+|\*)\]/g)) segs.push(idx[1] === '*' ? '*' : Number(idx[1]));
  }
  return segs;
}

/** An own property (or array element), else undefined. */
const child = (v: unknown, seg: string | number): unknown => (v != null && typeof v === 'object' && Object.prototype.hasOwnProperty.call(v, seg)
  ? (v as Record<string | number, unknown>)[seg] : undefined);

/** The value a path without `[*]` names. */
function valueAt(root: unknown, segs: readonly Seg[]): unknown {
  let v = root;
  for (const seg of segs) v = child(v, seg as string | number);
  return v;
}

/** Resolves a path to every concrete (path, value) it names; `[*]` fans out. Own properties only. */
function resolve(root: unknown, segs: Seg[], at = ''): { path: string; value: unknown }[] {
  if (!segs.length) return [{ path: at, value: root }];
  const [seg, ...rest] = segs;
  if (seg === '*') {
    if (!Array.isArray(root)) return [{ path: `${at}[*]`, value: undefined }];
    return root.flatMap((v, i) => resolve(v, rest, `${at}[${i}]`));
  }
  const key = typeof seg === 'number' ? `[${seg}]` : at ? `.${seg}` : seg;
  return resolve(child(root, seg!), rest, `${at}${key}`);
}

/** REQUIRED_FIELD_MISSING for each concrete path that is empty; with alternatives, once when every alternative is empty. */
function reportMissing(order: Order, row: RequiredField, findings: Finding[]): void {
  const { alts, segs, concrete } = row;
  if (alts.length > 1) {
    for (let a = 0; a < alts.length; a++) {
      if (concrete[a] !== undefined ? present(valueAt(order, segs[a]!)) : resolve(order, segs[a]!).some((x) => present(x.value))) return;
    }
    findings.push({ code: 'REQUIRED_FIELD_MISSING', severity: 'error', path: alts.join('|'), message: `None of ${alts.join(' / ')} is filled in` });
    return;
  }
  // One path: without `[*]` (the usual row) it names one value, read without building its path.
  const path = concrete[0];
  if (path !== undefined) {
    if (!present(valueAt(order, segs[0]!))) findings.push(fieldMissing(path));
    return;
  }
  for (const x of resolve(order, segs[0]!)) if (!present(x.value)) findings.push(fieldMissing(x.path));
}

const fieldMissing = (path: string): Finding => ({ code: 'REQUIRED_FIELD_MISSING', severity: 'error', path, message: `Required field ${path} is empty` });
