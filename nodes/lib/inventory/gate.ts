import { z } from 'zod';
import { ErpLine, Refund, ShopifyId, formatZodError } from '../contract';
import type { Erp, FindingInput, Order, OrderMessage } from '../contract';
import type { OrderJournal, ReservationLine, ReservationTx, ReservedLine } from '../journal/journal';
import { placeKey } from '../journal/reservation-ledger';
import type { CheckOutcome } from '../node-red/check-node';
import { d365Unavailable } from '../checks/price-lookup';
import { allocate } from './allocate';
import type { Allocation, DemandLine, Place } from './allocate';
import { safetyStockLookup } from './gate-settings';
import type { GateRules } from './gate-settings';
import { itemKey, orderKey, shopifyLocationId } from './keys';
import type { ItemStock, StockFigure, StockReader } from './stock';

type Finding = Omit<FindingInput, 'check'>;

export interface GateDeps {
  rules: GateRules;
  stock: StockReader;
  journal: OrderJournal;
  /** The D365 connection's dry-run switch, read per order: decide where lines would ship from, reserve nothing. */
  dryRun?: () => boolean;
}

/** What a cancellation needs of orders/cancelled: the order id. */
const CancelledOrder = z.looseObject({ id: ShopifyId });

/** Journal states in which the order already is D365 demand (or never will be): nothing to reserve. */
const NOT_RESERVABLE = new Set(['creating', 'created', 'closed', 'cancelled']);

/** Refund restock types that put units back: `cancel` (never shipped), `return`, `legacy_restock`. */
const RESTOCKING = new Set(['cancel', 'return', 'legacy_restock']);

export interface ReleaseResult {
  orderKey: string;
  released: number;
}

/**
 * The inventory gate's decisions: available to promise per item and location (D365 stock − open
 * sales-order demand − reservations of other orders in flight − safety stock), the location choice,
 * an all-or-nothing reservation in the journal, and releases on cancellation/refund.
 */
export class InventoryGate {
  private readonly safetyStockOf: (item: string) => number;

  constructor(private readonly d: GateDeps) {
    this.safetyStockOf = safetyStockLookup(d.rules);
  }

  check(order: Order, msg: OrderMessage): Promise<CheckOutcome> {
    const shop = msg.shopify?.shop;
    if (!shop) return Promise.resolve(notChecked('msg.shopify.shop is missing, so the reservation cannot be filed under the order; the message must come from shopify-trigger (or set msg.shopify.shop)'));
    const key = orderKey(shop, order.id);
    if (order.cancelled_at) {
      return this.d.journal.release(key).then(() => ({ findings: [{ code: 'INVENTORY_NOT_RESERVED', severity: 'info', message: 'the order is cancelled; its reservation (if any) was released' }] }));
    }
    const built = demandLines(order, msg.erp);
    const numbers: string[] = [];
    if ('lines' in built) for (const l of built.lines) if (!numbers.includes(l.number)) numbers.push(l.number);
    // Warm stock cache (the usual case): the figures without a promise, then one journal transaction.
    const before = this.d.stock.fetches;
    const stock = numbers.length ? this.d.stock.cached(numbers) : NO_STOCK;
    if (!stock) return this.readAndDecide(shop, order, key, built, numbers, msg.erp, []);
    return this.inTransaction(shop, order, key, built, stock, before)
      .then((step) => ('reread' in step ? this.readAndDecide(shop, order, key, built, numbers, msg.erp, step.reread) : located(step, msg.erp)));
  }

  /** Reads D365 stock (`fresh` item numbers whatever the cache holds) and decides; once more if the decision asks to re-read. */
  private async readAndDecide(shop: string, order: Order, key: string, built: ReturnType<typeof demandLines>, numbers: string[],
    erp: Erp | undefined, fresh: string[]): Promise<CheckOutcome> {
    for (;;) {
      const before = this.d.stock.fetches;
      let stock = NO_STOCK;
      if (numbers.length) {
        try {
          stock = await this.d.stock.read(numbers, fresh);
        } catch (e) {
          return { findings: [d365Unavailable(e, 'D365 stock lookup')] };
        }
      }
      const step = await this.inTransaction(shop, order, key, built, stock, fresh.length === 0 ? before : undefined);
      if (!('reread' in step)) return located(step, erp);
      fresh = step.reread;
    }
  }

  /** Reads, decides and reserves in one journal transaction: no other order can take the units between. */
  private inTransaction(shop: string, order: Order, key: string, built: ReturnType<typeof demandLines>, stock: ReadonlyMap<string, ItemStock>,
    staleBefore: number | undefined): Promise<Decision | { reread: string[] }> {
    return this.d.journal.reservationTransaction((tx) => this.decide(tx, shop, order, key, built, stock, staleBefore));
  }

  /**
   * The gate's decision for one order, synchronously inside a journal transaction. `staleBefore`: a
   * figure close to zero (or short) fetched before that fetch count is re-read once before promising
   * or refusing — the answer is then `{ reread }` and nothing is written.
   */
  private decide(tx: ReservationTx, shop: string, order: Order, key: string, built: ReturnType<typeof demandLines>,
    stock: ReadonlyMap<string, ItemStock>, staleBefore: number | undefined): Decision | { reread: string[] } {
    const state = tx.orderState(shop, String(order.id));
    if (state && NOT_RESERVABLE.has(state)) {
      return { findings: [{ code: 'INVENTORY_NOT_RESERVED', severity: 'info', message: `the order is ${state} in the journal: ${state === 'cancelled' ? 'nothing to promise' : 'its units count as D365 sales-order demand'}, so nothing was reserved` }] };
    }
    if ('notChecked' in built) return notChecked(built.notChecked);
    if (built.findings.length) return { findings: built.findings };
    const { lines } = built;
    const ownRows = tx.reservationsOf(key);
    const own = ownRows.length ? placeMap(ownRows) : undefined;
    // Per item key, once: its D365 figures by location and the fetch they came from.
    const items = new Map<string, { number: string; figures: Map<string, StockFigure> | undefined; stock: ItemStock | undefined }>();
    const stocked = new Set<string>();
    const unstocked = new Set<string>();
    for (const l of lines) {
      if (items.has(l.item)) continue;
      const s = stock.get(l.number);
      const figures = s?.byKey.get(l.item);
      items.set(l.item, { number: l.number, figures, stock: s });
      if (figures?.size) for (const loc of figures.keys()) stocked.add(loc);
      else unstocked.add(l.item);
    }
    const readAt = (item: string) => items.get(item)?.stock?.readAt ?? 0;
    // allocate() asks for the same item + location several times (each candidate location, then the limit).
    const places = new Map<string, Map<string, Place>>();
    const alloc = allocate({
      lines, rules: this.d.rules, stockedLocations: [...stocked], unstocked,
      place: (item, loc) => {
        let byLoc = places.get(item);
        if (!byLoc) places.set(item, (byLoc = new Map()));
        let p = byLoc.get(loc);
        if (p) return p;
        // What other orders hold that the (possibly cached) D365 figure does not include yet.
        const total = tx.reservedQuantity(item, loc, readAt(item));
        const f = items.get(item)?.figures?.get(loc);
        byLoc.set(loc, p = {
          inventory: f?.inventory ?? 0, onSalesOrders: f?.onSalesOrders ?? 0, safety: this.safetyStockOf(item),
          reservedByOthers: Math.max(0, total - (own?.get(placeKey(item, loc)) ?? 0)),
        });
        return p;
      },
    });
    if (staleBefore !== undefined) {
      const stale = new Set<string>();
      for (const item of alloc.tight) {
        const i = items.get(item)!; // tight items are the order's own
        if ((i.stock?.fetch ?? 0) <= staleBefore) stale.add(i.number);
      }
      if (stale.size) return { reread: [...stale] };
    }
    if (alloc.blocked) return { findings: alloc.findings };
    // A dry-run flow never creates the sales order whose writer would give the units back.
    if (this.d.dryRun?.()) return { findings: [...alloc.findings, wouldReserve(alloc)], locations: alloc.locations };
    const outcome = { findings: alloc.findings, locations: alloc.locations };
    // A re-checked order (orders/updated, a released hold) usually holds this very reservation already
    // (the same units per item + location, for the same lines): then nothing is written.
    if (!(own && sameReservation(own, alloc.reservations) && sameLines(tx.reservedLines(key), alloc.reservations))) {
      for (const r of alloc.reservations) r.stockReadAt = readAt(r.item);
      const r = tx.reserve(key, alloc.reservations);
      // Cannot fail with the figures just read in this transaction; if it does, it says why.
      if (!r.ok) {
        return {
          findings: r.shortfalls.map((sf) => ({
            code: 'INSUFFICIENT_STOCK', severity: 'error' as const,
            message: `item ${sf.item}: ${sf.requested} requested at ${sf.location || '(blank location)'}, only ${sf.available} left`,
          })),
        };
      }
    }
    return outcome;
  }

  /**
   * Releases what a cancellation or restocking refund gives back: all of a cancelled order's
   * reservation; a refund's restocked quantities per line (as filed when the order was reserved).
   */
  async release(topic: string, msg: OrderMessage): Promise<ReleaseResult> {
    const shop = msg.shopify?.shop;
    if (!shop) throw new Error(`${topic}: msg.shopify.shop is missing, so the order's reservation cannot be found`);
    if (topic === 'orders/cancelled') {
      const p = CancelledOrder.safeParse(msg.payload);
      if (!p.success) throw new Error(`orders/cancelled: msg.payload is not a Shopify order: ${formatZodError(p.error)}`);
      const key = orderKey(shop, p.data.id);
      return { orderKey: key, released: await this.d.journal.release(key) };
    }
    const p = Refund.safeParse(msg.payload);
    if (!p.success) throw new Error(`refunds/create: msg.payload is not a Shopify refund: ${formatZodError(p.error)}`);
    const key = orderKey(shop, p.data.order_id);
    const restocked = p.data.refund_line_items.filter((l) => RESTOCKING.has(l.restock_type));
    if (!restocked.length) return { orderKey: key, released: 0 };
    const filed = await this.d.journal.reservedLines(key);
    const quantities = restocked.flatMap((l) => {
      const line = filed.find((f) => f.lineItemId === String(l.line_item_id));
      return line ? [{ item: line.item, location: line.location, quantity: l.quantity }] : [];
    });
    if (!quantities.length) return { orderKey: key, released: 0 };
    return { orderKey: key, released: await this.d.journal.release(key, quantities) };
  }
}


const NO_STOCK: ReadonlyMap<string, ItemStock> = new Map();

/** An order's reservation rows by item + location. */
function placeMap(rows: readonly { item: string; location: string; quantity: number }[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const r of rows) {
    const k = placeKey(r.item, r.location);
    m.set(k, (m.get(k) ?? 0) + r.quantity);
  }
  return m;
}

/** Whether the journal files the same units per Shopify line as these reservations would. */
function sameLines(held: readonly ReservedLine[], wanted: readonly ReservationLine[]): boolean {
  const want = wanted.filter((w) => w.quantity > 0 && w.lineItemId !== undefined);
  if (want.length !== held.length) return false;
  return want.every((w) => held.some((h) => h.lineItemId === w.lineItemId && h.item === w.item && h.location === w.location && h.quantity === w.quantity));
}

/** Whether the order's rows (by item + location, see placeMap) hold exactly these quantities, as reserve() would file them: summed per item + location, zeros dropped. */
function sameReservation(have: ReadonlyMap<string, number>, wanted: readonly ReservationLine[]): boolean {
  const want = placeMap(wanted.filter((w) => w.quantity > 0));
  if (want.size !== have.size) return false;
  for (const [k, q] of want) if (have.get(k) !== q) return false;
  return true;
}

function notChecked(why: string): CheckOutcome {
  return { findings: [{ code: 'INVENTORY_NOT_CHECKED', severity: 'error', message: why }] };
}

/** What the gate reads of a msg.erp.lines entry (the order writer validates the rest). */
const DemandErpLine = ErpLine.pick({ lineItemId: true, quantity: true, itemNumber: true, variantCode: true });
type DemandErpLine = z.infer<typeof DemandErpLine>;

/**
 * Whether DemandErpLine accepts `v` as it is (every field it reads of the right type), checked without
 * the copy a parse makes; anything else goes through the schema, which says what is wrong.
 */
export function isDemandErpLine(v: unknown): v is DemandErpLine {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const l = v as Record<string, unknown>;
  return typeof l.lineItemId === 'string' && typeof l.quantity === 'number' && Number.isSafeInteger(l.quantity) && l.quantity > 0
    && (l.itemNumber === undefined || typeof l.itemNumber === 'string') && (l.variantCode === undefined || typeof l.variantCode === 'string');
}

/** A line to promise, with its D365 item number (upper case), under which the stock figures are read. */
type GateLine = DemandLine & { number: string };

/** The lines to promise: msg.erp.lines (item numbers from the SKU validator) joined to the order's lines. */
function demandLines(order: Order, erp: Erp | undefined): { lines: GateLine[]; findings: Finding[] } | { notChecked: string } {
  const raw: unknown = erp?.lines;
  if (!Array.isArray(raw)) {
    return { notChecked: 'msg.erp.lines is missing: run the SKU validator (d365-sku-validator) before the inventory gate so each line has its D365 item number' };
  }
  const findings: Finding[] = [];
  const lines: GateLine[] = [];
  for (let i = 0; i < raw.length; i++) {
    let el: DemandErpLine;
    if (isDemandErpLine(raw[i])) el = raw[i];
    else {
      const p = DemandErpLine.safeParse(raw[i]);
      if (!p.success) {
        findings.push({ code: 'ERP_LINE_INVALID', severity: 'error', path: `erp.lines[${i}]`, message: `msg.erp.lines[${i}] is not a valid line: ${formatZodError(p.error)}` });
        continue;
      }
      el = p.data;
    }
    if (!el.itemNumber) continue; // the SKU validator already reported why this line has no item
    const index = order.line_items.findIndex((li) => String(li.id) === el.lineItemId);
    const li = order.line_items[index];
    const number = el.itemNumber.toUpperCase();
    const loc = li?.location_id ?? order.location_id;
    lines.push({
      index: index >= 0 ? index : i, lineItemId: el.lineItemId, number, item: itemKey(number, el.variantCode?.toUpperCase()), quantity: el.quantity,
      sku: li?.sku ?? undefined, shopifyLocation: loc === null || loc === undefined ? undefined : shopifyLocationId(loc),
    });
  }
  return { lines, findings };
}

function wouldReserve(alloc: Allocation): Finding {
  const what = alloc.reservations.map((r) => `${r.quantity} × ${r.item} at ${r.location || '(blank location)'}`).join(', ');
  return { code: 'INVENTORY_NOT_RESERVED', severity: 'info', message: `dry run (the D365 connection writes nothing): ${what ? `would reserve ${what}` : 'nothing to reserve'}; nothing was reserved` };
}

/** The gate's decision: findings and, when the order was placed, the D365 location per Shopify line item id. */
interface Decision { findings: Finding[]; locations?: ReadonlyMap<string, string> }

/**
 * The decision as the check's outcome: each msg.erp line placed gets its D365 location, in place (as the
 * checks fill msg.erp), once the transaction is over: a group commit may run decide() twice.
 */
function located(d: Decision, erp: Erp | undefined): CheckOutcome {
  const lines = erp?.lines;
  if (!d.locations || !lines) return { findings: d.findings };
  for (const l of lines) {
    const location = d.locations.get(l.lineItemId);
    if (location !== undefined) l.locationCode = location;
  }
  return { findings: d.findings, erp: { lines } };
}
