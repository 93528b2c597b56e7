import 'should';
import type { Order } from '../../nodes/lib/contract';
import type { OrderSpecInput } from '../../sim/shopify';
import { SqliteJournal } from '../../nodes/lib/journal/sqlite-journal';
import type { HoldRecord } from '../../nodes/lib/journal/journal';
import { countsLine, nodeRedPidOf, startRig, tally, until, type Rig } from './harness';
import { pollutionProbe, postSigned, runPollutionProbe } from './webhook-post';

// A corpus of hostile orders/create deliveries, correctly signed with the store's webhook secret so
// they pass the HMAC check and reach parsing and the checks: wrong types, huge and deep bodies, odd
// Unicode, prototype keys, missing fields, malformed JSON. The Node-RED process must live through all
// of it; every delivery gets a clear answer; no prototype is polluted; what was acknowledged but is
// not ERP-ready is on hold with findings naming the problem; nothing reaches D365 that should not.

const MARK = 'pwned-by-fault-test';
const PROBE = 'FAULT-PROTO-PROBE';

type Outcome = 'rejected' | 'held' | 'created' | 'created-or-held';
interface Case {
  label: string;
  body: Buffer | string;
  status: number;
  outcome: Outcome;
  /** For held orders: at least one of these finding codes must be on the hold. */
  codes?: string[];
  order?: Order;
}

/** A clean order the simulator knows (so a created order's write-back finds it): Bob Norman, one in-stock SKU. */
const CLEAN: OrderSpecInput = { customer: 'C10000', shippingCode: 'Standard', financialStatus: 'paid', lines: [{ sku: 'IPOD2008GREEN', quantity: 1 }] };

const json = (o: unknown) => JSON.stringify(o);
/** Order JSON with `extra` spliced in as raw text after the opening brace (an object literal cannot carry an own `__proto__` key). */
const withRawKeys = (text: string, extra: string) => `{${extra},${text.slice(1)}`;
/** Order JSON with `extra` spliced in as raw text into the first line item. */
const lineWithRawKeys = (o: Order, extra: string) => {
  const text = json(o);
  const at = text.indexOf('"line_items":[{') + '"line_items":[{'.length;
  return `${text.slice(0, at)}${extra},${text.slice(at)}`;
};
const patchLine = (o: Order, patch: Record<string, unknown>): Order => ({ ...o, line_items: o.line_items.map((l, i) => (i === 0 ? { ...l, ...patch } : l)) } as Order);
const without = (o: Order, key: string) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));

function rejectedCases(o: Order): Case[] {
  const bad = (label: string, body: Buffer | string, status = 400): Case => ({ label, body, status, outcome: 'rejected' });
  const line0 = o.line_items[0]!;
  const manyLines = Array.from({ length: 10_000 }, (_, i) => ({ id: i + 1, title: 'x', quantity: 1, price: '1.00', sku: 'IPOD2008GREEN' }));
  let deep = '"x"';
  for (let i = 0; i < 100; i++) deep = `{"a":${deep}}`;
  return [
    bad('quantity "abc"', json(patchLine(o, { quantity: 'abc' }))),
    bad('quantity -1', json(patchLine(o, { quantity: -1 }))),
    // Shopify never sends an ordered quantity of 0; the contract (order.ts LineItem) rejects it as malformed.
    bad('quantity 0', json(patchLine(o, { quantity: 0 }))),
    bad('quantity 1.5', json(patchLine(o, { quantity: 1.5 }))),
    bad('quantity 1e309 (Infinity)', json(patchLine(o, { quantity: 0 })).replace('"quantity":0', '"quantity":1e309')),
    bad('price as object', json(patchLine(o, { price: { amount: '1.00', currency_code: 'USD' } }))),
    bad('price as number', json(patchLine(o, { price: 199 }))),
    bad('price "1,99"', json(patchLine(o, { price: '1,99' }))),
    bad('id "abc"', json({ ...o, id: 'abc' })),
    bad('id missing', json(without(o, 'id'))),
    bad('name missing', json(without(o, 'name'))),
    bad('total_price missing', json(without(o, 'total_price'))),
    bad('line_items missing', json(without(o, 'line_items'))),
    bad('line_items empty', json({ ...o, line_items: [] })),
    bad('line_items an object', json({ ...o, line_items: { 0: line0 } })),
    bad('customer a string', json({ ...o, customer: 'bob' })),
    bad('currency "US Dollar"', json({ ...o, currency: 'US Dollar' })),
    bad('10,000 line items (within the body limit)', json({ ...o, line_items: manyLines })),
    bad('nested 100 deep in a loose field', json({ ...o, note_attributes: [{ name: 'n', value: 0 }] }).replace('"value":0', `"value":${deep}`)),
    bad('a body of 200,000 nested arrays', '['.repeat(200_000) + ']'.repeat(200_000)),
    bad('only prototype keys', `{"__proto__":{"polluted":"${MARK}"},"constructor":{"prototype":{"polluted":"${MARK}"}}}`),
    bad('malformed JSON: truncated', json(o).slice(0, 200)),
    bad('malformed JSON: trailing comma', `${json(o).slice(0, -1)},}`),
    bad('malformed JSON: single quotes', json(o).replace(/"/g, "'")),
    bad('JSON null', 'null'),
    bad('JSON array', '[]'),
    bad('JSON string', '"orders/create"'),
    bad('JSON number', '42'),
    bad('empty body', ''),
    bad('whitespace body', ' \n\t '),
    bad('invalid UTF-8', Buffer.concat([Buffer.from(json(o).slice(0, 50)), Buffer.from([0xc3, 0x28, 0xff, 0xfe]), Buffer.from(json(o).slice(50))])),
    bad('over the 1 MiB body limit', json({ ...o, note: 'x'.repeat(1100 * 1024) }), 413),
  ];
}

/** Orders that parse and are acknowledged; each one is a real simulator order (placed without a webhook). */
function acceptedCases(make: () => Order): Case[] {
  const held = (label: string, o: Order, body: string, codes: string[]): Case => ({ label, body, status: 200, outcome: 'held', codes, order: o });
  const sku = (label: string, value: string | null, codes = ['SKU_UNMAPPED']) => {
    const o = make();
    return held(label, o, json(patchLine(o, { sku: value })), codes);
  };
  const cases: Case[] = [
    sku('unknown SKU', 'NO-SUCH-SKU-4711'),
    sku('SKU with a combining accent', 'IPOD2008GREEN\u0301'),
    sku('SKU with an RTL override and an emoji', '\u202EIPOD2008GREEN\u{1F642}'),
    sku('SKU with a NUL inside', 'IPOD\u00002008GREEN'),
    sku('SKU null', null, ['SKU_MISSING']),
  ];
  {
    const o = make();
    cases.push(held('negative price', o, json(patchLine(o, { price: '-199.00' })), ['PRICE_MISMATCH', 'TOTALS_MISMATCH', 'ZERO_PRICE', 'PRICE_UNKNOWN']));
  }
  {
    const o = make();
    const lines = Array.from({ length: 200 }, (_, i) => ({ ...o.line_items[0]!, id: 9_000_000 + i, sku: `GONE-${i}` }));
    cases.push(held('200 lines of unknown SKUs', o, json({ ...o, line_items: lines }), ['SKU_UNMAPPED']));
  }
  {
    // Odd Unicode in names and address: RTL marks, NUL, emoji, combining characters.
    const o = make();
    const odd = { first_name: '\u200F\u05D1\u05D5\u05D1\u200E Bob\u0000', last_name: 'N\u0303orman \u{1F469}\u200D\u{1F469}\u200D\u{1F467}', address2: 'Apt \u202E7', company: 'Z\u0351\u036B\u0343a\u0344\u0352lgo\u0000' };
    const body = json({ ...o, shipping_address: { ...o.shipping_address, ...odd }, billing_address: { ...o.billing_address, ...odd }, note: '\u0000\uFEFF\u{10FFFF}' });
    cases.push({ label: 'odd Unicode in names and address', body, status: 200, outcome: 'created-or-held', order: o });
    // A lone surrogate is not Unicode at all (no real Shopify body has one): refused, not acknowledged.
    cases.push({ label: 'a lone surrogate in the address', body: json({ ...o, shipping_address: { ...o.shipping_address, address2: 'Apt \uDC00 7' } }), status: 400, outcome: 'rejected' });
  }
  {
    const o = make();
    const proto = `"__proto__":{"polluted":"${MARK}"}`;
    const body = withRawKeys(lineWithRawKeys({ ...o, note_attributes: [{ name: 'gift', value: 'no' }] } as Order, proto), proto)
      .replace('"shipping_address":{', `"shipping_address":{${proto},`)
      .replace('"customer":{', `"customer":{${proto},`)
      .replace('"note_attributes":[', `"note_attributes":[{"name":"x","value":{${proto}}},`);
    cases.push({ label: '__proto__ keys at five depths', body, status: 200, outcome: 'created', order: o });
  }
  {
    const o = make();
    const ctor = `"constructor":{"prototype":{"polluted":"${MARK}"}},"prototype":{"polluted":"${MARK}"}`;
    const body = withRawKeys(lineWithRawKeys(o, ctor), ctor).replace('"shipping_address":{', `"shipping_address":{${ctor},`);
    cases.push({ label: 'constructor/prototype keys at three depths', body, status: 200, outcome: 'created', order: o });
  }
  return cases;
}

describe('faults: hostile input on the webhook endpoint (correctly signed)', function () {
  this.timeout(180_000);
  let rig: Rig | undefined;
  after(async () => { await rig?.stop(); rig = undefined; });

  it('answers every delivery clearly, never dies, pollutes no prototype, holds what is not ERP-ready, and still creates a normal order', async () => {
    rig = await startRig();
    const r = rig;
    const shop = r.sims.shopify;
    const tab = String(r.flow.find((n) => n.type === 'tab')!.id);
    const probe = pollutionProbe(tab, PROBE);
    // The example's "runtime errors" debug node also writes to the log, where the test reads it.
    const flow = r.flow.map((n) => (n.type === 'debug' && n.complete === 'error' ? { ...n, console: true } : n));
    await r.nodeRed.deploy([...flow, ...probe.nodes]);
    const pid = nodeRedPidOf(r);
    // The probe sees the runtime's Object.prototype: a deliberate, momentary pollution shows in its report.
    const selfTest = await runPollutionProbe(r, probe.injectId, PROBE, true);
    selfTest.objectExtra.should.deepEqual(['__faultProbeSelfTest']);

    // Real simulator orders, not delivered by the simulator: the test delivers (hostile versions of) them.
    shop.setChaos({ dropProbability: 1 });
    const make = () => shop.placeOrder(CLEAN);
    const rejectTemplate = make();
    const cases = [...rejectedCases(rejectTemplate), ...acceptedCases(make)];
    await shop.settled();
    shop.setChaos({ dropProbability: 0 });

    const wrong: string[] = [];
    for (const c of cases) {
      const a = await postSigned(r, c.body);
      let answer: Record<string, unknown> = {};
      try { answer = JSON.parse(a.body) as Record<string, unknown>; } catch { /* judged below */ }
      const text = a.status === 200 ? answer.status : answer.error;
      if (a.status !== c.status || typeof text !== 'string' || !text) wrong.push(`${c.label}: ${a.status} ${a.body.slice(0, 120)} (expected ${c.status})`);
      // Alive after every delivery: the same process, and its admin API answers.
      nodeRedPidOf(r).should.equal(pid, `Node-RED restarted after "${c.label}"`);
      (await r.nodeRed.get<Record<string, unknown>>('/settings')).should.have.property('httpNodeRoot');
    }
    wrong.should.deepEqual([], wrong.join('\n'));

    const accepted = cases.filter((c) => c.order);
    const names = accepted.map((c) => c.order!.name);
    const ids = accepted.map((c) => Number(c.order!.id));
    await until(async () => (await tally(r, names, ids)).lost === 0, 60_000, 500);

    // A normal order after the corpus still goes all the way.
    const normal = shop.placeOrder(CLEAN);
    await shop.settled();
    (await until(() => !!r.sims.bc.order(normal.name), 30_000, 250)).should.be.true(`the normal order ${normal.name} placed after the corpus was not created`);

    const c = await tally(r, names, ids);
    console.log(`      deliveries ${cases.length} (rejected ${cases.length - accepted.length}, acknowledged ${accepted.length}); ${countsLine(c)}`);
    // Hostile input is a finding or a 4xx, never a runtime error (the example's Catch → "runtime errors" debug).
    const errors = r.nodeRed.output().filter((l) => /\[error\]|\[debug:runtime errors\]/.test(l));
    c.lost.should.equal(0, `lost: ${c.missing.join(', ')}`);
    c.duplicated.should.equal(0);
    errors.should.deepEqual([], 'runtime errors in the Node-RED log');

    // Where every acknowledged order ended, and why.
    const j = SqliteJournal.open(r.journalFile);
    let holds: HoldRecord[];
    try {
      holds = await j.listHolds({ status: 'held', limit: 1000 });
    } finally {
      await j.close();
    }
    const holdOf = new Map(holds.map((h) => [h.orderId, h]));
    const problems: string[] = [];
    for (const k of accepted) {
      const so = r.sims.bc.order(k.order!.name);
      const hold = holdOf.get(String(k.order!.id));
      const codes = hold?.findings.map((f) => f.code) ?? [];
      const where = so ? 'created' : hold ? `held ${[...new Set(codes)].join(',')}` : 'nowhere';
      if (k.outcome === 'created' && !so) problems.push(`${k.label}: ${where}, expected created`);
      if (k.outcome === 'held') {
        if (so) problems.push(`${k.label}: created in D365 (${String(so.number)}), expected held`);
        else if (!hold) problems.push(`${k.label}: not on hold`);
        else if (!k.codes!.some((code) => codes.includes(code))) problems.push(`${k.label}: held with ${codes.join(',')}, expected one of ${k.codes!.join(',')}`);
      }
      if (hold && !hold.findings.some((f) => f.severity === 'error' && f.message.length > 0)) problems.push(`${k.label}: on hold without a blocking finding that says why`);
      console.log(`      ${k.label} (${k.order!.name}): ${where}`);
    }
    problems.should.deepEqual([], problems.join('\n'));

    // Nothing rejected reached D365; no prototype key's content reached D365.
    (r.sims.bc.order(rejectTemplate.name) === undefined).should.be.true('a rejected delivery created a sales order');
    const d365 = JSON.stringify([r.sims.bc.db.all('salesOrders'), r.sims.bc.db.all('salesOrderLines'), r.sims.bc.db.all('customers')]);
    d365.includes(MARK).should.be.false('content of a prototype key reached D365');

    // No prototype of the runtime was polluted, and the process is still the same one.
    const report = await runPollutionProbe(r, probe.injectId, PROBE);
    report.isRootPrototype.should.be.true();
    report.objectExtra.should.deepEqual([]);
    report.arrayNames.should.deepEqual([]);
    report.inherited.should.deepEqual(['undefined', 'undefined', 'undefined', 'undefined']);
    nodeRedPidOf(r).should.equal(pid);
  });

  // A SKU holding a lone UTF-16 surrogate ("\ud800" in the JSON, which JSON.parse accepts) cannot be real
  // Shopify data and would break the D365 lookup's URL encoding: the trigger refuses it (400, not
  // acknowledged, so nothing is lost) instead of acknowledging an order no check could handle.
  it('refuses an order whose SKU carries a lone surrogate with a 400 that names the problem', async () => {
    rig = await startRig();
    const r = rig;
    r.sims.shopify.setChaos({ dropProbability: 1 });
    const o = r.sims.shopify.placeOrder(CLEAN);
    const a = await postSigned(r, json(patchLine(o, { sku: 'IPOD2008GREEN\uD800' })));
    a.status.should.equal(400);
    a.body.should.match(/not valid Unicode/);
    (await tally(r, [o.name], [Number(o.id)])).should.containEql({ created: 0, held: 0 });
  });

  // An ordered quantity of 0 is refused with 400 by the contract (LineItem.quantity is positive); the
  // zero that can be acknowledged is current_quantity 0 (a line removed by an order edit). With every
  // line removed the order check holds it (NO_LINES_LEFT) instead of a D365 order with freight only.
  it('holds an order whose every line was removed (current_quantity 0)', async () => {
    rig = await startRig();
    const r = rig;
    r.sims.shopify.setChaos({ dropProbability: 1 });
    const o = r.sims.shopify.placeOrder(CLEAN);
    (await postSigned(r, json(patchLine(o, { current_quantity: 0, fulfillable_quantity: 0 })))).status.should.equal(200);
    await until(async () => (await tally(r, [o.name], [Number(o.id)])).lost === 0, 30_000, 500);
    (r.sims.bc.order(o.name) === undefined).should.be.true(`${o.name} was created in D365 with nothing to ship`);
    (await tally(r, [o.name], [Number(o.id)])).held.should.equal(1);
  });
});
