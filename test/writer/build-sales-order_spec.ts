import 'should';
import { Order } from '../../nodes/lib/contract';
import { buildSalesOrder, noteLines } from '../../nodes/lib/writer/build-sales-order';
import { planRefund } from '../../nodes/lib/writer/refund-plan';
import { planUpdate } from '../../nodes/lib/writer/update-plan';
import { WriterSettings } from '../../nodes/lib/writer/settings';
import { erp1001, order1001, refund } from './fixtures';
import { Refund } from '../../nodes/lib/contract';

const settings = (over: Record<string, unknown> = {}) => WriterSettings.parse(over);
const ids = { shipmentMethodId: 'sm-std', locations: { EAST: 'loc-east' } };

describe('writer: sales order body', () => {
  it('builds the deep-insert body of #1001 with exact money, location ids, shipping account line and ship-to', () => {
    const b = buildSalesOrder(Order.parse(order1001()), erp1001(), settings(), ids);
    b.findings.should.eql([]);
    b.body.should.containEql({ customerNumber: 'C10000', externalDocumentNumber: '#1001', orderDate: '2026-03-10', currencyCode: '',
      shipToName: 'Bob Norman', shipToAddressLine1: 'Chestnut Street 92', shipToCity: 'Louisville', shipToState: 'KY', shipToPostCode: '40202',
      shipToCountry: 'US', shipmentMethodId: 'sm-std', email: 'bob.norman@mail.example.com' });
    (b.body.salesOrderLines as any[]).should.eql([
      { sequence: 10000, lineType: 'Item', lineObjectNumber: 'IPOD2008GREEN', quantity: 2, unitPrice: 199, discountAmount: 10, locationId: 'loc-east' },
      { sequence: 20000, lineType: 'Item', lineObjectNumber: 'IPOD2008RED', quantity: 1, unitPrice: 199, discountAmount: 0, locationId: 'loc-east' },
      { sequence: 30000, lineType: 'Account', lineObjectNumber: '6610', description: 'Shipping: Standard', quantity: 1, unitPrice: 10, discountAmount: 0 },
    ]);
    b.lines['466157049']!.should.containEql({ seq: 10000, item: 'IPOD2008GREEN', quantity: 2, unitPrice: '199.00' });
    b.shipping.should.eql([{ seq: 30000, shippingLineId: '369256396', amount: '10.00' }]);
  });

  it('sums discount allocations in cents (no float drift) and uses a charge line when configured', () => {
    const o = order1001();
    o.line_items[1].discount_allocations = [0.1, 0.2, 0.3].map((x) => ({ amount: x.toFixed(2), discount_application_index: 0 }));
    o.shipping_lines[0].discount_allocations = [{ amount: '2.50', discount_application_index: 1 }];
    const b = buildSalesOrder(Order.parse(o), erp1001(), settings({ shippingMode: 'charge', shippingChargeNo: 'S-FREIGHT' }), ids);
    const lines = b.body.salesOrderLines as any[];
    lines[1].discountAmount.should.equal(0.6);
    lines[2].should.containEql({ lineType: 'Charge', lineObjectNumber: 'S-FREIGHT', unitPrice: 10, discountAmount: 2.5 });
    b.shipping[0]!.amount.should.equal('7.50');
  });

  it('collects every problem at once: no customer, an unmapped line, an unknown location and shipment method', () => {
    const erp = erp1001();
    delete erp.customer;
    erp.lines![1]!.itemNumber = undefined;
    erp.lines![0]!.locationCode = 'NOWHERE';
    const b = buildSalesOrder(Order.parse(order1001()), erp, settings(), { locations: {} });
    b.findings.map((f) => f.code).sort().should.eql(['ERP_DATA_MISSING', 'ERP_LINE_MISSING', 'LOCATION_UNKNOWN', 'SHIPMENT_METHOD_UNKNOWN']);
  });

  it('sets a foreign currency, cuts long fields with a warning, and carries the note as comment lines', () => {
    const o = order1001();
    o.currency = 'EUR';
    o.shipping_address.city = 'Llanfairpwllgwyngyllgogerychwyrndrobwllllantysiliogogogoch';
    o.note = 'Bitte klingeln 🔔 '.repeat(10);
    const b = buildSalesOrder(Order.parse(o), erp1001(), settings(), ids);
    (b.body.currencyCode as string).should.equal('EUR');
    (b.body.shipToCity as string).length.should.equal(30);
    b.findings.should.containDeep([{ code: 'FIELD_TRUNCATED', severity: 'warning', path: 'shipToCity' }]);
    const comments = (b.body.salesOrderLines as any[]).filter((l) => l.lineType === 'Comment');
    comments.length.should.equal(2);
    comments[0].description.should.startWith('Note: Bitte');
    comments.every((c) => c.description.length <= 100).should.be.true();
  });

  it('skips lines an order edit removed and zero-priced shipping; noteLines caps a huge note', () => {
    const o = order1001();
    o.line_items[1].current_quantity = 0;
    o.shipping_lines[0].price = '0.00';
    const erp = erp1001();
    erp.lines = erp.lines!.slice(0, 1);
    const b = buildSalesOrder(Order.parse(o), erp, settings(), ids);
    (b.body.salesOrderLines as any[]).map((l) => l.lineObjectNumber).should.eql(['IPOD2008GREEN']);
    const huge = noteLines('x'.repeat(100_000));
    huge.length.should.equal(5);
    huge[4]!.should.endWith('…');
  });
});

describe('writer: lifecycle plans', () => {
  const built = () => buildSalesOrder(Order.parse(order1001()), erp1001(), settings(), ids);
  const bcLines = (shipped: number[] = [0, 0, 0]) => [
    { id: 'l1', sequence: 10000, lineType: 'Item', lineObjectNumber: 'IPOD2008GREEN', quantity: 2, shippedQuantity: shipped[0], unitPrice: 199, discountAmount: 10 },
    { id: 'l2', sequence: 20000, lineType: 'Item', lineObjectNumber: 'IPOD2008RED', quantity: 1, shippedQuantity: shipped[1], unitPrice: 199, discountAmount: 0 },
    { id: 'l3', sequence: 30000, lineType: 'Account', lineObjectNumber: '6610', quantity: 1, shippedQuantity: shipped[2], unitPrice: 10, discountAmount: 0 },
  ];

  it('refund with restock before shipment reduces the open lines and the shipping line, no credit memo', () => {
    const b = built();
    const r = Refund.parse(refund(7, [{ line_item_id: 466157049, quantity: 1, restock_type: 'cancel', subtotal: '194.00' }], '4.00'));
    const p = planRefund(r, b.lines, b.shipping, bcLines(), settings());
    p.reduce.should.eql([{ lineId: 'l1', sequence: 10000, etag: undefined, from: 2, to: 1 }]);
    p.shipping!.should.containEql({ lineId: 'l3', unitPrice: 6 });
    p.creditLines.should.eql([]);
  });

  it('refund after shipment becomes credit memo lines with the refunded amount, shipping and no-restock per setting', () => {
    const b = built();
    const r = Refund.parse(refund(8, [
      { line_item_id: 466157049, quantity: 2, restock_type: 'return', subtotal: '388.00' },
      { line_item_id: 518995019, quantity: 1, restock_type: 'no_restock', subtotal: '199.00' }], '10.00'));
    const p = planRefund(r, b.lines, b.shipping, bcLines([2, 1, 1]), settings());
    p.reduce.should.eql([]);
    p.creditLines.should.eql([
      { lineType: 'Item', lineObjectNumber: 'IPOD2008GREEN', quantity: 2, unitPrice: 199, discountAmount: 10, locationId: 'loc-east' },
      { lineType: 'Account', lineObjectNumber: '6620', quantity: 1, unitPrice: 199, description: 'Refund without return: 1 x IPOD2008RED' },
      { lineType: 'Account', lineObjectNumber: '6610', description: 'Shipping refund', quantity: 1, unitPrice: 10 },
    ]);
    const skip = planRefund(r, b.lines, b.shipping, undefined, settings({ noRestockMode: 'skip' }));
    skip.creditLines.length.should.equal(2);
    skip.findings.map((f) => f.code).should.eql(['REFUND_NOT_POSTED']);
  });

  it('splits a refund across unshipped (reduced) and shipped (credited, pro rata) units; flags unknown lines', () => {
    const b = built();
    const r = Refund.parse(refund(9, [{ line_item_id: 466157049, quantity: 2, restock_type: 'return', subtotal: '388.01' },
      { line_item_id: 999, quantity: 1, restock_type: 'return' }]));
    const p = planRefund(r, b.lines, b.shipping, bcLines([1, 0, 0]), settings());
    p.reduce.should.eql([{ lineId: 'l1', sequence: 10000, etag: undefined, from: 2, to: 1 }]);
    p.creditLines[0]!.should.containEql({ quantity: 1, unitPrice: 199, discountAmount: 4.99 }); // 388.01 / 2 = 194.005 → 194.01
    p.findings.should.containDeep([{ code: 'REFUND_UNMATCHED', severity: 'error' }]);
  });

  it('update: applies address and note, flags added lines and quantity differences, respects the switches', () => {
    const b = built();
    const o = order1001();
    o.shipping_address.address1 = 'Elm Street 1';
    o.note = 'Leave at the door';
    o.line_items[0].current_quantity = 3;
    o.line_items.push({ ...o.line_items[1], id: 777, sku: 'NEW' });
    const bcHeader = { shipToName: 'Bob Norman', shipToAddressLine1: 'Chestnut Street 92', shipToAddressLine2: '', shipToCity: 'Louisville', shipToState: 'KY', shipToPostCode: '40202', shipToCountry: 'US' };
    const p = planUpdate(Order.parse(o), bcHeader, bcLines(), b.lines, settings());
    // The complete ship-to address goes out (BC blanks ship-to fields left out of a request that sets any).
    p.header.should.eql({ ...bcHeader, shipToContact: '', shipToAddressLine1: 'Elm Street 1' });
    p.note!.add.should.eql(['Note: Leave at the door']);
    p.findings.map((f) => f.message).join('\n').should.match(/Shopify has 3, D365 has 2/).and.match(/777/);
    const off = planUpdate(Order.parse(o), bcHeader, bcLines(), b.lines, settings({ applyAddress: false, applyNote: 'false' }));
    off.header.should.eql({});
    (off.note === undefined).should.be.true();
    off.findings.filter((f) => f.path === 'note' || f.path === 'shipping_address').length.should.equal(2);
  });
});
