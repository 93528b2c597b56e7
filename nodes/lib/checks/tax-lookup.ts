import type { BcApi } from '../d365/bc-api';
import { BatchCache, anyOf } from './price-lookup';
import type { CacheOptions } from './price-lookup';

export interface D365TaxArea { id: string; code: string }
export interface D365CustomerTax { number: string; taxLiable?: boolean; taxAreaId?: string }

/** Tax areas by code from BC `taxAreas`, cached (they change rarely). */
export function taxAreaLookup(api: () => BcApi, opts: CacheOptions): BatchCache<D365TaxArea> {
  return new BatchCache(async (codes) => {
    const rows = await api().list<{ id: string; code: string }>('taxAreas', { filter: anyOf('code', codes), select: ['id', 'code'] });
    return new Map(rows.map((r) => [r.code, { id: r.id, code: r.code }]));
  }, opts);
}

/** A customer's tax liability and default tax area from BC `customers`, cached. */
export function customerTaxLookup(api: () => BcApi, opts: CacheOptions): BatchCache<D365CustomerTax> {
  return new BatchCache(async (numbers) => {
    const rows = await api().list<{ number: string; taxLiable?: unknown; taxAreaId?: unknown }>('customers', {
      filter: anyOf('number', numbers), select: ['number', 'taxLiable', 'taxAreaId'],
    });
    return new Map(rows.map((r) => [r.number, {
      number: r.number,
      ...(typeof r.taxLiable === 'boolean' ? { taxLiable: r.taxLiable } : {}),
      // BC sends the empty GUID for "no tax area".
      ...(typeof r.taxAreaId === 'string' && !/^0{8}-0{4}-0{4}-0{4}-0{12}$/.test(r.taxAreaId) ? { taxAreaId: r.taxAreaId } : {}),
    }]));
  }, opts);
}
