import { z } from 'zod';
import { formatZodError, fromMinor, parseTopicPayload, toMinor } from '../contract';
import type { OrderJournal, RecordEventResult } from '../journal/journal';
import type { ShopifyAdminApi } from './admin-api';
import { buildEvent, compactMeta, instantMs, normaliseInstant } from './webhook';
import type { TriggerEvent } from './webhook';
import { isOwnWriteBack } from './webhook-own-writes';

/**
 * Reconciliation: webhooks are not guaranteed, so on an interval we ask the Admin GraphQL API for
 * orders updated since the last cursor and feed each through the same custody path as a webhook.
 *
 * Exactly once per order version: a reconciled order is recorded as an `orders/updated` event with
 * dedupe key `reconcile:<order id>:<updated_at>` (so a second poll of the same version is a
 * duplicate) and with its resource time set 1 ms BEFORE its `updated_at`. The journal calls an
 * order event stale when it already holds an event for that order with a strictly later time, so
 * the reconciled version is skipped exactly when a webhook (any orders/* topic) for that version or
 * a newer one was recorded. Timestamps are compared as instants with millisecond resolution, so
 * "later than updated_at − 1 ms" is "at or after updated_at". (Caveat, by design: if the dropped
 * webhook does arrive late after all, it carries a new webhook id and that version is emitted again.)
 *
 * Reconciled events are emitted with topic `orders/updated` and msg.shopify.source `reconcile`:
 * the poll sees the order's current state, not which webhook was lost.
 */

const Money = z.object({ amount: z.string(), currencyCode: z.string() });
const Bag = z.object({ shopMoney: Money, presentmentMoney: Money });
const GqlTaxLine = z.object({ title: z.string(), rate: z.number().nullable().optional(), priceSet: Bag });
const GqlAddress = z.object({
  firstName: z.string().nullable().optional(), lastName: z.string().nullable().optional(), name: z.string().nullable().optional(),
  company: z.string().nullable().optional(), address1: z.string().nullable().optional(), address2: z.string().nullable().optional(),
  city: z.string().nullable().optional(), province: z.string().nullable().optional(), provinceCode: z.string().nullable().optional(),
  zip: z.string().nullable().optional(), country: z.string().nullable().optional(), countryCodeV2: z.string().nullable().optional(),
  phone: z.string().nullable().optional(),
});
const GqlAllocation = z.object({ allocatedAmountSet: Bag, discountApplication: z.object({ index: z.number().int().nonnegative() }) });
const GqlDiscountApplication = z.object({
  __typename: z.string(),
  index: z.number().int().nonnegative(),
  allocationMethod: z.string(),
  targetSelection: z.string(),
  targetType: z.string(),
  value: z.union([Money, z.object({ percentage: z.number() })]),
  code: z.string().optional(),
  title: z.string().optional(),
  description: z.string().nullable().optional(),
});
const PageInfo = z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable().optional() });
const GqlLineItem = z.object({
  id: z.string(),
  sku: z.string().nullable().optional(),
  title: z.string(),
  variantTitle: z.string().nullable().optional(),
  name: z.string().nullable().optional(),
  vendor: z.string().nullable().optional(),
  quantity: z.number().int(),
  currentQuantity: z.number().int().optional(),
  requiresShipping: z.boolean().optional(),
  taxable: z.boolean().optional(),
  variant: z.object({ legacyResourceId: z.string() }).nullable().optional(),
  product: z.object({ legacyResourceId: z.string() }).nullable().optional(),
  originalUnitPriceSet: Bag,
  totalDiscountSet: Bag.optional(),
  discountAllocations: z.array(GqlAllocation).default([]),
  taxLines: z.array(GqlTaxLine).default([]),
});
const GqlShippingLine = z.object({
  id: z.string().nullable().optional(),
  code: z.string().nullable().optional(),
  title: z.string(),
  source: z.string().nullable().optional(),
  carrierIdentifier: z.string().nullable().optional(),
  originalPriceSet: Bag,
  discountedPriceSet: Bag.optional(),
  discountAllocations: z.array(GqlAllocation).default([]),
  taxLines: z.array(GqlTaxLine).default([]),
});
export const GqlOrder = z.object({
  id: z.string(),
  legacyResourceId: z.string().regex(/^\d+$/),
  name: z.string(),
  email: z.string().nullable().optional(),
  phone: z.string().nullable().optional(),
  createdAt: z.string(),
  updatedAt: z.string(),
  processedAt: z.string().nullable().optional(),
  closedAt: z.string().nullable().optional(),
  cancelledAt: z.string().nullable().optional(),
  cancelReason: z.string().nullable().optional(),
  currencyCode: z.string(),
  presentmentCurrencyCode: z.string().optional(),
  displayFinancialStatus: z.string().nullable().optional(),
  displayFulfillmentStatus: z.string().nullable().optional(),
  taxesIncluded: z.boolean(),
  taxExempt: z.boolean().optional(),
  test: z.boolean(),
  tags: z.array(z.string()).default([]),
  note: z.string().nullable().optional(),
  sourceName: z.string().nullable().optional(),
  poNumber: z.string().nullable().optional(),
  paymentGatewayNames: z.array(z.string()).default([]),
  customAttributes: z.array(z.object({ key: z.string(), value: z.string().nullable() })).default([]),
  subtotalPriceSet: Bag.nullable().optional(),
  totalPriceSet: Bag,
  totalTaxSet: Bag.nullable().optional(),
  totalDiscountsSet: Bag.nullable().optional(),
  totalShippingPriceSet: Bag.nullable().optional(),
  totalOutstandingSet: Bag.nullable().optional(),
  taxLines: z.array(GqlTaxLine).default([]),
  customer: z.object({
    id: z.string(), legacyResourceId: z.string(), email: z.string().nullable().optional(),
    firstName: z.string().nullable().optional(), lastName: z.string().nullable().optional(), phone: z.string().nullable().optional(),
  }).nullable().optional(),
  shippingAddress: GqlAddress.nullable().optional(),
  billingAddress: GqlAddress.nullable().optional(),
  lineItems: z.object({ pageInfo: PageInfo.optional(), nodes: z.array(GqlLineItem) }),
  discountApplications: z.object({ pageInfo: PageInfo.optional(), nodes: z.array(GqlDiscountApplication) }).optional(),
  shippingLines: z.object({ nodes: z.array(GqlShippingLine) }).optional(),
});
export type GqlOrder = z.infer<typeof GqlOrder>;

const OrdersPage = z.object({
  orders: z.object({
    pageInfo: PageInfo,
    nodes: z.array(z.unknown()),
  }),
});

const BAG = 'shopMoney { amount currencyCode } presentmentMoney { amount currencyCode }';
const TAX = `title rate priceSet { ${BAG} }`;
const ALLOCATIONS = `discountAllocations { allocatedAmountSet { ${BAG} } discountApplication { index } }`;
const LINE = `id sku title variantTitle name vendor quantity currentQuantity requiresShipping taxable
  variant { legacyResourceId } product { legacyResourceId }
  originalUnitPriceSet { ${BAG} } totalDiscountSet { ${BAG} } ${ALLOCATIONS} taxLines { ${TAX} }`;
const DISCOUNT = `__typename index allocationMethod targetSelection targetType
  value { ... on MoneyV2 { amount currencyCode } ... on PricingPercentageValue { percentage } }
  ... on DiscountCodeApplication { code } ... on AutomaticDiscountApplication { title }
  ... on ManualDiscountApplication { title description } ... on ScriptDiscountApplication { title }`;
const ADDRESS = 'firstName lastName name company address1 address2 city province provinceCode zip country countryCodeV2 phone';

/** Orders updated after a time, oldest change first. Page sizes keep the requested cost under 1,000 points. */
export const RECONCILE_QUERY = `query ReconcileOrders($first: Int!, $lines: Int!, $after: String, $query: String!) {
  orders(first: $first, after: $after, query: $query, sortKey: UPDATED_AT) {
    pageInfo { hasNextPage endCursor }
    nodes {
      id legacyResourceId name email phone createdAt updatedAt processedAt closedAt cancelledAt cancelReason
      currencyCode presentmentCurrencyCode displayFinancialStatus displayFulfillmentStatus
      taxesIncluded taxExempt test tags note sourceName poNumber paymentGatewayNames
      customAttributes { key value }
      subtotalPriceSet { ${BAG} } totalPriceSet { ${BAG} } totalTaxSet { ${BAG} } totalDiscountsSet { ${BAG} }
      totalShippingPriceSet { ${BAG} } totalOutstandingSet { ${BAG} }
      taxLines { ${TAX} }
      customer { id legacyResourceId email firstName lastName phone }
      shippingAddress { ${ADDRESS} } billingAddress { ${ADDRESS} }
      discountApplications(first: 5) { pageInfo { hasNextPage endCursor } nodes { ${DISCOUNT} } }
      lineItems(first: $lines) { pageInfo { hasNextPage endCursor } nodes { ${LINE} } }
      shippingLines(first: 5) { nodes { id code title source carrierIdentifier
        originalPriceSet { ${BAG} } discountedPriceSet { ${BAG} } ${ALLOCATIONS} taxLines { ${TAX} } } }
    }
  }
}`;

/** 2 orders × 18 lines: a requested cost of about 900 points (the rest of an order's lines follow in further requests). */
export const RECONCILE_DEFAULTS = { pageSize: 2, linesPerOrder: 18 } as const;

/** The rest of an order's lines when it has more than fit in the orders query (never truncated silently). */
export const ORDER_LINES_QUERY = `query ReconcileOrderLines($id: ID!, $first: Int!, $after: String) {
  order(id: $id) { lineItems(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { ${LINE} } } }
}`;

/** An order's further discount applications (Shopify indexes them from 0; more than a few is rare). */
export const ORDER_DISCOUNTS_QUERY = `query ReconcileOrderDiscounts($id: ID!, $first: Int!, $after: String) {
  order(id: $id) { discountApplications(first: $first, after: $after) { pageInfo { hasNextPage endCursor } nodes { ${DISCOUNT} } } }
}`;

/** The order connections read completely, with the query that fetches a further page of each. */
const FOLLOW_UPS = [['lineItems', ORDER_LINES_QUERY], ['discountApplications', ORDER_DISCOUNTS_QUERY]] as const;
const Page = z.object({ pageInfo: PageInfo.optional(), nodes: z.array(z.unknown()) });

const REST_DISCOUNT_TYPE: Record<string, string> = {
  DiscountCodeApplication: 'discount_code', AutomaticDiscountApplication: 'automatic', ManualDiscountApplication: 'manual', ScriptDiscountApplication: 'script',
};
type GqlDiscountApplication = z.infer<typeof GqlDiscountApplication>;

/** A percentage as Shopify's REST payloads write an application's value: "15.0", "12.5". */
const percentText = (p: number) => (Number.isInteger(p) ? p.toFixed(1) : String(p));

/** Numeric ids as JSON numbers (as in webhooks) when exact, else as digit strings. */
function restId(legacy: string): number | string {
  const n = Number(legacy);
  return Number.isSafeInteger(n) ? n : legacy;
}

/** `gid://shopify/LineItem/466157049` → 466157049. */
function gidTail(gid: string | null | undefined): number | string | undefined {
  const m = /\/(\d+)(?:\?.*)?$/.exec(gid ?? '');
  return m ? restId(m[1]) : undefined;
}

type BagT = z.infer<typeof Bag>;
const restBag = (b: BagT) => ({
  shop_money: { amount: b.shopMoney.amount, currency_code: b.shopMoney.currencyCode },
  presentment_money: { amount: b.presentmentMoney.amount, currency_code: b.presentmentMoney.currencyCode },
});
const restTax = (t: z.infer<typeof GqlTaxLine>) => ({ title: t.title, rate: t.rate ?? 0, price: t.priceSet.shopMoney.amount, price_set: restBag(t.priceSet) });
const restAddress = (a: z.infer<typeof GqlAddress> | null | undefined) => (a ? {
  first_name: a.firstName ?? null, last_name: a.lastName ?? null, name: a.name ?? null, company: a.company ?? null,
  address1: a.address1 ?? null, address2: a.address2 ?? null, city: a.city ?? null, province: a.province ?? null,
  province_code: a.provinceCode ?? null, zip: a.zip ?? null, country: a.country ?? null, country_code: a.countryCodeV2 ?? null,
  phone: a.phone ?? null,
} : null);

const restAllocations = (list: z.infer<typeof GqlAllocation>[]) => list.map((d) => ({
  amount: d.allocatedAmountSet.shopMoney.amount, amount_set: restBag(d.allocatedAmountSet), discount_application_index: d.discountApplication.index,
}));

function restDiscountApplication(a: GqlDiscountApplication): Record<string, unknown> {
  const percentage = 'percentage' in a.value ? a.value.percentage : undefined;
  return {
    target_type: a.targetType.toLowerCase(),
    // A type Shopify adds later keeps a recognisable name rather than failing the whole order.
    type: REST_DISCOUNT_TYPE[a.__typename] ?? a.__typename.replace(/DiscountApplication$/, '').toLowerCase(),
    value: percentage !== undefined ? percentText(percentage) : (a.value as z.infer<typeof Money>).amount,
    value_type: percentage !== undefined ? 'percentage' : 'fixed_amount',
    allocation_method: a.allocationMethod.toLowerCase(),
    target_selection: a.targetSelection.toLowerCase(),
    ...(a.code !== undefined ? { code: a.code } : {}),
    ...(a.title !== undefined ? { title: a.title } : {}),
    ...(a.description != null ? { description: a.description } : {}),
  };
}

/** REST `discount_codes`: one per code application, its amount what the code took off the lines (shop money). */
function restDiscountCodes(o: GqlOrder, apps: GqlDiscountApplication[]) {
  const allocations = [...o.lineItems.nodes, ...(o.shippingLines?.nodes ?? [])].flatMap((l) => l.discountAllocations);
  return apps.filter((a) => a.code !== undefined).map((a) => ({
    code: a.code!,
    amount: fromMinor(allocations.filter((d) => d.discountApplication.index === a.index)
      .reduce((sum, d) => sum + toMinor(d.allocatedAmountSet.shopMoney.amount), 0n)),
    type: a.targetType === 'SHIPPING_LINE' ? 'shipping' : 'percentage' in a.value ? 'percentage' : 'fixed_amount',
  }));
}

const FULFILLMENT: Record<string, string | null> = { FULFILLED: 'fulfilled', PARTIALLY_FULFILLED: 'partial', RESTOCKED: 'restocked' };

/**
 * Maps a GraphQL Order to the REST (webhook) shape that the `Order` schema parses, so a reconciled
 * msg.payload looks like a webhook's. Mapped: ids (numeric), name, contact, timestamps, cancel
 * reason, currencies, financial/fulfillment status (lower-cased REST values; GraphQL-only states
 * such as ON_HOLD become null), taxes_included/tax_exempt, test, tags (joined with ", "), note,
 * note_attributes, source_name, po_number, payment_gateway_names, totals and their *_set bags (shop
 * money, incl. total_discounts), tax_lines, customer (id, email, names, phone), both addresses,
 * line_items (ids, sku, titles, vendor, quantity, current_quantity, requires_shipping, taxable,
 * variant_id, product_id, price/price_set from the original unit price, total_discount(_set) = the
 * line's whole discount, discount_allocations, tax_lines), shipping_lines (with discount_allocations),
 * discount_applications (in index order, so an allocation's discount_application_index points at its
 * application; value written as Shopify's REST does) and discount_codes (one per code application,
 * amount = what its allocations took off, type shipping/percentage/fixed_amount).
 * NOT mapped (absent or left to the schema's defaults): order_number, number, fulfillments, refunds
 * (they reach a flow through their own topics), line fulfillable_quantity/fulfillment_status, grams,
 * properties, duties, location_id.
 */
export function toRestOrder(o: GqlOrder): Record<string, unknown> {
  const amount = (b: BagT | null | undefined) => b?.shopMoney.amount;
  const discounts = [...(o.discountApplications?.nodes ?? [])].sort((a, b) => a.index - b.index);
  const out: Record<string, unknown> = {
    id: restId(o.legacyResourceId),
    admin_graphql_api_id: o.id,
    name: o.name,
    email: o.email ?? null,
    contact_email: o.email ?? null,
    phone: o.phone ?? null,
    created_at: o.createdAt,
    updated_at: o.updatedAt,
    processed_at: o.processedAt ?? null,
    closed_at: o.closedAt ?? null,
    cancelled_at: o.cancelledAt ?? null,
    cancel_reason: o.cancelReason ? o.cancelReason.toLowerCase() : null,
    currency: o.currencyCode,
    presentment_currency: o.presentmentCurrencyCode ?? o.currencyCode,
    financial_status: o.displayFinancialStatus ? o.displayFinancialStatus.toLowerCase() : null,
    fulfillment_status: FULFILLMENT[o.displayFulfillmentStatus ?? ''] ?? null,
    taxes_included: o.taxesIncluded,
    test: o.test,
    tags: o.tags.join(', '),
    note: o.note ?? null,
    note_attributes: o.customAttributes.map((a) => ({ name: a.key, value: a.value })),
    source_name: o.sourceName ?? null,
    po_number: o.poNumber ?? null,
    payment_gateway_names: o.paymentGatewayNames,
    discount_applications: discounts.map(restDiscountApplication),
    discount_codes: restDiscountCodes(o, discounts),
    total_price: amount(o.totalPriceSet),
    total_price_set: restBag(o.totalPriceSet),
    tax_lines: o.taxLines.map(restTax),
    customer: o.customer ? {
      id: restId(o.customer.legacyResourceId), admin_graphql_api_id: o.customer.id, email: o.customer.email ?? null,
      first_name: o.customer.firstName ?? null, last_name: o.customer.lastName ?? null, phone: o.customer.phone ?? null,
    } : null,
    shipping_address: restAddress(o.shippingAddress),
    billing_address: restAddress(o.billingAddress),
    line_items: o.lineItems.nodes.map((l) => ({
      id: gidTail(l.id),
      admin_graphql_api_id: l.id,
      variant_id: l.variant ? restId(l.variant.legacyResourceId) : null,
      product_id: l.product ? restId(l.product.legacyResourceId) : null,
      sku: l.sku ?? null,
      title: l.title,
      variant_title: l.variantTitle ?? null,
      name: l.name ?? null,
      vendor: l.vendor ?? null,
      quantity: l.quantity,
      ...(l.currentQuantity !== undefined ? { current_quantity: l.currentQuantity } : {}),
      ...(l.requiresShipping !== undefined ? { requires_shipping: l.requiresShipping } : {}),
      ...(l.taxable !== undefined ? { taxable: l.taxable } : {}),
      price: amount(l.originalUnitPriceSet),
      price_set: restBag(l.originalUnitPriceSet),
      ...(l.totalDiscountSet ? { total_discount: amount(l.totalDiscountSet), total_discount_set: restBag(l.totalDiscountSet) } : {}),
      discount_allocations: restAllocations(l.discountAllocations),
      tax_lines: l.taxLines.map(restTax),
    })),
    shipping_lines: (o.shippingLines?.nodes ?? []).map((s) => ({
      ...(gidTail(s.id) !== undefined ? { id: gidTail(s.id) } : {}),
      code: s.code ?? null,
      title: s.title,
      source: s.source ?? null,
      carrier_identifier: s.carrierIdentifier ?? null,
      price: amount(s.originalPriceSet),
      price_set: restBag(s.originalPriceSet),
      ...(s.discountedPriceSet ? { discounted_price: amount(s.discountedPriceSet), discounted_price_set: restBag(s.discountedPriceSet) } : {}),
      discount_allocations: restAllocations(s.discountAllocations),
      tax_lines: s.taxLines.map(restTax),
    })),
  };
  if (o.taxExempt !== undefined) out.tax_exempt = o.taxExempt;
  const optionalMoney: [string, BagT | null | undefined][] = [
    ['subtotal_price', o.subtotalPriceSet], ['total_tax', o.totalTaxSet], ['total_discounts', o.totalDiscountsSet],
    ['total_outstanding', o.totalOutstandingSet],
  ];
  for (const [k, b] of optionalMoney) if (b) out[k] = amount(b);
  if (o.totalShippingPriceSet) out.total_shipping_price_set = restBag(o.totalShippingPriceSet);
  return out;
}

/** Builds the journal event for one reconciled order version (see the module comment for the time shift). */
export function reconciledEvent(shop: string, apiVersion: string | undefined, payload: Record<string, unknown>, updatedAt: string): TriggerEvent {
  const ms = instantMs(updatedAt)!;
  const meta = compactMeta({ shop, topic: 'orders/updated', apiVersion, source: 'reconcile' });
  const event = buildEvent('orders/updated', payload, JSON.stringify(payload), meta,
    `reconcile:${String(payload.id)}:${new Date(ms).toISOString()}`, new Date(ms - 1).toISOString());
  return event;
}

export interface ReconcileOptions {
  api: ShopifyAdminApi;
  journal: OrderJournal;
  /** The custody path shared with webhooks: records, then emits a new event. */
  ingest: (event: TriggerEvent) => Promise<RecordEventResult>;
  shop: string;
  apiVersion?: string;
  /** Unique per running node instance (host, process, node id): the lease holder. */
  owner: string;
  leaseTtlMs: number;
  /** First run (no cursor yet): how far back to look. */
  lookbackMs: number;
  /** Each run re-reads this much before the cursor: Shopify's search index lags a little behind writes. */
  overlapMs?: number;
  /** Orders per page and line items per order in one request; the defaults (RECONCILE_DEFAULTS) keep a
   * request under Shopify's 1,000-point single-query cost limit (each line costs about 19 points). */
  pageSize?: number;
  linesPerOrder?: number;
  maxPages?: number;
  ignoreTest: boolean;
  ignoreOwnWriteBacks: boolean;
  now?: () => number;
  /** An order the API returned that does not map to a valid payload (reported, then skipped). */
  onInvalid?: (orderId: string, reason: string) => void;
}

export interface ReconcileResult {
  /** False when another instance holds the lease (this one stands by). */
  ran: boolean;
  fetched: number;
  emitted: number;
  /** Already received (by webhook or an earlier poll), or older than a version already received. */
  skipped: number;
  ignored: number;
  invalid: number;
  /** The cursor after the run (UTC ISO). */
  cursor?: string;
  /** Stopped at maxPages with more to read; the next run continues from the cursor. */
  more: boolean;
}

export function reconcileCursorName(shop: string): string {
  return `shopify-trigger:reconcile:${shop.toLowerCase()}`;
}

/**
 * One reconciliation run. The cursor (newest `updated_at` processed) is committed after every page,
 * so a run that fails part-way resumes where it stopped; a journal failure aborts the run (throws).
 * `since` (UTC ISO) re-reads from an earlier time without moving the cursor back.
 */
export async function reconcileOnce(o: ReconcileOptions, since?: string): Promise<ReconcileResult> {
  const now = o.now ?? Date.now;
  const result: ReconcileResult = { ran: false, fetched: 0, emitted: 0, skipped: 0, ignored: 0, invalid: 0, more: false };
  const name = reconcileCursorName(o.shop);
  if (!(await o.journal.acquireLease(name, o.owner, o.leaseTtlMs))) return result;
  result.ran = true;
  const stored = await o.journal.getCursor(name);
  let cursorMs = instantMs(stored);
  // A run that stopped at maxPages left more to read: the next one continues that query after its last
  // page. Going back by the overlap instead would re-read the same first pages forever when more orders
  // than one run reads were updated within the overlap (on Shopify's second-resolution updated_at, even
  // "from the cursor" cannot get past more than a run's worth of orders updated in the same second).
  const continueName = `${name}:continue`;
  const cont = since === undefined ? parseContinuation(await o.journal.getCursor(continueName)) : undefined;
  let fromMs: number | undefined;
  if (since !== undefined) {
    fromMs = instantMs(since);
    if (fromMs === undefined) throw new Error('reconciliation: "since" must be an ISO-8601 timestamp with an offset');
  } else if (!cont) {
    fromMs = cursorMs !== undefined ? cursorMs - (o.overlapMs ?? 120_000) : now() - o.lookbackMs;
  }
  const query = cont?.query ?? `updated_at:>'${new Date(fromMs!).toISOString()}'`;
  let after: string | null = cont?.after ?? null;
  const maxPages = o.maxPages ?? 50;
  for (let page = 0; page < maxPages; page++) {
    const data = await o.api.graphql(RECONCILE_QUERY, { first: o.pageSize ?? RECONCILE_DEFAULTS.pageSize, lines: o.linesPerOrder ?? RECONCILE_DEFAULTS.linesPerOrder, after, query });
    const parsed = OrdersPage.safeParse(data);
    if (!parsed.success) throw new Error(`reconciliation: unexpected orders response: ${formatZodError(parsed.error)}`);
    let pageMax = cursorMs;
    for (const node of parsed.data.orders.nodes) {
      result.fetched++;
      const outcome = await reconcileOrder(o, node);
      result[outcome.kind]++;
      if (outcome.updatedMs !== undefined && (pageMax === undefined || outcome.updatedMs > pageMax)) pageMax = outcome.updatedMs;
    }
    if (pageMax !== undefined && pageMax !== cursorMs) {
      cursorMs = pageMax;
      await o.journal.setCursor(name, new Date(cursorMs).toISOString());
    }
    const info = parsed.data.orders.pageInfo;
    if (!info.hasNextPage || !info.endCursor) break;
    after = info.endCursor;
    if (page === maxPages - 1) result.more = true;
  }
  if (cursorMs === undefined) {
    // Nothing found on a first run: start the next one from where this one looked.
    cursorMs = fromMs ?? now();
    await o.journal.setCursor(name, new Date(cursorMs).toISOString());
  }
  if (since === undefined) {
    if (result.more && after) await o.journal.setCursor(continueName, JSON.stringify({ query, after }));
    else if (cont) await o.journal.deleteCursor(continueName);
  }
  result.cursor = new Date(cursorMs).toISOString();
  return result;
}

const Continuation = z.object({ query: z.string().min(1), after: z.string().min(1) });

/** A stored continuation (query + page cursor); anything unreadable means "start afresh". */
function parseContinuation(raw: string | undefined): z.infer<typeof Continuation> | undefined {
  if (!raw) return undefined;
  try {
    const r = Continuation.safeParse(JSON.parse(raw));
    return r.success ? r.data : undefined;
  } catch {
    return undefined;
  }
}

/** Fetches the remaining line items and discount applications of an order whose first page of either was not the last. */
async function withAllPages(o: ReconcileOptions, node: unknown): Promise<unknown> {
  const n = node as Record<string, unknown> | null;
  if (!n || typeof n.id !== 'string') return node;
  let out = n;
  for (const [field, query] of FOLLOW_UPS) {
    const first = Page.safeParse(n[field]);
    let info = first.success ? first.data.pageInfo : undefined;
    if (!first.success || info?.hasNextPage !== true) continue;
    const nodes = [...first.data.nodes];
    while (info?.hasNextPage === true && typeof info.endCursor === 'string') {
      const answer = await o.api.graphql<{ order?: Record<string, unknown> | null } | null>(query, { id: n.id, first: 50, after: info.endCursor });
      const r = Page.safeParse(answer?.order?.[field]);
      if (!r.success) throw new Error(`reconciliation: unexpected ${field} response for ${n.id}: ${formatZodError(r.error)}`);
      nodes.push(...r.data.nodes);
      info = r.data.pageInfo;
    }
    out = { ...out, [field]: { nodes } };
  }
  return out;
}

async function reconcileOrder(o: ReconcileOptions, node: unknown):
  Promise<{ kind: 'emitted' | 'skipped' | 'ignored' | 'invalid'; updatedMs?: number }> {
  const g = GqlOrder.safeParse(await withAllPages(o, node));
  const idOf = () => String((node as { legacyResourceId?: unknown } | null)?.legacyResourceId ?? '?');
  if (!g.success) {
    o.onInvalid?.(idOf(), formatZodError(g.error));
    return { kind: 'invalid', updatedMs: instantMs((node as { updatedAt?: unknown } | null)?.updatedAt) };
  }
  const updatedMs = instantMs(g.data.updatedAt);
  if (updatedMs === undefined) {
    o.onInvalid?.(g.data.legacyResourceId, 'updatedAt is not an ISO-8601 timestamp with an offset');
    return { kind: 'invalid' };
  }
  if (o.ignoreTest && g.data.test) return { kind: 'ignored', updatedMs };
  if (o.ignoreOwnWriteBacks && await isOwnWriteBack(o.journal, o.shop, g.data.legacyResourceId, g.data.updatedAt)) return { kind: 'ignored', updatedMs };
  const parsed = parseTopicPayload('orders/updated', toRestOrder(g.data));
  if (!parsed.ok) {
    o.onInvalid?.(g.data.legacyResourceId, parsed.error);
    return { kind: 'invalid', updatedMs };
  }
  const r = await o.ingest(reconciledEvent(o.shop.toLowerCase(), o.apiVersion, parsed.payload as Record<string, unknown>, normaliseInstant(g.data.updatedAt)!));
  return { kind: r.status === 'new' ? 'emitted' : 'skipped', updatedMs };
}
