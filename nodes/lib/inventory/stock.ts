import { z } from 'zod';
import { formatZodError } from '../contract';
import type { BcApi } from '../d365/bc-api';
import { LookupCache } from '../d365/cache';
import { anyOf } from '../checks/price-lookup';
import { itemKey } from './keys';

/** The companion extension's API route that serves per-location availability. */
export const COMPANION_API = 'shopifyD365/integration/v1.0';
export const AVAILABILITY_SET = 'locationAvailabilities';

/** One row of `locationAvailabilities`: stock and open sales-order demand of an item (variant) at a location. */
export const StockRow = z.object({
  itemNumber: z.string(),
  variantCode: z.string().default(''),
  locationCode: z.string().default(''),
  inventory: z.number().finite(),
  qtyOnSalesOrders: z.number().finite().default(0),
});
export type StockRow = z.infer<typeof StockRow>;
const StockRows = z.array(StockRow);

/** What D365 says about one item key at one location. */
export interface StockFigure {
  inventory: number;
  onSalesOrders: number;
}

/** Stock of one item number (all its variants): item key → location code → figure. */
export interface ItemStock {
  byKey: Map<string, Map<string, StockFigure>>;
  /** When D365 was read (epoch ms). */
  readAt: number;
  /** Which fetch of the reader produced it (see StockReader.fetches). */
  fetch: number;
}

/** Rows → item key → location → figure (a repeated row adds up, as BC would sum ledger entries). */
export function groupStock(rows: readonly StockRow[], readAt: number, fetch = 0): Map<string, ItemStock> {
  const out = new Map<string, ItemStock>();
  for (const r of rows) {
    const number = r.itemNumber.toUpperCase();
    const item = out.get(number) ?? { byKey: new Map(), readAt, fetch };
    out.set(number, item);
    const key = itemKey(number, r.variantCode.toUpperCase());
    const locs = item.byKey.get(key) ?? new Map<string, StockFigure>();
    item.byKey.set(key, locs);
    const loc = r.locationCode.toUpperCase();
    const prev = locs.get(loc) ?? { inventory: 0, onSalesOrders: 0 };
    locs.set(loc, { inventory: prev.inventory + r.inventory, onSalesOrders: prev.onSalesOrders + r.qtyOnSalesOrders });
  }
  return out;
}

/** Reads and validates availability rows; a malformed reply is an error that names the field, not a NaN later. */
export async function readStockRows(bc: BcApi, filter?: string): Promise<StockRow[]> {
  const rows = await bc.list(AVAILABILITY_SET, {
    filter, select: ['itemNumber', 'variantCode', 'locationCode', 'inventory', 'qtyOnSalesOrders'],
  }, { api: COMPANION_API });
  const parsed = StockRows.safeParse(rows);
  if (!parsed.success) throw new Error(`D365 ${AVAILABILITY_SET} returned unexpected data: ${formatZodError(parsed.error)}`);
  return parsed.data;
}

/**
 * D365 stock per item number behind a short-lived cache: all items of an order in one request (an OR
 * filter, `chunk` items per request), and a way to bypass the cache for items close to zero.
 */
export class StockReader {
  private readonly cache: LookupCache<ItemStock>;
  private readonly chunk: number;
  private readonly now: () => number;
  /** Fetches made so far: an answer with a higher number than a caller noted before reading is fresh. */
  fetches = 0;

  constructor(private readonly bc: () => BcApi, opts: { ttlMs: number; max?: number; chunk?: number; now?: () => number }) {
    this.cache = new LookupCache({ ttlMs: opts.ttlMs, max: opts.max ?? 5000 });
    this.chunk = opts.chunk ?? 20;
    this.now = opts.now ?? Date.now;
  }

  /** Stock of the item numbers (upper case) when every one is cached, else undefined: the warm path, no promise. */
  cached(itemNumbers: readonly string[]): Map<string, ItemStock> | undefined {
    return this.cache.peekMany(itemNumbers);
  }

  /** Stock of the item numbers; `fresh` ones are re-read from D365 whatever the cache holds. */
  async read(itemNumbers: Iterable<string>, fresh: Iterable<string> = []): Promise<Map<string, ItemStock>> {
    for (const n of fresh) this.cache.delete(n.toUpperCase());
    const wanted = [...new Set([...itemNumbers].map((n) => n.toUpperCase()))];
    return this.cache.getMany(wanted, async (missing) => {
      const readAt = this.now();
      const fetch = ++this.fetches;
      const parts: string[][] = [];
      for (let i = 0; i < missing.length; i += this.chunk) parts.push(missing.slice(i, i + this.chunk));
      const rows = (await Promise.all(parts.map((p) => readStockRows(this.bc(), anyOf('itemNumber', p))))).flat();
      const found = groupStock(rows, readAt, fetch);
      // Items D365 has no row for are answered (and cached) as empty, stamped with this fetch too.
      for (const n of missing) if (!found.has(n)) found.set(n, { byKey: new Map(), readAt, fetch });
      return found;
    }, { byKey: new Map(), readAt: 0, fetch: 0 });
  }
}
