import { randomUUID } from 'crypto';
import { z } from 'zod';
import type { BcApi } from '../d365/bc-api';
import { anyOf } from '../checks/price-lookup';
import type { OrderJournal } from '../journal/journal';
import type { ShopifyAdminApi } from '../shopify/admin-api';
import { safetyStockLookup } from './gate-settings';
import { itemKey } from './keys';
import { MAX_QUANTITIES_PER_CALL, inventoryItemsBySku, readAvailable, setAvailable } from './shopify-inventory';
import type { SetQuantity } from './shopify-inventory';
import { readStockRows } from './stock';
import type { SyncRules } from './sync-settings';

export interface SyncDeps {
  rules: SyncRules;
  bc: () => BcApi;
  shopify: () => ShopifyAdminApi;
  journal: OrderJournal;
  /** Lease and cursor name, e.g. `inventory-sync:<node id>` (the same on every instance). */
  name: string;
  /** This instance, for the lease. */
  owner: string;
  leaseMs: number;
  /** How long the SKU → inventory item map is trusted before an unmatched SKU may refresh it. */
  skuMapMs?: number;
  /** Compare-and-set attempts per batch when Shopify's quantities moved behind our back. */
  attempts?: number;
  now?: () => number;
}

/** An item the run could not bring in line, for output 2. */
export interface FailedItem {
  sku: string;
  item: string;
  shopifyLocation: string;
  quantity: number;
  code: string;
  message: string;
}

export interface SyncReport {
  /** False when another instance holds the lease (nothing was done). */
  ran: boolean;
  /** Levels set in Shopify. */
  sent: number;
  /** Levels already at their target: as pushed last time, or (read from Shopify) already showing it. */
  unchanged: number;
  /** Stale compares recovered by re-reading Shopify's quantity. */
  stale: number;
  /** D365 items with no tracked Shopify inventory item for their SKU. */
  unmatched: number;
  /** Levels that failed (details in `failed`). */
  errors: number;
  /** inventorySetQuantities calls made. */
  calls: number;
  failed: FailedItem[];
}

interface Target {
  key: string;
  sku: string;
  item: string;
  inventoryItem: string;
  shopifyLocation: string;
  quantity: number;
}

const LastPushed = z.record(z.string(), z.number());

/**
 * Pushes D365 available-to-promise (stock − open sales-order demand − reservations in flight − safety
 * stock, never below 0) to Shopify's `available` per mapped location: compare-and-set with
 * changeFromQuantity, an idempotency key per call, at most 250 quantities per call, and only levels
 * whose target differs from what this sync pushed last (remembered in the journal).
 */
export class InventorySync {
  private skuMap?: { map: Map<string, string>; at: number };
  private readonly now: () => number;

  constructor(private readonly d: SyncDeps) {
    this.now = d.now ?? Date.now;
  }

  async run(): Promise<SyncReport> {
    const report: SyncReport = { ran: false, sent: 0, unchanged: 0, stale: 0, unmatched: 0, errors: 0, calls: 0, failed: [] };
    if (!(await this.d.journal.acquireLease(this.d.name, this.d.owner, this.d.leaseMs))) return report;
    report.ran = true;
    const targets = await this.targets(report);
    const raw = await this.d.journal.getCursor(this.d.name);
    const parsed = raw ? LastPushed.safeParse(safeJson(raw)) : undefined;
    const last: Record<string, number> = parsed?.success ? { ...parsed.data } : {};
    const changed = targets.filter((t) => last[t.key] !== t.quantity);
    report.unchanged = targets.length - changed.length;
    const batch = Math.min(this.d.rules.batchSize, MAX_QUANTITIES_PER_CALL);
    for (let i = 0; i < changed.length; i += batch) {
      await this.push(changed.slice(i, i + batch), last, report);
      await this.d.journal.setCursor(this.d.name, JSON.stringify(last));
    }
    return report;
  }

  /** Gives the lease back (on stop), so a restarted instance (a new owner) runs at once instead of standing by until it lapses. */
  release(): Promise<void> {
    return this.d.journal.releaseLease(this.d.name, this.d.owner);
  }

  /** What each Shopify level should show, for D365 items that have a tracked Shopify inventory item. */
  private async targets(report: SyncReport): Promise<Target[]> {
    const { rules } = this.d;
    const shopifyOf = new Map(rules.locations.map((l) => [l.d365Location, l.shopifyLocation]));
    const rows = await readStockRows(this.d.bc(), anyOf('locationCode', [...shopifyOf.keys()]));
    const sums = new Map<string, { item: string; shopifyLocation: string; atp: number }>();
    for (const r of rows) {
      const loc = r.locationCode.toUpperCase();
      const shopifyLocation = shopifyOf.get(loc);
      if (shopifyLocation === undefined) continue;
      const item = itemKey(r.itemNumber.toUpperCase(), r.variantCode.toUpperCase());
      const reserved = rules.subtractReservations ? await this.d.journal.reservedQuantity(item, loc) : 0;
      const k = `${item}\u0000${shopifyLocation}`;
      const s = sums.get(k) ?? { item, shopifyLocation, atp: 0 };
      s.atp += r.inventory - r.qtyOnSalesOrders - reserved;
      sums.set(k, s);
    }
    const bySku = new Map(rules.skuMapping.map((m) => [itemKey(m.itemNumber, m.variantCode), m.sku]));
    const skuOf = (item: string) => {
      const [number, variant] = item.split(':') as [string, string | undefined];
      return bySku.get(item) ?? (variant ? `${number}${rules.separator}${variant}` : number);
    };
    let map = await this.skuMapping(false);
    if ([...sums.values()].some((s) => !map.has(skuOf(s.item).toUpperCase()))) map = await this.skuMapping(true);
    const out: Target[] = [];
    const unmatched = new Set<string>();
    const safetyStockOf = safetyStockLookup(rules);
    for (const s of sums.values()) {
      const sku = skuOf(s.item);
      const inventoryItem = map.get(sku.toUpperCase());
      if (!inventoryItem) { unmatched.add(s.item); continue; }
      const quantity = Math.max(0, Math.floor(s.atp - safetyStockOf(s.item)));
      out.push({ key: `${inventoryItem}@${s.shopifyLocation}`, sku, item: s.item, inventoryItem, shopifyLocation: s.shopifyLocation, quantity });
    }
    report.unmatched = unmatched.size;
    return out;
  }

  /** The shop's SKU → inventory item map, read once and again (at most every skuMapMs) when a SKU is missing. */
  private async skuMapping(missing: boolean): Promise<Map<string, string>> {
    const age = this.skuMap ? this.now() - this.skuMap.at : Infinity;
    if (!this.skuMap || (missing && age >= (this.d.skuMapMs ?? 3_600_000))) {
      this.skuMap = { map: await inventoryItemsBySku(this.d.shopify()), at: this.now() };
    }
    return this.skuMap.map;
  }

  /** One batch: compare-and-set from what we pushed last (or what Shopify shows, when we never pushed). */
  private async push(batch: Target[], last: Record<string, number>, report: SyncReport): Promise<void> {
    const api = this.d.shopify();
    const fail = (t: Target, code: string, message: string) => {
      report.errors++;
      report.failed.push({ sku: t.sku, item: t.item, shopifyLocation: t.shopifyLocation, quantity: t.quantity, code, message });
    };
    const from = new Map<string, number>();
    const unknown = batch.filter((t) => last[t.key] === undefined);
    const reread = async (ts: Target[]) => {
      const now = await readAvailable(api, ts.map((t) => ({ item: t.inventoryItem, location: t.shopifyLocation })));
      ts.forEach((t, i) => (now[i] === null ? from.delete(t.key) : from.set(t.key, now[i]!)));
      return ts.filter((t, i) => {
        if (now[i] === null) { fail(t, 'ITEM_NOT_STOCKED_AT_LOCATION', `Shopify does not stock ${t.sku} at location ${t.shopifyLocation}`); return false; }
        // Already showing the target (Shopify sold or someone set it): nothing to send, remember it.
        if (now[i] === t.quantity) { last[t.key] = t.quantity; report.unchanged++; return false; }
        return true;
      });
    };
    for (const t of batch) if (last[t.key] !== undefined) from.set(t.key, last[t.key]!);
    let pending = batch.filter((t) => !unknown.includes(t));
    try {
      pending = [...pending, ...(await reread(unknown))];
      for (let attempt = 1; pending.length; attempt++) {
        const quantities: SetQuantity[] = pending.map((t) => ({ item: t.inventoryItem, location: t.shopifyLocation, quantity: t.quantity, changeFromQuantity: from.get(t.key)! }));
        report.calls++;
        const errors = await setAvailable(api, quantities, randomUUID());
        if (!errors.length) {
          for (const t of pending) last[t.key] = t.quantity;
          report.sent += pending.length;
          return;
        }
        // Shopify applied nothing: drop what cannot succeed, re-read what moved, and try again.
        const stale = new Set(errors.filter((e) => e.code === 'CHANGE_FROM_QUANTITY_STALE' && e.index !== undefined).map((e) => e.index!));
        const hard = errors.filter((e) => e.code !== 'CHANGE_FROM_QUANTITY_STALE');
        if (hard.some((e) => e.index === undefined) || attempt >= (this.d.attempts ?? 3)) {
          const why = hard.find((e) => e.index === undefined) ?? errors[0]!;
          for (const t of pending) fail(t, why.code, attempt >= (this.d.attempts ?? 3) && !hard.length ? `Shopify's quantity kept changing (${attempt} attempts): ${why.message}` : why.message);
          return;
        }
        const badAt = new Map(hard.map((e) => [e.index!, e]));
        pending.forEach((t, i) => { const e = badAt.get(i); if (e) fail(t, e.code, e.message); });
        const moved = pending.filter((_, i) => stale.has(i));
        report.stale += moved.length;
        const still = await reread(moved);
        pending = pending.filter((t, i) => !badAt.has(i) && (!stale.has(i) || still.includes(t)));
      }
    } catch (e) {
      // Throttled or down after the client's retries: this batch waits for the next run.
      const reported = new Set(report.failed.map((f) => `${f.sku}@${f.shopifyLocation}`));
      for (const t of batch) {
        if (last[t.key] !== t.quantity && !reported.has(`${t.sku}@${t.shopifyLocation}`)) fail(t, 'SHOPIFY_UNAVAILABLE', (e as Error).message);
      }
    }
  }
}

function safeJson(s: string): unknown {
  try { return JSON.parse(s); } catch { return undefined; }
}
