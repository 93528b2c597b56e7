import { settleCustody } from '../../nodes/lib/journal/custody';
import 'should';
import fc from 'fast-check';
import { readFileSync } from 'fs';
import path from 'path';
import { signShopifyBody, verifyShopifyHmac } from '../../nodes/lib/shopify/hmac';
import { evaluateDelivery, parseJsonBody, readWebhookHeaders } from '../../nodes/lib/shopify/webhook';
import type { DeliveryPolicy } from '../../nodes/lib/shopify/webhook';
import { WebhookIntake } from '../../nodes/lib/shopify/webhook-intake';
import type { IntakeOutcome } from '../../nodes/lib/shopify/webhook-intake';
import { noteOwnWriteBack } from '../../nodes/lib/shopify/webhook-own-writes';
import { SqliteJournal } from '../../nodes/lib/journal/sqlite-journal';
import type { OrderJournal } from '../../nodes/lib/journal/journal';

const SECRET = 'whsec_current_0123456789';
const OLD_SECRET = 'whsec_previous_abcdef';
const SHOP = 'demo-shop.myshopify.com';
const order = () => JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'order-1001.json'), 'utf8'));

function delivery(body: unknown, opts: { topic?: string; id?: string; secret?: string; shop?: string; omit?: string[] } = {}) {
  const raw = Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const headers: Record<string, string> = {
    'x-shopify-hmac-sha256': signShopifyBody(opts.secret ?? SECRET, raw),
    'x-shopify-topic': opts.topic ?? 'orders/create',
    'x-shopify-shop-domain': opts.shop ?? SHOP,
    'x-shopify-api-version': '2026-07',
    'x-shopify-webhook-id': opts.id ?? 'wh-1',
    'x-shopify-triggered-at': '2026-03-10T16:00:02.000Z',
    'x-shopify-event-id': 'ev-1',
  };
  for (const h of opts.omit ?? []) delete headers[h];
  return { headers, raw };
}

const policy = (over: Partial<DeliveryPolicy> = {}): DeliveryPolicy => ({
  shopDomain: SHOP, secrets: [SECRET, OLD_SECRET], topics: new Set(['orders/create', 'orders/updated', 'refunds/create']), ignoreTest: false, ...over,
});

describe('shopify webhook: HMAC', () => {
  const raw = Buffer.from('{"id":1}');
  it('accepts the current secret and, during rotation, the previous one', () => {
    verifyShopifyHmac(raw, signShopifyBody(SECRET, raw), [SECRET]).should.be.true();
    verifyShopifyHmac(raw, signShopifyBody(OLD_SECRET, raw), [SECRET, OLD_SECRET]).should.be.true();
    verifyShopifyHmac(raw, signShopifyBody(OLD_SECRET, raw), [SECRET]).should.be.false();
  });
  it('rejects a wrong, truncated, non-base64 or missing signature, and an empty secret list', () => {
    verifyShopifyHmac(raw, signShopifyBody('other', raw), [SECRET]).should.be.false();
    verifyShopifyHmac(raw, signShopifyBody(SECRET, raw).slice(0, 20), [SECRET]).should.be.false();
    verifyShopifyHmac(raw, '!!!not base64!!!', [SECRET]).should.be.false();
    verifyShopifyHmac(raw, undefined, [SECRET]).should.be.false();
    verifyShopifyHmac(raw, signShopifyBody('', raw), ['']).should.be.false();
    verifyShopifyHmac(raw, signShopifyBody(SECRET, raw), []).should.be.false();
  });
  it('is computed over the exact bytes: re-serialised JSON does not verify', () => {
    const spaced = Buffer.from('{ "id": 1 }');
    verifyShopifyHmac(raw, signShopifyBody(SECRET, spaced), [SECRET]).should.be.false();
  });
});

describe('shopify webhook: headers and JSON', () => {
  it('reads headers case-insensitively, first value of a repeated header', () => {
    const h = readWebhookHeaders({ 'X-Shopify-Topic': 'orders/create', 'x-shopify-webhook-id': ['a', 'b'], 'X-SHOPIFY-SHOP-DOMAIN': ' s.myshopify.com ' });
    h.should.eql({ topic: 'orders/create', webhookId: 'a', shopDomain: 's.myshopify.com' });
  });
  it('reports malformed JSON with a position but without echoing the body', () => {
    const r = parseJsonBody(Buffer.from('{"email":"secret-customer@example.com",'));
    r.ok.should.be.false();
    if (!r.ok) {
      r.error.should.match(/^malformed JSON/);
      r.error.should.not.match(/customer@example/);
    }
  });
  it('drops __proto__ keys at every depth and leaves Object.prototype alone', () => {
    const r = parseJsonBody(Buffer.from('{"__proto__":{"polluted":1},"a":{"__proto__":{"polluted":2},"b":[{"__proto__":{"x":1}}]}}'));
    r.ok.should.be.true();
    const v = (r as { value: Record<string, any> }).value;
    Object.keys(v).should.eql(['a']);
    Object.prototype.hasOwnProperty.call(v.a, '__proto__').should.be.false();
    Object.prototype.hasOwnProperty.call(v.a.b[0], '__proto__').should.be.false();
    Object.prototype.should.not.have.property('polluted');
  });
  it('rejects very deep nesting, invalid UTF-8 and an empty body instead of crashing', () => {
    const deep = parseJsonBody(Buffer.from('['.repeat(200000) + ']'.repeat(200000)));
    deep.should.eql({ ok: false, error: 'JSON nested deeper than 64 levels' });
    parseJsonBody(Buffer.from([0x7b, 0xff, 0x7d])).should.eql({ ok: false, error: 'body is not valid UTF-8' });
    parseJsonBody(Buffer.from('  ')).should.eql({ ok: false, error: 'body is empty' });
  });

  it('limits nesting by the structure, not by brackets inside strings (escaped quotes included)', () => {
    parseJsonBody(Buffer.from('{"a":{"b":{}}}'), 3).ok.should.be.true();
    parseJsonBody(Buffer.from('{"a":{"b":{"c":[]}}}'), 3).should.eql({ ok: false, error: 'JSON nested deeper than 3 levels' });
    parseJsonBody(Buffer.from(`{"note":"${'[{'.repeat(100)}","x":"\\"[[[[","y":["\\\\",{}]}`), 3).ok.should.be.true();
    // The same answer whether the body is walked (it has a __proto__ key or escapes) or only scanned.
    parseJsonBody(Buffer.from('{"__proto__":1,"a":{"b":{"c":[]}}}'), 3).should.eql({ ok: false, error: 'JSON nested deeper than 3 levels' });
    parseJsonBody(Buffer.from('{"__proto__":1,"a":{"b":{}}}'), 3).ok.should.be.true();
  });

  it('accepts exactly the bodies nested no deeper than the limit (property, escaped and plain texts)', () => {
    const depthOf = (v: unknown): number => (v !== null && typeof v === 'object' ? 1 + Math.max(0, ...Object.values(v as object).map(depthOf)) : 0);
    fc.assert(fc.property(fc.jsonValue({ maxDepth: 6 }), fc.integer({ min: 1, max: 6 }), (v, limit) => {
      const text = JSON.stringify(v);
      fc.pre(!text.includes('__proto__'));
      const r = parseJsonBody(Buffer.from(text), limit);
      if (!r.ok && r.error.includes('not valid Unicode')) return; // lone surrogates are refused before depth
      r.ok.should.equal(depthOf(v) <= limit, text);
    }), { numRuns: 400 });
  });

  it('rejects unpaired surrogate escapes in values and keys, keeps paired ones and escaped text', () => {
    const bad = { ok: false, error: 'body has a string that is not valid Unicode (an unpaired UTF-16 surrogate escape)' };
    parseJsonBody(Buffer.from('{"line_items":[{"sku":"IPOD\\ud800"}]}')).should.eql(bad);
    parseJsonBody(Buffer.from('{"a":"\\udc00x"}')).should.eql(bad);
    parseJsonBody(Buffer.from('{"\\ud83d":1}')).should.eql(bad);
    parseJsonBody(Buffer.from('"\\udbff"')).should.eql(bad);
    const ok = parseJsonBody(Buffer.from('{"name":"\\ud83d\\ude00 caf\\u00e9 \\u0026"}'));
    ok.ok.should.be.true();
    if (ok.ok) (ok.value as { name: string }).name.should.equal('😀 café &');
  });
});

describe('shopify webhook: evaluateDelivery', () => {
  it('accepts a valid delivery and builds the journal record and msg', () => {
    const { headers, raw } = delivery(order());
    const v = evaluateDelivery(headers, raw, policy());
    v.kind.should.equal('accept');
    if (v.kind !== 'accept') return;
    v.event.record.should.containEql({ shop: SHOP, dedupeKey: 'wh-1', topic: 'orders/create', resourceId: '450789469' });
    // updated_at "2026-03-10T11:00:01-05:00" as the same instant in UTC
    v.event.record.resourceUpdatedAt!.should.equal('2026-03-10T16:00:01.000Z');
    v.event.record.body.should.equal(raw.toString());
    v.event.msg.shopify.should.eql({ shop: SHOP, topic: 'orders/create', webhookId: 'wh-1', eventId: 'ev-1', apiVersion: '2026-07', triggeredAt: '2026-03-10T16:00:02.000Z', source: 'webhook' });
    (v.event.msg.payload as any).line_items.length.should.equal(2);
  });
  it('401 without or with a bad signature, before anything else is looked at', () => {
    const a = delivery('not even json', { omit: ['x-shopify-hmac-sha256', 'x-shopify-topic'] });
    evaluateDelivery(a.headers, a.raw, policy()).should.eql({ kind: 'reject', status: 401, reason: 'missing X-Shopify-Hmac-Sha256 header' });
    const b = delivery(order(), { secret: 'wrong' });
    evaluateDelivery(b.headers, b.raw, policy()).should.eql({ kind: 'reject', status: 401, reason: 'HMAC verification failed' });
  });
  it('400 naming the missing headers', () => {
    const d = delivery(order(), { omit: ['x-shopify-topic', 'x-shopify-webhook-id'] });
    evaluateDelivery(d.headers, d.raw, policy()).should.eql({ kind: 'reject', status: 400, reason: 'missing headers: X-Shopify-Topic, X-Shopify-Webhook-Id' });
  });
  it('ignores unknown topics, unselected topics, other shops and (optionally) test orders', () => {
    const u = delivery({ id: 1 }, { topic: 'products/update' });
    evaluateDelivery(u.headers, u.raw, policy()).should.eql({ kind: 'ignore', reason: 'topic products/update is not handled by this node' });
    const n = delivery('garbage', { topic: 'orders/paid' });
    evaluateDelivery(n.headers, n.raw, policy()).should.eql({ kind: 'ignore', reason: 'topic orders/paid is not selected' });
    const s = delivery(order(), { shop: 'other.myshopify.com' });
    evaluateDelivery(s.headers, s.raw, policy()).should.eql({ kind: 'ignore', reason: 'delivery for another shop (other.myshopify.com)' });
    const t = delivery({ ...order(), test: true });
    evaluateDelivery(t.headers, t.raw, policy({ ignoreTest: true })).should.eql({ kind: 'ignore', reason: 'test order' });
    evaluateDelivery(t.headers, t.raw, policy()).kind.should.equal('accept');
  });
  it('400 with a clear reason for malformed JSON and for a body that fails the schema', () => {
    const m = delivery('{"id": 1,');
    const mv = evaluateDelivery(m.headers, m.raw, policy());
    mv.should.containEql({ kind: 'reject', status: 400 });
    (mv as { reason: string }).reason.should.match(/^malformed JSON/);
    const bad = order();
    bad.line_items[0].quantity = 0;
    delete bad.total_price;
    const s = delivery(bad);
    const sv = evaluateDelivery(s.headers, s.raw, policy()) as { status: number; reason: string };
    sv.status.should.equal(400);
    sv.reason.should.startWith('body is not a valid orders/create payload: ');
    sv.reason.should.match(/line_items\[0\]\.quantity/);
    sv.reason.should.match(/total_price/);
  });
  it('never puts a secret into a reason', () => {
    const reasons = [
      delivery(order(), { secret: 'wrong' }), delivery('{', {}), delivery(order(), { omit: ['x-shopify-topic'] }),
    ].map((d) => JSON.stringify(evaluateDelivery(d.headers, d.raw, policy())));
    for (const r of reasons) {
      r.should.not.containEql(SECRET);
      r.should.not.containEql(OLD_SECRET);
    }
  });
});

describe('shopify webhook: intake (custody through the journal)', () => {
  let journal: SqliteJournal;
  let emitted: any[];
  let outcomes: IntakeOutcome[];
  const intake = (j: OrderJournal = journal, over: Partial<ConstructorParameters<typeof WebhookIntake>[0]> = {}) => new WebhookIntake({
    journal: j, policy: () => policy(), ignoreOwnWriteBacks: true, emit: (m) => emitted.push(m), onOutcome: (o) => outcomes.push(o), ...over,
  });
  beforeEach(() => {
    journal = SqliteJournal.open(':memory:');
    emitted = [];
    outcomes = [];
  });
  afterEach(() => journal.close());

  it('records before answering, emits after, marks emitted; the same webhook id three times emits once', async () => {
    const i = intake();
    const d = delivery(order());
    const answers = [];
    for (let n = 0; n < 3; n++) {
      const a = await i.receive(d.headers, d.raw);
      answers.push(a.status);
      if (n === 0) {
        emitted.length.should.equal(0); // not before the answer
        (await journal.unemittedEvents()).length.should.equal(1);
      }
      await a.after?.();
    }
    answers.should.eql([200, 200, 200]);
    emitted.length.should.equal(1);
    emitted[0].topic.should.equal('orders/create');
    emitted[0]._shopifyEventSeq.should.be.a.Number();
    (await journal.unemittedEvents()).length.should.equal(0);
    outcomes.should.eql(['received', 'duplicate', 'duplicate']);
  });

  it('ignores an orders/updated older than one already received for the order', async () => {
    const i = intake();
    const newer = delivery({ ...order(), updated_at: '2026-03-10T11:05:00-05:00' }, { topic: 'orders/updated', id: 'wh-new' });
    const older = delivery({ ...order(), updated_at: '2026-03-10T11:02:00-05:00' }, { topic: 'orders/updated', id: 'wh-old' });
    await (await i.receive(newer.headers, newer.raw)).after?.();
    const a = await i.receive(older.headers, older.raw);
    a.status.should.equal(200);
    a.message.should.match(/^stale/);
    (a.after === undefined).should.be.true();
    emitted.map((m) => m.shopify.webhookId).should.eql(['wh-new']);
    outcomes.should.eql(['received', 'stale']);
  });

  it('answers 503 (so Shopify retries) when the journal cannot record, and emits nothing', async () => {
    const broken = Object.create(journal) as OrderJournal;
    broken.recordEvent = () => Promise.reject(new Error('disk I/O error'));
    const a = await intake(broken).receive(delivery(order()).headers, delivery(order()).raw);
    a.status.should.equal(503);
    a.message.should.equal('order journal unavailable, retry later');
    a.error!.message.should.match(/disk I\/O error/);
    emitted.length.should.equal(0);
  });

  it('replays events recorded but never emitted, for its own shop only', async () => {
    const i = intake();
    const d = delivery(order());
    (await i.receive(d.headers, d.raw)).status.should.equal(200); // "crash": after() never runs
    await journal.recordEvent({ shop: 'other.myshopify.com', dedupeKey: 'x', topic: 'orders/create', body: JSON.stringify(order()), meta: { shop: 'other.myshopify.com', topic: 'orders/create' } });
    emitted.length.should.equal(0);
    const again = intake();
    (await again.replayUnemitted(SHOP, Date.now() + 1)).replayed.should.equal(1);
    emitted.length.should.equal(1);
    emitted[0].shopify.webhookId.should.equal('wh-1');
    emitted[0].payload.id.should.equal(450789469);
    (await again.replayUnemitted(SHOP, Date.now() + 1)).replayed.should.equal(0);
    (await journal.unemittedEvents()).map((e) => e.shop).should.eql(['other.myshopify.com']);
  });

  describe('custody until settled', () => {
    const settled = () => intake(journal, { custody: 'settled' });

    it('emits with msg.shopify.eventKey and keeps the event unsettled until a node settles it by that key', async () => {
      const i = settled();
      const d = delivery(order());
      await (await i.receive(d.headers, d.raw)).after!();
      emitted.length.should.equal(1);
      emitted[0].shopify.eventKey.should.equal('wh-1');
      (await journal.unemittedEvents()).map((e) => e.dedupeKey).should.eql(['wh-1']);
      // A restart now ("killed inside the checks") replays it, with the same key.
      const restarted = settled();
      (await restarted.replayUnemitted(SHOP, Date.now() + 1)).replayed.should.equal(1);
      emitted[1].shopify.should.eql(emitted[0].shopify);
      (await settleCustody(journal, emitted[1])).should.be.true();
      (await settleCustody(journal, emitted[1])).should.be.false();
      (await journal.unemittedEvents()).should.eql([]);
      (await settled().replayUnemitted(SHOP, Date.now() + 1)).replayed.should.equal(0);
    });

    it('does not replay events received after the start, and pages through a backlog larger than a page', async () => {
      const i = settled();
      for (let n = 0; n < 7; n++) {
        const d = delivery({ ...order(), id: 1000 + n }, { id: `wh-${n}` });
        await (await i.receive(d.headers, d.raw)).after!();
      }
      emitted.length = 0;
      const r = await settled().replayUnemitted(SHOP, Date.now() + 1, { pageSize: 3 });
      r.replayed.should.equal(7);
      emitted.map((m) => m.payload.id).should.eql([1000, 1001, 1002, 1003, 1004, 1005, 1006]);
      emitted.length = 0;
      (await settled().replayUnemitted(SHOP, 0, { pageSize: 3 })).replayed.should.equal(0);
      emitted.length.should.equal(0);
    });

    it('gives up (settles and lists) unsettled events older than the replay window, and replays younger ones', async () => {
      let now = Date.parse('2026-11-01T00:00:00Z');
      const j = SqliteJournal.open(':memory:', { now: () => now });
      try {
        const i = intake(j, { custody: 'settled' });
        const a = delivery({ ...order(), id: 1 }, { id: 'wh-old' });
        await (await i.receive(a.headers, a.raw)).after!();
        now += 80 * 3_600_000;
        const b = delivery({ ...order(), id: 2 }, { id: 'wh-new' });
        await (await i.receive(b.headers, b.raw)).after!();
        emitted.length = 0;
        const r = await intake(j, { custody: 'settled' }).replayUnemitted(SHOP, now + 1, { windowMs: 72 * 3_600_000 });
        r.replayed.should.equal(1);
        r.expired.map((e) => [e.topic, e.resourceId]).should.eql([['orders/create', '1']]);
        emitted.map((m) => m.payload.id).should.eql([2]);
        (await j.unemittedEvents()).map((e) => e.dedupeKey).should.eql(['wh-new']);
      } finally {
        await j.close();
      }
    });

    it("in 'emitted' mode ends custody at the emit and sets no eventKey", async () => {
      const i = intake();
      const d = delivery(order());
      await (await i.receive(d.headers, d.raw)).after!();
      (emitted[0].shopify.eventKey === undefined).should.be.true();
      (await journal.unemittedEvents()).should.eql([]);
    });
  });

  it('skips the orders/updated caused by our own write-back, but not a later change', async () => {
    const i = intake();
    await noteOwnWriteBack(journal, SHOP, 450789469, '2026-03-10T11:10:00-05:00');
    const own = delivery({ ...order(), updated_at: '2026-03-10T16:10:00Z' }, { topic: 'orders/updated', id: 'wh-own' });
    const a = await i.receive(own.headers, own.raw);
    a.message.should.equal('ignored: caused by our own write-back');
    const later = delivery({ ...order(), updated_at: '2026-03-10T16:11:00Z' }, { topic: 'orders/updated', id: 'wh-later' });
    await (await i.receive(later.headers, later.raw)).after?.();
    emitted.map((m) => m.shopify.webhookId).should.eql(['wh-later']);
    outcomes.should.eql(['ignored', 'received']);
  });

  it('noteOwnWriteBack refuses a timestamp it could not compare', async () => {
    await noteOwnWriteBack(journal, SHOP, 1, '2026-03-10 11:00').should.be.rejectedWith(/ISO-8601/);
  });
});
