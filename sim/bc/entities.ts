/**
 * The entity sets the simulator serves: their JSON properties, computed fields, navigation properties
 * and which writes each allows. Standard API v2.0 sets plus the companion extension's custom pages.
 */
import { createHash } from 'crypto';
import { BcError, methodNotAllowed, recordNotFound } from './errors';
import { bool, num, text, guidField, validateBody, assign, type Spec } from './fields';
import { DOCS, type DocKind, type Sales } from './sales';
import { EMPTY_GUID, SERIES, type Db, type Rec, type Table } from './state';

export interface Ctx { db: Db; sales: Sales; lcy: string; startedAt: string }

export interface NavDef {
  target: string;
  many: boolean;
  rows(ctx: Ctx, parent: Rec): Rec[];
  create?(ctx: Ctx, parent: Rec, body: unknown): Rec;
}

export interface EntityDef {
  set: string;
  /** The OData type name (`Microsoft.NAV.<type>`), used in messages. */
  type: string;
  /** Table name for messages such as "The Customer does not exist". */
  noun: string;
  props: readonly string[];
  rows(ctx: Ctx): Rec[];
  get(ctx: Ctx, id: string): Rec | undefined;
  view?(ctx: Ctx, rec: Rec): Record<string, unknown>;
  nav?: Record<string, NavDef>;
  create?(ctx: Ctx, body: unknown): Rec;
  update?(ctx: Ctx, rec: Rec, body: unknown): void;
  remove?(ctx: Ctx, rec: Rec): void;
  actions?: Record<string, (ctx: Ctx, rec: Rec) => void>;
}

const ADDRESS = (p: string) => ['AddressLine1', 'AddressLine2', 'City', 'Country', 'State', 'PostCode'].map((s) => `${p}${s}`);

const stored = (table: Table) => ({
  rows: (ctx: Ctx) => ctx.db.all(table),
  get: (ctx: Ctx, id: string) => ctx.db.get(table, id),
});

const single = (target: string, table: Table, field: string): NavDef => ({
  target, many: false, rows: (ctx, parent) => {
    const r = ctx.db.get(table, String(parent[field] ?? ''));
    return r ? [r] : [];
  },
});

const lcyCode = (ctx: Ctx, code: unknown) => (code === '' || code === undefined ? ctx.lcy : code);

const LINE_NAV: Record<string, NavDef> = {
  item: single('items', 'items', 'itemId'),
  account: single('accounts', 'accounts', 'accountId'),
  location: single('locations', 'locations', 'locationId'),
  itemVariant: single('itemVariants', 'itemVariants', 'itemVariantId'),
};

const ORDER_LINE_PROPS = ['id', 'documentId', 'sequence', 'itemId', 'accountId', 'lineType', 'lineObjectNumber', 'description', 'description2',
  'unitOfMeasureId', 'unitOfMeasureCode', 'quantity', 'unitPrice', 'discountAmount', 'discountPercent', 'discountAppliedBeforeTax',
  'amountExcludingTax', 'taxCode', 'taxPercent', 'totalTaxAmount', 'amountIncludingTax', 'invoiceDiscountAllocation', 'netAmount',
  'netTaxAmount', 'netAmountIncludingTax', 'shipmentDate', 'shippedQuantity', 'invoicedQuantity', 'invoiceQuantity', 'shipQuantity',
  'itemVariantId', 'locationId'] as const;
const SHIPPING_LINE_FIELDS = ['shipmentDate', 'shippedQuantity', 'invoicedQuantity', 'invoiceQuantity', 'shipQuantity'];

const HEADER_PARTY = ['customerId', 'customerNumber', 'customerName', 'billToName', 'billToCustomerId', 'billToCustomerNumber', 'shipToName',
  'shipToContact', ...ADDRESS('sellTo'), ...ADDRESS('billTo'), ...ADDRESS('shipTo')];

function salesDocument(kind: DocKind): EntityDef[] {
  const d = DOCS[kind];
  const headerProps = kind === 'order'
    ? ['id', 'number', 'externalDocumentNumber', 'orderDate', 'postingDate', ...HEADER_PARTY, 'shortcutDimension1Code', 'shortcutDimension2Code',
      'currencyId', 'currencyCode', 'pricesIncludeTax', 'paymentTermsId', 'shipmentMethodId', 'salesperson', 'partialShipping',
      'requestedDeliveryDate', 'discountAmount', 'discountAppliedBeforeTax', 'totalAmountExcludingTax', 'totalTaxAmount',
      'totalAmountIncludingTax', 'fullyShipped', 'status', 'lastModifiedDateTime', 'phoneNumber', 'email']
    : ['id', 'number', 'externalDocumentNumber', 'creditMemoDate', 'postingDate', 'dueDate', ...HEADER_PARTY, 'shortcutDimension1Code',
      'shortcutDimension2Code', 'currencyId', 'currencyCode', 'paymentTermsId', 'shipmentMethodId', 'salesperson', 'pricesIncludeTax',
      'discountAmount', 'discountAppliedBeforeTax', 'totalAmountExcludingTax', 'totalTaxAmount', 'totalAmountIncludingTax', 'status',
      'lastModifiedDateTime', 'invoiceId', 'invoiceNumber', 'phoneNumber', 'email'];
  const lineProps = kind === 'order' ? ORDER_LINE_PROPS : ORDER_LINE_PROPS.filter((p) => !SHIPPING_LINE_FIELDS.includes(p));
  const headerOf = (ctx: Ctx, line: Rec) => ctx.db.get(d.header, line.documentId as string)!;
  const header: EntityDef = {
    set: d.header, type: d.type, noun: 'Sales Header', props: headerProps, ...stored(d.header),
    view: (ctx, r) => ({ ...r, currencyCode: lcyCode(ctx, r.currencyCode) }),
    nav: {
      [d.lineSet]: {
        target: d.lines, many: true, rows: (ctx, h) => ctx.sales.linesOf(h, kind),
        create: (ctx, h, body) => ctx.sales.createLine(kind, h, body),
      },
      customer: single('customers', 'customers', 'customerId'),
      currency: single('currencies', 'currencies', 'currencyId'),
      shipmentMethod: single('shipmentMethods', 'shipmentMethods', 'shipmentMethodId'),
    },
    create: (ctx, body) => ctx.sales.createDocument(kind, body),
    update: (ctx, r, body) => ctx.sales.updateDocument(kind, r, body),
    remove: (ctx, r) => ctx.sales.deleteDocument(kind, r),
    actions: kind === 'order'
      ? { shipAndInvoice: (ctx, r) => { ctx.sales.postShipment(r.number as string, {}); ctx.sales.invoiceOrder(r.number as string); } }
      : { post: (ctx, r) => ctx.sales.postCreditMemo(r) },
  };
  const lines: EntityDef = {
    set: d.lines, type: d.lineType, noun: 'Sales Line', props: lineProps, ...stored(d.lines), nav: LINE_NAV,
    create: (ctx, body) => {
      const docId = (body as Record<string, unknown> | null)?.documentId;
      if (typeof docId !== 'string') throw new BcError(400, 'BadRequest', 'documentId must be provided when a line is created outside its document.');
      const h = ctx.db.get(d.header, docId);
      if (!h) throw recordNotFound('Sales Header', `Id='${docId}'`);
      return ctx.sales.createLine(kind, h, body);
    },
    update: (ctx, r, body) => ctx.sales.updateLine(kind, headerOf(ctx, r), r, body),
    remove: (ctx, r) => ctx.sales.deleteLine(kind, headerOf(ctx, r), r),
  };
  return [header, lines];
}

const CUSTOMER_WRITABLE: Spec = {
  number: text(20), displayName: text(100), type: { kind: 'enum', values: ['Company', 'Person'] }, addressLine1: text(100), addressLine2: text(50),
  city: text(30), state: text(30), country: text(10), postalCode: text(20), phoneNumber: text(30), email: text(80), website: text(80),
  salespersonCode: text(20), creditLimit: num(0), taxLiable: bool, taxAreaId: guidField, taxRegistrationNumber: text(20), currencyCode: text(10),
  paymentTermsId: guidField, shipmentMethodId: guidField, paymentMethodId: guidField, blocked: { kind: 'enum', values: [' ', 'Ship', 'Invoice', 'All'] },
};
const CUSTOMER_PROPS = ['id', 'number', 'displayName', 'type', 'addressLine1', 'addressLine2', 'city', 'state', 'country', 'postalCode',
  'phoneNumber', 'email', 'website', 'salespersonCode', 'balanceDue', 'creditLimit', 'taxLiable', 'taxAreaId', 'taxAreaDisplayName',
  'taxRegistrationNumber', 'currencyId', 'currencyCode', 'paymentTermsId', 'shipmentMethodId', 'paymentMethodId', 'blocked', 'lastModifiedDateTime'];

function checkCustomerRefs(ctx: Ctx, v: Record<string, unknown>): void {
  if (typeof v.taxAreaId === 'string' && v.taxAreaId !== EMPTY_GUID && !ctx.db.get('taxAreas', v.taxAreaId)) throw recordNotFound('Tax Area', `Id='${v.taxAreaId}'`);
  if (typeof v.currencyCode === 'string') {
    if (v.currencyCode === ctx.lcy) v.currencyCode = '';
    else if (v.currencyCode !== '' && !ctx.db.by('currencies', 'code', v.currencyCode)) throw recordNotFound('Currency', `Code='${v.currencyCode}'`);
  }
}

const ITEM_WRITABLE: Spec = {
  displayName: text(100), displayName2: text(50), blocked: bool, gtin: text(14), unitPrice: num(0), unitCost: num(0), priceIncludesTax: bool,
};

const TRACKING_URL: Record<string, string> = {
  UPS: 'https://www.ups.com/track?tracknum=%1', FEDEX: 'https://www.fedex.com/fedextrack/?trknbr=%1',
  DHL: 'https://www.dhl.com/en/express/tracking.html?AWB=%1', USPS: 'https://tools.usps.com/go/TrackConfirmAction?tLabels=%1',
};

const keyGuids = new Map<string, string>();
/** A stable GUID for a computed row, so clients can key on it across polls. */
function keyGuid(key: string): string {
  let g = keyGuids.get(key);
  if (!g) {
    const h = createHash('sha1').update(key).digest('hex');
    g = `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
    keyGuids.set(key, g);
  }
  return g;
}
/** A cheap version number (FNV-1a) for computed rows, so their etag changes with their values. */
function versionOf(...parts: unknown[]): number {
  let h = 0x811c9dc5;
  for (const c of parts.join('|')) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0;
  return h;
}

function availabilityRows(ctx: Ctx): Rec[] {
  const { db } = ctx;
  const demand = ctx.sales.openDemand();
  const keys = new Set<string>(demand.keys());
  for (const [item, per] of Object.entries(db.st.stock)) for (const vl of Object.keys(per)) keys.add(`${item}|${vl}`);
  const rows: Rec[] = [];
  for (const key of [...keys].sort()) {
    const [itemNumber = '', variantCode = '', locationCode = ''] = key.split('|');
    const item = db.by('items', 'number', itemNumber);
    const inventory = db.onHand(itemNumber, variantCode, locationCode);
    const qtyOnSalesOrders = demand.get(key) ?? 0;
    const lastModifiedDateTime = db.st.availabilityChanged[key] ?? ctx.startedAt;
    rows.push({
      id: keyGuid(key), itemId: item?.id ?? EMPTY_GUID, itemNumber, variantCode, locationCode, inventory, qtyOnSalesOrders, lastModifiedDateTime,
      _rv: versionOf(inventory, qtyOnSalesOrders, lastModifiedDateTime),
    });
  }
  return rows;
}

function trackingRows(ctx: Ctx): Rec[] {
  return ctx.db.all('salesShipments').map((s) => {
    const agent = String(s._agentCode ?? '');
    const template = TRACKING_URL[agent.toUpperCase()];
    const no = String(s._trackingNo ?? '');
    return {
      id: s.id, shipmentNumber: s.number, orderNumber: s.orderNumber, externalDocumentNumber: s.externalDocumentNumber, shippingAgentCode: agent,
      packageTrackingNo: no, trackingUrl: template && no ? template.replace('%1', encodeURIComponent(no)) : '',
      lastModifiedDateTime: s.lastModifiedDateTime, _rv: s._rv,
    };
  });
}

function shipmentLineRows(ctx: Ctx): Rec[] {
  return ctx.db.all('salesShipmentLines').map((l) => {
    const s = ctx.db.get('salesShipments', l.documentId as string);
    return {
      id: l.id, shipmentNumber: l.documentNo, orderNumber: s?.orderNumber ?? '', externalDocumentNumber: s?.externalDocumentNumber ?? '',
      sequence: l.sequence, lineType: l.lineType, lineObjectNumber: l.lineObjectNumber, variantCode: l._variantCode ?? '',
      locationCode: l._locationCode ?? '', quantity: l.quantity, lastModifiedDateTime: l.lastModifiedDateTime, _rv: l._rv,
    };
  });
}

const computed = (rows: (ctx: Ctx) => Rec[]) => ({ rows, get: (ctx: Ctx, id: string) => rows(ctx).find((r) => r.id === id.toLowerCase()) });

export function standardEntities(): Map<string, EntityDef> {
  const defs: EntityDef[] = [
    { set: 'companies', type: 'company', noun: 'Company', props: ['id', 'systemVersion', 'timestamp', 'name', 'displayName', 'businessProfileId', 'systemCreatedAt'], ...stored('companies') },
    {
      set: 'customers', type: 'customer', noun: 'Customer', props: CUSTOMER_PROPS, ...stored('customers'),
      view: (ctx, r) => {
        const cur = r.currencyCode ? ctx.db.by('currencies', 'code', r.currencyCode) : undefined;
        const balanceDue = ctx.db.all('salesInvoices').filter((i) => i.customerId === r.id).reduce((s, i) => s + (i.remainingAmount as number), 0);
        return {
          ...r, taxAreaDisplayName: ctx.db.get('taxAreas', r.taxAreaId as string)?.displayName ?? '', currencyId: cur?.id ?? EMPTY_GUID,
          currencyCode: lcyCode(ctx, r.currencyCode), balanceDue: Math.round(balanceDue * 100) / 100,
        };
      },
      create: (ctx, body) => {
        const v = validateBody(body, 'customer', CUSTOMER_WRITABLE, CUSTOMER_PROPS);
        checkCustomerRefs(ctx, v);
        const number = (v.number as string | undefined) ?? ctx.db.nextNo(SERIES.customer);
        if (ctx.db.by('customers', 'number', number)) {
          throw new BcError(400, 'Internal_EntityWithSameKeyExists', `The record in table Customer already exists. Identification fields and values: No.='${number}'`);
        }
        return ctx.db.insert('customers', {
          displayName: '', type: 'Person', addressLine1: '', addressLine2: '', city: '', state: '', country: '', postalCode: '', phoneNumber: '',
          email: '', website: '', salespersonCode: '', creditLimit: 0, taxLiable: true, taxAreaId: EMPTY_GUID, taxRegistrationNumber: '', currencyCode: '',
          paymentTermsId: EMPTY_GUID, shipmentMethodId: EMPTY_GUID, paymentMethodId: EMPTY_GUID, blocked: ' ', ...v, number,
        });
      },
      update: (ctx, r, body) => {
        const v = validateBody(body, 'customer', CUSTOMER_WRITABLE, CUSTOMER_PROPS);
        if (v.number !== undefined && v.number !== r.number) throw new BcError(400, 'BadRequest', 'The customer number cannot be changed.');
        checkCustomerRefs(ctx, v);
        assign(r, v);
      },
    },
    {
      set: 'items', type: 'item', noun: 'Item', ...stored('items'),
      props: ['id', 'number', 'displayName', 'displayName2', 'type', 'itemCategoryId', 'itemCategoryCode', 'blocked', 'gtin', 'inventory', 'unitPrice',
        'priceIncludesTax', 'unitCost', 'taxGroupId', 'taxGroupCode', 'baseUnitOfMeasureId', 'baseUnitOfMeasureCode', 'generalProductPostingGroupId',
        'generalProductPostingGroupCode', 'inventoryPostingGroupId', 'inventoryPostingGroupCode', 'lastModifiedDateTime'],
      view: (ctx, r) => ({ ...r, inventory: Object.values(ctx.db.st.stock[r.number as string] ?? {}).reduce((a, b) => a + b, 0) }),
      nav: { itemVariants: { target: 'itemVariants', many: true, rows: (ctx, item) => ctx.db.all('itemVariants').filter((v) => v.itemId === item.id) } },
      update: (_ctx, r, body) => assign(r, validateBody(body, 'item', ITEM_WRITABLE, ['id', 'number', 'inventory', 'lastModifiedDateTime'])),
    },
    { set: 'itemVariants', type: 'itemVariant', noun: 'Item Variant', props: ['id', 'itemId', 'itemNumber', 'code', 'description', 'lastModifiedDateTime'], ...stored('itemVariants') },
    { set: 'locations', type: 'location', noun: 'Location', props: ['id', 'code', 'displayName', 'contact', 'addressLine1', 'addressLine2', 'city', 'state', 'country', 'postalCode', 'phoneNumber', 'email', 'website', 'lastModifiedDateTime'], ...stored('locations') },
    { set: 'shipmentMethods', type: 'shipmentMethod', noun: 'Shipment Method', props: ['id', 'code', 'displayName', 'lastModifiedDateTime'], ...stored('shipmentMethods') },
    { set: 'taxAreas', type: 'taxArea', noun: 'Tax Area', props: ['id', 'code', 'displayName', 'taxType', 'lastModifiedDateTime'], ...stored('taxAreas') },
    { set: 'taxGroups', type: 'taxGroup', noun: 'Tax Group', props: ['id', 'code', 'displayName', 'taxType', 'lastModifiedDateTime'], ...stored('taxGroups') },
    { set: 'currencies', type: 'currency', noun: 'Currency', props: ['id', 'code', 'displayName', 'symbol', 'amountDecimalPlaces', 'amountRoundingPrecision', 'lastModifiedDateTime'], ...stored('currencies') },
    { set: 'accounts', type: 'account', noun: 'G/L Account', props: ['id', 'number', 'displayName', 'category', 'subCategory', 'blocked', 'accountType', 'directPosting', 'lastModifiedDateTime'], ...stored('accounts') },
    ...salesDocument('order'),
    ...salesDocument('creditMemo'),
    {
      set: 'salesShipments', type: 'salesShipment', noun: 'Sales Shipment Header', ...stored('salesShipments'),
      props: ['id', 'number', 'externalDocumentNumber', 'orderNumber', 'invoiceDate', 'postingDate', 'dueDate', 'customerPurchaseOrderReference',
        ...HEADER_PARTY, 'currencyCode', 'paymentTermsCode', 'shipmentMethodCode', 'salesperson', 'pricesIncludeTax', 'phoneNumber', 'email', 'lastModifiedDateTime'],
      view: (ctx, r) => ({ ...r, currencyCode: lcyCode(ctx, r.currencyCode) }),
      nav: {
        salesShipmentLines: { target: 'salesShipmentLines', many: true, rows: (ctx, s) => (s._lines as string[]).map((id) => ctx.db.get('salesShipmentLines', id)!) },
        customer: single('customers', 'customers', 'customerId'),
      },
    },
    {
      set: 'salesShipmentLines', type: 'salesShipmentLine', noun: 'Sales Shipment Line', ...stored('salesShipmentLines'),
      props: ['id', 'documentId', 'documentNo', 'sequence', 'lineType', 'lineObjectNumber', 'description', 'description2', 'unitOfMeasureCode',
        'unitPrice', 'quantity', 'discountPercent', 'taxPercent', 'shipmentDate'],
    },
    {
      set: 'salesInvoices', type: 'salesInvoice', noun: 'Sales Invoice Header', ...stored('salesInvoices'),
      props: ['id', 'number', 'externalDocumentNumber', 'invoiceDate', 'postingDate', 'dueDate', ...HEADER_PARTY, 'currencyId', 'currencyCode',
        'orderId', 'orderNumber', 'pricesIncludeTax', 'discountAmount', 'discountAppliedBeforeTax', 'totalAmountExcludingTax', 'totalTaxAmount',
        'totalAmountIncludingTax', 'remainingAmount', 'status', 'lastModifiedDateTime', 'phoneNumber', 'email'],
      view: (ctx, r) => ({ ...r, currencyCode: lcyCode(ctx, r.currencyCode) }),
      nav: {
        salesInvoiceLines: { target: 'salesInvoiceLines', many: true, rows: (ctx, s) => (s._lines as string[]).map((id) => ctx.db.get('salesInvoiceLines', id)!) },
        customer: single('customers', 'customers', 'customerId'),
      },
    },
    {
      set: 'salesInvoiceLines', type: 'salesInvoiceLine', noun: 'Sales Invoice Line', ...stored('salesInvoiceLines'), nav: LINE_NAV,
      props: ORDER_LINE_PROPS.filter((p) => !['shippedQuantity', 'invoicedQuantity', 'invoiceQuantity', 'shipQuantity', 'description2', 'unitOfMeasureId'].includes(p)),
    },
  ];
  return new Map(defs.map((d) => [d.set, d]));
}

/** The companion extension's pages (`api/shopifyD365/integration/v1.0`); see sim/bc/README.md. */
export function customEntities(): Map<string, EntityDef> {
  const defs: EntityDef[] = [
    {
      set: 'locationAvailabilities', type: 'locationAvailability', noun: 'Location Availability', ...computed(availabilityRows),
      props: ['id', 'itemId', 'itemNumber', 'variantCode', 'locationCode', 'inventory', 'qtyOnSalesOrders', 'lastModifiedDateTime'],
    },
    {
      set: 'shipmentTrackings', type: 'shipmentTracking', noun: 'Shipment Tracking', ...computed(trackingRows),
      props: ['id', 'shipmentNumber', 'orderNumber', 'externalDocumentNumber', 'shippingAgentCode', 'packageTrackingNo', 'trackingUrl', 'lastModifiedDateTime'],
    },
    {
      set: 'shipmentLines', type: 'shipmentLine', noun: 'Shipment Line', ...computed(shipmentLineRows),
      props: ['id', 'shipmentNumber', 'orderNumber', 'externalDocumentNumber', 'sequence', 'lineType', 'lineObjectNumber', 'variantCode', 'locationCode', 'quantity', 'lastModifiedDateTime'],
    },
  ];
  return new Map(defs.map((d) => [d.set, d]));
}

export function notAllowed(method: string, def: EntityDef): BcError {
  return methodNotAllowed(method, def.set);
}
