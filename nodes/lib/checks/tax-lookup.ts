import { normCode } from '../d365/lookups';
import type { BcCustomer, BcTaxArea, D365Lookups } from '../d365/lookups';
import type { TaxLookups } from './tax';

// BC sends the empty GUID for "no tax area".
const EMPTY_GUID = '00000000-0000-0000-0000-000000000000';

/**
 * What D365 says about the order's mapped tax area and its D365 customer, read through the connection's
 * shared lookups (one cache per connection for every check). Only the parts asked for are filled.
 */
export async function taxLookups(lookups: D365Lookups, areaCode: string | undefined, customerNumber: string | undefined): Promise<TaxLookups> {
  const [areas, customers] = await Promise.all([
    areaCode ? lookups.taxAreasByCode([areaCode]) : undefined,
    customerNumber ? lookups.customersByNumber([customerNumber]) : undefined,
  ]);
  return taxLookupsOf(areaCode, customerNumber, areaCode ? areas!.get(normCode(areaCode)) : undefined,
    customerNumber ? customers!.get(normCode(customerNumber)) : undefined);
}

/** taxLookups from the cache alone, synchronously; undefined when a part asked for is not cached. */
export function cachedTaxLookups(lookups: D365Lookups, areaCode: string | undefined, customerNumber: string | undefined): TaxLookups | undefined {
  const areas = areaCode ? lookups.cachedTaxAreasByCode(areaCode) : undefined;
  if (areaCode && !areas) return undefined;
  const customers = customerNumber ? lookups.cachedCustomersByNumber(customerNumber) : undefined;
  if (customerNumber && !customers) return undefined;
  return taxLookupsOf(areaCode, customerNumber, areas, customers);
}

/** The parts asked for, from the lookups' answers for the area code and the customer number. */
function taxLookupsOf(areaCode: string | undefined, customerNumber: string | undefined,
  areas: readonly BcTaxArea[] | undefined, customers: readonly BcCustomer[] | undefined): TaxLookups {
  const out: TaxLookups = {};
  if (areaCode) {
    const area = areas?.[0];
    out.taxArea = area ? { id: area.id, code: area.code } : null;
  }
  if (customerNumber) {
    const customer = customers?.[0];
    out.customer = customer ? customerTax(customer) : null;
  }
  return out;
}

function customerTax(c: BcCustomer): NonNullable<TaxLookups['customer']> {
  const out: NonNullable<TaxLookups['customer']> = { number: c.number };
  if (typeof c.taxLiable === 'boolean') out.taxLiable = c.taxLiable;
  const taxAreaId = (c as { taxAreaId?: unknown }).taxAreaId;
  if (typeof taxAreaId === 'string' && taxAreaId !== EMPTY_GUID) out.taxAreaId = taxAreaId;
  return out;
}
