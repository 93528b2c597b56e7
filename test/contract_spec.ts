import 'should';
import { readFileSync } from 'fs';
import path from 'path';
import {
  Order, Refund, InventoryLevel, Fulfillment, appendFindings, hasBlocking, parseTopicPayload, safeParseOrder, toMinor, fromMinor,
} from '../nodes/lib/contract';

const fixture = (name: string) => JSON.parse(readFileSync(path.join(__dirname, 'fixtures', name), 'utf8'));

describe('message contract', () => {
  describe('Order', () => {
    it('parses Shopify\'s sample order and keeps unknown fields', () => {
      const raw = { ...fixture('order-1001.json'), some_future_field: { a: 1 } };
      const o = Order.parse(raw);
      o.name.should.equal('#1001');
      o.line_items.should.have.length(2);
      (o as Record<string, unknown>).some_future_field!.should.eql({ a: 1 });
      (o.line_items[0] as Record<string, unknown>).duties!.should.eql([]);
    });

    it('sample order money adds up', () => {
      const o = Order.parse(fixture('order-1001.json'));
      const lines = o.line_items.reduce((s, l) => s + toMinor(l.price) * BigInt(l.quantity), 0n);
      fromMinor(lines).should.equal(o.total_line_items_price);
      const subtotal = lines - toMinor(o.total_discounts!);
      fromMinor(subtotal).should.equal(o.subtotal_price);
      const tax = [...o.line_items, ...o.shipping_lines].flatMap((l) => l.tax_lines).reduce((s, t) => s + toMinor(t.price), 0n);
      fromMinor(tax).should.equal(o.total_tax);
      const shipping = o.shipping_lines.reduce((s, l) => s + toMinor(l.price), 0n);
      fromMinor(subtotal + shipping + tax).should.equal(o.total_price);
    });

    it('rejects wrong types, zero quantities and missing lines with readable paths', () => {
      const base = fixture('order-1001.json');
      const bad = { ...base, total_price: 632.82, line_items: [{ ...base.line_items[0], quantity: 0 }] };
      const r = parseTopicPayload('orders/create', bad);
      r.ok.should.be.false();
      if (!r.ok) {
        r.error.should.match(/total_price: Invalid input: expected string, received number/);
        r.error.should.match(/line_items\[0\]\.quantity/);
      }
      const none = parseTopicPayload('orders/create', { ...base, line_items: [] });
      none.ok.should.be.false();
      if (!none.ok) none.error.should.match(/line_items: an order has at least one line item/);
      parseTopicPayload('orders/create', 'not an object').ok.should.be.false();
      parseTopicPayload('orders/create', null).ok.should.be.false();
    });

    it('parses an order once: the validated object is recognised by the next node, a new object is parsed', () => {
      const first = safeParseOrder(fixture('order-1001.json'));
      first.success.should.be.true();
      if (!first.success) return;
      const again = safeParseOrder(first.data);
      again.success.should.be.true();
      if (again.success) (again.data === first.data).should.be.true();
      const topicParsed = parseTopicPayload('orders/create', fixture('order-1001.json'));
      if (topicParsed.ok) (safeParseOrder(topicParsed.payload) as { data?: unknown }).data!.should.equal(topicParsed.payload);
      safeParseOrder({ ...first.data, total_price: 1 }).success.should.be.false();
    });

    it('accepts odd Unicode in text fields unchanged', () => {
      const base = fixture('order-1001.json');
      const name = 'Zoë 😀 \u202Eevil\u202C 山田';
      const o = Order.parse({ ...base, shipping_address: { ...base.shipping_address, name } });
      o.shipping_address!.name!.should.equal(name);
    });
  });

  it('parses refund, fulfillment and inventory level payloads', () => {
    Refund.parse({
      id: 509562969, order_id: 450789469, created_at: '2026-03-11T10:00:00-05:00',
      refund_line_items: [{ id: 1, line_item_id: 466157049, quantity: 1, restock_type: 'return', location_id: 655441491 }],
      transactions: [{ id: 2, kind: 'refund', status: 'success', amount: '209.94' }],
    }).refund_line_items[0]!.restock_type.should.equal('return');
    Refund.safeParse({ id: 1, order_id: 2, created_at: 'x', refund_line_items: [{ id: 1, line_item_id: 2, quantity: -1, restock_type: 'return' }] })
      .success.should.be.false();
    Fulfillment.parse({ id: 1, order_id: 2, status: 'success', created_at: 'x', line_items: [{ id: 3, quantity: 1 }] })
      .tracking_numbers.should.eql([]);
    InventoryLevel.parse({ inventory_item_id: 808950810, location_id: 655441491, available: 1, updated_at: 'x' }).available!.should.equal(1);
  });

  describe('money', () => {
    it('converts decimal strings to minor units exactly', () => {
      toMinor('0.1').should.equal(10n);
      toMinor('19.99').should.equal(1999n);
      toMinor('-5.005').should.equal(-501n);
      toMinor('3').should.equal(300n);
      fromMinor(-5n).should.equal('-0.05');
      fromMinor(63282n).should.equal('632.82');
      (() => toMinor('1e3')).should.throw(/not a decimal amount/);
    });
  });

  describe('findings', () => {
    it('appends validated findings and tells blocking from warnings', () => {
      const msg: { findings?: unknown } = {};
      appendFindings(msg, 'sku', [{ code: 'SKU_UNMAPPED', severity: 'warning', message: 'x' }]);
      hasBlocking(msg.findings as never).should.be.false();
      appendFindings(msg, 'sku', [{ code: 'SKU_BLOCKED', severity: 'error', message: 'y', path: 'line_items[0].sku' }]);
      hasBlocking(msg.findings as never).should.be.true();
      (msg.findings as unknown[]).should.have.length(2);
      (() => appendFindings(msg, 'sku', [{ code: 'lower-case', severity: 'error', message: 'z' }])).should.throw(/UPPER_SNAKE/);
    });
  });
});
