/**
 * The one seeded catalogue both simulators share: Business Central's master data (items, variants,
 * customers, locations, stock, tax areas, shipment methods) and the Shopify store built from it
 * (products, variants, inventory items, locations). Deterministic for a seed, so tests can name things.
 */

export interface CatalogueOptions {
  seed?: number;
  /** Number of generated items besides the fixed ones (default 300). */
  items?: number;
  /** Number of generated customers besides the fixed ones (default 200). */
  customers?: number;
}

export interface SimLocation {
  code: string;          // BC location code
  name: string;
  shopifyLocationId: number;
  country: string;
  state?: string;
}

export interface SimVariant {
  code: string;          // BC item variant code
  description: string;
  sku: string;           // Shopify SKU = `${itemNumber}-${code}`
  shopifyVariantId: number;
  shopifyInventoryItemId: number;
  gtin?: string;
}

export interface SimItem {
  number: string;
  displayName: string;
  type: 'Inventory' | 'Service' | 'Non-Inventory';
  blocked: boolean;
  unitPrice: string;     // decimal string in the company currency (USD)
  priceIncludesTax: boolean;
  taxGroupCode: string;
  gtin?: string;
  vendorItemNo?: string;
  shopifyProductId: number;
  /** SKU, variant id and inventory item id for items without variants. */
  sku?: string;
  shopifyVariantId?: number;
  shopifyInventoryItemId?: number;
  variants: SimVariant[];
  /** Units on hand per location code (per variant code when the item has variants: key `code` or `code:variant`). */
  stock: Record<string, number>;
}

export interface SimCustomer {
  number: string;
  displayName: string;
  type: 'Company' | 'Person';
  email: string;
  phoneNumber: string;
  addressLine1: string;
  city: string;
  state: string;
  country: string;
  postalCode: string;
  blocked: '' | 'Ship' | 'Invoice' | 'All';
  taxLiable: boolean;
  taxAreaCode: string;
  taxRegistrationNumber?: string;
  currencyCode: string;   // '' = company currency (USD)
  shopifyCustomerId?: number;
}

export interface SimTaxArea { code: string; displayName: string; country: string; state?: string; rate: number }
export interface SimShipmentMethod { code: string; displayName: string }

export interface Catalogue {
  companyName: string;
  currency: string;
  locations: SimLocation[];
  items: SimItem[];
  customers: SimCustomer[];
  taxAreas: SimTaxArea[];
  shipmentMethods: SimShipmentMethod[];
  /** Shopify shipping line codes the store offers, with the BC shipment method each is meant to map to. */
  shippingRates: { code: string; title: string; price: string; shipmentMethod: string }[];
  currencies: string[];
}

/** mulberry32: a tiny, well-known deterministic PRNG (no crypto needed for seed data); the simulators reuse it. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FIRST = ['Bob', 'Alice', 'Chen', 'Fatima', 'José', 'Zoë', 'Lars', 'Aiko', 'Priya', 'Olu', 'Marta', 'Sven', 'Noah', 'Léa', 'Ivan'];
const LAST = ['Norman', 'Smith', 'Wang', 'Khan', 'García', 'Müller', 'Jensen', 'Tanaka', 'Patel', 'Adeyemi', 'Rossi', 'Berg', 'O\'Brien', 'Dubois', 'Petrov'];
const NOUNS = ['Backpack', 'Water Bottle', 'Trail Shoe', 'Rain Jacket', 'Beanie', 'Headlamp', 'Tent', 'Sleeping Bag', 'Camp Stove', 'Trekking Pole', 'Fleece', 'Duffel', 'Map Case', 'Mug', 'Gloves'];
const ADJ = ['Alpine', 'Summit', 'Ridge', 'Coastal', 'Urban', 'Nordic', 'Desert', 'Canyon', 'Glacier', 'Forest'];
const COLORS = [['BLK', 'Black'], ['RED', 'Red'], ['BLU', 'Blue'], ['GRN', 'Green']] as const;
const SIZES = [['S', 'Small'], ['M', 'Medium'], ['L', 'Large']] as const;

export const LOCATIONS: SimLocation[] = [
  { code: 'EAST', name: 'Louisville DC', shopifyLocationId: 655441491, country: 'US', state: 'KY' },
  { code: 'WEST', name: 'Reno DC', shopifyLocationId: 655441492, country: 'US', state: 'NV' },
  { code: 'EU', name: 'Rotterdam DC', shopifyLocationId: 655441493, country: 'NL' },
];

export const TAX_AREAS: SimTaxArea[] = [
  { code: 'KY', displayName: 'Kentucky', country: 'US', state: 'KY', rate: 0.06 },
  { code: 'NV', displayName: 'Nevada', country: 'US', state: 'NV', rate: 0.0685 },
  { code: 'CA', displayName: 'California', country: 'US', state: 'CA', rate: 0.0725 },
  { code: 'NY', displayName: 'New York', country: 'US', state: 'NY', rate: 0.04 },
  { code: 'NL-VAT', displayName: 'Netherlands VAT', country: 'NL', rate: 0.21 },
  { code: 'DE-VAT', displayName: 'Germany VAT', country: 'DE', rate: 0.19 },
  { code: 'CA-ON', displayName: 'Ontario HST', country: 'CA', state: 'ON', rate: 0.13 },
];

export const SHIPMENT_METHODS: SimShipmentMethod[] = [
  { code: 'STANDARD', displayName: 'Standard ground' },
  { code: 'EXPRESS', displayName: 'Express 2-day' },
  { code: 'PICKUP', displayName: 'Customer pickup' },
  { code: 'FREIGHT', displayName: 'Freight (B2B)' },
];

export function buildCatalogue(opts: CatalogueOptions = {}): Catalogue {
  const rand = rng(opts.seed ?? 1001);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const itemCount = opts.items ?? 300;
  const customerCount = opts.customers ?? 200;
  let nextShopifyId = 39072856;
  const sid = () => ++nextShopifyId;
  const price = (min: number, max: number) => (Math.round((min + rand() * (max - min)) * 100) / 100).toFixed(2);
  const stockFor = (key: (loc: string) => string, into: Record<string, number>) => {
    for (const l of LOCATIONS) into[key(l.code)] = Math.floor(rand() * 60);
  };

  const items: SimItem[] = [];
  // Shopify's documented sample order (#1001) sells these two SKUs: keep them as plain items.
  for (const [sku, name, variantId] of [['IPOD2008GREEN', 'IPod Nano - 8gb - green', 39072856], ['IPOD2008RED', 'IPod Nano - 8gb - red', 49148385]] as const) {
    const stock: Record<string, number> = { EAST: 50, WEST: 20, EU: 5 };
    items.push({
      number: sku, displayName: name, type: 'Inventory', blocked: false, unitPrice: '199.00', priceIncludesTax: false,
      taxGroupCode: 'TAXABLE', gtin: `0885909${String(variantId).slice(-6)}`, shopifyProductId: 632910392, sku,
      shopifyVariantId: variantId, shopifyInventoryItemId: 808950810 + items.length, variants: [], stock,
    });
  }
  for (let i = 0; i < itemCount; i++) {
    const number = `${1000 + i}`;
    const displayName = `${pick(ADJ)} ${pick(NOUNS)}`;
    const roll = rand();
    const type: SimItem['type'] = roll < 0.03 ? 'Service' : roll < 0.06 ? 'Non-Inventory' : 'Inventory';
    const item: SimItem = {
      number, displayName, type, blocked: rand() < 0.03, unitPrice: price(5, 400), priceIncludesTax: false,
      taxGroupCode: rand() < 0.05 ? 'NONTAXABLE' : 'TAXABLE', vendorItemNo: `V-${number}`,
      shopifyProductId: 7000000000 + i, variants: [], stock: {},
    };
    if (type === 'Inventory' && rand() < 0.4) {
      const axis = rand() < 0.5 ? COLORS : SIZES;
      for (const [code, description] of axis) {
        const v: SimVariant = { code, description, sku: `${number}-${code}`, shopifyVariantId: sid(), shopifyInventoryItemId: sid() };
        if (rand() < 0.5) v.gtin = `40${String(1000000000 + i * 10 + v.code.length).padStart(11, '0')}`;
        item.variants.push(v);
        stockFor((l) => `${l}:${code}`, item.stock);
      }
    } else {
      item.sku = number;
      item.shopifyVariantId = sid();
      item.shopifyInventoryItemId = sid();
      if (rand() < 0.5) item.gtin = `50${String(1000000000 + i).padStart(11, '0')}`;
      if (type === 'Inventory') stockFor((l) => l, item.stock);
    }
    items.push(item);
  }

  const customers: SimCustomer[] = [
    // The sample order's customer, matched by email.
    { number: 'C10000', displayName: 'Bob Norman', type: 'Person', email: 'bob.norman@mail.example.com', phoneNumber: '+16136120707',
      addressLine1: 'Chestnut Street 92', city: 'Louisville', state: 'KY', country: 'US', postalCode: '40202', blocked: '',
      taxLiable: true, taxAreaCode: 'KY', currencyCode: '', shopifyCustomerId: 207119551 },
    // Two D365 customers share one email: a match by email is ambiguous and must be flagged, not guessed.
    { number: 'C10001', displayName: 'Sam Twin (retail)', type: 'Person', email: 'sam.twin@mail.example.com', phoneNumber: '+15025550101',
      addressLine1: '1 Main St', city: 'Louisville', state: 'KY', country: 'US', postalCode: '40202', blocked: '', taxLiable: true, taxAreaCode: 'KY', currencyCode: '' },
    { number: 'C10002', displayName: 'Sam Twin (wholesale)', type: 'Company', email: 'sam.twin@mail.example.com', phoneNumber: '+15025550102',
      addressLine1: '2 Main St', city: 'Louisville', state: 'KY', country: 'US', postalCode: '40202', blocked: '', taxLiable: true, taxAreaCode: 'KY', currencyCode: '' },
    // A blocked customer.
    { number: 'C10003', displayName: 'Blocked Buyer', type: 'Person', email: 'blocked@mail.example.com', phoneNumber: '+15025550103',
      addressLine1: '3 Main St', city: 'Reno', state: 'NV', country: 'US', postalCode: '89501', blocked: 'All', taxLiable: true, taxAreaCode: 'NV', currencyCode: '' },
    // A tax-exempt B2B company with a tax registration number.
    { number: 'C20000', displayName: 'Acme Outfitters Inc.', type: 'Company', email: 'purchasing@acme-outfitters.example.com', phoneNumber: '+12125550199',
      addressLine1: '500 Fifth Ave', city: 'New York', state: 'NY', country: 'US', postalCode: '10110', blocked: '', taxLiable: false, taxAreaCode: 'NY',
      taxRegistrationNumber: 'US-EIN-12-3456789', currencyCode: '' },
    // Default (cash) customers per country for guest checkouts.
    { number: 'WEB-US', displayName: 'Webshop customers US', type: 'Person', email: 'web-us@shop.example.com', phoneNumber: '',
      addressLine1: '', city: '', state: '', country: 'US', postalCode: '', blocked: '', taxLiable: true, taxAreaCode: 'KY', currencyCode: '' },
    { number: 'WEB-NL', displayName: 'Webwinkel klanten NL', type: 'Person', email: 'web-nl@shop.example.com', phoneNumber: '',
      addressLine1: '', city: '', state: '', country: 'NL', postalCode: '', blocked: '', taxLiable: true, taxAreaCode: 'NL-VAT', currencyCode: 'EUR' },
  ];
  for (let i = 0; i < customerCount; i++) {
    const first = pick(FIRST);
    const last = pick(LAST);
    const area = pick(TAX_AREAS);
    const isCompany = rand() < 0.15;
    customers.push({
      number: `C${30000 + i}`,
      displayName: isCompany ? `${last} ${pick(['Trading', 'Supplies', 'GmbH', 'B.V.', 'LLC'])}` : `${first} ${last}`,
      type: isCompany ? 'Company' : 'Person',
      email: `${first}.${last}.${i}@mail.example.com`.toLowerCase().normalize('NFD').replace(/[^\x20-\x7e]/g, '').replace(/[' ]/g, ''),
      phoneNumber: `+1502555${String(1000 + i).padStart(4, '0')}`,
      addressLine1: `${100 + i} ${pick(ADJ)} Road`, city: 'Springfield', state: area.state ?? '', country: area.country,
      postalCode: String(10000 + Math.floor(rand() * 89999)), blocked: rand() < 0.02 ? 'Invoice' : '', taxLiable: true,
      taxAreaCode: area.code, currencyCode: area.country === 'US' ? '' : area.country === 'CA' ? 'CAD' : 'EUR',
      taxRegistrationNumber: isCompany ? `TAX-${30000 + i}` : undefined,
      shopifyCustomerId: 300000000 + i,
    });
  }

  return {
    companyName: 'CRONUS USA, Inc.',
    currency: 'USD',
    locations: LOCATIONS,
    items,
    customers,
    taxAreas: TAX_AREAS,
    shipmentMethods: SHIPMENT_METHODS,
    shippingRates: [
      { code: 'Standard', title: 'Standard', price: '10.00', shipmentMethod: 'STANDARD' },
      { code: 'Express', title: 'Express (2 days)', price: '25.00', shipmentMethod: 'EXPRESS' },
      { code: 'Local Pickup', title: 'Pick up in store', price: '0.00', shipmentMethod: 'PICKUP' },
    ],
    currencies: ['USD', 'EUR', 'CAD'],
  };
}

/** Looks an item or variant up by Shopify SKU (the store's SKU scheme: item number, or item-variant). */
export function findBySku(cat: Catalogue, sku: string): { item: SimItem; variant?: SimVariant } | undefined {
  for (const item of cat.items) {
    if (item.sku === sku) return { item };
    const variant = item.variants.find((v) => v.sku === sku);
    if (variant) return { item, variant };
  }
  return undefined;
}
