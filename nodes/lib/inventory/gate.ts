import { z } from 'zod';
import { ErpLine, Refund, ShopifyId, formatZodError } from '../contract';
import type { Erp, FindingInput, Order, OrderMessage } from '../contract';
import type { OrderJournal } from '../journal/journal';
import type { CheckOutcome } from '../node-red/check-node';
import { d365Unavailable } from '../checks/price-lookup';
import { allocate } from './allocate';
import type { Allocation, DemandLine, Place } from './allocate';
import { safetyStockOf } from './gate-settings';
import type { GateRules } from './gate-settings';
import { itemKey, orderKey, shopifyLocationId } from './keys';
import type { ItemStock, StockReader } from './stock';

type Finding = Omit<FindingInput, 'check'>;

export interface GateDeps {
  rules: GateRules;
  stock: StockReader;
  journal: OrderJournal;
  /** The D365 connection's dry-run switch, read per order: decide where lines would ship from, reserve nothing. */
  dryRun?: () => boolean;
  /** Attempts when another order wins a race for the same units between reading and reserving. */
  attempts?: number;
}

/** Where the gate files which line went to which item and location, so a refund can release by line. */
export const lineMapCursor = (key: string): string => `inventory-gate:lines:${key}`;

const LineMap = z.array(z.object({ lineItemId: z.string(), item: z.string(), location: z.string(), quantity: z.number() }));
type LineMap = z.infer<typeof LineMap>;

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
  private readonly attempts: number;

  constructor(private readonly d: GateDeps) {
    this.attempts = d.attempts ?? 3;
  }

  async check(order: Order, msg: OrderMessage): Promise<CheckOutcome> {
    const shop = msg.shopify?.shop;
    if (!shop) return notChecked('msg.shopify.shop is missing, so the reservation cannot be filed under the order; the message must come from shopify-trigger (or set msg.shopify.shop)');
    const key = orderKey(shop, order.id);
    if (order.cancelled_at) {
      await releaseOrder(this.d.journal, key);
      return { findings: [{ code: 'INVENTORY_NOT_RESERVED', severity: 'info', message: 'the order is cancelled; its reservation (if any) was released' }] };
    }
    const rec = await this.d.journal.getOrder(shop, String(order.id));
    if (rec && NOT_RESERVABLE.has(rec.state)) {
      return { findings: [{ code: 'INVENTORY_NOT_RESERVED', severity: 'info', message: `the order is ${rec.state} in the journal: ${rec.state === 'cancelled' ? 'nothing to promise' : 'its units count as D365 sales-order demand'}, so nothing was reserved` }] };
    }
    const built = demandLines(order, msg.erp);
    if ('notChecked' in built) return notChecked(built.notChecked);
    if (built.findings.length) return { findings: built.findings };
    const { lines } = built;

    const numbers = new Set(lines.map((l) => l.item.split(':')[0]!));
    let fresh: string[] = [];
    for (let attempt = 1; ; attempt++) {
      let stock: Map<string, ItemStock>;
      const before = this.d.stock.fetches;
      try {
        stock = await this.d.stock.read(numbers, fresh);
      } catch (e) {
        return { findings: [d365Unavailable(e, 'D365 stock lookup')] };
      }
      const alloc = await this.allocate(key, lines, stock);
      // Figures close to zero (or short) from the cache are re-read once before promising or refusing.
      const stale = [...alloc.tight].map((i) => i.split(':')[0]!).filter((n) => (stock.get(n)?.fetch ?? 0) <= before);
      if (stale.length && !fresh.length) {
        fresh = [...new Set(stale)];
        continue;
      }
      if (alloc.blocked) return { findings: alloc.findings };
      // A dry-run flow never creates the sales order whose writer would give the units back.
      if (this.d.dryRun?.()) return { findings: [...alloc.findings, wouldReserve(alloc)], erp: { lines: withLocations(msg.erp!.lines!, alloc) } };
      const r = await this.d.journal.reserve(key, alloc.reservations);
      if (r.ok) {
        await this.d.journal.setCursor(lineMapCursor(key), JSON.stringify(lineMap(lines, alloc)));
        return { findings: alloc.findings, erp: { lines: withLocations(msg.erp!.lines!, alloc) } };
      }
      // Another order reserved the same units between our read and our reservation: decide again.
      if (attempt >= this.attempts) {
        return {
          findings: r.shortfalls.map((s) => ({
            code: 'INSUFFICIENT_STOCK', severity: 'error' as const,
            message: `item ${s.item}: ${s.requested} requested at ${s.location || '(blank location)'}, only ${s.available} left after orders reserved at the same moment`,
          })),
        };
      }
      fresh = [];
    }
  }

  private async allocate(key: string, lines: DemandLine[], stock: Map<string, ItemStock>): Promise<Allocation> {
    const { rules, journal } = this.d;
    const own = new Map((await journal.reservationsOf(key)).map((r) => [`${r.item}\u0000${r.location}`, r.quantity]));
    const figures = (item: string) => stock.get(item.split(':')[0]!)?.byKey.get(item);
    const unstocked = new Set(lines.filter((l) => !figures(l.item)?.size).map((l) => l.item));
    const stockedLocations = [...new Set(lines.flatMap((l) => [...(figures(l.item)?.keys() ?? [])]))];
    const candidates = rules.locations.length ? [...new Set(rules.locations.map((r) => r.d365Location))] : stockedLocations;
    const places = new Map<string, Place>();
    for (const item of new Set(lines.map((l) => l.item))) {
      for (const loc of candidates) {
        const f = figures(item)?.get(loc);
        const k = `${item}\u0000${loc}`;
        const reserved = await journal.reservedQuantity(item, loc);
        places.set(k, {
          inventory: f?.inventory ?? 0, onSalesOrders: f?.onSalesOrders ?? 0, safety: safetyStockOf(rules, item),
          reservedByOthers: Math.max(0, reserved - (own.get(k) ?? 0)),
        });
      }
    }
    const none: Place = { inventory: 0, onSalesOrders: 0, safety: 0, reservedByOthers: 0 };
    return allocate({
      lines, rules, stockedLocations, unstocked,
      place: (item, loc) => places.get(`${item}\u0000${loc}`) ?? { ...none, safety: safetyStockOf(rules, item) },
    });
  }

  /**
   * Releases what a cancellation or restocking refund gives back: all of a cancelled order's
   * reservation; a refund's restocked quantities per line (as filed when the order was reserved).
   */
  async release(topic: string, msg: OrderMessage): Promise<ReleaseResult> {
    const shop = msg.shopify?.shop;
    if (!shop) throw new Error(`${topic}: msg.shopify.shop is missing, so the order's reservation cannot be found`);
    if (topic === 'orders/cancelled') {
      const p = z.looseObject({ id: ShopifyId }).safeParse(msg.payload);
      if (!p.success) throw new Error(`orders/cancelled: msg.payload is not a Shopify order: ${formatZodError(p.error)}`);
      const key = orderKey(shop, p.data.id);
      return { orderKey: key, released: await releaseOrder(this.d.journal, key) };
    }
    const p = Refund.safeParse(msg.payload);
    if (!p.success) throw new Error(`refunds/create: msg.payload is not a Shopify refund: ${formatZodError(p.error)}`);
    const key = orderKey(shop, p.data.order_id);
    const restocked = p.data.refund_line_items.filter((l) => RESTOCKING.has(l.restock_type));
    if (!restocked.length) return { orderKey: key, released: 0 };
    const raw = await this.d.journal.getCursor(lineMapCursor(key));
    const filed = raw ? LineMap.safeParse(safeJson(raw)) : undefined;
    if (!filed?.success) return { orderKey: key, released: 0 };
    const quantities = restocked.flatMap((l) => {
      const line = filed.data.find((f) => f.lineItemId === String(l.line_item_id));
      return line ? [{ item: line.item, location: line.location, quantity: l.quantity }] : [];
    });
    if (!quantities.length) return { orderKey: key, released: 0 };
    const released = await this.d.journal.release(key, quantities);
    // With nothing left reserved no later refund can release by line: the line map row goes too.
    if (!(await this.d.journal.reservationsOf(key)).length) await this.d.journal.deleteCursor(lineMapCursor(key));
    return { orderKey: key, released };
  }
}

/**
 * Releases all of an order's reservation and deletes its line map (one cursor row per order would
 * otherwise stay forever). Also used by the order writer once the order is D365 demand.
 */
export async function releaseOrder(journal: OrderJournal, key: string): Promise<number> {
  const released = await journal.release(key);
  await journal.deleteCursor(lineMapCursor(key));
  return released;
}

function notChecked(why: string): CheckOutcome {
  return { findings: [{ code: 'INVENTORY_NOT_CHECKED', severity: 'error', message: why }] };
}

/** The lines to promise: msg.erp.lines (item numbers from the SKU validator) joined to the order's lines. */
function demandLines(order: Order, erp: Erp | undefined): { lines: DemandLine[]; findings: Finding[] } | { notChecked: string } {
  const raw: unknown = erp?.lines;
  if (!Array.isArray(raw)) {
    return { notChecked: 'msg.erp.lines is missing: run the SKU validator (d365-sku-validator) before the inventory gate so each line has its D365 item number' };
  }
  const findings: Finding[] = [];
  const lines: DemandLine[] = [];
  raw.forEach((candidate: unknown, i) => {
    const p = ErpLine.safeParse(candidate);
    if (!p.success) {
      findings.push({ code: 'ERP_LINE_INVALID', severity: 'error', path: `erp.lines[${i}]`, message: `msg.erp.lines[${i}] is not a valid line: ${formatZodError(p.error)}` });
      return;
    }
    const el = p.data;
    if (!el.itemNumber) return; // the SKU validator already reported why this line has no item
    const index = order.line_items.findIndex((li) => String(li.id) === el.lineItemId);
    const li = order.line_items[index];
    const item = itemKey(el.itemNumber.toUpperCase(), el.variantCode?.toUpperCase());
    const loc = li?.location_id ?? order.location_id;
    lines.push({
      index: index >= 0 ? index : i, lineItemId: el.lineItemId, item, quantity: el.quantity,
      label: `line ${(index >= 0 ? index : i) + 1} (${li?.sku ? `SKU ${li.sku}, ` : ''}item ${item})`,
      shopifyLocation: loc === null || loc === undefined ? undefined : shopifyLocationId(loc),
    });
  });
  return { lines, findings };
}

function wouldReserve(alloc: Allocation): Finding {
  const what = alloc.reservations.map((r) => `${r.quantity} × ${r.item} at ${r.location || '(blank location)'}`).join(', ');
  return { code: 'INVENTORY_NOT_RESERVED', severity: 'info', message: `dry run (the D365 connection writes nothing): ${what ? `would reserve ${what}` : 'nothing to reserve'}; nothing was reserved` };
}

function withLocations(lines: readonly ErpLine[], alloc: Allocation): ErpLine[] {
  return lines.map((l) => {
    const location = alloc.locations.get(l.lineItemId);
    return location === undefined ? l : { ...l, locationCode: location };
  });
}

function lineMap(lines: readonly DemandLine[], alloc: Allocation): LineMap {
  return lines.flatMap((l) => {
    const location = alloc.locations.get(l.lineItemId);
    return location === undefined ? [] : [{ lineItemId: l.lineItemId, item: l.item, location, quantity: l.quantity }];
  });
}

function safeJson(s: string): unknown {
  try { return JSON.parse(s); } catch { return undefined; }
}
