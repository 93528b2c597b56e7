import { normCode } from '../d365/lookups';
import type { BcCustomer, D365Lookups } from '../d365/lookups';
import type { TaxLookups } from './tax';

// BC sends the empty GUID for "no tax area".
const EMPTY_GUID = /^0{8}-0{4}-0{4}-0{4}-0{12}$/;

/**
 * What D365 says about the order's mapped tax area and its D365 customer, read through the connection's
 * shared lookups (one cache per connection for every check). Only the parts asked for are filled.
 */
export async function taxLookups(lookups: D365Lookups, areaCode: string | undefined, customerNumber: string | undefined): Promise<TaxLookups> {
  const [areas, customers] = await Promise.all([
    areaCode ? lookups.taxAreasByCode([areaCode]) : undefined,
    customerNumber ? lookups.customersByNumber([customerNumber]) : undefined,
  ]);
  const out: TaxLookups = {};
  if (areaCode) {
    const area = areas!.get(normCode(areaCode))?.[0];
    out.taxArea = area ? { id: area.id, code: area.code } : null;
  }
  if (customerNumber) {
    const customer = customers!.get(normCode(customerNumber))?.[0];
    out.customer = customer ? customerTax(customer) : null;
  }
  return out;
}

function customerTax(c: BcCustomer): NonNullable<TaxLookups['customer']> {
  const taxAreaId = (c as { taxAreaId?: unknown }).taxAreaId;
  return {
    number: c.number,
    ...(typeof c.taxLiable === 'boolean' ? { taxLiable: c.taxLiable } : {}),
    ...(typeof taxAreaId === 'string' && !EMPTY_GUID.test(taxAreaId) ? { taxAreaId } : {}),
  };
}
