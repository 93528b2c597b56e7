import { findBySku, type Catalogue, type SimCustomer, type SimItem, type SimTaxArea, type SimVariant } from '../catalogue';
import type { Address, Customer, LineItem, Order, ShippingLine, TaxLine } from '../../nodes/lib/contract';
import { allocate, applyRate, discountValue, fromMinor, includedTax, MoneyCtx, toMinor, FX } from './money';
import { intBetween, pick, type Rng } from './rng';
import type { OrderSpec } from './order-spec';

/** Per-line money kept beside the REST order so refunds can prorate exactly. */
export interface LineMoney { net: bigint; netP: bigint; tax: bigint; taxP: bigint }
export interface ShippingMoney { price: bigint; priceP: bigint; tax: bigint; taxP: bigint }

export interface BuiltLine {
  json: LineItem;
  inventoryItemId?: number;
  locationCode: string;
  money: LineMoney;
}

export interface BuiltOrder {
  json: Order;
  lines: BuiltLine[];
  shipping: ShippingMoney;
}

export interface BuildContext {
  catalogue: Catalogue;
  rand: Rng;
  nextId: () => number;
  orderNumber: number;
  nowRest: string;
  shopCurrency: string;
  /** Which location a line ships from, given the ship-to's preferred location. */
  chooseLocation: (inventoryItemId: number | undefined, preferred: string, quantity: number) => string;
}

const COUNTRY_NAMES: Record<string, string> = { US: 'United States', NL: 'Netherlands', DE: 'Germany', CA: 'Canada' };
const PLACES: Record<string, { city: string; zip: string; province: string | null; provinceCode: string | null; street: string }> = {
  KY: { city: 'Louisville', zip: '40202', province: 'Kentucky', provinceCode: 'KY', street: 'Chestnut Street 92' },
  NV: { city: 'Reno', zip: '89501', province: 'Nevada', provinceCode: 'NV', street: '1 Virginia St' },
  CA: { city: 'Los Angeles', zip: '90012', province: 'California', provinceCode: 'CA', street: '200 N Spring St' },
  NY: { city: 'New York', zip: '10110', province: 'New York', provinceCode: 'NY', street: '500 Fifth Ave' },
  'NL-VAT': { city: 'Amsterdam', zip: '1012 AB', province: null, provinceCode: null, street: 'Damrak 1' },
  'DE-VAT': { city: 'Berlin', zip: '10115', province: null, provinceCode: null, street: 'Invalidenstraße 1' },
  'CA-ON': { city: 'Toronto', zip: 'M5H 2N2', province: 'Ontario', provinceCode: 'ON', street: '100 Queen St W' },
};
const FIRST = ['Ava', 'Liam', 'Mia', 'Noah', 'Emma', 'Jonas', 'Sofia', 'Kenji', 'Amara', 'Mateo', 'Zoë', 'Łukasz'];
const LAST = ['Taylor', 'Bakker', 'Schmidt', 'Nguyen', 'Okafor', 'Silva', 'Kowalski', 'Dubois', 'Yamada', 'O\'Neil'];
const currencyFor = (country: string) => (country === 'CA' ? 'CAD' : country === 'NL' || country === 'DE' ? 'EUR' : 'USD');

interface Buyer { customer: Customer | null; email: string | null; first: string; last: string; company: string | null; phone: string | null; area: SimTaxArea; street: string; city: string; zip: string }

interface LinePlan { sku: string | null; item?: SimItem; variant?: SimVariant; quantity: number; unit: bigint }

/** Builds a realistic REST order (webhook payload shape) whose money adds up to the cent, unless a fault says otherwise. */
export function buildOrder(spec: OrderSpec, ctx: BuildContext): BuiltOrder {
  const { catalogue: cat, rand } = ctx;
  const faults = new Set(spec.faults);
  const buyer = chooseBuyer(spec, ctx, faults);
  const area = spec.shipTo ? cat.taxAreas.find((a) => a.code === spec.shipTo) ?? fail(`unknown tax area ${spec.shipTo}`) : buyer.area;
  const place = PLACES[area.code] ?? PLACES.KY!;
  const currency = spec.currency ?? currencyFor(area.country);
  const money = new MoneyCtx(ctx.shopCurrency, currency);
  const taxesIncluded = area.country === 'NL' || area.country === 'DE';
  const taxExempt = buyer.customer?.tax_exempt === true;

  const plans = planLines(spec, ctx, faults);
  const shippingRate = faults.has('odd_shipping_method')
    ? { code: 'Hovercraft Same-Minute', title: 'Hovercraft (same minute)', price: '42.00' }
    : spec.shippingCode
      ? cat.shippingRates.find((r) => r.code === spec.shippingCode) ?? fail(`unknown shipping rate ${spec.shippingCode}`)
      : pick(rand, cat.shippingRates);

  // Everything is computed twice, once per currency, from converted unit prices, so each currency adds up on its own.
  const taxable = plans.map((p) => !taxExempt && p.item?.taxGroupCode !== 'NONTAXABLE');
  const priceIn = (conv: (m: bigint) => bigint) => {
    const units = plans.map((p) => conv(p.unit));
    const totals = units.map((u, i) => u * BigInt(plans[i]!.quantity));
    const gross = totals.reduce((s, t) => s + t, 0n);
    let discounts = totals.map(() => 0n);
    if (spec.discount) {
      if (spec.discount.type === 'fixed_amount') {
        const value = conv(toMinor(spec.discount.value));
        discounts = allocate(value < gross ? value : gross, totals);
      } else {
        const pct = Math.min(100, Number(spec.discount.value)) / 100;
        discounts = totals.map((t) => applyRate(t, pct));
      }
    }
    const nets = totals.map((t, i) => t - discounts[i]!);
    const taxOf = (base: bigint) => (taxesIncluded ? includedTax(base, area.rate) : applyRate(base, area.rate));
    const lineTax = nets.map((n, i) => (taxable[i] ? taxOf(n) : 0n));
    const ship = conv(toMinor(shippingRate.price));
    const shipTax = taxExempt ? 0n : taxOf(ship);
    return { units, totals, gross, discounts, nets, lineTax, ship, shipTax };
  };
  const s = priceIn((m) => m);
  const p = priceIn((m) => money.present(m));
  const mismatch = faults.has('tax_mismatch');
  if (mismatch) {
    // Off by far more than rounding; the order totals keep the correct tax, so the tax lines disagree with them.
    const i = taxable.indexOf(true);
    if (i >= 0) {
      const bump = s.lineTax[i]! / 10n + 137n;
      s.lineTax[i]! += bump;
      p.lineTax[i]! += money.present(bump);
    } else {
      s.shipTax += 137n;
      p.shipTax += money.present(137n);
    }
  }
  const totalTaxS = mismatch ? priceIn((m) => m) : s;
  const totalTaxP = mismatch ? priceIn((m) => money.present(m)) : p;
  const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);
  const taxTitle = area.country === 'US' ? `${area.state ?? area.code} State Tax` : area.displayName;
  const taxLine = (sm: bigint, pm: bigint): TaxLine => ({ title: taxTitle, rate: area.rate, price: fromMinor(sm), price_set: money.set(sm, pm), channel_liable: false });

  const discountIndex = spec.discount ? 0 : -1;
  const lines: BuiltLine[] = plans.map((plan, i) => {
    const id = ctx.nextId();
    const title = plan.item?.displayName ?? `Mystery product ${plan.sku ?? ''}`.trim();
    const variantTitle = plan.variant?.description ?? null;
    const inventoryItemId = plan.variant?.shopifyInventoryItemId ?? plan.item?.shopifyInventoryItemId;
    const preferred = area.country === 'US' ? (area.state === 'NV' || area.state === 'CA' ? 'WEST' : 'EAST') : area.country === 'CA' ? 'EAST' : 'EU';
    const tracked = plan.item?.type === 'Inventory' ? inventoryItemId : undefined;
    const json: LineItem = {
      id,
      admin_graphql_api_id: `gid://shopify/LineItem/${id}`,
      variant_id: plan.variant?.shopifyVariantId ?? plan.item?.shopifyVariantId ?? null,
      product_id: plan.item?.shopifyProductId ?? null,
      sku: plan.sku,
      title,
      variant_title: variantTitle,
      name: variantTitle ? `${title} - ${variantTitle}` : title,
      vendor: 'CRONUS',
      quantity: plan.quantity,
      current_quantity: plan.quantity,
      fulfillable_quantity: plan.quantity,
      fulfillment_status: null,
      fulfillment_service: 'manual',
      requires_shipping: plan.item?.type !== 'Service',
      taxable: taxable[i]!,
      gift_card: false,
      grams: intBetween(rand, 50, 2500),
      price: fromMinor(s.units[i]!),
      price_set: money.set(s.units[i]!, p.units[i]!),
      total_discount: '0.00',
      total_discount_set: money.set(0n, 0n),
      discount_allocations: discountIndex >= 0 && s.discounts[i]! > 0n
        ? [{ amount: fromMinor(s.discounts[i]!), amount_set: money.set(s.discounts[i]!, p.discounts[i]!), discount_application_index: 0 }]
        : [],
      tax_lines: taxable[i] ? [taxLine(s.lineTax[i]!, p.lineTax[i]!)] : [],
      properties: [],
      duties: [],
      product_exists: plan.item !== undefined,
    };
    return {
      json, inventoryItemId: tracked, locationCode: ctx.chooseLocation(tracked, preferred, plan.quantity),
      money: { net: s.nets[i]!, netP: p.nets[i]!, tax: s.lineTax[i]!, taxP: p.lineTax[i]! },
    };
  });

  const shipId = ctx.nextId();
  const shippingLine: ShippingLine = {
    id: shipId, code: shippingRate.code, title: shippingRate.title, source: 'shopify', carrier_identifier: null,
    price: fromMinor(s.ship), price_set: money.set(s.ship, p.ship),
    discounted_price: fromMinor(s.ship), discounted_price_set: money.set(s.ship, p.ship),
    is_removed: false, phone: null, requested_fulfillment_service_id: null,
    tax_lines: s.shipTax > 0n || !taxExempt ? [taxLine(s.shipTax, p.shipTax)] : [],
    discount_allocations: [],
  };

  const orderTax = (x: ReturnType<typeof priceIn>) => sum(x.lineTax) + x.shipTax;
  const totals = (x: ReturnType<typeof priceIn>, taxSrc: ReturnType<typeof priceIn>) => {
    const discounts = sum(x.discounts);
    const subtotal = x.gross - discounts;
    const tax = orderTax(taxSrc);
    return { gross: x.gross, discounts, subtotal, tax, total: subtotal + x.ship + (taxesIncluded ? 0n : tax) };
  };
  const ts = totals(s, totalTaxS);
  const tp = totals(p, totalTaxP);
  const address = (): Address => ({
    first_name: buyer.first, last_name: buyer.last, name: `${buyer.first} ${buyer.last}`, company: buyer.company,
    address1: buyer.area.code === area.code ? buyer.street : place.street, address2: '',
    city: buyer.area.code === area.code ? buyer.city : place.city,
    province: place.province, province_code: place.provinceCode,
    zip: buyer.area.code === area.code ? buyer.zip : place.zip,
    country: COUNTRY_NAMES[area.country] ?? area.country, country_code: area.country, phone: buyer.phone,
    latitude: null, longitude: null,
  });
  const paid = spec.financialStatus === 'paid';
  const tags = [...spec.tags];
  const json: Order = {
    id: ctx.nextId(),
    admin_graphql_api_id: '',
    name: `#${ctx.orderNumber}`,
    order_number: ctx.orderNumber,
    number: ctx.orderNumber - 1000,
    email: buyer.email,
    contact_email: buyer.email,
    phone: buyer.phone,
    created_at: ctx.nowRest,
    updated_at: ctx.nowRest,
    processed_at: ctx.nowRest,
    closed_at: null,
    cancelled_at: null,
    cancel_reason: null,
    currency: ctx.shopCurrency,
    presentment_currency: currency,
    financial_status: spec.financialStatus,
    fulfillment_status: null,
    taxes_included: taxesIncluded,
    tax_exempt: taxExempt,
    estimated_taxes: false,
    duties_included: false,
    test: spec.test,
    source_name: 'web',
    location_id: null,
    tags: tags.join(', '),
    note: spec.note ?? null,
    note_attributes: spec.noteAttributes,
    discount_codes: spec.discount ? [{ code: spec.discount.code, amount: fromMinor(ts.discounts), type: spec.discount.type }] : [],
    discount_applications: spec.discount ? [{
      target_type: 'line_item', type: 'discount_code', value_type: spec.discount.type,
      value: discountValue(spec.discount.type === 'percentage' && Number(spec.discount.value) > 100 ? '100' : spec.discount.value),
      allocation_method: 'across', target_selection: 'all', code: spec.discount.code,
    }] : [],
    total_line_items_price: fromMinor(ts.gross),
    total_line_items_price_set: money.set(ts.gross, tp.gross),
    total_discounts: fromMinor(ts.discounts),
    total_discounts_set: money.set(ts.discounts, tp.discounts),
    subtotal_price: fromMinor(ts.subtotal),
    subtotal_price_set: money.set(ts.subtotal, tp.subtotal),
    total_shipping_price_set: money.set(s.ship, p.ship),
    total_tax: fromMinor(ts.tax),
    total_tax_set: money.set(ts.tax, tp.tax),
    total_price: fromMinor(ts.total),
    total_price_set: money.set(ts.total, tp.total),
    current_total_price: fromMinor(ts.total),
    current_total_price_set: money.set(ts.total, tp.total),
    current_subtotal_price: fromMinor(ts.subtotal),
    current_total_tax: fromMinor(ts.tax),
    total_outstanding: paid ? '0.00' : fromMinor(ts.total),
    total_tip_received: '0.00',
    total_weight: lines.reduce((w, l) => w + (l.json.grams ?? 0) * l.json.quantity, 0),
    tax_lines: ts.tax > 0n || !taxExempt ? [taxLine(ts.tax, tp.tax)] : [],
    customer: buyer.customer,
    billing_address: faults.has('missing_shipping_address') && rand() < 0.5 ? null : address(),
    shipping_address: faults.has('missing_shipping_address') ? null : address(),
    line_items: lines.map((l) => l.json),
    shipping_lines: [shippingLine],
    fulfillments: [],
    refunds: [],
    payment_gateway_names: spec.financialStatus === 'pending' ? ['manual'] : ['shopify_payments'],
    gateway: spec.financialStatus === 'pending' ? 'manual' : 'shopify_payments',
    po_number: spec.poNumber ?? null,
    confirmed: true,
    buyer_accepts_marketing: false,
  };
  json.admin_graphql_api_id = `gid://shopify/Order/${json.id}`;
  return { json, lines, shipping: { price: s.ship, priceP: p.ship, tax: s.shipTax, taxP: p.shipTax } };
}

function fail(message: string): never {
  throw new RangeError(message);
}

function planLines(spec: OrderSpec, ctx: BuildContext, faults: Set<string>): LinePlan[] {
  const { catalogue: cat, rand } = ctx;
  const plans: LinePlan[] = [];
  if (spec.lines) {
    for (const l of spec.lines) {
      const hit = findBySku(cat, l.sku);
      const unit = l.price ? toMinor(l.price) : hit ? toMinor(hit.item.unitPrice) : BigInt(intBetween(rand, 500, 20000));
      plans.push({ sku: l.sku, item: hit?.item, variant: hit?.variant, quantity: l.quantity, unit });
    }
  } else {
    const sellable = cat.items.filter((i) => !i.blocked);
    const count = spec.lineCount ?? intBetween(rand, 1, 4);
    const used = new Set<string>();
    for (let guard = 0; plans.length < count && guard < count * 20; guard++) {
      const item = pick(rand, sellable);
      const variant = item.variants.length ? pick(rand, item.variants) : undefined;
      const sku = variant?.sku ?? item.sku;
      if (!sku || used.has(sku)) continue;
      used.add(sku);
      plans.push({ sku, item, variant, quantity: intBetween(rand, 1, 3), unit: toMinor(item.unitPrice) });
    }
  }
  if (faults.has('unknown_sku')) {
    plans.push({ sku: `NOPE-${intBetween(rand, 10000, 99999)}`, quantity: intBetween(rand, 1, 2), unit: BigInt(intBetween(rand, 500, 9000)) });
  }
  if (faults.has('blocked_item')) {
    const blocked = cat.items.filter((i) => i.blocked && (i.sku || i.variants.length));
    if (blocked.length === 0) fail('the catalogue has no blocked item');
    const item = pick(rand, blocked);
    const variant = item.variants.length ? pick(rand, item.variants) : undefined;
    plans.push({ sku: variant?.sku ?? item.sku!, item, variant, quantity: 1, unit: toMinor(item.unitPrice) });
  }
  if (faults.has('zero_price')) plans[0]!.unit = 0n;
  return plans;
}

function chooseBuyer(spec: OrderSpec, ctx: BuildContext, faults: Set<string>): Buyer {
  const { catalogue: cat, rand } = ctx;
  const areaOf = (code: string) => cat.taxAreas.find((a) => a.code === code) ?? cat.taxAreas[0]!;
  let buyer: Buyer;
  if (faults.has('ambiguous_customer')) {
    const twin = cat.customers.find((c) => c.email === 'sam.twin@mail.example.com') ?? fail('catalogue lacks the duplicated customer');
    buyer = newBuyer(ctx, areaOf(twin.taxAreaCode), 'Sam', 'Twin', twin.email);
  } else if (spec.customer === 'guest') {
    const area = spec.shipTo ? areaOf(spec.shipTo) : pick(rand, cat.taxAreas);
    buyer = newBuyer(ctx, area);
    buyer.customer = null;
  } else if (spec.customer === 'new') {
    buyer = newBuyer(ctx, spec.shipTo ? areaOf(spec.shipTo) : pick(rand, cat.taxAreas));
  } else {
    let c: SimCustomer | undefined;
    if (spec.customer === 'random') {
      c = pick(rand, cat.customers.filter((x) => x.shopifyCustomerId !== undefined && x.blocked === ''));
    } else if (typeof spec.customer === 'string') {
      const number = spec.customer;
      c = cat.customers.find((x) => x.number === number) ?? fail(`unknown catalogue customer ${number}`);
    } else {
      const email = spec.customer.email.toLowerCase();
      c = cat.customers.find((x) => x.email.toLowerCase() === email) ?? fail(`no catalogue customer with email ${email}`);
    }
    buyer = catalogueBuyer(ctx, c, areaOf(c.taxAreaCode));
  }
  if (faults.has('missing_email')) {
    buyer.email = null;
    if (buyer.customer) buyer.customer = { ...buyer.customer, email: null };
  }
  return buyer;
}

function catalogueBuyer(ctx: BuildContext, c: SimCustomer, area: SimTaxArea): Buyer {
  const [first = c.displayName, ...rest] = c.type === 'Person' ? c.displayName.split(' ') : ['', c.displayName];
  const last = c.type === 'Person' ? rest.join(' ') : c.displayName;
  const id = c.shopifyCustomerId ?? ctx.nextId();
  const place = PLACES[area.code] ?? PLACES.KY!;
  const street = c.addressLine1 || place.street;
  const city = c.city || place.city;
  const zip = c.postalCode || place.zip;
  return {
    customer: customerJson(id, c.email, first, last, c.phoneNumber || null, currencyFor(area.country), !c.taxLiable, {
      address1: street, city, zip, province: place.province, province_code: place.provinceCode, country: COUNTRY_NAMES[area.country] ?? area.country,
      country_code: area.country, company: c.type === 'Company' ? c.displayName : null,
    }),
    email: c.email, first, last, company: c.type === 'Company' ? c.displayName : null, phone: c.phoneNumber || null,
    area, street, city, zip,
  };
}

function newBuyer(ctx: BuildContext, area: SimTaxArea, first = pick(ctx.rand, FIRST), last = pick(ctx.rand, LAST), email?: string): Buyer {
  const id = ctx.nextId();
  const place = PLACES[area.code] ?? PLACES.KY!;
  const mail = email ?? `${first}.${last}.${id % 100000}@buyer.example.com`.toLowerCase().normalize('NFD').replace(/[^a-z0-9.@]/g, '');
  const phone = `+1502555${String(id % 10000).padStart(4, '0')}`;
  return {
    customer: customerJson(id, mail, first, last, phone, currencyFor(area.country), false, {
      address1: place.street, city: place.city, zip: place.zip, province: place.province, province_code: place.provinceCode,
      country: COUNTRY_NAMES[area.country] ?? area.country, country_code: area.country, company: null,
    }),
    email: mail, first, last, company: null, phone, area, street: place.street, city: place.city, zip: place.zip,
  };
}

function customerJson(id: number, email: string | null, first: string, last: string, phone: string | null, currency: string, taxExempt: boolean, addr: Address): Customer {
  return {
    id, admin_graphql_api_id: `gid://shopify/Customer/${id}`, email, first_name: first, last_name: last, phone,
    state: 'enabled', tags: '', currency, tax_exempt: taxExempt, verified_email: true,
    default_address: { id: id + 1, customer_id: id, first_name: first, last_name: last, ...addr, address2: '', phone, default: true },
  };
}

/** Presentment rate for a currency (exposed for tests that predict converted amounts). */
export const presentmentRate = (currency: string) => FX[currency] ?? 1;
