import { GraphQLError, valueFromAST, GraphQLString, type GraphQLResolveInfo } from 'graphql';
import type { Fulfillment, LineItem, MoneySet, Order, Refund, TaxLine } from '../../nodes/lib/contract';
import { connection, indexConnection, type PageArgs } from './connection';
import { requiresIdempotency, type GqlContext, type SimCore } from './core';
import { divRound, fromMinor, toMinor } from './money';
import { uuid } from './rng';
import { compareOp, parseDateTerm, parseSearch } from './search';
import { parseGid, type FulfillmentOrderState, type InventoryLevelState, type MetafieldState, type OrderState, type UserError } from './store';
import { gqlTime } from './time';
import { topicEnum, topicFromEnum } from './topics';
import type { Subscription } from './webhooks';

// Resolvers return view objects: graphql-js's default resolver reads properties and calls methods with (args, ctx, info).

const bag = (s: MoneySet | undefined | null) => s && {
  shopMoney: { amount: s.shop_money.amount, currencyCode: s.shop_money.currency_code },
  presentmentMoney: { amount: s.presentment_money.amount, currencyCode: s.presentment_money.currency_code },
};
const restToGql = (rest: string | null | undefined) => (rest ? gqlTime(Date.parse(rest)) : null);
const upper = (s: string | null | undefined) => (s ? s.toUpperCase() : null);
const taxLineView = (t: TaxLine) => ({ title: t.title, rate: t.rate, ratePercentage: Math.round(t.rate * 10000) / 100, priceSet: bag(t.price_set), channelLiable: t.channel_liable ?? null });
const addressView = (a: Record<string, unknown> | null | undefined) => a && {
  id: null, firstName: a.first_name, lastName: a.last_name, name: a.name, company: a.company, address1: a.address1, address2: a.address2,
  city: a.city, province: a.province, provinceCode: a.province_code, zip: a.zip, country: a.country, countryCodeV2: a.country_code, phone: a.phone,
};
const DISCOUNT_TYPENAMES: Record<string, string> = {
  discount_code: 'DiscountCodeApplication', automatic: 'AutomaticDiscountApplication', manual: 'ManualDiscountApplication', script: 'ScriptDiscountApplication',
};

/** An order's discount application at `index` (its position in the REST `discount_applications`). */
function discountApplicationView(order: OrderState, index: number) {
  const a = order.json.discount_applications[index];
  if (!a) return null;
  const typename = DISCOUNT_TYPENAMES[a.type] ?? 'ManualDiscountApplication';
  return {
    __typename: typename, index, allocationMethod: upper(a.allocation_method), targetSelection: upper(a.target_selection), targetType: upper(a.target_type),
    // The simulator's fixed amounts are in shop currency (see order-spec.ts).
    value: a.value_type === 'percentage'
      ? { __typename: 'PricingPercentageValue', percentage: Number(a.value) }
      : { __typename: 'MoneyV2', amount: a.value, currencyCode: order.json.currency },
    ...(typename === 'DiscountCodeApplication' ? { code: a.code ?? '' } : { title: a.title ?? a.code ?? '', description: (a.description as string | undefined) ?? null }),
  };
}

function discountAllocationsView(order: OrderState, allocations: LineItem['discount_allocations']) {
  const m = order.money;
  return allocations.map((d) => ({
    allocatedAmountSet: bag(d.amount_set ?? m.set(toMinor(d.amount), m.present(toMinor(d.amount)))),
    discountApplication: () => discountApplicationView(order, d.discount_application_index),
  }));
}

const bad = (message: string) => new GraphQLError(message, { extensions: { code: 'BAD_REQUEST' } });

function locationView(core: SimCore, locationId: number) {
  const loc = core.store.catalogue.locations.find((l) => l.shopifyLocationId === locationId);
  if (!loc) return null;
  const levels = () => [...core.store.levels.values()].filter((l) => l.locationId === locationId).sort((a, b) => a.inventoryItemId - b.inventoryItemId);
  return {
    __typename: 'Location', id: `gid://shopify/Location/${locationId}`, legacyResourceId: String(locationId), name: loc.name, isActive: true,
    inventoryLevel: ({ inventoryItemId }: { inventoryItemId: string }) => {
      const inv = parseGid(inventoryItemId, 'InventoryItem');
      const level = inv === undefined ? undefined : core.store.level(inv, locationId);
      return level ? levelView(core, level) : null;
    },
    inventoryLevels: (args: PageArgs) => {
      const c = connection(levels(), args, (l) => [l.inventoryItemId]);
      return { ...c, edges: c.edges.map((e) => ({ cursor: e.cursor, node: levelView(core, e.node) })), nodes: c.nodes.map((n) => levelView(core, n)) };
    },
  };
}

const QUANTITY_NAMES = new Set(['available', 'on_hand', 'committed', 'incoming', 'reserved', 'damaged', 'safety_stock', 'quality_control']);

function levelView(core: SimCore, level: InventoryLevelState) {
  return {
    __typename: 'InventoryLevel', id: `gid://shopify/InventoryLevel/${level.locationId}?inventory_item_id=${level.inventoryItemId}`,
    item: () => inventoryItemView(core, level.inventoryItemId), location: () => locationView(core, level.locationId),
    updatedAt: gqlTime(level.updatedMs), createdAt: gqlTime(level.updatedMs),
    quantities: ({ names }: { names: string[] }) => names.map((name) => {
      if (!QUANTITY_NAMES.has(name)) throw bad(`Invalid quantity name: ${name}`);
      const quantity = name === 'available' ? level.available : name === 'on_hand' ? level.onHand : name === 'committed' ? level.committed : 0;
      return { name, quantity, updatedAt: gqlTime(level.updatedMs) };
    }),
  };
}

function inventoryItemView(core: SimCore, id: number) {
  const info = core.store.inventoryItems.get(id);
  if (!info) return null;
  const levels = () => core.store.catalogue.locations.map((l) => core.store.level(id, l.shopifyLocationId)).filter((l): l is InventoryLevelState => l !== undefined);
  return {
    __typename: 'InventoryItem', id: `gid://shopify/InventoryItem/${id}`, legacyResourceId: String(id), sku: info.sku, tracked: info.tracked,
    variant: () => variantView(core, info.variantId),
    inventoryLevel: ({ locationId }: { locationId: string }) => {
      const loc = parseGid(locationId, 'Location');
      const level = loc === undefined ? undefined : core.store.level(id, loc);
      return level ? levelView(core, level) : null;
    },
    inventoryLevels: (args: PageArgs) => {
      const c = connection(levels(), args, (l) => [l.locationId]);
      return { ...c, edges: c.edges.map((e) => ({ cursor: e.cursor, node: levelView(core, e.node) })), nodes: c.nodes.map((n) => levelView(core, n)) };
    },
  };
}

function variantView(core: SimCore, variantId: number | null | undefined) {
  const inv = variantId == null ? undefined : core.store.variants.get(variantId);
  const info = inv === undefined ? undefined : core.store.inventoryItems.get(inv);
  if (!info || inv === undefined) return null;
  return {
    __typename: 'ProductVariant', id: `gid://shopify/ProductVariant/${variantId}`, legacyResourceId: String(variantId), sku: info.sku, title: info.title, price: info.price,
    product: { __typename: 'Product', id: `gid://shopify/Product/${info.productId}`, legacyResourceId: String(info.productId), title: info.title.split(' - ')[0] },
    inventoryItem: () => inventoryItemView(core, inv),
  };
}

function lineItemView(core: SimCore, order: OrderState, lineItemId: number) {
  const ls = order.lines.find((l) => l.built.json.id === lineItemId);
  if (!ls) return null;
  const j = ls.built.json;
  const m = order.money;
  const unit = toMinor(j.price);
  const unitP = toMinor(j.price_set?.presentment_money.amount ?? j.price);
  const disc = j.discount_allocations.reduce((s, d) => s + toMinor(d.amount), 0n);
  const discP = j.discount_allocations.reduce((s, d) => s + toMinor(d.amount_set?.presentment_money.amount ?? d.amount), 0n);
  const q = BigInt(j.quantity);
  return {
    __typename: 'LineItem', id: j.admin_graphql_api_id, sku: j.sku ?? null, name: j.name ?? j.title, title: j.title, variantTitle: j.variant_title ?? null,
    vendor: j.vendor ?? null, quantity: j.quantity, currentQuantity: j.current_quantity ?? j.quantity, unfulfilledQuantity: j.fulfillable_quantity ?? 0,
    refundableQuantity: j.current_quantity ?? j.quantity, requiresShipping: j.requires_shipping ?? true, taxable: j.taxable ?? true,
    variant: () => variantView(core, j.variant_id as number | null),
    product: j.product_id == null ? null : { __typename: 'Product', id: `gid://shopify/Product/${j.product_id}`, legacyResourceId: String(j.product_id), title: j.title },
    originalUnitPriceSet: bag(j.price_set),
    discountedUnitPriceAfterAllDiscountsSet: bag(m.set(divRound(unit * q - disc, q), divRound(unitP * q - discP, q))),
    originalTotalSet: bag(m.set(unit * q, unitP * q)),
    totalDiscountSet: bag(m.set(disc, discP)),
    discountAllocations: () => discountAllocationsView(order, j.discount_allocations),
    taxLines: () => j.tax_lines.map(taxLineView),
    customAttributes: (j.properties ?? []).map((p) => ({ key: p.name, value: String(p.value) })),
  };
}

function fulfillmentOrderView(core: SimCore, fo: FulfillmentOrderState) {
  const order = core.store.order(fo.orderId)!;
  const loc = core.store.catalogue.locations.find((l) => l.shopifyLocationId === fo.locationId);
  const lineView = (l: FulfillmentOrderState['lines'][number]) => {
    const li = order.lines.find((x) => x.built.json.id === l.lineItemId)!;
    return {
      __typename: 'FulfillmentOrderLineItem', id: `gid://shopify/FulfillmentOrderLineItem/${l.id}`, totalQuantity: l.totalQuantity, remainingQuantity: l.remainingQuantity,
      sku: li.built.json.sku ?? null, lineItem: () => lineItemView(core, order, l.lineItemId), variant: () => variantView(core, li.built.json.variant_id as number | null),
      inventoryItemId: li.built.inventoryItemId === undefined ? null : `gid://shopify/InventoryItem/${li.built.inventoryItemId}`,
    };
  };
  return {
    __typename: 'FulfillmentOrder', id: `gid://shopify/FulfillmentOrder/${fo.id}`, status: fo.status, requestStatus: 'UNSUBMITTED',
    createdAt: gqlTime(fo.createdMs), updatedAt: gqlTime(fo.updatedMs), orderId: order.json.admin_graphql_api_id, order: () => orderView(core, order),
    assignedLocation: { location: () => locationView(core, fo.locationId), name: loc?.name ?? '', countryCode: loc?.country ?? '' },
    lineItems: (args: PageArgs) => {
      const c = connection(fo.lines, args, (l) => [l.id]);
      return { ...c, edges: c.edges.map((e) => ({ cursor: e.cursor, node: lineView(e.node) })), nodes: c.nodes.map(lineView) };
    },
  };
}

function fulfillmentView(core: SimCore, order: OrderState, f: Fulfillment) {
  const numbers = f.tracking_numbers.length ? f.tracking_numbers : [null];
  return {
    __typename: 'Fulfillment', id: f.admin_graphql_api_id, legacyResourceId: String(f.id), name: f.name ?? '', status: upper(f.status),
    createdAt: restToGql(f.created_at), updatedAt: restToGql(f.updated_at ?? f.created_at),
    trackingInfo: () => (f.tracking_company || f.tracking_numbers.length
      ? numbers.map((n, i) => ({ company: f.tracking_company ?? null, number: n, url: f.tracking_urls[i] ?? null }))
      : []),
    location: () => (f.location_id == null ? null : locationView(core, Number(f.location_id))),
    order: () => orderView(core, order),
    fulfillmentLineItems: (args: PageArgs) => indexConnection(f.line_items.map((l, i) => ({
      id: `gid://shopify/FulfillmentLineItem/${Number(f.id) * 1000 + i}`, quantity: l.quantity, lineItem: () => lineItemView(core, order, Number(l.id)),
    })), args),
  };
}

function refundView(core: SimCore, order: OrderState, r: Refund) {
  const m = order.money;
  const txs = r.transactions;
  const total = txs.reduce((s, t) => s + toMinor(t.amount), 0n);
  const txView = (t: Refund['transactions'][number]) => ({
    __typename: 'OrderTransaction', id: `gid://shopify/OrderTransaction/${t.id}`, kind: upper(t.kind), status: upper(t.status), gateway: t.gateway ?? null,
    amountSet: bag({ shop_money: { amount: t.amount, currency_code: m.presentmentCurrency }, presentment_money: { amount: t.amount, currency_code: m.presentmentCurrency } }),
    processedAt: restToGql(t.processed_at as string | undefined),
  });
  return {
    __typename: 'Refund', id: r.admin_graphql_api_id, legacyResourceId: String(r.id), createdAt: restToGql(r.created_at), note: r.note ?? null,
    totalRefundedSet: bag({ shop_money: { amount: fromMinor(total), currency_code: m.presentmentCurrency }, presentment_money: { amount: fromMinor(total), currency_code: m.presentmentCurrency } }),
    order: () => orderView(core, order),
    refundLineItems: (args: PageArgs) => indexConnection(r.refund_line_items.map((l) => ({
      id: `gid://shopify/RefundLineItem/${l.id}`, quantity: l.quantity, restockType: upper(l.restock_type), lineItem: () => lineItemView(core, order, Number(l.line_item_id)),
      subtotalSet: bag(l.subtotal_set), totalTaxSet: bag(l.total_tax_set), location: () => (l.location_id == null ? null : locationView(core, Number(l.location_id))),
    })), args),
    transactions: (args: PageArgs) => indexConnection(txs.map(txView), args),
  };
}

/** A metafield; `owner` is the order it belongs to, as it is when the field is resolved (after a mutation). */
const metafieldView = (core: SimCore, m: MetafieldState) => ({
  __typename: 'Metafield', id: `gid://shopify/Metafield/${m.id}`, namespace: m.namespace, key: m.key, value: m.value, type: m.type, ownerType: 'ORDER',
  createdAt: gqlTime(m.createdMs), updatedAt: gqlTime(m.updatedMs),
  owner: () => {
    const o = core.store.order(gidOr(m.ownerId, 'Order'));
    return o ? orderView(core, o) : null;
  },
});

const FULFILLMENT_DISPLAY: Record<string, string> = { partial: 'PARTIALLY_FULFILLED', fulfilled: 'FULFILLED', restocked: 'RESTOCKED' };

export function orderView(core: SimCore, o: OrderState) {
  const j: Order = o.json;
  const m = o.money;
  return {
    __typename: 'Order', id: j.admin_graphql_api_id, legacyResourceId: String(j.id), name: j.name, email: j.email ?? null, phone: j.phone ?? null,
    createdAt: gqlTime(o.createdMs), updatedAt: gqlTime(o.updatedMs), processedAt: restToGql(j.processed_at), cancelledAt: restToGql(j.cancelled_at),
    cancelReason: upper(j.cancel_reason), closedAt: restToGql(j.closed_at),
    displayFinancialStatus: upper(j.financial_status), displayFulfillmentStatus: FULFILLMENT_DISPLAY[j.fulfillment_status ?? ''] ?? 'UNFULFILLED',
    test: j.test, confirmed: true, closed: j.closed_at != null,
    currencyCode: j.currency, presentmentCurrencyCode: j.presentment_currency ?? j.currency, taxesIncluded: j.taxes_included, taxExempt: j.tax_exempt ?? false,
    totalPriceSet: bag(j.total_price_set), subtotalPriceSet: bag(j.subtotal_price_set as MoneySet), totalTaxSet: bag(j.total_tax_set as MoneySet),
    totalDiscountsSet: bag(j.total_discounts_set as MoneySet), totalShippingPriceSet: bag(j.total_shipping_price_set),
    currentTotalPriceSet: () => {
      const total = j.total_price_set!;
      return bag(m.set(toMinor(total.shop_money.amount) - o.refundedS, toMinor(total.presentment_money.amount) - o.refundedP));
    },
    totalRefundedSet: () => bag(m.set(o.refundedS, o.refundedP)),
    totalOutstandingSet: () => bag(m.set(toMinor(j.total_outstanding ?? '0'), m.present(toMinor(j.total_outstanding ?? '0')))),
    tags: j.tags.split(',').map((t) => t.trim()).filter(Boolean), note: j.note ?? null,
    customAttributes: j.note_attributes.map((a) => ({ key: a.name, value: a.value == null ? null : String(a.value) })),
    discountCode: j.discount_codes[0]?.code ?? null, discountCodes: j.discount_codes.map((d) => d.code), sourceName: j.source_name ?? null, poNumber: j.po_number ?? null,
    paymentGatewayNames: j.payment_gateway_names,
    customer: j.customer ? {
      __typename: 'Customer', id: j.customer.admin_graphql_api_id ?? `gid://shopify/Customer/${j.customer.id}`, legacyResourceId: String(j.customer.id),
      email: j.customer.email ?? null, firstName: j.customer.first_name ?? null, lastName: j.customer.last_name ?? null,
      displayName: [j.customer.first_name, j.customer.last_name].filter(Boolean).join(' ') || (j.customer.email ?? ''),
      phone: j.customer.phone ?? null, taxExempt: j.customer.tax_exempt ?? false, defaultAddress: addressView(j.customer.default_address),
    } : null,
    billingAddress: addressView(j.billing_address), shippingAddress: addressView(j.shipping_address),
    taxLines: j.tax_lines.map(taxLineView),
    shippingLines: (args: PageArgs) => indexConnection(j.shipping_lines.map((s) => ({
      id: s.id == null ? null : `gid://shopify/ShippingLine/${s.id}`, code: s.code ?? null, title: s.title, source: s.source ?? null, carrierIdentifier: s.carrier_identifier ?? null,
      originalPriceSet: bag(s.price_set), discountedPriceSet: bag((s.discounted_price_set as MoneySet | undefined) ?? s.price_set), taxLines: s.tax_lines.map(taxLineView),
      discountAllocations: () => discountAllocationsView(o, s.discount_allocations),
    })), args),
    discountApplications: (args: PageArgs & { reverse?: boolean | null }) =>
      indexConnection(j.discount_applications.map((_, i) => discountApplicationView(o, i)), args, args.reverse ?? false),
    lineItems: (args: PageArgs) => {
      const c = connection(o.lines, args, (l) => [l.built.json.id as number]);
      const v = (l: OrderState['lines'][number]) => lineItemView(core, o, l.built.json.id as number);
      return { ...c, edges: c.edges.map((e) => ({ cursor: e.cursor, node: v(e.node) })), nodes: c.nodes.map(v) };
    },
    fulfillmentOrders: (args: PageArgs) => {
      const c = connection(core.store.fulfillmentOrdersOf(j.id as number), args, (f) => [f.id]);
      return { ...c, edges: c.edges.map((e) => ({ cursor: e.cursor, node: fulfillmentOrderView(core, e.node) })), nodes: c.nodes.map((n) => fulfillmentOrderView(core, n)) };
    },
    fulfillments: ({ first }: { first?: number | null }) => (j.fulfillments as Fulfillment[]).slice(0, first ?? undefined).map((f) => fulfillmentView(core, o, f)),
    refunds: ({ first }: { first?: number | null }) => (j.refunds as Refund[]).slice(0, first ?? undefined).map((r) => refundView(core, o, r)),
    metafield: ({ namespace, key }: { namespace?: string | null; key: string }) => {
      const mf = o.metafields.find((x) => x.key === key && x.namespace === (namespace ?? '$app'));
      return mf ? metafieldView(core, mf) : null;
    },
    metafields: (args: PageArgs & { namespace?: string | null }) => {
      const list = o.metafields.filter((x) => !args.namespace || x.namespace === args.namespace);
      const c = connection(list, args, (x) => [x.id]);
      return { ...c, edges: c.edges.map((e) => ({ cursor: e.cursor, node: metafieldView(core, e.node) })), nodes: c.nodes.map((n) => metafieldView(core, n)) };
    },
  };
}

function webhookView(s: Subscription) {
  return {
    __typename: 'WebhookSubscription', id: `gid://shopify/WebhookSubscription/${s.id}`, legacyResourceId: String(s.id), topic: topicEnum(s.topic),
    uri: s.callbackUrl, format: 'JSON', endpoint: { __typename: 'WebhookHttpEndpoint', callbackUrl: s.callbackUrl },
    createdAt: gqlTime(Date.parse(s.createdAt)), updatedAt: gqlTime(Date.parse(s.createdAt)),
  };
}

const ORDER_SEARCH_FIELDS = ['updated_at', 'created_at', 'processed_at', 'name', 'status', 'financial_status', 'fulfillment_status', 'test', 'email', 'tag', 'id'] as const;
const ORDER_SORT: Record<string, (o: OrderState) => number | string> = {
  ID: (o) => o.json.id as number, CREATED_AT: (o) => o.createdMs, UPDATED_AT: (o) => o.updatedMs, PROCESSED_AT: (o) => o.createdMs,
  ORDER_NUMBER: (o) => o.json.order_number ?? 0, TOTAL_PRICE: (o) => Number(o.json.total_price),
};

function orderMatches(o: OrderState, terms: ReturnType<typeof parseSearch>): boolean {
  return terms.every((t) => {
    const j = o.json;
    switch (t.field) {
      case 'updated_at': return compareOp(t.op, o.updatedMs, parseDateTerm(t));
      case 'created_at': case 'processed_at': return compareOp(t.op, o.createdMs, parseDateTerm(t));
      case 'name': return j.name === t.value || j.name === `#${t.value}`;
      case 'status': return t.value === 'any' || (t.value === 'cancelled' ? j.cancelled_at != null : t.value === 'closed' ? j.closed_at != null : t.value === 'open' ? j.closed_at == null : false);
      case 'financial_status': return j.financial_status === t.value;
      case 'fulfillment_status': return (j.fulfillment_status ?? 'unfulfilled') === t.value || (t.value === 'unshipped' && j.fulfillment_status == null);
      case 'test': return String(j.test) === t.value;
      case 'email': return (j.email ?? '').toLowerCase() === t.value.toLowerCase();
      case 'tag': return j.tags.split(',').map((x) => x.trim()).includes(t.value);
      case 'id': return compareOp(t.op, Number(j.id), Number(parseGid(t.value, 'Order') ?? t.value));
      default: return false;
    }
  });
}

function skuFilter(query: string | null | undefined): string | undefined {
  const terms = parseSearch(query, ['sku']);
  return terms[0]?.value;
}

// ------------------------------------------------------------------ mutations helpers

function idempotencyKey(info: GraphQLResolveInfo): string | undefined {
  const d = info.fieldNodes[0]?.directives?.find((x) => x.name.value === 'idempotent');
  const arg = d?.arguments?.find((a) => a.name.value === 'key');
  const v = arg ? valueFromAST(arg.value, GraphQLString, info.variableValues) : undefined;
  return typeof v === 'string' && v.length > 0 ? v : undefined;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Runs a mutation once per @idempotent key: a repeat returns the original result, a concurrent repeat is refused. */
async function idempotent<T>(ctx: GqlContext, info: GraphQLResolveInfo, args: unknown, conflict: (code: string, message: string) => T, run: () => T): Promise<T> {
  const key = idempotencyKey(info);
  if (!key) {
    if (requiresIdempotency(ctx.apiVersion)) {
      throw new GraphQLError(`The @idempotent directive is required for ${info.fieldName} from API version 2026-04.`, { extensions: { code: 'BAD_REQUEST' } });
    }
    return run();
  }
  const fingerprint = `${info.fieldName}:${JSON.stringify(args)}`;
  const store = ctx.core.idempotency;
  const seen = store.get(key);
  if (seen) {
    if (seen.fingerprint !== fingerprint) return conflict('IDEMPOTENCY_KEY_PARAMETER_MISMATCH', 'The same idempotency key cannot be used with different operation parameters.');
    if (seen.pending) return conflict('IDEMPOTENCY_CONCURRENT_REQUEST', 'This request is currently in progress, please try again.');
    return seen.result as T;
  }
  const entry = { fingerprint, pending: true, result: undefined as unknown };
  store.set(key, entry);
  try {
    await sleep(ctx.core.opts.mutationLatencyMs);
    const result = run();
    entry.result = result;
    return result;
  } catch (e) {
    store.delete(key);
    throw e;
  } finally {
    entry.pending = false;
  }
}

const gidOr = (gid: string, type: string) => parseGid(gid, type) ?? -1;

export function rootValue() {
  return {
    // ---------------------------------------------------------------- queries
    shop: (_a: unknown, ctx: GqlContext) => {
      const off = ctx.core.opts.utcOffsetMinutes;
      return {
        __typename: 'Shop', id: 'gid://shopify/Shop/1', name: ctx.core.store.catalogue.companyName, myshopifyDomain: ctx.core.opts.shop,
        currencyCode: ctx.core.store.catalogue.currency, ianaTimezone: off % 60 === 0 ? `Etc/GMT${off <= 0 ? '+' : '-'}${Math.abs(off / 60)}` : 'UTC',
      };
    },
    order: ({ id }: { id: string }, ctx: GqlContext) => {
      const o = ctx.core.store.order(gidOr(id, 'Order'));
      return o ? orderView(ctx.core, o) : null;
    },
    orders: (args: PageArgs & { query?: string | null; sortKey?: string | null; reverse?: boolean | null }, ctx: GqlContext) => {
      const terms = parseSearch(args.query, ORDER_SEARCH_FIELDS);
      const sortOf = ORDER_SORT[args.sortKey ?? 'ID'] ?? ORDER_SORT.ID!;
      const reverse = args.reverse ?? false;
      const key = (o: OrderState) => [sortOf(o), o.json.id as number];
      const list = [...ctx.core.store.orders.values()].filter((o) => orderMatches(o, terms))
        .sort((a, b) => {
          const [x, y] = [key(a), key(b)];
          const c = x[0]! < y[0]! ? -1 : x[0]! > y[0]! ? 1 : x[1]! < y[1]! ? -1 : x[1]! > y[1]! ? 1 : 0;
          return reverse ? -c : c;
        });
      const c = connection(list, args, key, reverse);
      return { ...c, edges: c.edges.map((e) => ({ cursor: e.cursor, node: orderView(ctx.core, e.node) })), nodes: c.nodes.map((n) => orderView(ctx.core, n)) };
    },
    fulfillmentOrder: ({ id }: { id: string }, ctx: GqlContext) => {
      const fo = ctx.core.store.fulfillmentOrders.get(gidOr(id, 'FulfillmentOrder'));
      return fo ? fulfillmentOrderView(ctx.core, fo) : null;
    },
    inventoryItem: ({ id }: { id: string }, ctx: GqlContext) => inventoryItemView(ctx.core, gidOr(id, 'InventoryItem')),
    inventoryItems: (args: PageArgs & { query?: string | null }, ctx: GqlContext) => {
      const sku = skuFilter(args.query);
      const ids = [...ctx.core.store.inventoryItems.entries()].filter(([, i]) => sku === undefined || i.sku === sku).map(([id]) => id).sort((a, b) => a - b);
      const c = connection(ids, args, (id) => [id]);
      return { ...c, edges: c.edges.map((e) => ({ cursor: e.cursor, node: inventoryItemView(ctx.core, e.node) })), nodes: c.nodes.map((n) => inventoryItemView(ctx.core, n)) };
    },
    inventoryLevel: ({ id }: { id: string }, ctx: GqlContext) => {
      const m = /^gid:\/\/shopify\/InventoryLevel\/(\d+)\?inventory_item_id=(\d+)$/.exec(id);
      const level = m ? ctx.core.store.level(Number(m[2]), Number(m[1])) : undefined;
      return level ? levelView(ctx.core, level) : null;
    },
    productVariants: (args: PageArgs & { query?: string | null }, ctx: GqlContext) => {
      const sku = skuFilter(args.query);
      const ids = [...ctx.core.store.inventoryItems.values()].filter((i) => sku === undefined || i.sku === sku).map((i) => i.variantId).sort((a, b) => a - b);
      const c = connection(ids, args, (id) => [id]);
      return { ...c, edges: c.edges.map((e) => ({ cursor: e.cursor, node: variantView(ctx.core, e.node) })), nodes: c.nodes.map((n) => variantView(ctx.core, n)) };
    },
    location: ({ id }: { id?: string | null }, ctx: GqlContext) => locationView(ctx.core, id ? gidOr(id, 'Location') : ctx.core.store.catalogue.locations[0]!.shopifyLocationId),
    locations: (args: PageArgs, ctx: GqlContext) => {
      const ids = ctx.core.store.catalogue.locations.map((l) => l.shopifyLocationId).sort((a, b) => a - b);
      const c = connection(ids, args, (id) => [id]);
      return { ...c, edges: c.edges.map((e) => ({ cursor: e.cursor, node: locationView(ctx.core, e.node) })), nodes: c.nodes.map((n) => locationView(ctx.core, n)) };
    },
    job: ({ id }: { id: string }, ctx: GqlContext) => {
      const job = ctx.core.jobs.get(id);
      return job ? { id, done: job.done, query: null } : null;
    },
    webhookSubscriptions: (args: PageArgs & { topics?: string[] | null }, ctx: GqlContext) => {
      const subs = ctx.core.webhooks.subscriptions().filter((s) => !args.topics || args.topics.includes(topicEnum(s.topic)));
      const c = connection(subs, args, (s) => [s.id]);
      return { ...c, edges: c.edges.map((e) => ({ cursor: e.cursor, node: webhookView(e.node) })), nodes: c.nodes.map(webhookView) };
    },

    // ---------------------------------------------------------------- mutations
    fulfillmentCreate: (args: { fulfillment: {
      lineItemsByFulfillmentOrder: { fulfillmentOrderId: string; fulfillmentOrderLineItems?: { id: string; quantity: number }[] | null }[];
      notifyCustomer?: boolean | null; trackingInfo?: { company?: string | null; number?: string | null; url?: string | null; numbers?: string[] | null; urls?: string[] | null } | null;
    } }, ctx: GqlContext) => {
      const f = args.fulfillment;
      const r = ctx.core.store.createFulfillment({
        lineItemsByFulfillmentOrder: f.lineItemsByFulfillmentOrder.map((g) => ({
          fulfillmentOrderId: gidOr(g.fulfillmentOrderId, 'FulfillmentOrder'),
          fulfillmentOrderLineItems: g.fulfillmentOrderLineItems?.map((l) => ({ id: gidOr(l.id, 'FulfillmentOrderLineItem'), quantity: l.quantity })),
        })),
        trackingInfo: f.trackingInfo ?? undefined,
        notifyCustomer: f.notifyCustomer ?? false,
      });
      const order = r.fulfillment ? ctx.core.store.order(Number(r.fulfillment.order_id)) : undefined;
      return { fulfillment: r.fulfillment && order ? fulfillmentView(ctx.core, order, r.fulfillment) : null, userErrors: r.userErrors };
    },
    inventorySetQuantities: (args: { input: { name: string; reason: string; referenceDocumentUri?: string | null; quantities: { inventoryItemId: string; locationId: string; quantity: number; changeFromQuantity?: number | null }[] } }, ctx: GqlContext, info: GraphQLResolveInfo) =>
      idempotent(ctx, info, args, (code, message) => ({ inventoryAdjustmentGroup: null, userErrors: [{ field: null, message, code }] }), () => {
        const r = ctx.core.store.setQuantities(args.input, requiresIdempotency(ctx.apiVersion));
        const g = r.group;
        return {
          inventoryAdjustmentGroup: g ? {
            id: `gid://shopify/InventoryAdjustmentGroup/${g.id}`, createdAt: gqlTime(g.createdMs), reason: g.reason, referenceDocumentUri: g.referenceDocumentUri,
            changes: () => g.changes.map((c) => ({ name: c.name, delta: c.delta, quantityAfterChange: c.quantityAfterChange, item: () => inventoryItemView(ctx.core, c.inventoryItemId), location: () => locationView(ctx.core, c.locationId) })),
          } : null,
          userErrors: r.userErrors,
        };
      }),
    orderCancel: (args: { orderId: string; reason: string; restock: boolean; notifyCustomer?: boolean | null; refund?: boolean | null; staffNote?: string | null }, ctx: GqlContext) => {
      const id = gidOr(args.orderId, 'Order');
      const errors = ctx.core.store.cancelErrors(id);
      if (errors.length) return { job: null, orderCancelUserErrors: errors, userErrors: errors.map(({ field, message }) => ({ field, message })) };
      // Shopify cancels asynchronously: the job completes later and then the webhooks go out.
      const jobId = `gid://shopify/Job/${uuid(ctx.core.rand)}`;
      const job = { done: false };
      ctx.core.jobs.set(jobId, job);
      const t = setTimeout(() => {
        ctx.core.timers.delete(t);
        ctx.core.store.cancelOrder(id, { reason: args.reason, restock: args.restock, refund: args.refund ?? false, staffNote: args.staffNote, notifyCustomer: args.notifyCustomer ?? false });
        job.done = true;
      }, ctx.core.opts.cancelJobDelayMs);
      ctx.core.timers.add(t);
      return { job: { id: jobId, done: false, query: null }, orderCancelUserErrors: [], userErrors: [] };
    },
    refundCreate: (args: { input: {
      orderId: string; refundLineItems?: { lineItemId: string; quantity: number; restockType?: string | null; locationId?: string | null }[] | null;
      shipping?: { amount?: string | null; fullRefund?: boolean | null } | null; transactions?: { amount: string; gateway: string }[] | null; note?: string | null;
    } }, ctx: GqlContext, info: GraphQLResolveInfo) =>
      idempotent(ctx, info, args, (code, message) => ({ refund: null, order: null, userErrors: [{ field: null, message, code }] }), () => {
        const i = args.input;
        const orderId = gidOr(i.orderId, 'Order');
        const r = ctx.core.store.refund(orderId, {
          lines: (i.refundLineItems ?? []).map((l) => ({
            lineItemId: gidOr(l.lineItemId, 'LineItem'), quantity: l.quantity,
            restockType: (l.restockType ?? 'NO_RESTOCK').toLowerCase() as 'no_restock' | 'cancel' | 'return' | 'legacy_restock',
            locationId: l.locationId ? gidOr(l.locationId, 'Location') : undefined,
          })),
          shipping: i.shipping ? { fullRefund: i.shipping.fullRefund ?? false, amount: i.shipping.amount ?? undefined } : undefined,
          note: i.note ?? null,
          transactions: (i.transactions ?? []).map((t) => ({ amount: t.amount, gateway: t.gateway })),
        });
        const order = ctx.core.store.order(orderId);
        return {
          refund: r.refund && order ? refundView(ctx.core, order, r.refund) : null,
          order: r.refund && order ? orderView(ctx.core, order) : null,
          userErrors: r.userErrors.map((e) => ({ ...e, code: e.code === 'NOT_FOUND' || e.code === 'INVALID' ? e.code : null })),
        };
      }),
    metafieldsSet: (args: { metafields: { ownerId: string; namespace?: string | null; key: string; type?: string | null; value: string }[] }, ctx: GqlContext) => {
      const missingType: UserError[] = [];
      const list = args.metafields.map((m, i) => {
        const namespace = m.namespace ?? '$app';
        const existing = ctx.core.store.order(gidOr(m.ownerId, 'Order'))?.metafields.find((x) => x.namespace === namespace && x.key === m.key);
        const type = m.type ?? existing?.type;
        if (!type) missingType.push({ field: ['metafields', String(i), 'type'], message: "Type can't be blank.", code: 'BLANK' });
        return { ownerId: m.ownerId, namespace, key: m.key, type: type ?? '', value: m.value };
      });
      if (missingType.length) return { metafields: null, userErrors: missingType.map((e) => ({ ...e, elementIndex: Number(e.field![1]) })) };
      const r = ctx.core.store.setMetafields(list);
      return { metafields: r.userErrors.length ? null : r.metafields.map((m) => metafieldView(ctx.core, m)), userErrors: r.userErrors.map((e) => ({ ...e, elementIndex: e.field?.[1] !== undefined ? Number(e.field[1]) : null })) };
    },
    tagsAdd: (args: { id: string; tags: string[] }, ctx: GqlContext) => {
      const id = gidOr(args.id, 'Order');
      const o = ctx.core.store.order(id);
      if (!o) return { node: null, userErrors: [{ field: ['id'], message: 'Resource not found' }] };
      ctx.core.store.addTags(id, args.tags);
      return { node: orderView(ctx.core, o), userErrors: [] };
    },
    webhookSubscriptionCreate: (args: { topic: string; webhookSubscription: { callbackUrl?: string | null; uri?: string | null; format?: string | null } }, ctx: GqlContext) => {
      const topic = topicFromEnum(args.topic);
      const url = args.webhookSubscription.uri ?? args.webhookSubscription.callbackUrl;
      if (!topic) return { webhookSubscription: null, userErrors: [{ field: ['topic'], message: 'Topic is not supported by the simulator' }] };
      if (!url) return { webhookSubscription: null, userErrors: [{ field: ['webhookSubscription', 'callbackUrl'], message: "Address can't be blank" }] };
      if (args.webhookSubscription.format === 'XML') return { webhookSubscription: null, userErrors: [{ field: ['webhookSubscription', 'format'], message: 'The simulator delivers JSON only' }] };
      if (ctx.core.webhooks.subscriptions().some((s) => s.topic === topic && s.callbackUrl === new URL(url).toString())) {
        return { webhookSubscription: null, userErrors: [{ field: ['webhookSubscription', 'callbackUrl'], message: 'Address for this topic has already been taken' }] };
      }
      try {
        return { webhookSubscription: webhookView(ctx.core.webhooks.subscribe(topic, url)), userErrors: [] };
      } catch {
        return { webhookSubscription: null, userErrors: [{ field: ['webhookSubscription', 'callbackUrl'], message: 'Address is invalid' }] };
      }
    },
    webhookSubscriptionDelete: ({ id }: { id: string }, ctx: GqlContext) => {
      const n = gidOr(id, 'WebhookSubscription');
      if (!ctx.core.webhooks.unsubscribe(n)) return { deletedWebhookSubscriptionId: null, userErrors: [{ field: ['id'], message: 'Webhook subscription does not exist' }] };
      return { deletedWebhookSubscriptionId: id, userErrors: [] };
    },
  };
}
