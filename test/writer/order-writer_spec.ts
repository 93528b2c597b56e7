import 'should';
import fc from 'fast-check';
import { Finding } from '../../nodes/lib/contract';
import { Rule, decide } from '../../nodes/lib/router/rules';
import { OrderWriter, WRITER_CHECK } from '../../nodes/lib/writer/order-writer';
import { WriterSettings } from '../../nodes/lib/writer/settings';
import { FakeBc } from './fake-bc';
import { BcApiError } from '../../nodes/lib/d365/errors';
import { MemoryJournal } from './memory-journal';
import { isOwnWriteBack } from '../../nodes/lib/shopify/webhook-own-writes';
import { SHOP, createMsg, order1001, refund } from './fixtures';

function setup(over: Record<string, unknown> = {}, dryRun = false) {
  const bc = new FakeBc();
  const journal = new MemoryJournal();
  const gql: { query: string; variables: any }[] = [];
  const shopify = { graphql: async (query: string, variables: any) => { gql.push({ query, variables }); return { metafieldsSet: { userErrors: [] } } as any; } };
  const writer = new OrderWriter({ bc, journal: journal.asJournal(), shopify, settings: WriterSettings.parse({ retryBaseMs: 0, ...over }), dryRun, owner: 'test', sleep: async () => {} });
  return { bc, journal, writer, gql };
}

const msg = (topic: string, payload: unknown) => ({ topic, payload, shopify: { shop: SHOP, topic, source: 'webhook' as const } });

describe('writer: create exactly once', () => {
  it('creates the sales order, records it, releases the reservation and writes the number back', async () => {
    const { bc, journal, writer, gql } = setup();
    journal.reservations.set(`${SHOP}:450789469`, [{ item: 'IPOD2008GREEN', location: 'EAST', quantity: 2 }]);
    const r = await writer.handle(createMsg());
    r.should.containEql({ ok: true, action: 'created' });
    bc.sets.salesOrders!.length.should.equal(1);
    const so = bc.sets.salesOrders![0]!;
    r.salesOrder!.should.eql({ id: so.id, number: so.number });
    const rec = (await journal.getOrder(SHOP, '450789469'))!;
    rec.state.should.equal('created');
    rec.documents.should.containEql({ salesOrderId: so.id, salesOrder: so.number, customerNumber: 'C10000' });
    rec.history.map((h) => h.event).should.eql(['d365-create-intent', 'd365-created']);
    (await journal.reservationsOf(`${SHOP}:450789469`)).should.eql([]);
    gql[0]!.variables.metafields[0].should.eql({ ownerId: 'gid://shopify/Order/450789469', namespace: 'd365', key: 'sales_order_number', type: 'single_line_text_field', value: so.number });
    // A second delivery of the same order is a no-op.
    (await writer.handle(createMsg())).should.containEql({ ok: true, action: 'exists' });
    bc.sets.salesOrders!.length.should.equal(1);
  });

  it('hands the inventory gate\'s reservation over once created, and releases it on a cancel before D365', async () => {
    const { journal, writer } = setup();
    const key = `${SHOP}:450789469`;
    const reserved = [{ item: 'IPOD2008GREEN', location: 'EAST', quantity: 2 }];
    journal.reservations.set(key, reserved);
    (await writer.handle(createMsg())).action.should.equal('created');
    journal.handedOver.should.eql([key]);
    journal.reservations.has(key).should.be.false();

    const early = setup();
    early.journal.reservations.set(key, reserved);
    (await early.writer.handle(msg('orders/cancelled', { ...order1001(), cancelled_at: '2026-03-11T00:00:00Z' }))).action.should.equal('cancelled');
    early.journal.handedOver.should.eql([]);
    early.journal.reservations.has(key).should.be.false();
  });

  it('notes the order version its write-back made (from the metafieldsSet answer, no second request), so the trigger skips that orders/updated; not a later one', async () => {
    /** A writer whose Shopify answers the write-back (stamped `writtenAt`) with the order as it is after it. */
    const writing = (writtenAt: string, version: (number: string) => { updatedAt: string; metafield: { value: string } | null } | null) => {
      const s = setup();
      (s.writer as any).d.shopify = { graphql: async (query: string, variables: any) => {
        s.gql.push({ query, variables });
        const number = variables.metafields[0].value;
        return { metafieldsSet: { metafields: [{ id: 'gid://shopify/Metafield/1', updatedAt: writtenAt, owner: version(number) }], userErrors: [] } };
      } };
      return s;
    };
    const own = (s: ReturnType<typeof setup>, at: string) => isOwnWriteBack(s.journal.asJournal(), SHOP, 450789469, at);

    const ours = writing('2026-03-10T16:00:05Z', (number) => ({ updatedAt: '2026-03-10T11:00:05-05:00', metafield: { value: number } }));
    (await ours.writer.handle(createMsg())).findings.should.eql([]);
    ours.gql.map((g) => g.query.match(/(mutation|query) (\w+)/)![2]).should.eql(['d365WriteBack']);
    ours.gql[0]!.query.should.match(/owner \{ \.\.\. on Order \{ updatedAt metafield\(namespace: "d365", key: "sales_order_number"\)/);
    (await own(ours, '2026-03-10T16:00:05Z')).should.be.true();
    (await own(ours, '2026-03-10T16:00:06Z')).should.be.false();

    // Someone changed the order after our write (a later stamp): that version is theirs, and ours is not known.
    const edited = writing('2026-03-10T16:00:05Z', (number) => ({ updatedAt: '2026-03-10T16:00:06Z', metafield: { value: number } }));
    (await edited.writer.handle(createMsg())).findings.should.eql([]);
    (await own(edited, '2026-03-10T16:00:06Z')).should.be.false();
    (await own(edited, '2026-03-10T16:00:05Z')).should.be.false();
    // A version without our number is not ours either; an answer without the owner loses only the loop protection.
    const other = writing('2026-03-10T16:00:05Z', () => ({ updatedAt: '2026-03-10T16:00:05Z', metafield: { value: 'SO-OTHER' } }));
    await other.writer.handle(createMsg());
    (await own(other, '2026-03-10T16:00:05Z')).should.be.false();
    const ownerless = writing('2026-03-10T16:00:05Z', () => null);
    (await ownerless.writer.handle(createMsg())).should.containEql({ ok: true, action: 'created', findings: [] });
    (await own(ownerless, '2026-03-10T16:00:05Z')).should.be.false();
  });

  it('spends one D365 call on an order the journal has never seen; "always" verifies first', async () => {
    const fresh = setup();
    await fresh.writer.handle(createMsg());
    fresh.bc.calls.filter((c) => c.path.startsWith('salesOrders')).map((c) => c.method).should.eql(['POST']);
    const careful = setup({ verifyBeforeCreate: 'always' });
    await careful.writer.handle(createMsg());
    careful.bc.calls.filter((c) => c.path.startsWith('salesOrders')).map((c) => c.method).should.eql(['GET', 'POST']);
  });

  it('a create whose response is lost makes exactly one D365 order (found by externalDocumentNumber)', async () => {
    const { bc, journal, writer } = setup();
    bc.loseNextPostTo = 'salesOrders';
    const r = await writer.handle(createMsg());
    r.should.containEql({ ok: true, action: 'created' });
    bc.sets.salesOrders!.length.should.equal(1);
    bc.calls.filter((c) => c.method === 'POST').length.should.equal(1);
    (await journal.getOrder(SHOP, '450789469'))!.documents.salesOrderId!.should.equal(bc.sets.salesOrders![0]!.id);
  });

  it('a lost create whose look-up also fails is not sent again until D365 has answered the look-up', async () => {
    const { bc, writer } = setup({ attempts: 5 });
    bc.loseNextPostTo = 'salesOrders';
    const list = bc.list.bind(bc);
    let failing = 2;
    bc.list = (async (set: string, ...rest: unknown[]) => {
      if (set === 'salesOrders' && failing-- > 0) throw new BcApiError({ status: 503, code: 'ServiceUnavailable', message: 'busy' });
      return (list as (...a: unknown[]) => Promise<unknown>)(set, ...rest);
    }) as typeof bc.list;
    const r = await writer.handle(createMsg());
    r.should.containEql({ ok: true, action: 'created' });
    bc.sets.salesOrders!.length.should.equal(1);
    bc.calls.filter((c) => c.method === 'POST' && c.path === 'salesOrders').length.should.equal(1);
  });

  it('after a crash in "creating" (journal says creating, D365 has it) the next attempt adopts the D365 order', async () => {
    const { bc, journal, writer } = setup();
    await journal.transitionOrder(SHOP, '450789469', [undefined], 'creating');
    await bc.post('salesOrders', { externalDocumentNumber: '#1001', customerNumber: 'C10000', salesOrderLines: [] });
    const r = await writer.handle(createMsg());
    r.should.containEql({ ok: true, action: 'exists' });
    bc.sets.salesOrders!.length.should.equal(1);
    (await journal.getOrder(SHOP, '450789469'))!.state.should.equal('created');
  });

  it('retries transient failures; gives D365_UNAVAILABLE (retryable) when they last, D365_REJECTED for permanent ones', async () => {
    const a = setup();
    a.bc.unavailable = 2;
    (await a.writer.handle(createMsg())).should.containEql({ ok: true, action: 'created' });
    const b = setup({ attempts: 2 });
    b.bc.unavailable = 10;
    const r = await b.writer.handle(createMsg());
    r.ok.should.be.false();
    r.findings.should.containDeep([{ code: 'D365_UNAVAILABLE', retryable: true }]);
    const c = setup();
    c.bc.post = async () => { const { BcApiError } = await import('../../nodes/lib/d365/errors'); throw new BcApiError({ status: 400, code: 'Application_DialogException', message: 'A customerNumber or a customerID must be provided.' }); };
    const rej = await c.writer.handle(createMsg());
    rej.findings.should.containDeep([{ code: 'D365_REJECTED' }]);
    (rej.findings[0]!.retryable === undefined).should.be.true();
    rej.findings[0]!.message.should.match(/Application_DialogException/);
    (await c.journal.getOrder(SHOP, '450789469'))!.state.should.equal('failed');
  });

  it('refuses orders with a finding still at severity error, even when marked released; the guard can be switched off', async () => {
    const blocking = [{ check: 'd365-sku-validator', code: 'SKU_UNMAPPED', severity: 'error' as const, message: 'x', retryable: false }];
    const { bc, writer } = setup();
    const r = await writer.handle(createMsg({ findings: blocking }));
    r.findings.should.containDeep([{ code: 'ORDER_HAS_BLOCKING_FINDINGS' }]);
    r.findings[0]!.message.should.containEql('SKU_UNMAPPED');
    // A release that did not go through the router's clean output (no re-check, no forced downgrade) proves nothing.
    (await writer.handle(createMsg({ findings: blocking, shopify: { shop: SHOP, topic: 'orders/create', source: 'release' } }))).ok.should.be.false();
    bc.sets.salesOrders!.length.should.equal(0);
    // A forced release downgrades the finding to a warning: created.
    const forced = [{ ...blocking[0]!, severity: 'warning' as const, message: 'x (released by ops without re-check)' }];
    (await writer.handle(createMsg({ findings: forced, shopify: { shop: SHOP, topic: 'orders/create', source: 'release' } }))).ok.should.be.true();
    (await setup({ blockOnFindings: false }).writer.handle(createMsg({ findings: blocking }))).ok.should.be.true();
  });

  it('the same order handled concurrently (duplicate delivery, a second instance) is created once', async () => {
    const { bc, journal, writer } = setup();
    const other = new OrderWriter({ bc, journal: journal.asJournal(), settings: WriterSettings.parse({ retryBaseMs: 0 }), dryRun: false, owner: 'other', sleep: async () => {} });
    const rs = await Promise.all([writer.handle(createMsg()), writer.handle(createMsg()), other.handle(createMsg())]);
    bc.sets.salesOrders!.length.should.equal(1);
    rs.filter((r) => r.action === 'created').length.should.equal(1);
    for (const r of rs.filter((x) => x.action !== 'created')) {
      (r.action === 'exists' || r.findings.some((f) => f.code === 'D365_CREATE_IN_PROGRESS' && f.retryable)).should.be.true();
    }
    // The create lease is given back: a later delivery through the other instance finds the order, it is not told to wait.
    (await other.handle(createMsg())).action.should.equal('exists');
  });

  it('its own finding from an earlier attempt (D365 was down) does not block the retry', async () => {
    const { bc, writer } = setup();
    const stale = [{ check: WRITER_CHECK, code: 'D365_UNAVAILABLE', severity: 'error' as const, message: 'x', retryable: true }];
    (await writer.handle(createMsg({ findings: stale, shopify: { shop: SHOP, topic: 'orders/create', source: 'retry' } }))).action.should.equal('created');
    bc.sets.salesOrders!.length.should.equal(1);
  });

  it('lets through exactly what the exception router sends out of its clean output (property)', async () => {
    const finding = fc.record({
      check: fc.constantFrom('d365-sku-validator', 'd365-customer-matcher', 'shopify-order-check', 'd365-price-check'),
      code: fc.constantFrom('SKU_UNMAPPED', 'CUSTOMER_AMBIGUOUS', 'PRICE_MISMATCH', 'PAYMENT_PENDING'),
      severity: fc.constantFrom('error', 'warning', 'info'),
      retryable: fc.boolean(),
    }).map((f) => ({ ...f, message: 'm' }));
    // "continue" rules waive (downgrade); any other action sends the order elsewhere than the clean output.
    const rule = fc.record({
      name: fc.constantFrom('a', 'b', 'c'),
      when: fc.constantFrom('code', 'check', 'severity', 'retryable', 'blocking'),
      value: fc.constantFrom('SKU_*', 'PRICE_MISMATCH', 'd365-sku-validator', 'error', 'warning'),
      action: fc.constantFrom('continue', 'continue', 'hold', 'retry', 'output'),
    }).filter((r) => Rule.safeParse(r).success).map((r) => Rule.parse(r));
    await fc.assert(fc.asyncProperty(fc.array(finding, { maxLength: 5 }), fc.array(rule, { maxLength: 3 }), fc.boolean(), async (findings, rules, forced) => {
      const routed = decide(order1001(), Finding.array().parse(findings), rules);
      // A person's forced release sends a held order on with its errors downgraded (the router's emitReleased).
      const clean = routed.decision.action === 'clean' || forced;
      const out = forced ? routed.findings.map((f) => (f.severity === 'error' ? { ...f, severity: 'warning' as const } : f)) : routed.findings;
      const stillBlocking = out.some((f) => f.severity === 'error');
      const { writer } = setup();
      const r = await writer.handle(createMsg({ findings: out }));
      // Everything from the clean output is created; nothing with an error left is (a named output's order may be either).
      if (clean && !r.ok) return false;
      return r.ok === !stillBlocking && (r.ok || r.findings.some((f) => f.code === 'ORDER_HAS_BLOCKING_FINDINGS'));
    }), { numRuns: 150 });
  });

  it('dry run builds the request and sends nothing', async () => {
    const { bc, journal, writer } = setup({}, true);
    const r = await writer.handle(createMsg());
    r.should.containEql({ ok: true, action: 'dry-run' });
    r.request![0]!.should.containEql({ method: 'POST', path: 'salesOrders' });
    bc.calls.filter((c) => c.method !== 'GET').should.eql([]);
    (await journal.getOrder(SHOP, '450789469') === undefined).should.be.true();
  });

  it('a bad payload or missing shop is a finding, not a crash; a failed write-back is a warning', async () => {
    const { writer } = setup();
    (await writer.handle({ ...createMsg(), payload: { __proto__: { id: 1 }, line_items: 'x' } })).findings.should.containDeep([{ code: 'PAYLOAD_INVALID' }]);
    (await writer.handle({ topic: 'orders/create', payload: order1001() })).findings.should.containDeep([{ code: 'PAYLOAD_INVALID', path: 'shopify.shop' }]);
    const s = setup();
    (s.writer as any).d.shopify = { graphql: async () => { throw new Error('Shopify down'); } };
    const r = await s.writer.handle(createMsg());
    r.ok.should.be.true();
    r.findings.should.containDeep([{ code: 'WRITEBACK_FAILED', severity: 'warning' }]);
  });
});

describe('writer: lifecycle', () => {
  async function created(over: Record<string, unknown> = {}) {
    const s = setup(over);
    await s.writer.handle(createMsg());
    return { ...s, so: s.bc.sets.salesOrders![0]! };
  }

  it('cancel before shipment deletes the sales order and releases the reservation', async () => {
    const { bc, journal, writer } = await created();
    journal.reservations.set(`${SHOP}:450789469`, [{ item: 'IPOD2008GREEN', location: 'EAST', quantity: 2 }]);
    const r = await writer.handle(msg('orders/cancelled', { ...order1001(), cancelled_at: '2026-03-11T00:00:00Z' }));
    r.should.containEql({ ok: true, action: 'cancelled' });
    bc.sets.salesOrders!.should.eql([]);
    (await journal.reservationsOf(`${SHOP}:450789469`)).should.eql([]);
    (await journal.getOrder(SHOP, '450789469'))!.state.should.equal('cancelled');
    (await writer.handle(msg('orders/cancelled', order1001()))).action.should.equal('exists');
    // The cancellation's refund arriving after orders/cancelled credits nothing: nothing was shipped.
    const late = await writer.handle(msg('refunds/create', refund(900, [{ line_item_id: 466157049, quantity: 2, restock_type: 'cancel' }])));
    late.should.containEql({ ok: true, action: 'unchanged' });
    (bc.sets.salesCreditMemos ?? []).should.eql([]);
  });

  it('cancel after shipment holds for a person with the reason', async () => {
    const { bc, writer, so } = await created();
    bc.postShipment(so.number, { lines: [{ sequence: 10000, quantity: 1 }] });
    const r = await writer.handle(msg('orders/cancelled', order1001()));
    r.ok.should.be.false();
    r.findings[0]!.should.containEql({ code: 'CANCEL_AFTER_SHIPMENT', severity: 'error' });
    r.findings[0]!.message.should.match(/IPOD2008GREEN ×1/);
    bc.sets.salesOrders!.length.should.equal(1);
  });

  it('cancel of an order never sent to D365 only releases the reservation', async () => {
    const { journal, writer } = setup();
    journal.reservations.set(`${SHOP}:450789469`, [{ item: 'IPOD2008GREEN', location: 'EAST', quantity: 2 }]);
    (await writer.handle(msg('orders/cancelled', order1001()))).action.should.equal('cancelled');
    (await journal.reservationsOf(`${SHOP}:450789469`)).should.eql([]);
    // and a late create for it is refused
    (await writer.handle(createMsg())).findings.should.containDeep([{ code: 'ORDER_CANCELLED' }]);
  });

  it('partial refund with restock before shipment reduces the line; the same refund again changes nothing', async () => {
    const { bc, writer, so } = await created();
    const payload = refund(5001, [{ line_item_id: 466157049, quantity: 1, restock_type: 'cancel', subtotal: '194.00' }]);
    const r = await writer.handle(msg('refunds/create', payload));
    r.should.containEql({ ok: true, action: 'refunded' });
    so.salesOrderLines.find((l: any) => l.sequence === 10000).quantity.should.equal(1);
    bc.sets.salesCreditMemos!.should.eql([]);
    (await writer.handle(msg('refunds/create', payload))).action.should.equal('exists');
    so.salesOrderLines.find((l: any) => l.sequence === 10000).quantity.should.equal(1);
    // refunding the other line fully removes it
    await writer.handle(msg('refunds/create', refund(5002, [{ line_item_id: 518995019, quantity: 1, restock_type: 'cancel' }])));
    so.salesOrderLines.some((l: any) => l.sequence === 20000).should.be.false();
  });

  it('refund after shipment creates one credit memo with lines, shipping and amounts (exactly once across a lost response)', async () => {
    const { bc, journal, writer, so } = await created();
    bc.postShipment(so.number, { lines: [{ sequence: 10000, quantity: 2 }, { sequence: 20000, quantity: 1 }, { sequence: 30000, quantity: 1 }] });
    bc.loseNextPostTo = 'salesCreditMemos';
    const payload = refund(6001, [{ line_item_id: 466157049, quantity: 1, restock_type: 'return', subtotal: '194.00' }], '10.00');
    const r = await writer.handle(msg('refunds/create', payload));
    r.should.containEql({ ok: true, action: 'refunded' });
    bc.sets.salesCreditMemos!.length.should.equal(1);
    const cm = bc.sets.salesCreditMemos![0]!;
    cm.should.containEql({ customerNumber: 'C10000', externalDocumentNumber: '#1001/R6001' });
    cm.salesCreditMemoLines.map((l: any) => [l.lineType, l.lineObjectNumber, l.quantity, l.unitPrice, l.discountAmount]).should.eql([
      ['Item', 'IPOD2008GREEN', 1, 199, 5], ['Account', '6610', 1, 10, undefined]]);
    r.creditMemo!.number.should.equal(cm.number);
    (await journal.getOrder(SHOP, '450789469'))!.documents['creditMemo:6001']!.should.equal(cm.number);
    (await writer.handle(msg('refunds/create', payload))).action.should.equal('exists');
    bc.sets.salesCreditMemos!.length.should.equal(1);
  });

  it('a refund of an unknown line is REFUND_UNMATCHED; a refund of an order not in D365 is left alone', async () => {
    const { writer } = await created();
    (await writer.handle(msg('refunds/create', refund(7001, [{ line_item_id: 1, quantity: 1, restock_type: 'return' }])))).findings
      .should.containDeep([{ code: 'REFUND_UNMATCHED' }]);
    (await setup().writer.handle(msg('refunds/create', refund(7002, [{ line_item_id: 1, quantity: 1, restock_type: 'return' }])))).action.should.equal('not-in-erp');
  });

  it('an orders/updated that is the first word of an order creates it, if it came through the router', async () => {
    const { bc, writer } = setup();
    const update = createMsg({ topic: 'orders/updated', shopify: { shop: SHOP, topic: 'orders/updated', source: 'reconcile' } });
    const unchecked = await writer.handle(update);
    unchecked.ok.should.be.false();
    unchecked.findings.should.containDeep([{ code: 'UPDATE_BEFORE_CREATE' }]);
    (bc.sets.salesOrders ?? []).length.should.equal(0);
    const routed = await writer.handle({ ...update, routing: { decision: 'clean', at: '2026-03-10T16:00:00Z', attempts: 0 } });
    routed.should.containEql({ ok: true, action: 'created' });
    bc.sets.salesOrders!.length.should.equal(1);
    // The late orders/create of the same order is then a no-op.
    (await writer.handle(createMsg())).should.containEql({ ok: true, action: 'exists' });
    bc.sets.salesOrders!.length.should.equal(1);
  });

  it('orders/updated applies address and note changes, and flags line changes as UPDATE_CONFLICT', async () => {
    const { writer, so } = await created();
    // Shopify moves updated_at with every change of the order.
    let minute = 10;
    const edited = (change: (o: any) => void) => { const o = order1001(); change(o); o.updated_at = `2026-03-10T12:${minute++}:00-05:00`; return o; };
    const o = edited((x) => { x.shipping_address.address1 = 'Elm Street 1'; x.note = 'Ring twice'; });
    const r = await writer.handle(msg('orders/updated', o));
    r.should.containEql({ ok: true, action: 'updated' });
    so.shipToAddressLine1.should.equal('Elm Street 1');
    so.salesOrderLines.filter((l: any) => l.lineType === 'Comment').map((l: any) => l.description).should.eql(['Note: Ring twice']);
    o.note = 'Ring three times';
    o.updated_at = `2026-03-10T12:${minute++}:00-05:00`;
    await writer.handle(msg('orders/updated', o));
    so.salesOrderLines.filter((l: any) => l.lineType === 'Comment').map((l: any) => l.description).should.eql(['Note: Ring three times']);
    (await writer.handle(msg('orders/updated', o))).action.should.equal('unchanged');
    o.updated_at = `2026-03-10T12:${minute++}:00-05:00`;
    o.line_items[0].current_quantity = 5;
    const c = await writer.handle(msg('orders/updated', o));
    c.ok.should.be.false();
    c.findings.should.containDeep([{ code: 'UPDATE_CONFLICT' }]);
  });

  it('orders/updated older than the version D365 reflects (overtaken on the way) changes nothing', async () => {
    const { writer, so } = await created();
    const newer = order1001();
    newer.shipping_address.address1 = 'Latest Street 2';
    newer.updated_at = '2026-03-10T12:30:00-05:00';
    const older = order1001();
    older.shipping_address.address1 = 'First Street 1';
    older.updated_at = '2026-03-10T12:20:00-05:00';
    (await writer.handle(msg('orders/updated', newer))).action.should.equal('updated');
    (await writer.handle(msg('orders/updated', older))).should.containEql({ ok: true, action: 'unchanged' });
    so.shipToAddressLine1.should.equal('Latest Street 2');
  });
});
