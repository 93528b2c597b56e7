import { z } from 'zod';
import { formatZodError } from '../contract';
import type { FindingInput } from '../contract';
import type { OrderJournal, OrderRecord } from '../journal/journal';
import type { ShopifyAdminApi } from '../shopify/admin-api';
import { KeyedQueue } from '../writer/keyed-queue';
import { withRetry } from '../writer/retry';
import { allocate, legacyId } from './allocate';
import type { FulfillmentOrderInfo, ShippedLine } from './allocate';

export type SenderFinding = Omit<FindingInput, 'check'>;

/** msg.payload from d365-trigger (topic d365/shipment). */
export const ShipmentPayload = z.looseObject({
  shipment: z.looseObject({
    id: z.string().optional(),
    number: z.string().min(1),
    orderNumber: z.string().optional(),
    externalDocumentNumber: z.string().optional(),
    salesShipmentLines: z.array(z.looseObject({
      sequence: z.number().optional(),
      lineType: z.string().optional(),
      lineObjectNumber: z.string().optional(),
      variantCode: z.string().optional(),
      locationCode: z.string().optional(),
      quantity: z.number(),
    })).default([]),
  }),
  tracking: z.looseObject({
    shippingAgentCode: z.string().optional(),
    packageTrackingNo: z.string().optional(),
    trackingUrl: z.string().optional(),
  }).nullable().optional(),
  externalDocumentNumber: z.string().optional(),
});
export type ShipmentPayload = z.infer<typeof ShipmentPayload>;

export const SenderSettings = z.object({
  notifyCustomer: z.boolean().default(false),
  /** BC shipping agent code → carrier name Shopify knows (UPS, FedEx, DHL Express, USPS…). */
  carriers: z.record(z.string(), z.string()).default({}),
  /** BC location code → Shopify location id (legacy numeric id). */
  locations: z.record(z.string(), z.string()).default({}),
  /** Tries per shipment when Shopify fails in a way that may pass (throttled beyond the client's own retries, 5xx, network). */
  attempts: z.coerce.number().int().min(1).max(10).default(3),
  /** Back-off before the first repeat; doubles per repeat (with jitter), at most 30 × this. */
  retryBaseMs: z.coerce.number().int().min(0).max(60_000).default(1000),
});
export type SenderSettings = z.infer<typeof SenderSettings>;

export interface SenderResult {
  ok: boolean;
  action: 'fulfilled' | 'exists' | 'already-fulfilled' | 'rejected';
  findings: SenderFinding[];
  orderId?: string;
  fulfillments: { id: string; locationId: string; lineItems: number }[];
}

const FIND_ORDER = `query d365FindOrder($q: String!) { orders(first: 2, query: $q) { nodes { id legacyResourceId name } } }`;
// Shopify refuses a query whose requested cost is over 1000 points (connection = 2 + size × item cost; sized lists
// may be charged per requested element too), so the order is read in pages: 10 fulfillment orders × 30 lines and
// 50 fulfillments (≤ ~810 points either way), then any further pages of either.
const FO_FIELDS = `fragment d365Fo on FulfillmentOrder { id status assignedLocation { location { id legacyResourceId } }
  lineItems(first: 30) { pageInfo { hasNextPage endCursor } nodes { id remainingQuantity sku lineItem { id sku } } } }`;
const READ_ORDER = `query d365FulfillmentOrders($id: ID!) { order(id: $id) { id name
  fulfillmentOrders(first: 10) { pageInfo { hasNextPage endCursor } nodes { ...d365Fo } }
  fulfillments(first: 50) { id trackingInfo(first: 1) { number } location { legacyResourceId } } } }
${FO_FIELDS}`;
const MORE_FOS = `query d365MoreFulfillmentOrders($id: ID!, $after: String) { order(id: $id) {
  fulfillmentOrders(first: 10, after: $after) { pageInfo { hasNextPage endCursor } nodes { ...d365Fo } } } }
${FO_FIELDS}`;
const MORE_FO_LINES = `query d365MoreFulfillmentOrderLines($id: ID!, $after: String) { fulfillmentOrder(id: $id) {
  lineItems(first: 200, after: $after) { pageInfo { hasNextPage endCursor } nodes { id remainingQuantity sku lineItem { id sku } } } } }`;
const CREATE = `mutation d365FulfillmentCreate($fulfillment: FulfillmentInput!) {
  fulfillmentCreate(fulfillment: $fulfillment) { fulfillment { id status } userErrors { field message } } }`;

interface PageInfo { hasNextPage: boolean; endCursor?: string | null }
interface FoLineNode { id: string; remainingQuantity: number; sku?: string | null; lineItem: { id: string; sku?: string | null } }
interface FoNode {
  id: string; status: string; assignedLocation?: { location?: { id: string; legacyResourceId: string } | null };
  lineItems: { pageInfo?: PageInfo; nodes: FoLineNode[] };
}
interface FoPage { pageInfo?: PageInfo; nodes: FoNode[] }
interface OrderData {
  order: null | { id: string; name: string; fulfillmentOrders: FoPage;
    fulfillments: { id: string; trackingInfo: { number?: string | null }[]; location?: { legacyResourceId: string } | null }[] };
}

/** `known`: the order's fulfillments before this shipment's first call, so a lost answer is recognised without tracking. */
interface Marker { status: 'pending' | 'done'; tracking?: string; fulfillments: SenderResult['fulfillments']; known?: string[] }

/** What one send() learnt across its attempts. */
interface Attempts { created: boolean }

/** Shopify client errors carry `retryable`; GraphQL errors (bad query, access denied) are permanent. */
function shopifyFailure(e: unknown, attempts = 1): SenderFinding | undefined {
  if (!(e instanceof Error)) return undefined;
  const retryable = (e as { retryable?: unknown }).retryable;
  // Still retryable after the last attempt: the failure may pass, so a later retry (the exception router's) may succeed.
  if (typeof retryable === 'boolean' && retryable) return { code: 'SHOPIFY_UNAVAILABLE', severity: 'error', retryable: true, message: `Shopify did not answer after ${attempts} attempt(s): ${e.message}` };
  if (typeof retryable === 'boolean' || e.name.startsWith('Shopify')) return { code: 'FULFILLMENT_REJECTED', severity: 'error', message: `Shopify refused: ${e.message}` };
  return undefined;
}

/**
 * The shopify-fulfillment-sender without Node-RED: D365 shipment → fulfillmentCreate calls (one per
 * location) on the order's open fulfillment orders, exactly once per shipment (journal marker + remaining
 * quantities). Business outcomes are findings; only bugs are thrown.
 */
export class FulfillmentSender {
  private readonly queue = new KeyedQueue();

  constructor(private readonly d: { shopify: ShopifyAdminApi; journal: OrderJournal; shop: string; settings: SenderSettings; sleep?: (ms: number) => Promise<void> }) {}

  async send(payload: unknown): Promise<SenderResult> {
    const parsed = ShipmentPayload.safeParse(payload);
    const none = { fulfillments: [] };
    if (!parsed.success) return { ok: false, action: 'rejected', ...none, findings: [{ code: 'PAYLOAD_INVALID', severity: 'error', message: `msg.payload is not a D365 shipment: ${formatZodError(parsed.error)}` }] };
    try {
      // Shipments of one order one at a time (one poll can emit several; a repeat may overlap the first).
      const p = parsed.data;
      return await this.queue.run(p.shipment.externalDocumentNumber || p.externalDocumentNumber || p.shipment.number, () => this.sendWithRetry(p));
    } catch (e) {
      const f = shopifyFailure(e, this.d.settings.attempts);
      if (!f) throw e;
      return { ok: false, action: 'rejected', ...none, findings: [f] };
    }
  }

  /**
   * Runs the shipment again after a retryable Shopify failure, with back-off. A repeat starts from the
   * top (order, journal marker, remaining quantities, fulfillments), so what an earlier attempt created
   * (a lost answer) is recognised and not created again. Permanent failures are not repeated.
   */
  private async sendWithRetry(p: ShipmentPayload): Promise<SenderResult> {
    const { attempts, retryBaseMs } = this.d.settings;
    const seen: Attempts = { created: false };
    const r = await withRetry({ attempts, baseMs: retryBaseMs, sleep: this.d.sleep, retryable: (e) => shopifyFailure(e)?.retryable === true },
      () => this.run(p, seen));
    // Recovered what an earlier attempt of this send created: that is this send's fulfillment, not a repeat.
    return r.ok && r.action === 'exists' && seen.created ? { ...r, action: 'fulfilled' } : r;
  }

  private async run(p: ShipmentPayload, seen: Attempts): Promise<SenderResult> {
    const name = p.shipment.externalDocumentNumber || p.externalDocumentNumber;
    if (!name) return reject([{ code: 'ORDER_NOT_FOUND', severity: 'error', message: `shipment ${p.shipment.number} has no external document number (the Shopify order name)` }]);
    // Search syntax: quote the name so spaces or colons in it cannot change the query.
    const found = await this.d.shopify.graphql<{ orders: { nodes: { id: string; legacyResourceId: string; name: string }[] } }>(FIND_ORDER, { q: `name:"${name.replace(/["\\]/g, '')}"` });
    const hit = found.orders.nodes.filter((o) => o.name === name);
    if (hit.length !== 1) return reject([{ code: 'ORDER_NOT_FOUND', severity: 'error', message: `${hit.length ? 'several' : 'no'} Shopify order(s) named ${name} for shipment ${p.shipment.number}` }]);
    const orderGid = hit[0]!.id;
    const orderId = String(hit[0]!.legacyResourceId);
    const key = `fulfillment:${p.shipment.number}`;
    const rec = await this.d.journal.getOrder(this.d.shop, orderId);
    const marker = parse<Marker>(rec?.documents[key]);
    if (marker?.status === 'done') return { ok: true, action: 'exists', findings: [], orderId, fulfillments: marker.fulfillments };

    const data = await this.d.shopify.graphql<OrderData>(READ_ORDER, { id: orderGid });
    if (!data.order) return reject([{ code: 'ORDER_NOT_FOUND', severity: 'error', message: `Shopify order ${name} disappeared` }]);
    const tracking = p.tracking?.packageTrackingNo || undefined;
    const done: SenderResult['fulfillments'] = [];
    // After a crash or a lost answer between fulfillmentCreate and the marker, what was sent for this shipment: a
    // fulfillment carrying its tracking number; without one, a fulfillment without tracking that is newer than the
    // first attempt (not in `known`) and not recorded for another shipment.
    const sentAt = new Set<string>();
    if (marker?.status === 'pending') {
      const others = otherShipments(rec, key);
      for (const f of data.order.fulfillments) {
        const ours = tracking ? f.trackingInfo.some((t) => t.number === tracking)
          : marker.known !== undefined && !marker.known.includes(f.id) && !others.has(f.id) && !f.trackingInfo.some((t) => t.number);
        if (ours) { sentAt.add(f.location?.legacyResourceId ?? ''); done.push({ id: f.id, locationId: f.location?.legacyResourceId ?? '', lineItems: 0 }); }
      }
    }
    const known = marker?.status === 'pending' && marker.known ? marker.known : data.order.fulfillments.map((f) => f.id);
    const all: FulfillmentOrderInfo[] = (await this.allFulfillmentOrders(orderGid, data.order.fulfillmentOrders)).map((fo) => ({
      id: fo.id, status: fo.status, locationId: fo.assignedLocation?.location ? String(fo.assignedLocation.location.legacyResourceId) : undefined,
      lines: fo.lineItems.nodes.map((l) => ({ id: l.id, remainingQuantity: l.remainingQuantity, sku: l.sku ?? l.lineItem.sku, lineItemId: legacyId(l.lineItem.id) })),
    }));
    const fos = all.filter((fo) => !sentAt.has(fo.locationId ?? ''));
    // Lines whose fulfillment orders are all at a location already sent for this shipment are done.
    const sentFoLines = all.filter((fo) => sentAt.has(fo.locationId ?? '')).flatMap((fo) => fo.lines);
    const shipped = this.shippedLines(p, rec).filter((s) => !sentFoLines.some((l) => (s.lineItemId ? l.lineItemId === s.lineItemId : l.sku === s.sku)) ||
      fos.some((fo) => fo.lines.some((l) => (s.lineItemId ? l.lineItemId === s.lineItemId : l.sku === s.sku))));
    const alloc = allocate(shipped, fos);
    const findings: SenderFinding[] = alloc.leftovers.map((l) => l.reason === 'unknown'
      ? { code: 'SHIPMENT_UNMATCHED', severity: 'error' as const, message: `${l.quantity} × ${l.label} shipped in D365 is not on Shopify order ${name}` }
      : l.reason === 'on-hold'
        ? { code: 'FULFILLMENT_ON_HOLD', severity: 'error' as const, retryable: true, message: `${l.quantity} × ${l.label}: the fulfillment order is on hold or scheduled in Shopify` }
        : { code: 'FULFILLMENT_QTY_EXCEEDED', severity: 'warning' as const, message: `${l.quantity} × ${l.label}: nothing left to fulfil in Shopify (already fulfilled there?)` });

    if (!alloc.groups.length) {
      if (findings.some((f) => f.severity === 'error')) return { ok: false, action: 'rejected', findings, orderId, fulfillments: done };
      await this.mark(orderId, name, rec, key, { status: 'done', tracking, fulfillments: done });
      return { ok: true, action: done.length ? 'exists' : 'already-fulfilled', findings, orderId, fulfillments: done };
    }
    await this.mark(orderId, name, rec, key, { status: 'pending', tracking, fulfillments: done, known });
    seen.created = true;
    const agent = p.tracking?.shippingAgentCode?.toUpperCase();
    const trackingInfo = tracking ? { number: tracking, company: agent ? (this.d.settings.carriers[agent] ?? p.tracking?.shippingAgentCode) : undefined, url: p.tracking?.trackingUrl || undefined } : undefined;
    for (const g of alloc.groups) {
      const r = await this.d.shopify.graphql<{ fulfillmentCreate: { fulfillment: { id: string } | null; userErrors: { message: string }[] } }>(CREATE, {
        fulfillment: { notifyCustomer: this.d.settings.notifyCustomer, trackingInfo, lineItemsByFulfillmentOrder: g.byFo },
      });
      const errs = r.fulfillmentCreate.userErrors;
      if (errs.length || !r.fulfillmentCreate.fulfillment) {
        findings.push({ code: 'FULFILLMENT_REJECTED', severity: 'error', message: `Shopify refused the fulfillment at location ${g.locationId}: ${errs.map((e) => e.message).join('; ') || 'no fulfillment returned'}` });
        continue;
      }
      done.push({ id: r.fulfillmentCreate.fulfillment.id, locationId: g.locationId, lineItems: g.byFo.reduce((s, f) => s + f.fulfillmentOrderLineItems.reduce((t, l) => t + l.quantity, 0), 0) });
    }
    const failed = findings.some((f) => f.severity === 'error');
    // A partly failed shipment stays "pending": a retry re-reads remaining quantities and sends only the rest.
    await this.mark(orderId, name, await this.d.journal.getOrder(this.d.shop, orderId), key, { status: failed ? 'pending' : 'done', tracking, fulfillments: done, known });
    return { ok: !failed, action: failed ? 'rejected' : 'fulfilled', findings, orderId, fulfillments: done };
  }

  /** Every fulfillment order of the order with every line: the first page as read, then the further pages. */
  private async allFulfillmentOrders(orderGid: string, first: FoPage): Promise<FoNode[]> {
    const fos = [...first.nodes];
    for (let page = first.pageInfo; page?.hasNextPage && page.endCursor;) {
      const more = await this.d.shopify.graphql<{ order: { fulfillmentOrders: FoPage } | null }>(MORE_FOS, { id: orderGid, after: page.endCursor });
      if (!more.order) break;
      fos.push(...more.order.fulfillmentOrders.nodes);
      page = more.order.fulfillmentOrders.pageInfo;
    }
    for (const fo of fos) {
      for (let page = fo.lineItems.pageInfo; page?.hasNextPage && page.endCursor;) {
        const more = await this.d.shopify.graphql<{ fulfillmentOrder: { lineItems: { pageInfo?: PageInfo; nodes: FoLineNode[] } } | null }>(MORE_FO_LINES, { id: fo.id, after: page.endCursor });
        if (!more.fulfillmentOrder) break;
        fo.lineItems = { nodes: [...fo.lineItems.nodes, ...more.fulfillmentOrder.lineItems.nodes] };
        page = more.fulfillmentOrder.lineItems.pageInfo;
      }
    }
    return fos;
  }

  /** Shipment lines → what allocation matches on: the Shopify line id (via the writer's line map) or the SKU. */
  private shippedLines(p: ShipmentPayload, rec: OrderRecord | undefined): ShippedLine[] {
    const bySeq = new Map<number, { id: string; location?: string }>();
    const lines = parse<Record<string, { seq: number; location?: string }>>(rec?.documents.lines) ?? {};
    for (const [id, ref] of Object.entries(lines)) bySeq.set(ref.seq, { id, location: ref.location });
    return p.shipment.salesShipmentLines
      .filter((l) => (l.lineType ?? 'Item') === 'Item' && l.quantity > 0)
      .map((l) => {
        const known = l.sequence !== undefined ? bySeq.get(l.sequence) : undefined;
        const sku = l.lineObjectNumber ? (l.variantCode ? `${l.lineObjectNumber}-${l.variantCode}` : l.lineObjectNumber) : undefined;
        const loc = l.locationCode ?? known?.location;
        return { lineItemId: known?.id, sku, quantity: l.quantity, locationId: loc ? this.d.settings.locations[loc] : undefined, label: sku ?? `line ${l.sequence}` };
      });
  }

  private async mark(orderId: string, name: string, rec: OrderRecord | undefined, key: string, m: Marker): Promise<void> {
    let cur = rec;
    for (let i = 0; i < 3; i++) {
      const ok = await this.d.journal.transitionOrder(this.d.shop, orderId, [cur?.state], cur?.state ?? 'created',
        { orderName: name, documents: { [key]: JSON.stringify(m) }, event: m.status === 'done' ? 'shopify-fulfilled' : 'shopify-fulfillment-intent', detail: key });
      if (ok) return;
      cur = await this.d.journal.getOrder(this.d.shop, orderId);
    }
    throw new Error(`journal: could not record ${key} for order ${orderId} (state kept changing)`);
  }
}

/** Fulfillment ids the journal records for the order's other shipments. */
function otherShipments(rec: OrderRecord | undefined, key: string): Set<string> {
  return new Set(Object.entries(rec?.documents ?? {})
    .filter(([k]) => k.startsWith('fulfillment:') && k !== key)
    .flatMap(([, v]) => parse<Marker>(v)?.fulfillments.map((f) => f.id) ?? []));
}

function reject(findings: SenderFinding[]): SenderResult {
  return { ok: false, action: 'rejected', findings, fulfillments: [] };
}

function parse<T>(text: string | undefined): T | undefined {
  if (!text) return undefined;
  try { return JSON.parse(text) as T; } catch { return undefined; }
}
