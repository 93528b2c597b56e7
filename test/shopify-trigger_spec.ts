import 'should';
import helper from 'node-red-node-test-helper';
import request from 'supertest';
import { mkdtempSync, readFileSync, rmSync } from 'fs';
import { tmpdir } from 'os';
import path from 'path';
import type { NodeAPI } from 'node-red';
import storeModule = require('../nodes/shopify-store');
import journalModule = require('../nodes/order-journal');
import triggerModule = require('../nodes/shopify-trigger');
import { signShopifyBody } from '../nodes/lib/shopify/hmac';
import { WebhookIntake } from '../nodes/lib/shopify/webhook-intake';
import { SqliteJournal } from '../nodes/lib/journal/sqlite-journal';

const SHOP = 'demo-shop.myshopify.com';
const SECRET = 'whsec_current_trigger_spec';
const OLD_SECRET = 'whsec_previous_trigger_spec';
const TOKEN = 'shpat_trigger_spec_token';
const PATH = '/shopify/webhooks';
const order = () => JSON.parse(readFileSync(path.join(__dirname, 'fixtures', 'order-1001.json'), 'utf8'));

let RED: NodeAPI;
let got: any[] = [];
/** Collects from flow start on (the helper node exists only after load resolves, too late for the startup replay). */
function collectorModule(r: NodeAPI) {
  r.nodes.registerType('test-collector', function (this: any, config: any) {
    r.nodes.createNode(this, config);
    this.on('input', (m: unknown) => got.push(m));
  });
}
const trigger = (r: NodeAPI) => {
  RED = r;
  return triggerModule(r);
};

function flow(journalFile: string, over: Record<string, unknown> = {}) {
  return [
    { id: 't', type: 'tab' },
    { id: 'store', type: 'shopify-store', shopDomain: SHOP, apiVersion: '2026-07' },
    { id: 'jr', type: 'order-journal', file: journalFile },
    {
      id: 'n1', z: 't', type: 'shopify-trigger', name: '', store: 'store', journal: 'jr', path: PATH,
      topics: ['orders/create', 'orders/updated', 'orders/cancelled', 'refunds/create'], maxBodyKb: '1024',
      ignoreTest: false, ignoreOwnWriteBacks: true, reconcile: false, reconcileIntervalS: '300', reconcileLookbackMin: '60',
      wires: [['out']], ...over,
    },
    { id: 'out', z: 't', type: 'test-collector' },
  ];
}
const creds = { store: { accessToken: TOKEN, webhookSecret: SECRET, previousWebhookSecret: OLD_SECRET } };

function signed(body: unknown, opts: { topic?: string; id?: string; secret?: string } = {}) {
  const raw = Buffer.isBuffer(body) ? body : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body));
  const headers: Record<string, string> = {
    'Content-Type': 'application/json',
    'X-Shopify-Hmac-Sha256': signShopifyBody(opts.secret ?? SECRET, raw),
    'X-Shopify-Topic': opts.topic ?? 'orders/create',
    'X-Shopify-Shop-Domain': SHOP,
    'X-Shopify-API-Version': '2026-07',
    'X-Shopify-Webhook-Id': opts.id ?? 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
    'X-Shopify-Triggered-At': '2026-03-10T16:00:02Z',
    'X-Shopify-Event-Id': '98880550-7158-44d4-b7cd-2c97c8a091b5',
  };
  return { headers, raw };
}

const post = (d: { headers: Record<string, string>; raw: Buffer }) => request(RED.httpNode).post(PATH).set(d.headers).send(d.raw.toString("utf8")); // a Buffer would be JSON-encoded by superagent
/** First arguments of a node method's calls (the test helper wraps log, warn, error, status, … in sinon spies). */
const calls = (id: string, method: 'status' | 'warn' | 'error' | 'log' | 'debug'): unknown[] =>
  ((helper.getNode(id) as unknown as Record<string, { args?: unknown[][] }>)[method].args ?? []).map((a) => a[0]);
const tick = (ms = 30) => new Promise((r) => setTimeout(r, ms));

describe('shopify-trigger node', () => {
  let dir: string;
  let file: string;
  async function load(over: Record<string, unknown> = {}) {
    got = [];
    await helper.load([storeModule, journalModule, collectorModule, trigger], flow(file, over), creds);
    // The startup replay runs when flows have started, and the journal answers after its WAL sync.
    await tick(100);
  }

  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'shopify-trigger-'));
    file = path.join(dir, 'journal.sqlite');
  });
  afterEach(async () => {
    await helper.unload();
    rmSync(dir, { recursive: true, force: true });
  });

  it('emits a valid delivery once, per the message contract, after answering 200', async () => {
    await load();
    const res = await post(signed(order()));
    res.status.should.equal(200);
    await tick();
    got.length.should.equal(1);
    const msg = got[0];
    msg.topic.should.equal('orders/create');
    msg.payload.id.should.equal(450789469);
    msg.payload.line_items.length.should.equal(2);
    msg.shopify.should.eql({
      shop: SHOP, topic: 'orders/create', webhookId: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043', eventId: '98880550-7158-44d4-b7cd-2c97c8a091b5',
      apiVersion: '2026-07', triggeredAt: '2026-03-10T16:00:02Z', source: 'webhook',
      // Custody until recorded (the default): the journal event a writer or router settles.
      eventKey: 'b54557e4-bdd9-4b37-8a5f-bf7d70bcd043',
    });
    msg._shopifyEventSeq.should.be.a.Number();
    calls('n1', 'status').should.matchAny({ fill: 'green', text: '1 received' });
  });

  it('emits the same webhook id delivered three times only once', async () => {
    await load();
    const d = signed(order());
    for (let i = 0; i < 3; i++) (await post(d)).status.should.equal(200);
    await tick();
    got.length.should.equal(1);
    calls('n1', 'status').should.matchAny({ text: '1 received · 2 duplicate' });
  });

  it('answers 401 to a bad or missing signature and emits nothing; accepts the previous secret during rotation', async () => {
    await load();
    const bad = await post(signed(order(), { secret: 'not-the-secret' }));
    bad.status.should.equal(401);
    bad.body.should.eql({ error: 'HMAC verification failed' });
    const d = signed(order());
    delete d.headers['X-Shopify-Hmac-Sha256'];
    (await post(d)).status.should.equal(401);
    await tick();
    got.length.should.equal(0);
    (await post(signed(order(), { secret: OLD_SECRET }))).status.should.equal(200);
    await tick();
    got.length.should.equal(1);
  });

  it('answers 400 with the missing header names', async () => {
    await load();
    const d = signed(order());
    delete d.headers['X-Shopify-Webhook-Id'];
    const res = await post(d);
    res.status.should.equal(400);
    res.body.error.should.equal('missing header: X-Shopify-Webhook-Id');
  });

  it('answers 400 with a reason to malformed JSON and to a body that fails the schema, and logs it', async () => {
    await load();
    const res = await post(signed('{"id": 450789469, "line_items": ['));
    res.status.should.equal(400);
    res.body.error.should.match(/^malformed JSON/);
    const bad = order();
    bad.line_items = [];
    const res2 = await post(signed(bad, { id: 'other-id' }));
    res2.status.should.equal(400);
    res2.body.error.should.match(/^body is not a valid orders\/create payload: line_items/);
    calls('n1', 'warn').should.matchAny(/webhook rejected: malformed JSON/);
    await tick();
    got.length.should.equal(0);
    calls('n1', 'status').should.matchAny({ fill: 'yellow', text: '2 rejected' });
  });

  it('answers 413 to a 2 MB body without emitting', async () => {
    await load();
    const big = Buffer.from(JSON.stringify({ ...order(), note: 'x'.repeat(2 * 1024 * 1024) }));
    const res = await post(signed(big));
    res.status.should.equal(413);
    res.body.error.should.equal(`body larger than ${1024 * 1024} bytes`);
    await tick();
    got.length.should.equal(0);
  });

  it('answers 400, not a crash, to very deep nesting', async () => {
    await load();
    const res = await post(signed('['.repeat(100_000) + ']'.repeat(100_000)));
    res.status.should.equal(400);
    res.body.error.should.equal('JSON nested deeper than 64 levels');
  });

  it('acknowledges an unselected or unknown topic with 200 and emits nothing', async () => {
    await load();
    (await post(signed(order(), { topic: 'orders/paid' }))).body.should.eql({ status: 'ignored: topic orders/paid is not selected' });
    (await post(signed({ id: 1 }, { topic: 'products/update', id: 'x2' }))).status.should.equal(200);
    await tick();
    got.length.should.equal(0);
    calls('n1', 'status').should.matchAny({ text: '2 ignored' });
  });

  it('keeps __proto__ in a body from reaching any prototype', async () => {
    await load();
    const raw = JSON.stringify(order()).replace(/^\{/, '{"__proto__":{"polluted":"yes"},');
    (await post(signed(raw))).status.should.equal(200);
    await tick();
    got.length.should.equal(1);
    Object.prototype.hasOwnProperty.call(got[0].payload, '__proto__').should.be.false();
    (({}) as Record<string, unknown>).should.not.have.property('polluted');
    (got[0].payload as Record<string, unknown>).should.not.have.property('polluted');
  });

  it('ignores an orders/updated older than the newest already received', async () => {
    await load();
    const newer = signed({ ...order(), updated_at: '2026-03-10T11:30:00-05:00' }, { topic: 'orders/updated', id: 'u2' });
    const older = signed({ ...order(), updated_at: '2026-03-10T11:20:00-05:00' }, { topic: 'orders/updated', id: 'u1' });
    (await post(newer)).status.should.equal(200);
    const res = await post(older);
    res.status.should.equal(200);
    res.body.status.should.match(/^stale/);
    await tick();
    got.map((m) => m.shopify.webhookId).should.eql(['u2']);
  });

  /** The process "dies" between the 200 and the emit: recorded through the same intake, after() never runs. */
  async function acknowledgedNotEmitted(webhookId: string) {
    const j = SqliteJournal.open(file);
    const intake = new WebhookIntake({
      journal: j, ignoreOwnWriteBacks: false, emit: () => { throw new Error('must not emit'); },
      policy: () => ({ shopDomain: SHOP, secrets: [SECRET], topics: new Set(['orders/create']), ignoreTest: false }),
    });
    const d = signed(order(), { id: webhookId });
    (await intake.receive(Object.fromEntries(Object.entries(d.headers).map(([k, v]) => [k.toLowerCase(), v])), d.raw)).status.should.equal(200);
    await j.close();
    return d;
  }

  it('after a restart, emits an event that was acknowledged but not emitted, exactly once', async () => {
    const d = await acknowledgedNotEmitted('unfinished-1');

    await load();
    got.length.should.equal(1);
    got[0].shopify.webhookId.should.equal('unfinished-1');
    got[0].payload.id.should.equal(450789469);
    // A retry of that delivery is a duplicate; until a writer or router settles the event, every
    // restart replays it (custody until recorded) …
    (await post(d)).status.should.equal(200);
    await helper.unload();
    await load();
    got.map((m) => m.shopify.eventKey).should.eql(['unfinished-1']);
    (await (helper.getNode('jr') as unknown as { getJournal(): SqliteJournal }).getJournal().settleEvent(SHOP, 'unfinished-1')).should.be.true();
    // … and once settled, never again.
    await helper.unload();
    await load();
    await tick();
    got.length.should.equal(0);
  });

  it("with custody 'until emitted', an event replayed once is not replayed again", async () => {
    await acknowledgedNotEmitted('unfinished-2');
    await load({ custody: 'emitted' });
    got.length.should.equal(1);
    (got[0].shopify.eventKey === undefined).should.be.true();
    await helper.unload();
    await load({ custody: 'emitted' });
    await tick();
    got.length.should.equal(0);
  });

  it('answers 503 when the journal cannot record (Shopify retries) and reports it', async () => {
    await load();
    await (helper.getNode('jr') as unknown as { getJournal(): SqliteJournal }).getJournal().close();
    const res = await post(signed(order()));
    res.status.should.equal(503);
    res.body.should.eql({ error: 'order journal unavailable, retry later' });
    calls('n1', 'error').should.matchAny(/order journal unavailable/);
    calls('n1', 'status').should.matchAny({ fill: 'red', text: 'journal unavailable' });
    got.length.should.equal(0);
  });

  it('removes its route on close (404 afterwards) and can be deployed again on the same path', async () => {
    await load();
    (await post(signed(order()))).status.should.equal(200);
    await helper.unload();
    (await post(signed(order()))).status.should.equal(404);
    await load();
    (await post(signed(order(), { id: 'after-redeploy' }))).status.should.equal(200);
  });

  it('reports invalid settings without registering a route', async () => {
    await load({ path: 'no-leading-slash' });
    calls('n1', 'error').should.matchAny(/path: must start with "\/"/);
    calls('n1', 'status').should.matchAny({ fill: 'red', text: 'invalid settings' });
    (await request(RED.httpNode).post('/no-leading-slash').send('{}')).status.should.equal(404);
  });

  it('never shows a secret in status, logs or answers', async () => {
    await load();
    const answers = [
      await post(signed(order(), { secret: 'wrong' })), await post(signed('{')), await post(signed(order())),
    ].map((r) => JSON.stringify(r.body));
    const seen = JSON.stringify([answers, ...(['status', 'warn', 'error', 'log', 'debug'] as const).map((m) => calls('n1', m).map((a) => (a instanceof Error ? a.message : a)))]);
    for (const s of [SECRET, OLD_SECRET, TOKEN]) seen.should.not.containEql(s);
  });
});
