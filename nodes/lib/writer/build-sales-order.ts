import { fromMinor, toMinor } from '../contract';
import type { Address, Erp, ErpLine, FindingInput, LineItem, MoneySet, Order } from '../contract';
import type { WriterSettings } from './settings';

export type WriterFinding = Omit<FindingInput, 'check'>;

/** What the writer remembers per Shopify line (journal documents.lines) to act on refunds and shipments later. */
export interface LineRef {
  seq: number;
  item: string;
  variant?: string;
  variantId?: string;
  location?: string;
  locationId?: string;
  quantity: number;
  unitPrice: string;
}
export type LineMap = Record<string, LineRef>;

export interface ShippingRef { seq: number; shippingLineId: string; amount: string }

/** GUIDs the BC API wants where the checks gave codes (resolved by the writer before building). */
export interface ResolvedIds {
  shipmentMethodId?: string;
  /** BC location code → location id. */
  locations: Record<string, string>;
}

export interface BuiltSalesOrder {
  body: Record<string, unknown>;
  lines: LineMap;
  shipping: ShippingRef[];
  /** Blocking problems (the order must not be sent) and warnings (truncations). */
  findings: WriterFinding[];
}

// Field lengths of the BC sales header / line tables: longer text is rejected with Application_StringExceededLength.
const MAX = { externalDocumentNumber: 35, shipToName: 100, shipToContact: 100, shipToAddressLine1: 100, shipToAddressLine2: 50,
  shipToCity: 30, shipToState: 30, shipToPostCode: 20, shipToCountry: 10, email: 80, phoneNumber: 30, description: 100 } as const;

export const NOTE_PREFIX = 'Note: ';
export const LINE_STEP = 10000;

/** Shop-currency amount of a money field: the *_set shop money when present, else the plain string. */
export function shopAmount(plain: string | undefined, set?: MoneySet): string {
  return set?.shop_money.amount ?? plain ?? '0';
}

function sumAllocations(allocs: readonly { amount: string; amount_set?: MoneySet }[]): bigint {
  return allocs.reduce((s, a) => s + toMinor(shopAmount(a.amount, a.amount_set)), 0n);
}

/** Money for the BC JSON body: a number with at most the minor-unit digits (exact for 2 decimals). */
export function bcMoney(minor: bigint): number {
  return Number(fromMinor(minor));
}

/** Splits a note into BC comment lines of at most 100 characters (at most 5 lines; the rest is cut with "…"). */
export function noteLines(note: string | null | undefined): string[] {
  const text = (note ?? '').replace(/\s+/g, ' ').trim();
  if (!text) return [];
  const chunks: string[] = [];
  let rest = NOTE_PREFIX + text;
  while (rest && chunks.length < 5) {
    chunks.push(rest.slice(0, MAX.description));
    rest = rest.slice(MAX.description);
  }
  if (rest) chunks[4] = `${chunks[4]!.slice(0, MAX.description - 1)}…`;
  return chunks;
}

/** BC ship-to fields from a Shopify address (codes for state/country, as BC stores them). */
export function shipToFields(a: Address | null | undefined): Record<string, string> {
  if (!a) return {};
  const name = a.name || [a.first_name, a.last_name].filter(Boolean).join(' ');
  return {
    shipToName: a.company || name || '',
    shipToContact: a.company ? name || '' : '',
    shipToAddressLine1: a.address1 ?? '',
    shipToAddressLine2: a.address2 ?? '',
    shipToCity: a.city ?? '',
    shipToState: a.province_code ?? a.province ?? '',
    shipToPostCode: a.zip ?? '',
    shipToCountry: a.country_code ?? '',
  };
}

/** Cuts fields to BC's lengths; each cut is reported as a warning so nobody is surprised by a short address. */
export function fitFields(fields: Record<string, string>, findings: WriterFinding[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(fields)) {
    const max = (MAX as Record<string, number>)[k];
    if (max !== undefined && [...v].length > max) {
      out[k] = [...v].slice(0, max).join('');
      findings.push({ code: 'FIELD_TRUNCATED', severity: 'warning', message: `${k} is longer than ${max} characters and was shortened for D365`, path: k });
    } else out[k] = v;
  }
  return out;
}

function lineQuantity(li: LineItem): number {
  return li.current_quantity ?? li.quantity;
}

/**
 * Builds the BC salesOrders deep-insert body from the Shopify order and what the checks put on msg.erp.
 * Pure: no I/O. Every problem is collected (not just the first) so a person sees all of them at once.
 */
export function buildSalesOrder(order: Order, erp: Erp | undefined, settings: WriterSettings, ids: ResolvedIds): BuiltSalesOrder {
  const findings: WriterFinding[] = [];
  const lines: LineMap = {};
  const shipping: ShippingRef[] = [];
  const bcLines: Record<string, unknown>[] = [];
  let seq = 0;
  const nextSeq = () => (seq += LINE_STEP);

  if (!erp?.customer?.number) {
    findings.push({ code: 'ERP_DATA_MISSING', severity: 'error', message: 'msg.erp.customer.number is missing: run the customer matcher before the writer', path: 'erp.customer' });
  }
  if (!erp?.lines?.length) {
    findings.push({ code: 'ERP_DATA_MISSING', severity: 'error', message: 'msg.erp.lines is missing: run the SKU validator before the writer', path: 'erp.lines' });
  }
  if ([...order.name].length > MAX.externalDocumentNumber) {
    findings.push({ code: 'ERP_DATA_MISSING', severity: 'error', message: `the order name is longer than ${MAX.externalDocumentNumber} characters and cannot be the external document number`, path: 'name' });
  }
  const erpLines = new Map<string, ErpLine>((erp?.lines ?? []).map((l) => [l.lineItemId, l]));

  order.line_items.forEach((li, i) => {
    const qty = lineQuantity(li);
    if (qty <= 0) return; // removed by an order edit before creation
    const el = erpLines.get(String(li.id));
    const path = `line_items[${i}]`;
    if (!el?.itemNumber) {
      if (erp?.lines?.length) findings.push({ code: 'ERP_LINE_MISSING', severity: 'error', message: `line ${li.id} (${li.sku ?? li.title}) has no D365 item number in msg.erp.lines`, path });
      return;
    }
    let locationId: string | undefined;
    if (el.locationCode) {
      locationId = ids.locations[el.locationCode];
      if (!locationId) findings.push({ code: 'LOCATION_UNKNOWN', severity: 'error', message: `D365 has no location ${el.locationCode} (line ${li.id})`, path });
    }
    const unit = toMinor(el.unitPrice ?? shopAmount(li.price, li.price_set));
    const discount = el.discountAmount !== undefined ? toMinor(el.discountAmount) : sumAllocations(li.discount_allocations);
    if (discount < 0n || discount > unit * BigInt(el.quantity ?? qty)) {
      findings.push({ code: 'DISCOUNT_INVALID', severity: 'error', message: `line ${li.id}: discount ${fromMinor(discount)} is outside 0…line amount`, path: `${path}.discount_allocations` });
    }
    const s = nextSeq();
    const quantity = el.quantity ?? qty;
    const line: Record<string, unknown> = {
      sequence: s, lineType: 'Item', lineObjectNumber: el.itemNumber, quantity, unitPrice: bcMoney(unit), discountAmount: bcMoney(discount),
    };
    if (el.itemId) line.itemId = el.itemId;
    if (el.variantId) line.itemVariantId = el.variantId;
    if (locationId) line.locationId = locationId;
    if (el.taxCode) line.taxCode = el.taxCode;
    bcLines.push(line);
    lines[String(li.id)] = { seq: s, item: el.itemNumber, variant: el.variantCode, variantId: el.variantId, location: el.locationCode, locationId, quantity, unitPrice: fromMinor(unit) };
  });

  if (settings.shippingMode !== 'none') {
    const no = settings.shippingMode === 'account' ? settings.shippingAccountNo : settings.shippingChargeNo;
    if (!no) findings.push({ code: 'ERP_DATA_MISSING', severity: 'error', message: 'shipping as item charge needs a charge item no. in the writer settings' });
    order.shipping_lines.forEach((sl, i) => {
      if (sl.is_removed) return;
      const price = toMinor(shopAmount(sl.price, sl.price_set));
      const discount = sumAllocations(sl.discount_allocations);
      if (price === 0n) return;
      const s = nextSeq();
      bcLines.push({
        sequence: s, lineType: settings.shippingMode === 'account' ? 'Account' : 'Charge', lineObjectNumber: no,
        description: [...`Shipping: ${sl.title}`].slice(0, MAX.description).join(''), quantity: 1, unitPrice: bcMoney(price), discountAmount: bcMoney(discount),
      });
      shipping.push({ seq: s, shippingLineId: String(sl.id ?? i), amount: fromMinor(price - discount) });
    });
  }

  for (const text of noteLines(order.note)) bcLines.push({ sequence: nextSeq(), lineType: 'Comment', description: text });

  const currency = (erp?.currencyCode ?? order.currency).toUpperCase();
  const header: Record<string, string> = {
    ...shipToFields(order.shipping_address ?? order.billing_address),
    email: order.email ?? order.contact_email ?? '',
    phoneNumber: order.phone ?? order.shipping_address?.phone ?? '',
  };
  const body: Record<string, unknown> = {
    customerNumber: erp?.customer?.number ?? '',
    externalDocumentNumber: order.name,
    orderDate: order.created_at.slice(0, 10),
    currencyCode: currency === settings.localCurrency.toUpperCase() ? '' : currency,
    ...fitFields(header, findings),
    salesOrderLines: bcLines,
  };
  if (ids.shipmentMethodId) body.shipmentMethodId = ids.shipmentMethodId;
  else if (erp?.shipmentMethod?.code) {
    findings.push({ code: 'SHIPMENT_METHOD_UNKNOWN', severity: 'error', message: `D365 has no shipment method ${erp.shipmentMethod.code}`, path: 'erp.shipmentMethod.code' });
  }
  return { body, lines, shipping, findings };
}
