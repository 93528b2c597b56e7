// In-memory stand-ins for the gate's D365 stock source, so the gate logic and the reservation property
// can run without a simulator. The simulator-backed tests use the real client.
import { readFileSync } from 'fs';
import path from 'path';
import { Order } from '../../nodes/lib/contract';
import type { BcApi, ODataQuery, BcRequestOptions } from '../../nodes/lib/d365/bc-api';
import type { StockRow } from '../../nodes/lib/inventory/stock';

/** Answers `locationAvailabilities` with an `itemNumber eq 'A' or …` filter from a mutable row list; counts requests. */
export class FakeStockApi {
  calls: { filter?: string; api?: string }[] = [];
  fail?: Error;
  constructor(public rows: StockRow[]) {}

  asBcApi(): BcApi {
    const list = async (entitySet: string, query?: ODataQuery, opts?: BcRequestOptions) => {
      if (entitySet !== 'locationAvailabilities') throw new Error(`unexpected entity set ${entitySet}`);
      this.calls.push({ filter: query?.filter, api: opts?.api });
      if (this.fail) throw this.fail;
      const wanted = query?.filter ? [...query.filter.matchAll(/itemNumber eq '((?:[^']|'')*)'/g)].map((m) => m[1]!.replace(/''/g, "'")) : undefined;
      return this.rows.filter((r) => !wanted || wanted.includes(r.itemNumber)).map((r) => ({ ...r })) as never[];
    };
    const no = () => { throw new Error('not used by the inventory gate'); };
    return { list, get: no, post: no, patch: no, delete: no, action: no, batch: no } as unknown as BcApi;
  }

  set(itemNumber: string, locationCode: string, inventory: number, qtyOnSalesOrders = 0, variantCode = ''): void {
    const row = this.rows.find((r) => r.itemNumber === itemNumber && r.locationCode === locationCode && r.variantCode === variantCode);
    if (row) Object.assign(row, { inventory, qtyOnSalesOrders });
    else this.rows.push({ itemNumber, variantCode, locationCode, inventory, qtyOnSalesOrders });
  }
}

const SAMPLE = JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'order-1001.json'), 'utf8'));

/** An order (the documented sample's shape) with the given lines, and the msg.erp.lines the SKU validator would add. */
export function orderWith(id: number, lines: { sku: string; item: string; variant?: string; quantity: number; locationId?: number }[]) {
  const payload = {
    ...SAMPLE, id, name: `#${id}`,
    line_items: lines.map((l, i) => ({ ...SAMPLE.line_items[0], id: id * 100 + i, sku: l.sku, quantity: l.quantity, location_id: l.locationId ?? null })),
  };
  const erp = {
    lines: lines.map((l, i) => ({ lineItemId: String(id * 100 + i), sku: l.sku, quantity: l.quantity, itemNumber: l.item, ...(l.variant ? { variantCode: l.variant } : {}) })),
  };
  return { payload, order: Order.parse(payload), erp };
}
