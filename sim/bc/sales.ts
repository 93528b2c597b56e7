/**
 * Sales documents the way Business Central treats them through API v2.0: sales orders and credit memos
 * (deep insert of lines, server-side line amounts, invoice discount, tax from tax-area rates, totals),
 * posting of shipments and invoices, and the quantities behind per-location availability.
 */
import { BcError, dialog, recordNotFound } from './errors';
import { bool, date, guidField, num, text, validateBody, assign, type Spec, type FieldSpec } from './fields';
import { Db, EMPTY_GUID, ITEM_CHARGES, SERIES, type Rec, type Table } from './state';

export type DocKind = 'order' | 'creditMemo';

export interface SalesConfig {
  /** The company currency: blank currency codes read as this, and writing it means "blank". */
  lcy: string;
  /** Where a document's tax area comes from: the ship-to address when it matches a tax area, else the customer's. */
  taxAreaFrom: 'shipTo' | 'customer';
}

interface DocConfig {
  kind: DocKind; header: Table; lines: Table; lineSet: string; series: string; type: string; lineType: string; dateField: string;
}
export const DOCS: Record<DocKind, DocConfig> = {
  order: { kind: 'order', header: 'salesOrders', lines: 'salesOrderLines', lineSet: 'salesOrderLines', series: SERIES.order, type: 'salesOrder', lineType: 'salesOrderLine', dateField: 'orderDate' },
  creditMemo: { kind: 'creditMemo', header: 'salesCreditMemos', lines: 'salesCreditMemoLines', lineSet: 'salesCreditMemoLines', series: SERIES.creditMemo, type: 'salesCreditMemo', lineType: 'salesCreditMemoLine', dateField: 'creditMemoDate' },
};

const address = (prefix: string): Spec => ({
  [`${prefix}AddressLine1`]: text(100), [`${prefix}AddressLine2`]: text(50), [`${prefix}City`]: text(30),
  [`${prefix}Country`]: text(10), [`${prefix}State`]: text(30), [`${prefix}PostCode`]: text(20),
});

const COMMON_HEADER: Spec = {
  externalDocumentNumber: text(35), postingDate: date, customerId: guidField, customerNumber: text(20),
  billToCustomerId: guidField, billToCustomerNumber: text(20), shipToName: text(100), shipToContact: text(100),
  ...address('sellTo'), ...address('billTo'), ...address('shipTo'), currencyId: guidField, currencyCode: text(10),
  paymentTermsId: guidField, shipmentMethodId: guidField, salesperson: text(20), discountAmount: num(0),
  phoneNumber: text(30), email: text(80), shortcutDimension1Code: text(20), shortcutDimension2Code: text(20),
};
export const HEADER_WRITABLE: Record<DocKind, Spec> = {
  order: { ...COMMON_HEADER, orderDate: date, requestedDeliveryDate: date, partialShipping: bool },
  creditMemo: { ...COMMON_HEADER, creditMemoDate: date, dueDate: date, invoiceId: guidField, invoiceNumber: text(20) },
};
const HEADER_READONLY = ['id', 'number', 'customerName', 'billToName', 'pricesIncludeTax', 'discountAppliedBeforeTax', 'totalAmountExcludingTax',
  'totalTaxAmount', 'totalAmountIncludingTax', 'fullyShipped', 'status', 'lastModifiedDateTime'];

const LINE_TYPES = ['Comment', 'Account', 'Item', 'Resource', 'Fixed Asset', 'Charge'] as const;
const COMMON_LINE: Spec = {
  documentId: guidField, sequence: num(1), itemId: guidField, accountId: guidField,
  lineType: { kind: 'enum', values: LINE_TYPES } as FieldSpec, lineObjectNumber: text(20), description: text(100), description2: text(50),
  unitOfMeasureId: guidField, unitOfMeasureCode: text(10), quantity: num(0), unitPrice: num(0), discountAmount: num(0), discountPercent: num(0),
  taxCode: text(20), itemVariantId: guidField, locationId: guidField,
};
export const LINE_WRITABLE: Record<DocKind, Spec> = {
  order: { ...COMMON_LINE, shipmentDate: date, shipQuantity: num(0), invoiceQuantity: num(0) },
  creditMemo: COMMON_LINE,
};
const LINE_READONLY = ['id', 'discountAppliedBeforeTax', 'amountExcludingTax', 'taxPercent', 'totalTaxAmount', 'amountIncludingTax',
  'invoiceDiscountAllocation', 'netAmount', 'netTaxAmount', 'netAmountIncludingTax', 'shippedQuantity', 'invoicedQuantity'];

/** Rounds to cents the way BC's amount rounding precision (0.01) does. */
export const r2 = (x: number) => Math.round((x + Math.sign(x) * Number.EPSILON) * 100) / 100;
const sum = (xs: number[]) => r2(xs.reduce((a, b) => a + b, 0));

/** A line's amount after line discount, before invoice discount. */
function lineBase(l: Record<string, unknown>): number {
  const gross = r2((l.quantity as number) * (l.unitPrice as number));
  return r2(gross - (l._discFixed ? (l.discountAmount as number) : r2(gross * (l.discountPercent as number) / 100)));
}

const COMPUTED = ['discountAmount', 'discountPercent', 'amountExcludingTax', 'taxPercent', 'totalTaxAmount', 'amountIncludingTax',
  'invoiceDiscountAllocation', 'netAmount', 'netTaxAmount', 'netAmountIncludingTax', 'shipQuantity', 'invoiceQuantity'];
const signature = (l: Rec) => COMPUTED.map((k) => String(l[k])).join('|');

export class Sales {
  constructor(private readonly db: Db, private readonly cfg: SalesConfig) {}

  linesOf(header: Rec, kind: DocKind): Rec[] {
    return (header._lines as string[]).map((id) => this.db.get(DOCS[kind].lines, id)!).filter(Boolean);
  }

  // ---- customers and tax ----

  private resolveCustomer(values: Record<string, unknown>, current?: Rec): Rec {
    const id = values.customerId as string | undefined;
    const no = values.customerNumber as string | undefined;
    if (id === undefined && no === undefined) {
      if (current) return current;
      throw dialog('A customerNumber or a customerID must be provided.');
    }
    const byId = id !== undefined ? this.db.get('customers', id) : undefined;
    if (id !== undefined && !byId) throw recordNotFound('Customer', `Id='${id}'`);
    const byNo = no !== undefined ? this.db.by('customers', 'number', no) : undefined;
    if (no !== undefined && !byNo) throw recordNotFound('Customer', `No.='${no}'`);
    if (byId && byNo && byId.id !== byNo.id) throw dialog(`The customerId and customerNumber refer to different customers (${byId.number as string} and ${no}).`);
    return (byId ?? byNo)!;
  }

  private checkCustomerBlocked(c: Rec, kind: DocKind): void {
    const blocked = c.blocked as string;
    const stops = kind === 'order' ? ['Ship', 'Invoice', 'All'] : ['All'];
    if (stops.includes(blocked)) throw dialog(`You cannot create this type of document when Customer ${c.number as string} is blocked with type ${blocked}.`);
  }

  private taxAreaFor(h: Rec, customer: Rec): Rec | undefined {
    if (this.cfg.taxAreaFrom === 'shipTo' && h.shipToCountry) {
      const areas = this.db.all('taxAreas');
      const match = areas.find((a) => a._country === h.shipToCountry && a._state && a._state === h.shipToState)
        ?? areas.find((a) => a._country === h.shipToCountry && !a._state);
      if (match) return match;
    }
    return this.db.get('taxAreas', customer.taxAreaId as string);
  }

  private currencyFromCode(code: string): { currencyId: string; currencyCode: string } {
    if (code === '' || code === this.cfg.lcy) return { currencyId: EMPTY_GUID, currencyCode: '' };
    const c = this.db.by('currencies', 'code', code);
    if (!c) throw recordNotFound('Currency', `Code='${code}'`);
    return { currencyId: c.id, currencyCode: code };
  }

  private applyCustomer(h: Rec, c: Rec): void {
    const addr = (p: string) => {
      h[`${p}AddressLine1`] = c.addressLine1; h[`${p}AddressLine2`] = c.addressLine2; h[`${p}City`] = c.city;
      h[`${p}Country`] = c.country; h[`${p}State`] = c.state; h[`${p}PostCode`] = c.postalCode;
    };
    Object.assign(h, {
      customerId: c.id, customerNumber: c.number, customerName: c.displayName, billToCustomerId: c.id, billToCustomerNumber: c.number,
      billToName: c.displayName, shipToName: c.displayName, shipToContact: '', phoneNumber: c.phoneNumber, email: c.email,
      ...this.currencyFromCode(c.currencyCode as string),
    });
    addr('sellTo'); addr('billTo'); addr('shipTo');
  }

  // ---- documents ----

  createDocument(kind: DocKind, body: unknown): Rec {
    const d = DOCS[kind];
    const values = validateBody(body, d.type, HEADER_WRITABLE[kind], HEADER_READONLY, [d.lineSet]);
    const rawLines = (body as Record<string, unknown>)[d.lineSet];
    if (rawLines !== undefined && !Array.isArray(rawLines)) throw new BcError(400, 'BadRequest', `'${d.lineSet}' must be an array.`);
    const customer = this.resolveCustomer(values);
    this.checkCustomerBlocked(customer, kind);
    const today = this.db.today();
    // Build the header off-table first so a bad line leaves nothing behind (BC rolls back the whole insert).
    const draft: Rec = { id: '', lastModifiedDateTime: '', _rv: 0, _lines: [] };
    this.applyCustomer(draft, customer);
    Object.assign(draft, {
      externalDocumentNumber: '', [d.dateField]: today, postingDate: today, salesperson: '', paymentTermsId: EMPTY_GUID,
      shipmentMethodId: customer.shipmentMethodId, pricesIncludeTax: false, discountAmount: 0, discountAppliedBeforeTax: true,
      shortcutDimension1Code: '', shortcutDimension2Code: '', status: 'Draft',
    });
    if (kind === 'order') Object.assign(draft, { requestedDeliveryDate: '0001-01-01', partialShipping: true, fullyShipped: false });
    else Object.assign(draft, { dueDate: today, invoiceId: EMPTY_GUID, invoiceNumber: '' });
    this.applyHeaderValues(draft, values);
    const preparedLines = (rawLines ?? []).map((raw: unknown, i: number) => this.prepareLine(kind, draft, raw, undefined, (i + 1) * 10000));
    this.checkSequences(preparedLines.map((l) => l.sequence as number));
    this.checkInvoiceDiscount(draft.discountAmount as number, preparedLines);

    const { id: _ignore, ...fields } = draft;
    const header = this.db.insert(d.header, { ...fields, number: this.db.nextNo(d.series), _lines: [] });
    for (const l of preparedLines) this.insertLine(kind, header, l);
    this.recalc(kind, header);
    return header;
  }

  private checkSequences(seqs: number[]): void {
    if (new Set(seqs).size !== seqs.length) throw new BcError(400, 'Internal_EntityWithSameKeyExists', 'The record already exists: two lines have the same sequence.');
  }

  /** Header values onto a (draft or stored) header; ship-to fields given explicitly replace the default address. */
  private applyHeaderValues(h: Rec, values: Record<string, unknown>): void {
    const { customerId: _c, customerNumber: _n, currencyCode, currencyId, ...rest } = values;
    if (Object.keys(values).some((k) => k.startsWith('shipTo'))) {
      for (const f of ['shipToName', 'shipToContact', 'shipToAddressLine1', 'shipToAddressLine2', 'shipToCity', 'shipToCountry', 'shipToState', 'shipToPostCode']) {
        if (!(f in values)) h[f] = '';
      }
    }
    if (typeof currencyCode === 'string') Object.assign(h, this.currencyFromCode(currencyCode));
    if (typeof currencyId === 'string') {
      const c = currencyId === EMPTY_GUID ? undefined : this.db.get('currencies', currencyId);
      if (currencyId !== EMPTY_GUID && !c) throw recordNotFound('Currency', `Id='${currencyId}'`);
      Object.assign(h, { currencyId, currencyCode: c ? c.code : '' });
    }
    for (const ref of ['shipmentMethodId', 'billToCustomerId'] as const) {
      const v = rest[ref] as string | undefined;
      const table = ref === 'shipmentMethodId' ? 'shipmentMethods' : 'customers';
      if (v && v !== EMPTY_GUID && !this.db.get(table, v)) throw recordNotFound(ref === 'shipmentMethodId' ? 'Shipment Method' : 'Customer', `Id='${v}'`);
    }
    assign(h, rest);
    const customer = this.db.get('customers', h.customerId as string)!;
    h._taxAreaCode = this.taxAreaFor(h, customer)?.code ?? '';
  }

  updateDocument(kind: DocKind, h: Rec, body: unknown): void {
    const d = DOCS[kind];
    const raw = body as Record<string, unknown>;
    if (raw && typeof raw === 'object' && d.lineSet in raw) {
      throw new BcError(400, 'BadRequest_MethodNotAllowed', 'Deep update is not supported. Update the lines through their own endpoint.');
    }
    const values = validateBody(body, d.type, HEADER_WRITABLE[kind], HEADER_READONLY);
    this.checkOpen(kind, h);
    if ('customerId' in values || 'customerNumber' in values) {
      const c = this.resolveCustomer(values, this.db.get('customers', h.customerId as string));
      if (c.id !== h.customerId) {
        this.checkCustomerBlocked(c, kind);
        if (this.linesOf(h, kind).some((l) => (l.shippedQuantity as number) > 0)) throw dialog('You cannot change the customer because the order has shipped lines.');
        this.applyCustomer(h, c);
      }
    }
    if ('discountAmount' in values) this.checkInvoiceDiscount(values.discountAmount as number, this.linesOf(h, kind));
    this.applyHeaderValues(h, values);
    this.recalc(kind, h);
  }

  private checkInvoiceDiscount(discount: number, lines: Record<string, unknown>[]): void {
    const base = sum(lines.map(lineBase));
    if (discount > base) throw dialog(`The invoice discount amount ${discount} cannot exceed the document's line amount ${base}.`);
  }

  deleteDocument(kind: DocKind, h: Rec): void {
    const lines = this.linesOf(h, kind);
    if (kind === 'order' && lines.some((l) => (l.shippedQuantity as number) > 0)) {
      throw dialog(`You cannot delete Order ${h.number as string} because one or more lines have been shipped.`);
    }
    if (kind === 'creditMemo' && h.status !== 'Draft') throw dialog(`You cannot delete the posted credit memo ${h.number as string}.`);
    for (const l of lines) {
      this.db.remove(DOCS[kind].lines, l.id);
      this.demandTouched(l);
    }
    this.db.remove(DOCS[kind].header, h.id);
  }

  private checkOpen(kind: DocKind, h: Rec): void {
    if (h.status === 'Draft') return;
    if (kind === 'order') {
      throw dialog(`Status must be equal to 'Open'  in Sales Header: Document Type=Order, No.=${h.number as string}. Current value is 'Released'.`);
    }
    throw dialog(`Credit memo ${h.number as string} has been posted and can no longer be changed.`);
  }

  // ---- lines ----

  /** Validates a line body and resolves what it sells; no side effects, so a deep insert can fail atomically. */
  private prepareLine(kind: DocKind, h: Rec, raw: unknown, existing: Rec | undefined, defaultSeq: number): Record<string, unknown> {
    const d = DOCS[kind];
    const values = validateBody(raw, d.lineType, LINE_WRITABLE[kind], LINE_READONLY);
    delete values.documentId;
    const l: Record<string, unknown> = existing ? { ...existing } : {
      sequence: defaultSeq, lineType: values.itemId || values.lineObjectNumber ? 'Item' : values.accountId ? 'Account' : 'Comment',
      itemId: EMPTY_GUID, accountId: EMPTY_GUID, lineObjectNumber: '', description: '', description2: '', unitOfMeasureId: EMPTY_GUID,
      unitOfMeasureCode: '', quantity: 0, unitPrice: 0, discountAmount: 0, discountPercent: 0, discountAppliedBeforeTax: true, taxCode: '',
      itemVariantId: EMPTY_GUID, locationId: EMPTY_GUID, _itemNumber: '', _variantCode: '', _locationCode: '', _itemType: '', _discFixed: false,
      ...(kind === 'order' ? { shipmentDate: h.requestedDeliveryDate !== '0001-01-01' ? h.requestedDeliveryDate : h.orderDate, shippedQuantity: 0, invoicedQuantity: 0 } : {}),
    };
    if (existing && values.sequence !== undefined && values.sequence !== existing.sequence) throw dialog('The sequence of an existing line cannot be changed.');
    const shipped = (l.shippedQuantity as number | undefined) ?? 0;
    const objectChanged = ['lineType', 'itemId', 'accountId', 'lineObjectNumber', 'itemVariantId', 'locationId'].some((k) => k in values && values[k] !== l[k]);
    if (existing && shipped > 0 && objectChanged) throw dialog(`You cannot change line ${l.sequence as number} because it has been shipped.`);
    const typeChanged = 'lineType' in values && values.lineType !== l.lineType;
    const newObject = 'itemId' in values || 'accountId' in values || 'lineObjectNumber' in values || typeChanged;
    Object.assign(l, values);
    if (newObject) this.resolveObject(l, values);
    if ('itemVariantId' in values || (newObject && l.lineType === 'Item')) this.resolveVariant(l);
    if ('locationId' in values) {
      const id = l.locationId as string;
      const loc = id === EMPTY_GUID ? undefined : this.db.get('locations', id);
      if (id !== EMPTY_GUID && !loc) throw recordNotFound('Location', `Id='${id}'`);
      l._locationCode = loc ? loc.code : '';
    }
    if (l.taxCode && !this.db.by('taxGroups', 'code', l.taxCode)) throw recordNotFound('Tax Group', `Code='${l.taxCode as string}'`);
    if (l.lineType === 'Comment') Object.assign(l, { quantity: 0, unitPrice: 0, discountAmount: 0, discountPercent: 0 });
    if ((l.quantity as number) < shipped) throw dialog(`Quantity on line ${l.sequence as number} cannot be less than the quantity already shipped (${shipped}).`);
    if ((l.discountPercent as number) > 100) throw new BcError(400, 'Application_FieldValidationException', 'The value of discountPercent must not exceed 100.');
    if ('discountAmount' in values) l._discFixed = true;
    else if ('discountPercent' in values || 'quantity' in values || 'unitPrice' in values) l._discFixed = false;
    const gross = r2((l.quantity as number) * (l.unitPrice as number));
    if (l._discFixed && (l.discountAmount as number) > gross) {
      throw dialog(`The line discount amount ${l.discountAmount as number} on line ${l.sequence as number} exceeds the line amount ${gross}.`);
    }
    if (kind === 'order') {
      if ((values.shipQuantity as number | undefined) !== undefined && (values.shipQuantity as number) > (l.quantity as number) - shipped) {
        throw dialog(`You cannot ship more than ${(l.quantity as number) - shipped} units on line ${l.sequence as number}.`);
      }
    }
    return l;
  }

  private resolveObject(l: Record<string, unknown>, values: Record<string, unknown>): void {
    const type = l.lineType as string;
    const no = values.lineObjectNumber as string | undefined;
    if (type === 'Item') {
      const id = values.itemId as string | undefined;
      const item = id ? this.db.get('items', id) : no !== undefined ? this.db.by('items', 'number', no) : this.db.get('items', l.itemId as string);
      if (!item) throw recordNotFound('Item', id ? `Id='${id}'` : `No.='${no ?? ''}'`);
      if (item.blocked) throw dialog(`You cannot sell item ${item.number as string} (${item.displayName as string}) because it is blocked.`);
      Object.assign(l, {
        itemId: item.id, accountId: EMPTY_GUID, lineObjectNumber: item.number, _itemNumber: item.number, _itemType: item.type,
        unitOfMeasureCode: item.baseUnitOfMeasureCode, taxCode: values.taxCode ?? item.taxGroupCode,
        description: values.description ?? item.displayName, unitPrice: values.unitPrice ?? item.unitPrice,
      });
    } else if (type === 'Account') {
      const id = values.accountId as string | undefined;
      const acc = id ? this.db.get('accounts', id) : no !== undefined ? this.db.by('accounts', 'number', no) : undefined;
      if (!acc) throw recordNotFound('G/L Account', id ? `Id='${id}'` : `No.='${no ?? ''}'`);
      Object.assign(l, {
        accountId: acc.id, itemId: EMPTY_GUID, lineObjectNumber: acc.number, _itemNumber: '', _itemType: '', itemVariantId: EMPTY_GUID, _variantCode: '',
        taxCode: values.taxCode ?? acc._taxGroupCode, description: values.description ?? acc.displayName, unitOfMeasureCode: '',
      });
    } else if (type === 'Charge') {
      const charge = ITEM_CHARGES.find((c) => c.number === no);
      if (!charge) throw recordNotFound('Item Charge', `No.='${no ?? ''}'`);
      Object.assign(l, {
        itemId: EMPTY_GUID, accountId: EMPTY_GUID, lineObjectNumber: charge.number, _itemNumber: '', _itemType: '', itemVariantId: EMPTY_GUID,
        _variantCode: '', taxCode: values.taxCode ?? charge.taxGroupCode, description: values.description ?? charge.displayName, unitOfMeasureCode: '',
      });
    } else if (type === 'Comment') {
      Object.assign(l, { itemId: EMPTY_GUID, accountId: EMPTY_GUID, lineObjectNumber: '', _itemNumber: '', _itemType: '', itemVariantId: EMPTY_GUID, _variantCode: '', taxCode: '' });
    } else {
      throw dialog(`Line type '${type}' is not supported by this simulator.`);
    }
  }

  private resolveVariant(l: Record<string, unknown>): void {
    const id = l.itemVariantId as string;
    if (id === EMPTY_GUID) { l._variantCode = ''; return; }
    if (l.lineType !== 'Item') throw dialog('An item variant can only be set on an Item line.');
    const v = this.db.get('itemVariants', id);
    if (!v) throw recordNotFound('Item Variant', `Id='${id}'`);
    if (v.itemId !== l.itemId) throw dialog(`Item variant ${v.code as string} belongs to item ${v.itemNumber as string}, not to item ${l.lineObjectNumber as string}.`);
    l._variantCode = v.code;
  }

  private insertLine(kind: DocKind, h: Rec, prepared: Record<string, unknown>): Rec {
    const { id: _i, lastModifiedDateTime: _m, _rv: _r, ...fields } = prepared;
    const line = this.db.insert(DOCS[kind].lines, { ...fields, documentId: h.id });
    (h._lines as string[]).push(line.id);
    (h._lines as string[]).sort((a, b) => (this.db.get(DOCS[kind].lines, a)!.sequence as number) - (this.db.get(DOCS[kind].lines, b)!.sequence as number));
    if (kind === 'order') this.demandTouched(line);
    return line;
  }

  createLine(kind: DocKind, h: Rec, body: unknown): Rec {
    this.checkOpen(kind, h);
    const lines = this.linesOf(h, kind);
    const next = (lines.reduce((m, l) => Math.max(m, l.sequence as number), 0) || 0) + 10000;
    const prepared = this.prepareLine(kind, h, body, undefined, next);
    this.checkSequences([...lines.map((l) => l.sequence as number), prepared.sequence as number]);
    const line = this.insertLine(kind, h, prepared);
    this.recalc(kind, h);
    return line;
  }

  updateLine(kind: DocKind, h: Rec, line: Rec, body: unknown): void {
    this.checkOpen(kind, h);
    const before = { ...line };
    const prepared = this.prepareLine(kind, h, body, line, line.sequence as number);
    Object.assign(line, prepared);
    this.db.touch(line);
    if (kind === 'order') { this.demandTouched(before); this.demandTouched(line); }
    this.recalc(kind, h);
  }

  deleteLine(kind: DocKind, h: Rec, line: Rec): void {
    this.checkOpen(kind, h);
    if ((line.shippedQuantity as number | undefined ?? 0) > 0) throw dialog(`You cannot delete line ${line.sequence as number} because it has been shipped.`);
    this.db.remove(DOCS[kind].lines, line.id);
    h._lines = (h._lines as string[]).filter((x) => x !== line.id);
    if (kind === 'order') this.demandTouched(line);
    this.recalc(kind, h);
  }

  private demandTouched(l: Rec | Record<string, unknown>): void {
    if (l.lineType === 'Item' && l._itemNumber) this.db.availabilityTouched(l._itemNumber as string, l._variantCode as string, l._locationCode as string);
  }

  // ---- amounts ----

  private rateFor(h: Rec, l: Rec): number {
    if (l.lineType === 'Comment' || l.taxCode === 'NONTAXABLE' || !l.taxCode) return 0;
    const customer = this.db.get('customers', h.customerId as string);
    if (!customer?.taxLiable) return 0;
    const area = this.db.by('taxAreas', 'code', h._taxAreaCode);
    return (area?._rate as number | undefined) ?? 0;
  }

  /** Recomputes every line amount, allocates the invoice discount and sets the header totals; bumps etags. */
  recalc(kind: DocKind, h: Rec): void {
    const lines = this.linesOf(h, kind);
    const before = new Map(lines.map((l) => [l, signature(l)]));
    for (const l of lines) {
      const gross = r2((l.quantity as number) * (l.unitPrice as number));
      if (!l._discFixed) l.discountAmount = r2(gross * (l.discountPercent as number) / 100);
      else l.discountPercent = gross > 0 ? Math.round(((l.discountAmount as number) / gross) * 100 * 100000) / 100000 : 0;
      l.amountExcludingTax = r2(gross - (l.discountAmount as number));
      const rate = this.rateFor(h, l);
      l.taxPercent = Math.round(rate * 100 * 100000) / 100000;
      l.totalTaxAmount = r2((l.amountExcludingTax as number) * rate);
      l.amountIncludingTax = r2((l.amountExcludingTax as number) + (l.totalTaxAmount as number));
      if (kind === 'order') {
        l.shipQuantity = (l.quantity as number) - (l.shippedQuantity as number);
        l.invoiceQuantity = (l.shippedQuantity as number) - (l.invoicedQuantity as number);
      }
    }
    const base = sum(lines.map((l) => l.amountExcludingTax as number));
    // Lines shrank below the invoice discount: BC recalculates the discount down to what is left.
    const discount = Math.min(h.discountAmount as number, base);
    h.discountAmount = discount;
    let left = discount;
    const eligible = lines.filter((l) => (l.amountExcludingTax as number) > 0);
    eligible.forEach((l, i) => {
      const share = i === eligible.length - 1 ? left : r2(discount * (l.amountExcludingTax as number) / base);
      l.invoiceDiscountAllocation = r2(share);
      left = r2(left - share);
    });
    for (const l of lines) {
      if (!eligible.includes(l)) l.invoiceDiscountAllocation = 0;
      const rate = this.rateFor(h, l);
      l.netAmount = r2((l.amountExcludingTax as number) - (l.invoiceDiscountAllocation as number));
      l.netTaxAmount = r2((l.netAmount as number) * rate);
      l.netAmountIncludingTax = r2((l.netAmount as number) + (l.netTaxAmount as number));
      if (before.get(l) !== signature(l)) this.db.touch(l);
    }
    h.totalAmountExcludingTax = sum(lines.map((l) => l.netAmount as number));
    h.totalTaxAmount = sum(lines.map((l) => l.netTaxAmount as number));
    h.totalAmountIncludingTax = sum(lines.map((l) => l.netAmountIncludingTax as number));
    if (kind === 'order') {
      const real = lines.filter((l) => l.lineType !== 'Comment' && (l.quantity as number) > 0);
      h.fullyShipped = real.length > 0 && real.every((l) => l.shippedQuantity === l.quantity);
    }
    this.db.touch(h);
  }

  // ---- posting ----

  orderByNumber(number: string): Rec {
    const h = this.db.by('salesOrders', 'number', number);
    if (!h) throw recordNotFound('Sales Header', `Document Type='Order',No.='${number}'`);
    return h;
  }

  postShipment(number: string, opts: ShipmentOptions): Rec {
    const h = this.orderByNumber(number);
    const lines = this.linesOf(h, 'order').filter((l) => l.lineType !== 'Comment');
    const remaining = (l: Rec) => (l.quantity as number) - (l.shippedQuantity as number);
    const plan = new Map<Rec, number>();
    if (opts.lines?.length) {
      for (const want of opts.lines) {
        const line = lines.find((l) => (want.sequence !== undefined ? l.sequence === want.sequence
          : l._itemNumber === want.itemNumber && (want.variantCode === undefined || l._variantCode === want.variantCode)) && remaining(l) - (plan.get(l) ?? 0) > 0);
        if (!line) throw dialog(`Order ${number} has no open line for ${want.sequence !== undefined ? `sequence ${want.sequence}` : `item ${want.itemNumber ?? ''}`}.`);
        const q = (plan.get(line) ?? 0) + want.quantity;
        if (want.quantity <= 0 || q > remaining(line)) throw dialog(`You cannot ship ${want.quantity} on line ${line.sequence as number}; ${remaining(line)} remain.`);
        plan.set(line, q);
      }
    } else {
      for (const l of lines) if (remaining(l) > 0) plan.set(l, remaining(l));
    }
    if (plan.size === 0) throw dialog('There is nothing to post.');
    const today = this.db.today();
    const shipment = this.db.insert('salesShipments', {
      number: this.db.nextNo(SERIES.shipment), externalDocumentNumber: h.externalDocumentNumber, orderNumber: h.number, invoiceDate: today,
      postingDate: today, dueDate: today, customerPurchaseOrderReference: '', customerId: h.customerId, customerNumber: h.customerNumber,
      customerName: h.customerName, billToName: h.billToName, billToCustomerId: h.billToCustomerId, billToCustomerNumber: h.billToCustomerNumber,
      shipToName: h.shipToName, shipToContact: h.shipToContact,
      ...Object.fromEntries(['sellTo', 'billTo', 'shipTo'].flatMap((p) => ['AddressLine1', 'AddressLine2', 'City', 'Country', 'State', 'PostCode'].map((s) => [`${p}${s}`, h[`${p}${s}`]]))),
      currencyCode: h.currencyCode, paymentTermsCode: '', shipmentMethodCode: this.db.get('shipmentMethods', h.shipmentMethodId as string)?.code ?? '',
      salesperson: h.salesperson, pricesIncludeTax: false, phoneNumber: h.phoneNumber, email: h.email,
      _orderId: h.id, _trackingNo: opts.trackingNumber ?? '', _agentCode: opts.shippingAgentCode ?? '', _lines: [],
    });
    for (const [l, q] of plan) {
      const location = (l._locationCode as string) || opts.locationCode || '';
      const sl = this.db.insert('salesShipmentLines', {
        documentId: shipment.id, documentNo: shipment.number, sequence: l.sequence, lineType: l.lineType, lineObjectNumber: l.lineObjectNumber,
        description: l.description, description2: l.description2, unitOfMeasureCode: l.unitOfMeasureCode, unitPrice: l.unitPrice, quantity: q,
        discountPercent: l.discountPercent, taxPercent: l.taxPercent, shipmentDate: today, _variantCode: l._variantCode, _locationCode: location,
      });
      (shipment._lines as string[]).push(sl.id);
      if (l.lineType === 'Item' && l._itemType === 'Inventory') this.db.adjustStock(l._itemNumber as string, l._variantCode as string, location, -q);
      this.demandTouched(l);
      l.shippedQuantity = (l.shippedQuantity as number) + q;
      this.db.touch(l);
    }
    h.status = 'Open';
    this.recalc('order', h);
    return shipment;
  }

  invoiceOrder(number: string): Rec {
    const h = this.orderByNumber(number);
    const lines = this.linesOf(h, 'order');
    const toInvoice = lines.filter((l) => (l.shippedQuantity as number) > (l.invoicedQuantity as number));
    if (toInvoice.length === 0) throw dialog('There is nothing to post.');
    const today = this.db.today();
    const inv = this.db.insert('salesInvoices', {
      number: this.db.nextNo(SERIES.invoice), externalDocumentNumber: h.externalDocumentNumber, invoiceDate: today, postingDate: today, dueDate: today,
      customerId: h.customerId, customerNumber: h.customerNumber, customerName: h.customerName, billToName: h.billToName,
      billToCustomerId: h.billToCustomerId, billToCustomerNumber: h.billToCustomerNumber, shipToName: h.shipToName, shipToContact: h.shipToContact,
      ...Object.fromEntries(['sellTo', 'billTo', 'shipTo'].flatMap((p) => ['AddressLine1', 'AddressLine2', 'City', 'Country', 'State', 'PostCode'].map((s) => [`${p}${s}`, h[`${p}${s}`]]))),
      currencyId: h.currencyId, currencyCode: h.currencyCode, orderId: h.id, orderNumber: h.number, pricesIncludeTax: false, discountAmount: 0,
      discountAppliedBeforeTax: true, status: 'Open', phoneNumber: h.phoneNumber, email: h.email, _lines: [],
    });
    for (const l of toInvoice) {
      const q = (l.shippedQuantity as number) - (l.invoicedQuantity as number);
      const f = q / (l.quantity as number);
      const il = this.db.insert('salesInvoiceLines', {
        documentId: inv.id, sequence: l.sequence, itemId: l.itemId, accountId: l.accountId, lineType: l.lineType, lineObjectNumber: l.lineObjectNumber,
        description: l.description, unitOfMeasureCode: l.unitOfMeasureCode, quantity: q, unitPrice: l.unitPrice,
        discountAmount: r2((l.discountAmount as number) * f), discountPercent: l.discountPercent, discountAppliedBeforeTax: true,
        amountExcludingTax: r2((l.amountExcludingTax as number) * f), taxCode: l.taxCode, taxPercent: l.taxPercent,
        totalTaxAmount: r2((l.totalTaxAmount as number) * f), amountIncludingTax: r2((l.amountIncludingTax as number) * f),
        invoiceDiscountAllocation: r2((l.invoiceDiscountAllocation as number) * f), netAmount: r2((l.netAmount as number) * f),
        netTaxAmount: r2((l.netTaxAmount as number) * f), netAmountIncludingTax: r2((l.netAmountIncludingTax as number) * f),
        shipmentDate: l.shipmentDate, itemVariantId: l.itemVariantId, locationId: l.locationId,
      });
      (inv._lines as string[]).push(il.id);
      l.invoicedQuantity = (l.invoicedQuantity as number) + q;
      this.db.touch(l);
    }
    const ils = (inv._lines as string[]).map((id) => this.db.get('salesInvoiceLines', id)!);
    Object.assign(inv, {
      discountAmount: sum(ils.map((l) => l.invoiceDiscountAllocation as number)),
      totalAmountExcludingTax: sum(ils.map((l) => l.netAmount as number)), totalTaxAmount: sum(ils.map((l) => l.netTaxAmount as number)),
      totalAmountIncludingTax: sum(ils.map((l) => l.netAmountIncludingTax as number)),
    });
    inv.remainingAmount = inv.totalAmountIncludingTax;
    this.db.touch(inv);
    // BC deletes a sales order once every line is completely shipped and invoiced.
    if (lines.every((l) => l.lineType === 'Comment' || (l.invoicedQuantity === l.quantity && l.shippedQuantity === l.quantity))) {
      for (const l of lines) this.db.remove('salesOrderLines', l.id);
      this.db.remove('salesOrders', h.id);
    } else {
      this.recalc('order', h);
    }
    return inv;
  }

  /** Posting a credit memo: status Open, and item lines with a location return their units to stock. */
  postCreditMemo(h: Rec): void {
    this.checkOpen('creditMemo', h);
    const lines = this.linesOf(h, 'creditMemo');
    if (!lines.some((l) => (l.quantity as number) > 0)) throw dialog('There is nothing to post.');
    for (const l of lines) {
      if (l.lineType === 'Item' && l._itemType === 'Inventory') this.db.adjustStock(l._itemNumber as string, l._variantCode as string, l._locationCode as string, l.quantity as number);
    }
    h.status = 'Open';
    this.db.touch(h);
  }

  /** Units on open sales order lines not yet shipped, per `${item}|${variant}|${location}`. */
  openDemand(): Map<string, number> {
    const out = new Map<string, number>();
    for (const l of this.db.all('salesOrderLines')) {
      if (l.lineType !== 'Item' || !l._itemNumber) continue;
      const open = (l.quantity as number) - (l.shippedQuantity as number);
      if (open <= 0) continue;
      const key = `${l._itemNumber as string}|${l._variantCode as string}|${l._locationCode as string}`;
      out.set(key, (out.get(key) ?? 0) + open);
    }
    return out;
  }
}

export interface ShipmentOptions {
  lines?: { sequence?: number; itemNumber?: string; variantCode?: string; quantity: number }[];
  trackingNumber?: string;
  shippingAgentCode?: string;
  /** Location to ship from for lines that have none. */
  locationCode?: string;
}

