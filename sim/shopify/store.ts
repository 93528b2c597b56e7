import { rng, type Catalogue } from '../catalogue';
import type { Fulfillment, InventoryLevel, LineItem, Order, Refund, RestockType } from '../../nodes/lib/contract';
import { buildOrder, type BuiltLine, type ShippingMoney } from './order-builder';
import { OrderSpec, type OrderSpecInput } from './order-spec';
import { divRound, fromMinor, FX, MoneyCtx, toMinor } from './money';
import type { Rng } from './rng';
import { floorSecond, restTime } from './time';

export type FulfillmentOrderStatus = 'OPEN' | 'IN_PROGRESS' | 'CLOSED' | 'CANCELLED';
export interface FulfillmentOrderLine { id: number; lineItemId: number; totalQuantity: number; remainingQuantity: number }
export interface FulfillmentOrderState {
  id: number; orderId: number; status: FulfillmentOrderStatus; locationId: number; createdMs: number; updatedMs: number;
  lines: FulfillmentOrderLine[];
}
export interface MetafieldState { id: number; ownerId: string; namespace: string; key: string; type: string; value: string; createdMs: number; updatedMs: number }
export interface InventoryLevelState { inventoryItemId: number; locationId: number; available: number; committed: number; onHand: number; updatedMs: number }
interface LineState { built: BuiltLine; refunded: number; fulfilled: number }
export interface OrderState {
  json: Order;
  createdMs: number;
  updatedMs: number;
  lines: LineState[];
  shipping: ShippingMoney & { refunded: bigint; refundedP: bigint; refundedTax: bigint; refundedTaxP: bigint };
  fulfillmentOrderIds: number[];
  metafields: MetafieldState[];
  refundedS: bigint;
  refundedP: bigint;
  money: MoneyCtx;
}
export interface UserError { field: string[] | null; message: string; code?: string }
export interface InventoryChange { name: string; delta: number; quantityAfterChange: number; inventoryItemId: number; locationId: number }
export interface InventoryGroup { id: number; createdMs: number; reason: string; referenceDocumentUri: string | null; changes: InventoryChange[] }

export interface RefundRequest {
  lines?: { lineItemId: number; quantity: number; restockType: RestockType; locationId?: number }[];
  shipping?: { fullRefund?: boolean; amount?: string };
  note?: string | null;
  /** 'suggested' refunds the computed amount (what the admin does); a list records exactly these transactions;
   * an empty list records the refund without moving money (refundCreate without transactions). */
  transactions: 'suggested' | { amount: string; gateway?: string }[];
}
export interface FulfillmentRequest {
  lineItemsByFulfillmentOrder: { fulfillmentOrderId: number; fulfillmentOrderLineItems?: { id: number; quantity: number }[] }[];
  trackingInfo?: { company?: string | null; number?: string | null; url?: string | null; numbers?: string[] | null; urls?: string[] | null };
  notifyCustomer?: boolean;
}
export interface CancelRequest { reason: string; restock: boolean; refund: boolean; staffNote?: string | null; notifyCustomer?: boolean }

export type Emit = (topic: string, payload: object) => void;

const clone = <T>(x: T): T => JSON.parse(JSON.stringify(x)) as T;

/** The simulated shop: orders, fulfillment orders, inventory, metafields. Every change emits the topics Shopify emits. */
export class ShopStore {
  readonly orders = new Map<number, OrderState>();
  readonly fulfillmentOrders = new Map<number, FulfillmentOrderState>();
  readonly levels = new Map<string, InventoryLevelState>();
  /** inventory item id → its catalogue SKU and variant id */
  readonly inventoryItems = new Map<number, { sku: string; variantId: number; productId: number; title: string; price: string; tracked: boolean }>();
  readonly variants = new Map<number, number>();
  private nextIdValue = 11_000_000_000;
  private nextOrderNumber = 1001;
  private readonly rand: Rng;

  constructor(readonly catalogue: Catalogue, seed: number, private readonly utcOffset: number, private readonly emit: Emit, private readonly now: () => number = Date.now) {
    this.rand = rng(seed ^ 0x5eed);
    for (const item of catalogue.items) {
      const tracked = item.type === 'Inventory';
      const entries = item.variants.length
        ? item.variants.map((v) => ({ sku: v.sku, variantId: v.shopifyVariantId, inv: v.shopifyInventoryItemId, key: (l: string) => `${l}:${v.code}`, title: `${item.displayName} - ${v.description}` }))
        : item.sku && item.shopifyInventoryItemId && item.shopifyVariantId
          ? [{ sku: item.sku, variantId: item.shopifyVariantId, inv: item.shopifyInventoryItemId, key: (l: string) => l, title: item.displayName }]
          : [];
      for (const e of entries) {
        this.inventoryItems.set(e.inv, { sku: e.sku, variantId: e.variantId, productId: item.shopifyProductId, title: e.title, price: item.unitPrice, tracked });
        this.variants.set(e.variantId, e.inv);
        if (!tracked) continue;
        for (const loc of catalogue.locations) {
          const qty = item.stock[e.key(loc.code)] ?? 0;
          this.levels.set(levelKey(e.inv, loc.shopifyLocationId), {
            inventoryItemId: e.inv, locationId: loc.shopifyLocationId, available: qty, committed: 0, onHand: qty, updatedMs: this.now(),
          });
        }
      }
    }
  }

  nextId(): number {
    return ++this.nextIdValue;
  }

  rest(ms: number): string {
    return restTime(ms, this.utcOffset);
  }

  level(inventoryItemId: number, locationId: number): InventoryLevelState | undefined {
    return this.levels.get(levelKey(inventoryItemId, locationId));
  }

  locationByCode(code: string) {
    return this.catalogue.locations.find((l) => l.code === code);
  }

  // ---------------------------------------------------------------- orders

  placeOrder(input: OrderSpecInput = {}): Order {
    const spec = OrderSpec.parse(input);
    const ms = floorSecond(this.now());
    const built = buildOrder(spec, {
      catalogue: this.catalogue, rand: this.rand, nextId: () => this.nextId(), orderNumber: this.nextOrderNumber++,
      nowRest: this.rest(ms), shopCurrency: this.catalogue.currency,
      chooseLocation: (inv, preferred, qty) => {
        if (inv === undefined) return preferred;
        const pref = this.locationByCode(preferred);
        if (pref && (this.level(inv, pref.shopifyLocationId)?.available ?? 0) >= qty) return preferred;
        const other = this.catalogue.locations.find((l) => (this.level(inv, l.shopifyLocationId)?.available ?? 0) >= qty);
        return other?.code ?? preferred;
      },
    });
    const id = built.json.id as number;
    const state: OrderState = {
      json: built.json, createdMs: ms, updatedMs: ms,
      lines: built.lines.map((b) => ({ built: b, refunded: 0, fulfilled: 0 })),
      shipping: { ...built.shipping, refunded: 0n, refundedP: 0n, refundedTax: 0n, refundedTaxP: 0n },
      fulfillmentOrderIds: [], metafields: [], refundedS: 0n, refundedP: 0n,
      money: new MoneyCtx(built.json.currency, built.json.presentment_currency ?? built.json.currency),
    };
    // One fulfillment order per assigned location, as Shopify splits them.
    const byLocation = new Map<string, LineState[]>();
    for (const l of state.lines) byLocation.set(l.built.locationCode, [...(byLocation.get(l.built.locationCode) ?? []), l]);
    for (const [code, ls] of byLocation) {
      const loc = this.locationByCode(code) ?? this.catalogue.locations[0]!;
      const fo: FulfillmentOrderState = {
        id: this.nextId(), orderId: id, status: 'OPEN', locationId: loc.shopifyLocationId, createdMs: ms, updatedMs: ms,
        lines: ls.map((l) => ({ id: this.nextId(), lineItemId: l.built.json.id as number, totalQuantity: l.built.json.quantity, remainingQuantity: l.built.json.quantity })),
      };
      this.fulfillmentOrders.set(fo.id, fo);
      state.fulfillmentOrderIds.push(fo.id);
    }
    this.orders.set(id, state);
    this.emitOrder('orders/create', state);
    if (state.json.financial_status === 'paid') this.emitOrder('orders/paid', state);
    // Shopify commits stock for unfulfilled quantities: available goes down.
    for (const l of state.lines) {
      if (l.built.inventoryItemId === undefined) continue;
      const loc = this.locationByCode(l.built.locationCode);
      if (loc) this.changeLevel(l.built.inventoryItemId, loc.shopifyLocationId, { available: -l.built.json.quantity, committed: +l.built.json.quantity });
    }
    return clone(state.json);
  }

  order(id: number): OrderState | undefined {
    return this.orders.get(id);
  }

  /** A deep copy of the REST order (what a webhook would carry now). */
  orderJson(id: number): Order | undefined {
    const o = this.orders.get(id);
    return o ? clone(o.json) : undefined;
  }

  updateOrder(id: number, patch: { note?: string | null; email?: string | null; tags?: string[]; shippingAddress?: Record<string, unknown>; noteAttributes?: { name: string; value: string }[] }): Order {
    const o = this.mustOrder(id);
    if (patch.note !== undefined) o.json.note = patch.note;
    if (patch.email !== undefined) o.json.email = o.json.contact_email = patch.email;
    if (patch.tags) o.json.tags = uniqueTags(patch.tags).join(', ');
    if (patch.noteAttributes) o.json.note_attributes = patch.noteAttributes;
    if (patch.shippingAddress) o.json.shipping_address = { ...(o.json.shipping_address ?? {}), ...patch.shippingAddress };
    this.touch(o);
    this.emitOrder('orders/updated', o);
    return clone(o.json);
  }

  addTags(id: number, tags: string[]): void {
    const o = this.mustOrder(id);
    o.json.tags = uniqueTags([...splitTags(o.json.tags), ...tags]).join(', ');
    this.touch(o);
    this.emitOrder('orders/updated', o);
  }

  // ---------------------------------------------------------------- fulfillment

  fulfillmentOrdersOf(orderId: number): FulfillmentOrderState[] {
    return (this.orders.get(orderId)?.fulfillmentOrderIds ?? []).map((id) => this.fulfillmentOrders.get(id)!);
  }

  createFulfillment(req: FulfillmentRequest): { fulfillment?: Fulfillment; userErrors: UserError[] } {
    const errors: UserError[] = [];
    const groups = req.lineItemsByFulfillmentOrder;
    if (groups.length === 0) return { userErrors: [{ field: ['fulfillment', 'lineItemsByFulfillmentOrder'], message: 'Line items by fulfillment order must not be empty.' }] };
    const plan: { fo: FulfillmentOrderState; line: FulfillmentOrderLine; qty: number }[] = [];
    groups.forEach((g, gi) => {
      const fo = this.fulfillmentOrders.get(g.fulfillmentOrderId);
      const field = ['fulfillment', 'lineItemsByFulfillmentOrder', String(gi)];
      if (!fo) return void errors.push({ field: [...field, 'fulfillmentOrderId'], message: 'Fulfillment order does not exist.' });
      if (fo.status !== 'OPEN' && fo.status !== 'IN_PROGRESS') return void errors.push({ field: [...field, 'fulfillmentOrderId'], message: `Fulfillment order ${fo.id} has an unfulfillable status= ${fo.status.toLowerCase()}.` });
      const items = g.fulfillmentOrderLineItems ?? fo.lines.filter((l) => l.remainingQuantity > 0).map((l) => ({ id: l.id, quantity: l.remainingQuantity }));
      items.forEach((it, ii) => {
        const line = fo.lines.find((l) => l.id === it.id);
        const f = [...field, 'fulfillmentOrderLineItems', String(ii)];
        if (!line) return void errors.push({ field: [...f, 'id'], message: 'Fulfillment order line item does not exist.' });
        if (!Number.isInteger(it.quantity) || it.quantity <= 0 || it.quantity > line.remainingQuantity - plan.filter((p) => p.line === line).reduce((s, p) => s + p.qty, 0)) {
          return void errors.push({ field: [...f, 'quantity'], message: 'Invalid fulfillment order line item quantity requested.' });
        }
        plan.push({ fo, line, qty: it.quantity });
      });
    });
    const fos = [...new Set(plan.map((p) => p.fo))];
    if (fos.length && new Set(fos.map((f) => f.orderId)).size > 1) errors.push({ field: ['fulfillment'], message: 'All fulfillment orders must belong to the same order.' });
    if (fos.length && new Set(fos.map((f) => f.locationId)).size > 1) errors.push({ field: ['fulfillment'], message: 'All fulfillment orders must be assigned to the same location.' });
    if (!errors.length && plan.length === 0) errors.push({ field: ['fulfillment'], message: 'Nothing left to fulfill.' });
    if (errors.length) return { userErrors: errors };

    const order = this.mustOrder(fos[0]!.orderId);
    const ms = this.touch(order);
    for (const p of plan) {
      p.line.remainingQuantity -= p.qty;
      const ls = order.lines.find((l) => l.built.json.id === p.line.lineItemId)!;
      ls.fulfilled += p.qty;
      if (ls.built.inventoryItemId !== undefined) this.changeLevel(ls.built.inventoryItemId, p.fo.locationId, { committed: -p.qty, onHand: -p.qty }, false);
    }
    for (const fo of fos) {
      fo.status = fo.lines.every((l) => l.remainingQuantity === 0) ? 'CLOSED' : 'IN_PROGRESS';
      fo.updatedMs = ms;
    }
    this.refreshLineStatus(order);
    const t = req.trackingInfo ?? {};
    const numbers = t.numbers ?? (t.number ? [t.number] : []);
    const urls = t.urls ?? (t.url ? [t.url] : []);
    const id = this.nextId();
    const fulfillment: Fulfillment = {
      id, admin_graphql_api_id: `gid://shopify/Fulfillment/${id}`, order_id: order.json.id, status: 'success',
      created_at: this.rest(ms), updated_at: this.rest(ms), location_id: fos[0]!.locationId,
      name: `${order.json.name}.${order.json.fulfillments.length + 1}`, service: 'manual', shipment_status: null,
      tracking_company: t.company ?? null, tracking_number: numbers[0] ?? null, tracking_numbers: numbers,
      tracking_url: urls[0] ?? null, tracking_urls: urls,
      notify_customer: req.notifyCustomer ?? false,
      line_items: plan.map((p) => ({ ...clone(order.lines.find((l) => l.built.json.id === p.line.lineItemId)!.built.json), quantity: p.qty })),
    };
    order.json.fulfillments.push(clone(fulfillment));
    this.emit('fulfillments/create', clone(fulfillment));
    this.emitOrder(order.json.fulfillment_status === 'fulfilled' ? 'orders/fulfilled' : 'orders/partially_fulfilled', order);
    this.emitOrder('orders/updated', order);
    return { fulfillment, userErrors: [] };
  }

  /** Merchant-side fulfilment by line item id or SKU; one fulfillment per location, as the admin does. */
  fulfillOrder(orderId: number, opts: { lines?: { lineItemId?: number; sku?: string; quantity: number }[]; tracking?: FulfillmentRequest['trackingInfo'] } = {}): { fulfillments: Fulfillment[]; userErrors: UserError[] } {
    const order = this.mustOrder(orderId);
    const fos = this.fulfillmentOrdersOf(orderId).filter((f) => f.status === 'OPEN' || f.status === 'IN_PROGRESS');
    const wanted: { lineItemId?: number; sku?: string; quantity: number }[] = opts.lines ?? order.lines.map((l) => ({ lineItemId: l.built.json.id as number, quantity: Infinity }));
    const perFo = new Map<FulfillmentOrderState, { id: number; quantity: number }[]>();
    for (const w of wanted) {
      const ls = order.lines.find((l) => (w.lineItemId !== undefined ? l.built.json.id === w.lineItemId : l.built.json.sku === w.sku));
      if (!ls) return { fulfillments: [], userErrors: [{ field: ['lines'], message: `No line item ${w.lineItemId ?? w.sku} on order ${order.json.name}.` }] };
      let left = w.quantity;
      for (const fo of fos) {
        const line = fo.lines.find((l) => l.lineItemId === ls.built.json.id && l.remainingQuantity > 0);
        if (!line || left <= 0) continue;
        const q = Math.min(left, line.remainingQuantity);
        perFo.set(fo, [...(perFo.get(fo) ?? []), { id: line.id, quantity: q }]);
        left -= q;
      }
      if (left > 0 && Number.isFinite(left)) return { fulfillments: [], userErrors: [{ field: ['lines'], message: `Only ${w.quantity - left} of ${w.quantity} left to fulfill for ${ls.built.json.sku}.` }] };
    }
    const byLocation = new Map<number, FulfillmentRequest['lineItemsByFulfillmentOrder']>();
    for (const [fo, items] of perFo) byLocation.set(fo.locationId, [...(byLocation.get(fo.locationId) ?? []), { fulfillmentOrderId: fo.id, fulfillmentOrderLineItems: items }]);
    const out: Fulfillment[] = [];
    for (const groups of byLocation.values()) {
      const r = this.createFulfillment({ lineItemsByFulfillmentOrder: groups, trackingInfo: opts.tracking });
      if (r.userErrors.length) return { fulfillments: out, userErrors: r.userErrors };
      out.push(r.fulfillment!);
    }
    return { fulfillments: out, userErrors: [] };
  }

  // ---------------------------------------------------------------- refunds and cancellation

  refund(orderId: number, req: RefundRequest): { refund?: Refund; userErrors: UserError[] } {
    const order = this.orders.get(orderId);
    if (!order) return { userErrors: [{ field: ['input', 'orderId'], message: 'Order does not exist.', code: 'NOT_FOUND' }] };
    const errors: UserError[] = [];
    const reqLines = req.lines ?? [];
    const seen = new Map<number, number>();
    reqLines.forEach((r, i) => {
      const ls = order.lines.find((l) => l.built.json.id === r.lineItemId);
      const already = seen.get(r.lineItemId) ?? 0;
      if (!ls) errors.push({ field: ['input', 'refundLineItems', String(i), 'lineItemId'], message: 'Line item does not exist.' });
      else if (!Number.isInteger(r.quantity) || r.quantity <= 0 || r.quantity + already > ls.built.json.quantity - ls.refunded) {
        errors.push({ field: ['input', 'refundLineItems', String(i), 'quantity'], message: 'Quantity cannot refund more items than were purchased.' });
      }
      seen.set(r.lineItemId, already + r.quantity);
    });
    const shipLeft = order.shipping.price - order.shipping.refunded;
    let shipAmt = 0n;
    if (req.shipping?.fullRefund) shipAmt = shipLeft;
    else if (req.shipping?.amount !== undefined) {
      shipAmt = toMinor(req.shipping.amount);
      if (shipAmt < 0n || shipAmt > shipLeft) errors.push({ field: ['input', 'shipping', 'amount'], message: `Shipping refund amount must not exceed ${fromMinor(shipLeft)}.` });
    }
    if (errors.length) return { userErrors: errors };

    const ms = this.touch(order);
    const refundId = this.nextId();
    const m = order.money;
    const incl = order.json.taxes_included;
    let sumS = 0n;
    let sumP = 0n;
    const refundLines = reqLines.map((r) => {
      const ls = order.lines.find((l) => l.built.json.id === r.lineItemId)!;
      const Q = BigInt(ls.built.json.quantity);
      const prev = BigInt(ls.refunded);
      const next = prev + BigInt(r.quantity);
      // Telescoping proration: refunding every unit returns exactly the line's net and tax.
      const part = (total: bigint) => divRound(total * next, Q) - divRound(total * prev, Q);
      const sub = part(ls.built.money.net);
      const subP = part(ls.built.money.netP);
      const tax = part(ls.built.money.tax);
      const taxP = part(ls.built.money.taxP);
      sumS += sub + (incl ? 0n : tax);
      sumP += subP + (incl ? 0n : taxP);
      const unfulfilledBefore = ls.built.json.quantity - ls.refunded - ls.fulfilled;
      ls.refunded += r.quantity;
      // Refunded units leave the fulfillment order first (unfulfilled before fulfilled).
      let drop = Math.min(r.quantity, Math.max(0, unfulfilledBefore));
      const locationId = r.locationId ?? this.locationOfLine(order, ls);
      for (const fo of this.fulfillmentOrdersOf(orderId)) {
        const fl = fo.lines.find((l) => l.lineItemId === ls.built.json.id);
        if (!fl || drop <= 0) continue;
        const d = Math.min(drop, fl.remainingQuantity);
        fl.remainingQuantity -= d;
        drop -= d;
        if (ls.built.inventoryItemId !== undefined) {
          this.changeLevel(ls.built.inventoryItemId, fo.locationId, r.restockType === 'no_restock' ? { committed: -d, onHand: -d } : { committed: -d, available: +d });
        }
        if (fo.lines.every((l) => l.remainingQuantity === 0) && fo.status !== 'CLOSED') { fo.status = 'CLOSED'; fo.updatedMs = ms; }
      }
      const returned = r.quantity - Math.min(r.quantity, Math.max(0, unfulfilledBefore));
      if (returned > 0 && r.restockType === 'return' && ls.built.inventoryItemId !== undefined) {
        this.changeLevel(ls.built.inventoryItemId, locationId, { available: +returned, onHand: +returned });
      }
      return {
        id: this.nextId(), line_item_id: ls.built.json.id, location_id: r.restockType === 'no_restock' ? null : locationId,
        quantity: r.quantity, restock_type: r.restockType,
        subtotal: Number(fromMinor(sub)), subtotal_set: m.set(sub, subP), total_tax: Number(fromMinor(tax)), total_tax_set: m.set(tax, taxP),
        line_item: clone(ls.built.json),
      };
    });
    const adjustments: Refund['order_adjustments'] = [];
    const shippingLines: Refund['refund_shipping_lines'] = [];
    if (shipAmt > 0n) {
      const s = order.shipping;
      const full = shipAmt === shipLeft;
      const shipP = full ? s.priceP - s.refundedP : divRound(s.priceP * shipAmt, s.price);
      const shipTax = full ? s.tax - s.refundedTax : divRound(s.tax * shipAmt, s.price);
      const shipTaxP = full ? s.taxP - s.refundedTaxP : divRound(s.taxP * shipAmt, s.price);
      s.refunded += shipAmt; s.refundedP += shipP; s.refundedTax += shipTax; s.refundedTaxP += shipTaxP;
      sumS += shipAmt + (incl ? 0n : shipTax);
      sumP += shipP + (incl ? 0n : shipTaxP);
      adjustments.push({
        id: this.nextId(), order_id: order.json.id, refund_id: refundId, amount: fromMinor(-shipAmt), tax_amount: fromMinor(-shipTax),
        kind: 'shipping_refund', reason: 'Shipping refund', amount_set: m.set(-shipAmt, -shipP), tax_amount_set: m.set(-shipTax, -shipTaxP),
      });
      const sl = order.json.shipping_lines[0]!;
      shippingLines.push({ id: this.nextId(), shipping_line_id: sl.id, subtotal_amount_set: m.set(shipAmt, shipP), shipping_line: clone(sl) });
    }
    const txs = req.transactions === 'suggested'
      ? (sumP > 0n ? [{ amountP: sumP, amountS: sumS, gateway: order.json.payment_gateway_names[0] ?? 'manual' }] : [])
      : req.transactions.map((t) => {
        const p = toMinor(t.amount);
        const s = divRound(p * 1_000_000n, BigInt(Math.round((FX[m.presentmentCurrency] ?? 1) * 1_000_000)));
        return { amountP: p, amountS: s, gateway: t.gateway ?? order.json.payment_gateway_names[0] ?? 'manual' };
      });
    const totalP = toMinor(order.json.total_price_set?.presentment_money.amount ?? order.json.total_price);
    const txSum = txs.reduce((s, t) => s + t.amountP, 0n);
    if (txSum > totalP - order.refundedP) {
      return { userErrors: [{ field: ['input', 'transactions'], message: 'Refund amount exceeds the refundable amount.', code: 'INVALID' }] };
    }
    const processed = this.rest(ms);
    const transactions = txs.map((t) => {
      const tid = this.nextId();
      order.refundedP += t.amountP;
      order.refundedS += t.amountS;
      return {
        id: tid, admin_graphql_api_id: `gid://shopify/OrderTransaction/${tid}`, order_id: order.json.id, kind: 'refund', gateway: t.gateway,
        status: 'success', message: 'Refunded', amount: fromMinor(t.amountP), currency: m.presentmentCurrency, parent_id: null,
        created_at: processed, processed_at: processed, authorization: null, source_name: 'web', test: order.json.test, error_code: null,
      };
    });
    if (order.refundedP > 0n) order.json.financial_status = order.refundedP >= totalP ? 'refunded' : 'partially_refunded';
    const current = toMinor(order.json.total_price) - order.refundedS;
    order.json.current_total_price = fromMinor(current < 0n ? 0n : current);
    this.refreshLineStatus(order);
    const refund: Refund = {
      id: refundId, admin_graphql_api_id: `gid://shopify/Refund/${refundId}`, order_id: order.json.id, created_at: processed, processed_at: processed,
      note: req.note ?? null, user_id: null, restock: refundLines.some((l) => l.restock_type !== 'no_restock'),
      duties: [], total_duties_set: m.set(0n, 0n), additional_fees: [], return: null,
      refund_line_items: refundLines, transactions, order_adjustments: adjustments, refund_shipping_lines: shippingLines,
    };
    const { refund_line_items: rli, ...embedded } = clone(refund);
    order.json.refunds.push({ ...embedded, refund_line_items: rli.map(({ line_item: _omit, ...r }) => r) });
    this.emit('refunds/create', clone(refund));
    this.emitOrder('orders/updated', order);
    return { refund, userErrors: [] };
  }

  /** Merchant-side refund by line item id or SKU with the suggested amounts (as the admin's Refund button does). */
  refundOrder(orderId: number, opts: { lines?: { lineItemId?: number; sku?: string; quantity: number; restockType?: RestockType }[]; shipping?: RefundRequest['shipping']; note?: string } = {}) {
    const order = this.mustOrder(orderId);
    const all = order.lines.filter((l) => l.built.json.quantity > l.refunded).map((l) => ({ lineItemId: l.built.json.id as number, quantity: l.built.json.quantity - l.refunded, restockType: 'no_restock' as RestockType }));
    const wanted: { lineItemId?: number; sku?: string; quantity: number; restockType?: RestockType }[] = opts.lines ?? all;
    const lines = wanted
      .map((l) => {
        const ls = order.lines.find((x) => (l.lineItemId !== undefined ? x.built.json.id === l.lineItemId : x.built.json.sku === l.sku));
        return { lineItemId: (ls?.built.json.id as number | undefined) ?? -1, quantity: l.quantity, restockType: l.restockType ?? 'no_restock' };
      });
    return this.refund(orderId, { lines, shipping: opts.shipping ?? (opts.lines ? undefined : { fullRefund: true }), note: opts.note, transactions: 'suggested' });
  }

  /** Why an order cannot be cancelled now (empty when it can). */
  cancelErrors(orderId: number): UserError[] {
    const order = this.orders.get(orderId);
    if (!order) return [{ field: ['orderId'], message: 'Order does not exist.', code: 'NOT_FOUND' }];
    if (order.json.cancelled_at) return [{ field: ['orderId'], message: 'Order has already been cancelled.', code: 'INVALID' }];
    if (order.lines.some((l) => l.fulfilled > 0)) return [{ field: ['orderId'], message: 'Cannot cancel an order with fulfillments. Cancel the fulfillments first.', code: 'INVALID' }];
    return [];
  }

  cancelOrder(orderId: number, req: CancelRequest): UserError[] {
    const blocked = this.cancelErrors(orderId);
    if (blocked.length) return blocked;
    const order = this.mustOrder(orderId);
    const paid = order.json.financial_status === 'paid' || order.json.financial_status === 'partially_refunded' || order.json.financial_status === 'partially_paid';
    const restockType: RestockType = req.restock ? 'cancel' : 'no_restock';
    const remaining = order.lines.filter((l) => l.built.json.quantity > l.refunded)
      .map((l) => ({ lineItemId: l.built.json.id as number, quantity: l.built.json.quantity - l.refunded, restockType }));
    if (req.refund && paid) {
      const r = this.refund(orderId, { lines: remaining, shipping: { fullRefund: true }, note: req.staffNote ?? null, transactions: 'suggested' });
      if (r.userErrors.length) return r.userErrors;
    } else {
      // No money moves: the units still leave the fulfillment orders and stock is released.
      for (const l of remaining) {
        const ls = order.lines.find((x) => x.built.json.id === l.lineItemId)!;
        for (const fo of this.fulfillmentOrdersOf(orderId)) {
          const fl = fo.lines.find((x) => x.lineItemId === l.lineItemId);
          if (!fl || fl.remainingQuantity === 0) continue;
          if (ls.built.inventoryItemId !== undefined) {
            const d = fl.remainingQuantity;
            this.changeLevel(ls.built.inventoryItemId, fo.locationId, req.restock ? { committed: -d, available: +d } : { committed: -d, onHand: -d });
          }
          fl.remainingQuantity = 0;
        }
      }
      if (!paid) order.json.financial_status = 'voided';
    }
    const ms = this.touch(order);
    for (const fo of this.fulfillmentOrdersOf(orderId)) { fo.status = 'CLOSED'; fo.updatedMs = ms; }
    order.json.cancelled_at = this.rest(ms);
    order.json.closed_at = this.rest(ms);
    order.json.cancel_reason = req.reason.toLowerCase() as Order['cancel_reason'];
    for (const l of order.lines) l.built.json.fulfillable_quantity = 0;
    this.emitOrder('orders/cancelled', order);
    this.emitOrder('orders/updated', order);
    return [];
  }

  // ---------------------------------------------------------------- metafields

  setMetafields(list: { ownerId: string; namespace: string; key: string; type: string; value: string }[]): { metafields: MetafieldState[]; userErrors: UserError[] } {
    const errors: UserError[] = [];
    if (list.length > 25) return { metafields: [], userErrors: [{ field: ['metafields'], message: 'Exceeded the maximum metafields input limit of 25.', code: 'LESS_THAN_OR_EQUAL_TO' }] };
    const targets = list.map((m, i) => {
      const id = parseGid(m.ownerId, 'Order');
      const order = id === undefined ? undefined : this.orders.get(id);
      if (!order) errors.push({ field: ['metafields', String(i), 'ownerId'], message: 'Owner does not exist.', code: 'INVALID' });
      if (m.namespace.length < 3 || m.namespace.length > 255) errors.push({ field: ['metafields', String(i), 'namespace'], message: 'Namespace is too short (minimum is 3 characters).', code: 'TOO_SHORT' });
      if (m.key.length < 2 || m.key.length > 64) errors.push({ field: ['metafields', String(i), 'key'], message: 'Key must be between 2 and 64 characters.', code: 'INVALID' });
      if (!METAFIELD_TYPES.has(m.type)) errors.push({ field: ['metafields', String(i), 'type'], message: `Type '${m.type}' is not a valid metafield type.`, code: 'INVALID_TYPE' });
      return order;
    });
    if (errors.length) return { metafields: [], userErrors: errors };
    const ms = floorSecond(this.now());
    const out = list.map((m, i) => {
      const order = targets[i]!;
      let mf = order.metafields.find((x) => x.namespace === m.namespace && x.key === m.key);
      if (mf) Object.assign(mf, { type: m.type, value: m.value, updatedMs: ms });
      else order.metafields.push(mf = { id: this.nextId(), ownerId: order.json.admin_graphql_api_id!, namespace: m.namespace, key: m.key, type: m.type, value: m.value, createdMs: ms, updatedMs: ms });
      return mf;
    });
    // Writing a metafield changes the order, so Shopify sends orders/updated (REST payloads carry no metafields).
    for (const order of new Set(targets)) {
      this.touch(order!);
      this.emitOrder('orders/updated', order!);
    }
    return { metafields: out, userErrors: [] };
  }

  // ---------------------------------------------------------------- inventory

  setQuantities(input: { name: string; reason: string; referenceDocumentUri?: string | null; quantities: { inventoryItemId: string; locationId: string; quantity: number; changeFromQuantity?: number | null }[] }, requireChangeFrom: boolean): { group?: InventoryGroup; userErrors: UserError[] } {
    const errors: UserError[] = [];
    if (input.name !== 'available' && input.name !== 'on_hand') errors.push({ field: ['input', 'name'], message: "The quantity name must be either 'available' or 'on_hand'.", code: 'INVALID_NAME' });
    if (!REASONS.has(input.reason)) errors.push({ field: ['input', 'reason'], message: 'The specified reason is invalid.', code: 'INVALID_REASON' });
    if (input.quantities.length > 250) errors.push({ field: ['input', 'quantities'], message: 'The input array size of 251 is greater than the maximum allowed of 250.', code: 'INVALID_QUANTITY_TOO_HIGH' });
    const seen = new Set<string>();
    const plan = input.quantities.map((q, i) => {
      const f = ['input', 'quantities', String(i)];
      const item = parseGid(q.inventoryItemId, 'InventoryItem');
      const loc = parseGid(q.locationId, 'Location');
      if (item === undefined || !this.inventoryItems.has(item)) { errors.push({ field: [...f, 'inventoryItemId'], message: 'The specified inventory item could not be found.', code: 'INVALID_INVENTORY_ITEM' }); return undefined; }
      if (loc === undefined || !this.catalogue.locations.some((l) => l.shopifyLocationId === loc)) { errors.push({ field: [...f, 'locationId'], message: 'The specified location could not be found.', code: 'INVALID_LOCATION' }); return undefined; }
      const level = this.level(item, loc);
      if (!level) { errors.push({ field: [...f, 'locationId'], message: 'The specified inventory item is not stocked at the location.', code: 'ITEM_NOT_STOCKED_AT_LOCATION' }); return undefined; }
      if (seen.has(levelKey(item, loc))) errors.push({ field: [...f], message: 'The combination of inventoryItemId and locationId must be unique.', code: 'NO_DUPLICATE_INVENTORY_ITEM_ID_GROUP_ID_PAIR' });
      seen.add(levelKey(item, loc));
      if (!Number.isInteger(q.quantity) || q.quantity < -1_000_000_000 || q.quantity > 1_000_000_000) errors.push({ field: [...f, 'quantity'], message: 'The quantity is out of range.', code: 'INVALID_QUANTITY_TOO_HIGH' });
      const current = input.name === 'on_hand' ? level.onHand : level.available;
      if (!('changeFromQuantity' in q) || q.changeFromQuantity === undefined) {
        if (requireChangeFrom) errors.push({ field: [...f, 'changeFromQuantity'], message: 'changeFromQuantity is required; pass null to skip the check.', code: 'CHANGE_FROM_QUANTITY_REQUIRED' });
      } else if (q.changeFromQuantity !== null && q.changeFromQuantity !== current) {
        errors.push({ field: [...f, 'changeFromQuantity'], message: 'The changeFromQuantity value does not match persisted value.', code: 'CHANGE_FROM_QUANTITY_STALE' });
      }
      return { level, quantity: q.quantity, current };
    });
    if (errors.length) return { userErrors: errors };
    const changes: InventoryChange[] = [];
    for (const p of plan) {
      const { level, quantity, current } = p!;
      const delta = quantity - current;
      if (input.name === 'available') this.changeLevel(level.inventoryItemId, level.locationId, { available: delta, onHand: delta });
      else this.changeLevel(level.inventoryItemId, level.locationId, { available: delta, onHand: delta });
      changes.push({ name: input.name, delta, quantityAfterChange: quantity, inventoryItemId: level.inventoryItemId, locationId: level.locationId });
    }
    return { group: { id: this.nextId(), createdMs: this.now(), reason: input.reason, referenceDocumentUri: input.referenceDocumentUri ?? null, changes }, userErrors: [] };
  }

  inventoryLevelPayload(level: InventoryLevelState): InventoryLevel {
    return {
      inventory_item_id: level.inventoryItemId, location_id: level.locationId, available: level.available, updated_at: this.rest(level.updatedMs),
      admin_graphql_api_id: `gid://shopify/InventoryLevel/${level.locationId}?inventory_item_id=${level.inventoryItemId}`,
    };
  }

  // ---------------------------------------------------------------- internals

  private changeLevel(inventoryItemId: number, locationId: number, d: { available?: number; committed?: number; onHand?: number }, emit = true): void {
    const level = this.level(inventoryItemId, locationId);
    if (!level) return;
    level.available += d.available ?? 0;
    level.committed += d.committed ?? 0;
    level.onHand += d.onHand ?? 0;
    level.updatedMs = this.now();
    if (emit && (d.available ?? 0) !== 0) this.emit('inventory_levels/update', this.inventoryLevelPayload(level));
  }

  private locationOfLine(order: OrderState, ls: LineState): number {
    return this.locationByCode(ls.built.locationCode)?.shopifyLocationId ?? order.json.location_id as number ?? this.catalogue.locations[0]!.shopifyLocationId;
  }

  private refreshLineStatus(order: OrderState): void {
    let anyFulfilled = false;
    let allDone = true;
    for (const l of order.lines) {
      const current = l.built.json.quantity - l.refunded;
      const j: LineItem = l.built.json;
      j.current_quantity = current;
      j.fulfillable_quantity = Math.max(0, current - l.fulfilled);
      j.fulfillment_status = l.fulfilled === 0 ? null : l.fulfilled >= current ? 'fulfilled' : 'partial';
      if (l.fulfilled > 0) anyFulfilled = true;
      if (l.fulfilled < current) allDone = false;
    }
    order.json.fulfillment_status = !anyFulfilled ? null : allDone ? 'fulfilled' : 'partial';
  }

  /** Bumps updated_at; REST has second precision, so a second change in the same second moves it one second on. */
  private touch(order: OrderState): number {
    const ms = Math.max(floorSecond(this.now()), order.updatedMs + 1000);
    order.updatedMs = ms;
    order.json.updated_at = this.rest(ms);
    return ms;
  }

  private mustOrder(id: number): OrderState {
    const o = this.orders.get(id);
    if (!o) throw new RangeError(`unknown order ${id}`);
    return o;
  }

  private emitOrder(topic: string, order: OrderState): void {
    this.emit(topic, clone(order.json));
  }
}

export const levelKey = (item: number, loc: number) => `${item}@${loc}`;

/** "gid://shopify/Order/123" → 123 (undefined if the type differs or the id is not numeric). */
export function parseGid(gid: string, type: string): number | undefined {
  const m = /^gid:\/\/shopify\/([A-Za-z]+)\/(\d+)(?:\?.*)?$/.exec(gid);
  if (!m || m[1] !== type) return undefined;
  const n = Number(m[2]);
  return Number.isSafeInteger(n) ? n : undefined;
}

const splitTags = (s: string) => s.split(',').map((t) => t.trim()).filter(Boolean);
const uniqueTags = (tags: string[]) => [...new Set(tags.map((t) => t.trim()).filter(Boolean))];

const REASONS = new Set(['correction', 'cycle_count_available', 'damaged', 'movement_created', 'movement_updated', 'movement_received', 'movement_canceled', 'other', 'promotion', 'quality_control', 'received', 'reservation_created', 'reservation_deleted', 'reservation_updated', 'restock', 'safety_stock', 'shrinkage']);
const METAFIELD_TYPES = new Set(['single_line_text_field', 'multi_line_text_field', 'number_integer', 'number_decimal', 'boolean', 'json', 'date', 'date_time', 'url', 'id']);
