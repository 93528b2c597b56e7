import 'should';
import { Order, Refund, InventoryLevel, Fulfillment, toMinor, fromMinor, type Order as OrderT } from '../../nodes/lib/contract';
import { buildCatalogue, findBySku } from '../../sim/catalogue';
import { ShopStore } from '../../sim/shopify/store';
import { ORDER_FAULTS, type OrderFault } from '../../sim/shopify/order-spec';
import { OrderGenerator } from '../../sim/shopify/generator';

const catalogue = buildCatalogue();
const sum = (xs: bigint[]) => xs.reduce((a, b) => a + b, 0n);

function newStore(now?: () => number) {
  const events: { topic: string; payload: Record<string, unknown> }[] = [];
  const store = new ShopStore(catalogue, 1, -300, (topic, payload) => events.push({ topic, payload: payload as Record<string, unknown> }), now);
  return { store, events };
}

/** Checks the order's money in one currency: lines − discounts = subtotal; subtotal + shipping (+ tax unless included) = total. */
function moneyAddsUp(o: OrderT, side: 'shop' | 'presentment'): boolean {
  const amt = (s: { shop_money: { amount: string }; presentment_money: { amount: string } } | undefined, fallback: string) =>
    toMinor(side === 'shop' ? (s?.shop_money.amount ?? fallback) : s!.presentment_money.amount);
  const lines = sum(o.line_items.map((l) => amt(l.price_set, l.price) * BigInt(l.quantity)));
  const discounts = sum(o.line_items.flatMap((l) => l.discount_allocations.map((d) => amt(d.amount_set, d.amount))));
  const tax = sum([...o.line_items, ...o.shipping_lines].flatMap((l) => l.tax_lines.map((t) => amt(t.price_set, t.price))));
  const shipping = sum(o.shipping_lines.map((l) => amt(l.price_set, l.price)));
  const subtotal = amt(o.subtotal_price_set as never, o.subtotal_price!);
  const total = amt(o.total_price_set, o.total_price);
  return lines === amt(o.total_line_items_price_set as never, o.total_line_items_price!)
    && discounts === amt(o.total_discounts_set as never, o.total_discounts!)
    && lines - discounts === subtotal
    && tax === amt(o.total_tax_set as never, o.total_tax!)
    && total === subtotal + shipping + (o.taxes_included ? 0n : tax);
}

describe('Shopify simulator: orders', () => {
  it('reproduces Shopify\'s sample order #1001 to the cent', () => {
    const { store } = newStore();
    const o = store.placeOrder({
      lines: [{ sku: 'IPOD2008GREEN', quantity: 2 }, { sku: 'IPOD2008RED', quantity: 1 }], customer: 'C10000', shippingCode: 'Standard',
      discount: { code: 'TENOFF', type: 'fixed_amount', value: '10.00' },
    });
    const p = Order.parse(o);
    [p.name, p.total_line_items_price, p.total_discounts, p.subtotal_price, p.total_tax, p.total_price].should.eql(['#1001', '597.00', '10.00', '587.00', '35.82', '632.82']);
    p.customer!.id.should.equal(207119551);
    p.line_items.map((l) => l.variant_id).should.eql([39072856, 49148385]);
    p.shipping_address!.province_code!.should.equal('KY');
    p.discount_codes.should.eql([{ code: 'TENOFF', amount: '10.00', type: 'fixed_amount' }]);
    // Shopify writes an application's value without trailing zeros ("10.0"), the codes' amounts to the cent.
    p.discount_applications.should.eql([{
      target_type: 'line_item', type: 'discount_code', value: '10.0', value_type: 'fixed_amount', allocation_method: 'across', target_selection: 'all', code: 'TENOFF',
    }]);
  });

  it('every generated order parses with the contract; clean ones add up in shop and presentment money', () => {
    const { store } = newStore();
    const specs: { faults: OrderFault[]; shipTo?: string; discount?: { code: string; type: 'fixed_amount' | 'percentage'; value: string } }[] = [];
    for (const shipTo of [undefined, 'KY', 'CA', 'NL-VAT', 'DE-VAT', 'CA-ON']) {
      for (const discount of [undefined, { code: 'P15', type: 'percentage' as const, value: '15' }, { code: 'F7', type: 'fixed_amount' as const, value: '7.33' }]) {
        specs.push({ faults: [], shipTo, discount });
        for (const f of ORDER_FAULTS) specs.push({ faults: [f], shipTo, discount });
      }
    }
    for (const spec of specs) {
      const o = Order.parse(store.placeOrder({ ...spec, customer: spec.shipTo ? 'new' : 'random', lineCount: 3 }));
      const clean = !spec.faults.includes('tax_mismatch');
      if (clean) {
        moneyAddsUp(o, 'shop').should.be.true(`${o.name} ${JSON.stringify(spec)} shop money`);
        moneyAddsUp(o, 'presentment').should.be.true(`${o.name} presentment money`);
      } else moneyAddsUp(o, 'shop').should.be.false(`${o.name} tax_mismatch must not add up`);
      if (spec.shipTo === 'NL-VAT' || spec.shipTo === 'DE-VAT') {
        o.taxes_included.should.be.true();
        o.presentment_currency!.should.equal('EUR');
        o.total_price_set!.presentment_money.currency_code.should.equal('EUR');
      }
      if (spec.shipTo === 'CA-ON') o.presentment_currency!.should.equal('CAD');
      if (spec.discount?.type === 'fixed_amount') fromMinor(sum(o.line_items.flatMap((l) => l.discount_allocations.map((d) => toMinor(d.amount))))).should.equal('7.33');
    }
    specs.length.should.equal(162);
  });

  it('per-line tax is rounded per line from the ship-to rate, shipping is taxed', () => {
    const { store } = newStore();
    const o = Order.parse(store.placeOrder({ lines: [{ sku: 'IPOD2008GREEN', quantity: 3, price: '0.35' }], customer: 'new', shipTo: 'CA', shippingCode: 'Express' }));
    o.line_items[0]!.tax_lines[0]!.rate.should.equal(0.0725);
    o.line_items[0]!.tax_lines[0]!.price.should.equal('0.08'); // 1.05 × 7.25 % = 0.076125 → 0.08
    o.shipping_lines[0]!.tax_lines[0]!.price.should.equal('1.81'); // 25.00 × 7.25 % = 1.8125
    o.total_tax!.should.equal('1.89');
  });

  it('each fault shows up where a check would look', () => {
    const { store } = newStore();
    const place = (f: OrderFault) => Order.parse(store.placeOrder({ faults: [f], customer: 'C10000', shippingCode: 'Standard' }));
    const rates = catalogue.shippingRates.map((r) => r.code);
    const unknown = place('unknown_sku').line_items.at(-1)!;
    (findBySku(catalogue, unknown.sku!) === undefined).should.be.true();
    (unknown.variant_id === null).should.be.true();
    (place('missing_shipping_address').shipping_address === null).should.be.true();
    rates.should.not.containEql(place('odd_shipping_method').shipping_lines[0]!.code);
    const blocked = place('blocked_item').line_items.at(-1)!;
    findBySku(catalogue, blocked.sku!)!.item.blocked.should.be.true();
    const ambiguous = place('ambiguous_customer');
    ambiguous.email!.should.equal('sam.twin@mail.example.com');
    catalogue.customers.filter((c) => c.email === ambiguous.email).should.have.length(2);
    place('zero_price').line_items[0]!.price.should.equal('0.00');
    const noMail = place('missing_email');
    (noMail.email === null).should.be.true();
    (noMail.customer!.email === null).should.be.true();
    const mismatch = place('tax_mismatch');
    const lineTax = sum([...mismatch.line_items, ...mismatch.shipping_lines].flatMap((l) => l.tax_lines.map((t) => toMinor(t.price))));
    (lineTax - toMinor(mismatch.total_tax!) > 100n).should.be.true(); // more than rounding
  });

  it('commits stock on order, releases it on cancel with restock, and emits create/paid/cancelled/refund', () => {
    const { store, events } = newStore();
    const inv = 808950810;
    const east = 655441491;
    const before = store.level(inv, east)!.available;
    const o = store.placeOrder({ lines: [{ sku: 'IPOD2008GREEN', quantity: 2 }], customer: 'C10000' });
    store.level(inv, east)!.available.should.equal(before - 2);
    store.level(inv, east)!.committed.should.equal(2);
    events.map((e) => e.topic).should.eql(['orders/create', 'orders/paid', 'inventory_levels/update']);
    InventoryLevel.parse(events[2]!.payload).available!.should.equal(before - 2);
    events.length = 0;
    store.cancelOrder(Number(o.id), { reason: 'CUSTOMER', restock: true, refund: true }).should.eql([]);
    store.level(inv, east)!.available.should.equal(before);
    const topics = events.map((e) => e.topic);
    topics.should.containEql('refunds/create');
    topics.should.containEql('orders/cancelled');
    const cancelled = Order.parse(events.find((e) => e.topic === 'orders/cancelled')!.payload);
    cancelled.cancel_reason!.should.equal('customer');
    cancelled.financial_status!.should.equal('refunded');
    cancelled.cancelled_at!.should.be.a.String();
    const refund = Refund.parse(events.find((e) => e.topic === 'refunds/create')!.payload);
    refund.transactions[0]!.amount.should.equal(o.total_price);
    refund.refund_line_items[0]!.restock_type.should.equal('cancel');
    store.cancelErrors(Number(o.id))[0]!.message.should.match(/already been cancelled/);
  });

  it('partial refunds prorate exactly and end at the full total', () => {
    const { store, events } = newStore();
    const o = store.placeOrder({ lines: [{ sku: 'IPOD2008GREEN', quantity: 3, price: '10.00' }], customer: 'C10000', shippingCode: 'Standard', discount: { code: 'D', type: 'fixed_amount', value: '1.00' } });
    const id = Number(o.id);
    const lineId = Number(o.line_items[0]!.id);
    const amounts: bigint[] = [];
    for (let i = 0; i < 3; i++) {
      const r = store.refund(id, { lines: [{ lineItemId: lineId, quantity: 1, restockType: 'no_restock' }], transactions: 'suggested' });
      r.userErrors.should.eql([]);
      amounts.push(toMinor(r.refund!.transactions[0]!.amount));
      store.orderJson(id)!.financial_status!.should.equal('partially_refunded');
    }
    const ship = store.refund(id, { shipping: { fullRefund: true }, transactions: 'suggested' });
    Refund.parse(ship.refund).order_adjustments[0]!.kind.should.equal('shipping_refund');
    amounts.push(toMinor(ship.refund!.transactions[0]!.amount));
    fromMinor(sum(amounts)).should.equal(o.total_price);
    store.orderJson(id)!.financial_status!.should.equal('refunded');
    store.refund(id, { lines: [{ lineItemId: lineId, quantity: 1, restockType: 'no_restock' }], transactions: 'suggested' }).userErrors[0]!.message.should.match(/more items than were purchased/);
    events.filter((e) => e.topic === 'refunds/create').forEach((e) => Refund.parse(e.payload));
  });

  it('fulfils partially then fully; order status and webhook topics follow', () => {
    const { store, events } = newStore();
    const o = store.placeOrder({ lines: [{ sku: 'IPOD2008GREEN', quantity: 3 }], customer: 'C10000' });
    events.length = 0;
    const first = store.fulfillOrder(Number(o.id), { lines: [{ sku: 'IPOD2008GREEN', quantity: 1 }], tracking: { company: 'UPS', number: '1Z1' } });
    first.userErrors.should.eql([]);
    events.map((e) => e.topic).should.eql(['fulfillments/create', 'orders/partially_fulfilled', 'orders/updated']);
    Fulfillment.parse(events[0]!.payload).tracking_numbers.should.eql(['1Z1']);
    store.fulfillmentOrdersOf(Number(o.id))[0]!.status.should.equal('IN_PROGRESS');
    store.fulfillOrder(Number(o.id)).userErrors.should.eql([]);
    const done = Order.parse(events.at(-1)!.payload);
    done.fulfillment_status!.should.equal('fulfilled');
    events.map((e) => e.topic).should.containEql('orders/fulfilled');
    store.fulfillmentOrdersOf(Number(o.id))[0]!.status.should.equal('CLOSED');
    store.cancelErrors(Number(o.id))[0]!.message.should.match(/fulfillments/);
  });

  it('updateOrder emits orders/updated with a newer updated_at, even within the same second', () => {
    let now = Date.parse('2026-08-01T12:00:00Z');
    const { store, events } = newStore(() => now);
    const o = store.placeOrder({ customer: 'C10000' });
    const u1 = store.updateOrder(Number(o.id), { note: 'leave at door' });
    const u2 = store.updateOrder(Number(o.id), { shippingAddress: { address1: '1 New Street' } });
    now += 10_000;
    const u3 = store.updateOrder(Number(o.id), { tags: ['vip'] });
    const ts = [o.updated_at, u1.updated_at, u2.updated_at, u3.updated_at].map(Date.parse);
    ts.should.eql([...ts].sort((a, b) => a - b));
    new Set(ts).size.should.equal(4);
    o.updated_at.should.equal('2026-08-01T07:00:00-05:00');
    events.filter((e) => e.topic === 'orders/updated').should.have.length(3);
    Order.parse(events.at(-1)!.payload).shipping_address!.address1!.should.equal('1 New Street');
  });

  it('the generator places a bounded, seeded mix of clean and faulty orders and can be stopped', async () => {
    const { store } = newStore();
    const gen = new OrderGenerator(store, { ratePerSecond: 500, maxOrders: 40, faultRate: 0.5, lifecycleRate: 0.3, seed: 11 });
    gen.start();
    await gen.finished;
    gen.stats.placed.should.equal(40);
    gen.stats.errors.should.equal(0);
    gen.stats.faulty.should.be.above(5).and.below(35);
    gen.stats.running.should.be.false();
    store.orders.size.should.equal(40);
    for (const o of store.orders.values()) Order.parse(o.json);
    const a = new OrderGenerator(newStore().store, { seed: 5 });
    const b = new OrderGenerator(newStore().store, { seed: 5 });
    Array.from({ length: 20 }, () => a.nextSpec()).should.eql(Array.from({ length: 20 }, () => b.nextSpec()));
    const stopped = new OrderGenerator(store, { ratePerSecond: 100, maxOrders: 1000 }).start();
    stopped.stop();
    await stopped.finished;
    stopped.stats.placed.should.equal(0);
  });

  it('rejects bad specs clearly', () => {
    const { store } = newStore();
    (() => store.placeOrder({ lines: [{ sku: 'X', quantity: 0 }] })).should.throw(/quantity/i);
    (() => store.placeOrder({ customer: 'C99999999' })).should.throw(/unknown catalogue customer/);
    (() => store.placeOrder({ shipTo: 'MARS' })).should.throw(/unknown tax area/);
    (() => store.placeOrder({ faults: ['nope' as OrderFault] })).should.throw();
  });
});
