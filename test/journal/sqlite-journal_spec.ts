import 'should';
import Database from 'better-sqlite3';
import { fork, type ChildProcess } from 'child_process';
import fc from 'fast-check';
import { existsSync, mkdtempSync, rmSync } from 'fs';
import os from 'os';
import path from 'path';
import type { Finding } from '../../nodes/lib/contract';
import type { RecordEventInput } from '../../nodes/lib/journal/journal';
import { parseInstant } from '../../nodes/lib/journal/instant';
import { HANDED_OVER_KEEP_MS } from '../../nodes/lib/journal/journal';
import { ReservationLines, SqliteJournal, isReservationLines } from '../../nodes/lib/journal/sqlite-journal';
import { MIGRATIONS, SCHEMA_VERSION } from '../../nodes/lib/journal/sqlite-migrations';

const SHOP = 'acme.myshopify.com';
const DAY = 24 * 3600 * 1000;

function event(over: Partial<RecordEventInput> = {}): RecordEventInput {
  return { shop: SHOP, dedupeKey: 'wh-1', topic: 'orders/create', resourceId: '820982911946154508', body: '{"id":820982911946154508}', meta: { shop: SHOP, topic: 'orders/create' }, ...over };
}

function finding(code: string): Finding {
  return { check: 'test', code, severity: 'error', message: code.toLowerCase(), retryable: false };
}

type NewHold = Parameters<SqliteJournal['putHold']>[0];
function hold(id: string, over: Partial<NewHold> = {}): NewHold {
  return { id, shop: SHOP, orderId: `o-${id}`, orderName: `#${id}`, route: 'manual', reason: 'needs a person', findings: [finding('SKU_UNMAPPED')], msg: { topic: 'orders/create', payload: { id } }, heldBy: 'router-1', heldAt: 1000, ...over };
}

/** A controllable clock for leases, ages and ordering. */
function clock(start = 1_770_000_000_000) {
  const c = { t: start, now: () => c.t };
  return c;
}

describe('SqliteJournal', function () {
  let dir: string;
  const opened: SqliteJournal[] = [];
  const children: ChildProcess[] = [];
  const open = (file = path.join(dir, 'journal.sqlite'), opts = {}) => {
    const j = SqliteJournal.open(file, opts);
    opened.push(j);
    return j;
  };

  /** A journal file as schema `version` (2 or later: reservations have handed_at) left it, holding these reservation rows. */
  const fileAtVersion = (version: number, rows: [orderKey: string, item: string, location: string, quantity: number, handedAt: number | null][]) => {
    const file = path.join(dir, `v${version}.sqlite`);
    const db = new Database(file);
    db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const mark = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, 0)');
    for (const m of MIGRATIONS.slice(0, version)) {
      db.exec(m.sql);
      mark.run(m.version);
    }
    const row = db.prepare('INSERT INTO reservations (order_key, item, location, quantity, handed_at) VALUES (?, ?, ?, ?, ?)');
    for (const r of rows) row.run(...r);
    db.close();
    return file;
  };

  beforeEach(() => { dir = mkdtempSync(path.join(os.tmpdir(), 'journal-spec-')); });
  afterEach(async () => {
    // A failed race test must not leave workers waiting for "go".
    for (const w of children.splice(0)) if (w.exitCode === null && w.signalCode === null) w.kill();
    for (const j of opened.splice(0)) await j.close();
    rmSync(dir, { recursive: true, force: true });
  });

  describe('open', () => {
    it('creates missing directories, uses WAL (synchronous=NORMAL plus its own WAL sync per group commit), and records the schema version', () => {
      const file = path.join(dir, 'a', 'b', 'journal.sqlite');
      open(file);
      existsSync(file).should.be.true();
      const db = new Database(file, { readonly: true });
      try {
        String(db.pragma('journal_mode', { simple: true })).should.equal('wal');
        (db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number }).v.should.equal(SCHEMA_VERSION);
      } finally { db.close(); }
      // synchronous is per connection: check the journal's own. NORMAL: COMMIT does not fsync; the
      // journal fdatasyncs the WAL itself before settling (group-commit_spec tests that part).
      ((opened[0] as unknown as { db: Database.Database }).db.pragma('synchronous', { simple: true }) as number).should.equal(1);
      // Savepoint undo pages in memory (2), not in a temporary file per group commit.
      ((opened[0] as unknown as { db: Database.Database }).db.pragma('temp_store', { simple: true }) as number).should.equal(2);
    });

    it('upgrades a version-1 file in place: its reservations keep counting', async () => {
      const file = path.join(dir, 'v1.sqlite');
      const db = new Database(file);
      db.exec('CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
      db.exec(MIGRATIONS[0]!.sql);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0)').run();
      db.prepare("INSERT INTO reservations (order_key, item, location, quantity) VALUES ('o1', 'A', 'MAIN', 2)").run();
      db.close();
      const j = open(file);
      (await j.reservedQuantity('A', 'MAIN')).should.equal(2);
      (await j.handOver('o1')).should.equal(2);
      (await j.reservationsOf('o1')).should.eql([]);
    });

    it('upgrades a version-2 file: open and handed-over reservations keep counting', async () => {
      const file = fileAtVersion(2, [['o1', 'A', 'MAIN', 2, null], ['o2', 'A', 'MAIN', 3, 1_770_000_000_500], ['o3', 'A', 'MAIN', 4, 1_770_000_001_020]]);
      const j = open(file, { now: () => 1_770_000_002_000 });
      (await j.reservedQuantity('A', 'MAIN', 0)).should.equal(9);
      (await j.reservedQuantity('A', 'MAIN', 1_770_000_000_499)).should.equal(9);
      (await j.reservedQuantity('A', 'MAIN', 1_770_000_000_500)).should.equal(6);
      (await j.reservedQuantity('A', 'MAIN', 1_770_000_001_019)).should.equal(6);
      (await j.reservedQuantity('A', 'MAIN', 1_770_000_001_020)).should.equal(2);
      (await j.reservedQuantity('A', 'MAIN')).should.equal(2);
    });

    it('upgrades a version-3 file: the trigger-kept totals go, the rows keep counting', async () => {
      const file = fileAtVersion(3, [['o1', 'A', 'MAIN', 2, null], ['o2', 'A', 'MAIN', 3, 1_770_000_000_500]]);
      const j = open(file, { now: () => 1_770_000_002_000 });
      (await j.reservedQuantity('A', 'MAIN', 1_770_000_000_499)).should.equal(5);
      (await j.reservedQuantity('A', 'MAIN')).should.equal(2);
      (await j.reserve('o3', [{ item: 'A', location: 'MAIN', quantity: 1, limit: 3 }])).ok.should.be.true();
      const check = new Database(file, { readonly: true });
      const names = (check.prepare("SELECT name FROM sqlite_master WHERE name LIKE 'reservation%' OR type = 'trigger'").all() as { name: string }[]).map((r) => r.name);
      check.close();
      names.should.not.containEql('reservation_open');
      names.should.not.containEql('reservation_handed');
      names.filter((n) => n.startsWith('reservations_count_')).should.eql([]);
    });

    it('upgrades a version-4 file: the gate\'s line-map cursors are folded into the reservation rows, one B-tree per row', async () => {
      const file = fileAtVersion(4, [['s:1', 'A', 'EAST', 3, null], ['s:1', 'B', 'EAST', 1, null], ['s:2', 'A', 'EAST', 1, null], ['s:3', 'A', 'EAST', 2, 1_770_000_000_500]]);
      const db = new Database(file);
      const cursor = db.prepare('INSERT INTO cursors (name, value) VALUES (?, ?)');
      cursor.run('inventory-gate:lines:s:1', JSON.stringify([
        { lineItemId: '10', item: 'A', location: 'EAST', quantity: 2 }, { lineItemId: '11', item: 'A', location: 'EAST', quantity: 1 },
        { lineItemId: '12', item: 'B', location: 'EAST', quantity: 1 }, { lineItemId: 13, item: 'B', location: 'EAST', quantity: 1 },
      ]));
      cursor.run('inventory-gate:lines:s:2', '{not json');
      cursor.run('d365-shipments', '2026-03-10T00:00:00Z');
      db.close();
      const j = open(file, { now: () => 1_770_000_002_000 });
      (await j.reservedLines('s:1')).should.eql([
        { lineItemId: '10', item: 'A', location: 'EAST', quantity: 2 }, { lineItemId: '11', item: 'A', location: 'EAST', quantity: 1 },
        { lineItemId: '12', item: 'B', location: 'EAST', quantity: 1 },
      ]);
      (await j.reservedLines('s:2')).should.eql([]); // a damaged line map: the units stay reserved, just not by line
      (await j.reservationsOf('s:2')).should.eql([{ item: 'A', location: 'EAST', quantity: 1 }]);
      (await j.reservedQuantity('A', 'EAST', 0)).should.equal(6);
      (await j.reservedQuantity('A', 'EAST')).should.equal(4);
      (await j.getCursor('inventory-gate:lines:s:1') === undefined).should.be.true();
      (await j.getCursor('d365-shipments'))!.should.equal('2026-03-10T00:00:00Z');
      const check = new Database(file, { readonly: true });
      const sql = (check.prepare("SELECT sql FROM sqlite_master WHERE name = 'reservations'").get() as { sql: string }).sql;
      const indexes = (check.prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'reservations'").all() as { name: string }[]).map((r) => r.name);
      check.close();
      sql.should.match(/WITHOUT ROWID/);
      indexes.should.eql(['reservations_handed']);
    });

    it('refuses a file written by a newer schema, with a clear error', async () => {
      const file = path.join(dir, 'journal.sqlite');
      await open(file).close();
      const db = new Database(file);
      db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (99, 0)').run();
      db.close();
      (() => SqliteJournal.open(file)).should.throw(/schema version 99, newer than this package supports/);
    });

    it('names the file when it cannot be opened', () => {
      const file = path.join(dir, 'not-a-dir');
      new Database(file).close();
      (() => SqliteJournal.open(path.join(file, 'journal.sqlite'))).should.throw(/order journal: cannot open .*not-a-dir/);
    });

    it('works in memory and rejects calls after close', async () => {
      const j = SqliteJournal.open(':memory:');
      (await j.recordEvent(event())).status.should.equal('new');
      await j.close();
      await j.close();
      await j.getOrder(SHOP, '1').should.be.rejectedWith(/journal is closed/);
    });
  });

  describe('events', () => {
    it('records the same webhook id once: 3 deliveries give one new and two duplicates', async () => {
      const j = open();
      const results = await Promise.all([1, 2, 3].map(() => j.recordEvent(event())));
      results.filter((r) => r.status === 'new').should.have.length(1);
      results.filter((r) => r.status === 'duplicate').should.have.length(2);
      // The key is per shop: another shop with the same webhook id is a different event.
      (await j.recordEvent(event({ shop: 'other.myshopify.com' }))).status.should.equal('new');
      (await j.unemittedEvents()).should.have.length(2);
    });

    it('ignores a stale orders/* update by comparing instants, not strings', async () => {
      const j = open();
      const newer = await j.recordEvent(event({ dedupeKey: 'a', topic: 'orders/updated', resourceUpdatedAt: '2026-03-10T11:00:01-05:00' }));
      newer.status.should.equal('new');
      // 15:59:59Z is a second BEFORE 11:00:01-05:00 (= 16:00:01Z) although it sorts after it as a string.
      (await j.recordEvent(event({ dedupeKey: 'b', topic: 'orders/updated', resourceUpdatedAt: '2026-03-10T15:59:59Z' })))
        .should.eql({ status: 'stale', newerUpdatedAt: '2026-03-10T11:00:01-05:00' });
      // Same family: an orders/paid with an older updated_at is stale too.
      (await j.recordEvent(event({ dedupeKey: 'c', topic: 'orders/paid', resourceUpdatedAt: '2026-03-10T10:00:00-05:00' }))).status.should.equal('stale');
      // Equal instant is not strictly newer; a later one is new.
      (await j.recordEvent(event({ dedupeKey: 'd', topic: 'orders/updated', resourceUpdatedAt: '2026-03-10T16:00:01Z' }))).status.should.equal('new');
      (await j.recordEvent(event({ dedupeKey: 'e', topic: 'orders/cancelled', resourceUpdatedAt: '2026-03-10T12:00:00-05:00' }))).status.should.equal('new');
      // Other resources, other shops and non-order topics do not interfere.
      (await j.recordEvent(event({ dedupeKey: 'f', topic: 'orders/updated', resourceId: '2', resourceUpdatedAt: '2026-01-01T00:00:00Z' }))).status.should.equal('new');
      (await j.recordEvent(event({ dedupeKey: 'g', topic: 'refunds/create', resourceUpdatedAt: '2026-01-01T00:00:00Z' }))).status.should.equal('new');
      // A stale event is not recorded: it is not in the unemitted list and its key is not taken.
      (await j.unemittedEvents()).map((e) => e.dedupeKey).should.eql(['a', 'd', 'e', 'f', 'g']);
    });

    it('records an event whose updated_at has no offset, without ordering it', async () => {
      const j = open();
      await j.recordEvent(event({ dedupeKey: 'a', topic: 'orders/updated', resourceUpdatedAt: '2026-03-10T11:00:00Z' }));
      (await j.recordEvent(event({ dedupeKey: 'b', topic: 'orders/updated', resourceUpdatedAt: '2026-03-10T09:00:00' }))).status.should.equal('new');
      (await j.recordEvent(event({ dedupeKey: 'c', topic: 'orders/updated', resourceUpdatedAt: 'yesterday' }))).status.should.equal('new');
    });

    it('parses offsets with and without a colon and rejects ambiguous times', () => {
      parseInstant('2026-03-10T11:00:01-05:00')!.should.equal(Date.UTC(2026, 2, 10, 16, 0, 1));
      parseInstant('2026-03-10T11:00:01-0500')!.should.equal(Date.UTC(2026, 2, 10, 16, 0, 1));
      parseInstant('2026-03-10T16:00:01.250z')!.should.equal(Date.UTC(2026, 2, 10, 16, 0, 1, 250));
      (parseInstant('2026-03-10T16:00:01') === undefined).should.be.true();
      (parseInstant('2026-13-10T16:00:01Z') === undefined).should.be.true();
      (parseInstant('1') === undefined).should.be.true();
    });

    it('lists unemitted events in seq order with their body and meta, and forgets emitted ones', async () => {
      const c = clock();
      const j = open(undefined, { now: c.now });
      const seqs: number[] = [];
      for (const k of ['a', 'b', 'c']) {
        const r = await j.recordEvent(event({ dedupeKey: k, meta: { k } }));
        if (r.status === 'new') seqs.push(r.seq);
      }
      seqs.should.eql([...seqs].sort((x, y) => x - y));
      await j.markEmitted(seqs[1]);
      const list = await j.unemittedEvents();
      list.map((e) => e.dedupeKey).should.eql(['a', 'c']);
      list[0].should.eql({ seq: seqs[0], shop: SHOP, dedupeKey: 'a', topic: 'orders/create', resourceId: '820982911946154508', body: '{"id":820982911946154508}', meta: { k: 'a' }, receivedAt: c.t });
      (await j.unemittedEvents(1)).map((e) => e.dedupeKey).should.eql(['a']);
      (await j.unemittedEvents(1, seqs[0])).map((e) => e.dedupeKey).should.eql(['c']);
      (await j.unemittedEvents(5, seqs[2])).should.eql([]);
    });

    it('settles an event by shop and dedupe key, once, and only in its own shop', async () => {
      const j = open();
      await j.recordEvent(event({ dedupeKey: 'a' }));
      await j.recordEvent(event({ dedupeKey: 'b' }));
      (await j.settleEvent('other.myshopify.com', 'a')).should.be.false();
      (await j.settleEvent(SHOP, 'a')).should.be.true();
      (await j.settleEvent(SHOP, 'a')).should.be.false();
      (await j.settleEvent(SHOP, 'nope')).should.be.false();
      (await j.unemittedEvents()).map((e) => e.dedupeKey).should.eql(['b']);
    });

    it('prunes only emitted events older than the age, keeping unemitted ones forever', async () => {
      const c = clock();
      const j = open(undefined, { now: c.now });
      const old = await Promise.all(['a', 'b', 'c'].map((k) => j.recordEvent(event({ dedupeKey: k }))));
      await j.markEmitted((old[0] as { seq: number }).seq);
      await j.markEmitted((old[1] as { seq: number }).seq);
      c.t += 8 * DAY;
      const fresh = await j.recordEvent(event({ dedupeKey: 'd' }));
      await j.markEmitted((fresh as { seq: number }).seq);
      (await j.pruneEvents(7 * DAY)).should.equal(2);
      (await j.unemittedEvents()).map((e) => e.dedupeKey).should.eql(['c']);
      // Pruned keys can be recorded again (dedupe is bounded by age); kept ones are still duplicates.
      (await j.recordEvent(event({ dedupeKey: 'a' }))).status.should.equal('new');
      (await j.recordEvent(event({ dedupeKey: 'd' }))).status.should.equal('duplicate');
      (await j.recordEvent(event({ dedupeKey: 'c' }))).status.should.equal('duplicate');
      (await j.pruneEvents(7 * DAY)).should.equal(0);
      await j.pruneEvents(NaN).should.be.rejectedWith(/invalid prune age/);
    });

    it('rejects an invalid event clearly and records nothing', async () => {
      const j = open();
      await j.recordEvent({ ...event(), shop: '' }).should.be.rejectedWith(/order journal: invalid event: shop/);
      await j.recordEvent({ ...event(), meta: 'x' } as never).should.be.rejectedWith(/invalid event: meta/);
      (await j.unemittedEvents()).should.eql([]);
    });
  });

  describe('orders', () => {
    it('creates, moves by compare-and-set, merges documents and keeps history', async () => {
      const c = clock();
      const j = open(undefined, { now: c.now });
      (await j.getOrder(SHOP, '1') === undefined).should.be.true();
      // Not created yet and `from` does not allow "no record": nothing happens.
      (await j.transitionOrder(SHOP, '1', ['received'], 'checked') === undefined).should.be.true();
      const created = await j.transitionOrder(SHOP, '1', [undefined], 'received', { orderName: '#1001' });
      created!.should.eql({ shop: SHOP, orderId: '1', orderName: '#1001', state: 'received', documents: {}, history: [{ at: c.t, event: 'state:received' }], updatedAt: c.t });
      (await j.transitionOrder(SHOP, '1', [undefined], 'received') === undefined).should.be.true();
      c.t += 5;
      await j.transitionOrder(SHOP, '1', ['received'], 'creating', { documents: { salesOrderId: 'guid-1' } });
      await j.appendHistory(SHOP, '1', 'note', 'called BC');
      const done = await j.transitionOrder(SHOP, '1', ['creating'], 'created', { documents: { salesOrder: 'SO-101' }, event: 'd365:created', detail: 'SO-101' });
      done!.state.should.equal('created');
      done!.orderName!.should.equal('#1001');
      done!.documents.should.eql({ salesOrderId: 'guid-1', salesOrder: 'SO-101' });
      done!.history.map((h) => h.event).should.eql(['state:received', 'state:creating', 'note', 'd365:created']);
      done!.history[3].should.eql({ at: c.t, event: 'd365:created', detail: 'SO-101' });
      (await j.transitionOrder(SHOP, '1', ['received', 'checked'], 'creating') === undefined).should.be.true();
      (await j.getOrder(SHOP, '1'))!.state.should.equal('created');
    });

    it('lets exactly one of two racers win the same transition', async () => {
      const j = open();
      await j.transitionOrder(SHOP, '1', [undefined], 'checked');
      const [a, b] = await Promise.all([
        j.transitionOrder(SHOP, '1', ['checked'], 'creating', { detail: 'a' }),
        j.transitionOrder(SHOP, '1', ['checked'], 'creating', { detail: 'b' }),
      ]);
      [a, b].filter(Boolean).should.have.length(1);
      (await j.getOrder(SHOP, '1'))!.history.filter((h) => h.event === 'state:creating').should.have.length(1);
    });

    it('rejects an unknown target state and non-string documents', async () => {
      const j = open();
      await j.transitionOrder(SHOP, '1', [undefined], 'shipped' as never).should.be.rejectedWith(/invalid target state/);
      await j.transitionOrder(SHOP, '1', [undefined], 'received', { documents: { salesOrder: 5 as never } }).should.be.rejectedWith(/invalid documents/);
      (await j.getOrder(SHOP, '1') === undefined).should.be.true();
    });

    it('keeps a __proto__ key as data, never as a prototype', async () => {
      const j = open();
      await j.transitionOrder(SHOP, '1', [undefined], 'created', { documents: JSON.parse('{"__proto__":"x","salesOrder":"SO-1"}') });
      await j.transitionOrder(SHOP, '1', ['created'], 'created', { documents: { creditMemo: 'CM-1' } }).should.be.fulfilled();
      const o = await j.getOrder(SHOP, '1');
      Object.getPrototypeOf(o!.documents).should.equal(Object.prototype);
      o!.documents.salesOrder.should.equal('SO-1');
      o!.documents.creditMemo.should.equal('CM-1');
      await j.putHold(hold('p', { msg: JSON.parse('{"__proto__":{"polluted":"yes"},"payload":{"__proto__":{"polluted":"yes"}}}') }));
      const h = await j.getHold('p');
      ((h!.msg as Record<string, unknown>).polluted === undefined).should.be.true();
      (({} as Record<string, unknown>).polluted === undefined).should.be.true();
    });
  });

  describe('reservations', () => {
    const line = (item: string, quantity: number, limit: number, location = 'MAIN') => ({ item, location, quantity, limit });

    it('reserves all lines or none, reporting what was available', async () => {
      const j = open();
      (await j.reserve('o1', [line('A', 3, 5), line('B', 2, 2)])).should.eql({ ok: true, shortfalls: [] });
      const r = await j.reserve('o2', [line('A', 3, 5), line('B', 1, 2), line('C', 1, 10)]);
      r.ok.should.be.false();
      r.shortfalls.should.eql([
        { item: 'A', location: 'MAIN', requested: 3, available: 2 },
        { item: 'B', location: 'MAIN', requested: 1, available: 0 },
      ]);
      (await j.reservationsOf('o2')).should.eql([]);
      (await j.reservedQuantity('C', 'MAIN')).should.equal(0);
      // Available is floored at 0 when the limit dropped below what others hold.
      (await j.reserve('o3', [line('A', 1, 1)])).shortfalls.should.eql([{ item: 'A', location: 'MAIN', requested: 1, available: 0 }]);
      // Locations are separate pools.
      (await j.reserve('o2', [line('A', 5, 5, 'EAST')])).ok.should.be.true();
    });

    it('files the Shopify lines of each row: reservedLines lists the open ones, a new reservation replaces them, a hand-over ends them', async () => {
      const j = open();
      const l = (lineItemId: string | undefined, item: string, quantity: number) => ({ ...line(item, quantity, 100), ...(lineItemId === undefined ? {} : { lineItemId }) });
      await j.reserve('o1', [l('1', 'A', 2), l('2', 'A', 1), l('3', 'B', 1), l('4', 'C', 0), l(undefined, 'D', 1)]);
      (await j.reservationsOf('o1')).should.eql([
        { item: 'A', location: 'MAIN', quantity: 3 }, { item: 'B', location: 'MAIN', quantity: 1 }, { item: 'D', location: 'MAIN', quantity: 1 },
      ]);
      (await j.reservedLines('o1')).should.eql([
        { lineItemId: '1', item: 'A', location: 'MAIN', quantity: 2 }, { lineItemId: '2', item: 'A', location: 'MAIN', quantity: 1 },
        { lineItemId: '3', item: 'B', location: 'MAIN', quantity: 1 },
      ]);
      await j.reserve('o1', [l('5', 'B', 2)]);
      (await j.reservedLines('o1')).should.eql([{ lineItemId: '5', item: 'B', location: 'MAIN', quantity: 2 }]);
      await j.reserve('o2', [{ ...line('A', 1, 100), lineItemId: '' }]).should.be.rejectedWith(/invalid reservation lines: \[0\]\.lineItemId/);
      await j.handOver('o1');
      (await j.reservedLines('o1')).should.eql([]);
      (await j.reservedQuantity('B', 'MAIN', 0)).should.equal(2); // handed over, still counted for a figure read before
    });

    it('keeps a handed-over reservation counting for stock read before the handover, and only for that', async () => {
      const c = clock();
      const j = open(undefined, { now: c.now });
      const readBefore = c.t;
      await j.reserve('o1', [line('A', 3, 5)]);
      c.t += 1000;
      (await j.handOver('o1')).should.equal(3);
      (await j.handOver('o1')).should.equal(0);
      // In flight no more: the order's own view is empty …
      (await j.reservationsOf('o1')).should.eql([]);
      // … but a D365 figure read before the handover does not include the sales order yet.
      (await j.reservedQuantity('A', 'MAIN', readBefore)).should.equal(3);
      (await j.reservedQuantity('A', 'MAIN', c.t + 1)).should.equal(0);
      (await j.reservedQuantity('A', 'MAIN')).should.equal(0);
      (await j.reserve('o2', [{ ...line('A', 3, 5), stockReadAt: readBefore }])).shortfalls.should.eql([{ item: 'A', location: 'MAIN', requested: 3, available: 2 }]);
      (await j.reserve('o2', [{ ...line('A', 3, 2), stockReadAt: c.t + 1 }])).ok.should.be.false();
      (await j.reserve('o2', [{ ...line('A', 2, 2), stockReadAt: c.t + 1 }])).ok.should.be.true();
      // Handed-over rows go after HANDED_OVER_KEEP_MS (swept by the next handover); a release takes them at once.
      c.t += HANDED_OVER_KEEP_MS + 1;
      await j.handOver('o2');
      (await j.reservedQuantity('A', 'MAIN', 0)).should.equal(2);
      (await j.release('o2')).should.equal(2);
      (await j.reservedQuantity('A', 'MAIN', 0)).should.equal(0);
    });

    it('replaces an order\'s earlier reservation and does not count it against itself', async () => {
      const j = open();
      await j.reserve('o1', [line('A', 4, 5), line('B', 1, 9)]);
      (await j.reserve('o1', [line('A', 5, 5)])).ok.should.be.true();
      (await j.reservationsOf('o1')).should.eql([{ item: 'A', location: 'MAIN', quantity: 5 }]);
      // A failed re-reservation leaves the earlier one in place.
      (await j.reserve('o1', [line('A', 6, 5)])).ok.should.be.false();
      (await j.reservedQuantity('A', 'MAIN')).should.equal(5);
      // Two lines on the same item+location are one demand.
      (await j.reserve('o2', [line('C', 2, 3), line('C', 2, 3)])).shortfalls.should.eql([{ item: 'C', location: 'MAIN', requested: 4, available: 3 }]);
    });

    it('releases all or part, never below zero, returning units released', async () => {
      const j = open();
      await j.reserve('o1', [line('A', 4, 10), line('B', 2, 10)]);
      (await j.release('o1', [{ item: 'A', location: 'MAIN', quantity: 1 }])).should.equal(1);
      (await j.release('o1', [{ item: 'B', location: 'MAIN', quantity: 5 }, { item: 'Z', location: 'MAIN', quantity: 1 }])).should.equal(2);
      (await j.reservationsOf('o1')).should.eql([{ item: 'A', location: 'MAIN', quantity: 3 }]);
      (await j.release('o1')).should.equal(3);
      (await j.release('o1')).should.equal(0);
      (await j.reservedQuantity('A', 'MAIN')).should.equal(0);
    });

    it('reservationTransaction: reads and writes in one transaction; a throw undoes its writes and rejects only its caller', async () => {
      const j = open();
      await j.reserve('o1', [line('A', 3, 10)]);
      const seen = await j.reservationTransaction((tx) => {
        const before = tx.reservedQuantity('A', 'MAIN');
        tx.reserve('o2', [line('A', 10 - before, 10)]).ok.should.be.true();
        tx.setCursor('lines:o2', '[]');
        return { before, after: tx.reservedQuantity('A', 'MAIN'), state: tx.orderState('shop', 'o2') };
      });
      seen.should.eql({ before: 3, after: 10, state: undefined });
      // In one group commit: the failing transaction is rolled back alone.
      const failing = j.reservationTransaction((tx) => {
        tx.release('o1');
        tx.deleteCursor('lines:o2');
        throw new Error('decided otherwise');
      });
      const other = j.reserve('o3', [line('B', 1, 1)]);
      await failing.should.be.rejectedWith('decided otherwise');
      (await other).ok.should.be.true();
      (await j.reservedQuantity('A', 'MAIN')).should.equal(10);
      ((await j.getCursor('lines:o2')) ?? 'gone').should.equal('[]');
    });

    it('rejects negative or non-numeric quantities without writing', async () => {
      const j = open();
      await j.reserve('o1', [line('A', 2, 10), line('B', -1, 10)]).should.be.rejectedWith(/invalid reservation lines: \[1\]\.quantity/);
      await j.reserve('o1', [line('A', NaN, 10)]).should.be.rejectedWith(/invalid reservation lines/);
      (await j.reservationsOf('o1')).should.eql([]);
      await j.reserve('o1', [line('A', 2, 10)]);
      await j.release('o1', [{ item: 'A', location: 'MAIN', quantity: -2 }]).should.be.rejectedWith(/invalid release quantities/);
      (await j.reservedQuantity('A', 'MAIN')).should.equal(2);
    });

    it('a reservation rolled back with a failed transaction is not counted (batched or alone)', async () => {
      const j = open();
      const line = { item: 'A', location: 'MAIN', quantity: 2, limit: 10 };
      await j.reservationTransaction((tx) => { tx.reserve('o1', [line]); throw new Error('alone'); }).should.be.rejectedWith('alone');
      (await j.reservedQuantity('A', 'MAIN')).should.equal(0);
      // In a group commit with others: only its savepoint rolls back.
      const [ok, failed] = await Promise.allSettled([
        j.reserve('o2', [line]),
        j.reservationTransaction((tx) => { tx.reserve('o3', [line]); tx.handOver('o2'); throw new Error('batched'); }),
      ]);
      ok.status.should.equal('fulfilled');
      failed.status.should.equal('rejected');
      (await j.reservedQuantity('A', 'MAIN')).should.equal(2);
      (await j.reservationsOf('o2')).should.eql([{ item: 'A', location: 'MAIN', quantity: 2 }]);
      (await j.reservationsOf('o3')).should.eql([]);
    });

    it('never reserves beyond the limit, and releases return exactly what was reserved (property)', async () => {
      const items = ['A', 'B'];
      const locations = ['L1', 'L2'];
      const limitOf = (item: string, location: string) => (item === 'A' ? 5 : 3) + (location === 'L2' ? 2 : 0);
      const key = (i: string, l: string) => `${i}@${l}`;
      const lineArb = fc.record({ item: fc.constantFrom(...items), location: fc.constantFrom(...locations), quantity: fc.integer({ min: 0, max: 6 }) });
      const opArb = fc.oneof(
        fc.record({ kind: fc.constant('reserve' as const), order: fc.constantFrom('o1', 'o2', 'o3'), lines: fc.array(lineArb, { minLength: 1, maxLength: 3 }) }),
        fc.record({ kind: fc.constant('release' as const), order: fc.constantFrom('o1', 'o2', 'o3'), partial: fc.option(fc.array(lineArb, { maxLength: 2 }), { nil: undefined }) }),
      );
      await fc.assert(fc.asyncProperty(fc.array(opArb, { maxLength: 25 }), async (ops) => {
        const j = SqliteJournal.open(':memory:');
        // Model: order -> item@location -> quantity.
        const model = new Map<string, Map<string, number>>();
        const total = (k: string) => [...model.values()].reduce((s, m) => s + (m.get(k) ?? 0), 0);
        try {
          for (const op of ops) {
            const mine = model.get(op.order) ?? new Map<string, number>();
            if (op.kind === 'reserve') {
              const want = new Map<string, number>();
              for (const l of op.lines) want.set(key(l.item, l.location), (want.get(key(l.item, l.location)) ?? 0) + l.quantity);
              const fits = [...want].every(([k, q]) => q === 0 || total(k) - (mine.get(k) ?? 0) + q <= limitOf(...(k.split('@') as [string, string])));
              const r = await j.reserve(op.order, op.lines.map((l) => ({ ...l, limit: limitOf(l.item, l.location) })));
              r.ok.should.equal(fits);
              if (fits) model.set(op.order, new Map([...want].filter(([, q]) => q > 0)));
            } else {
              let expected = 0;
              if (op.partial === undefined) {
                expected = [...mine.values()].reduce((s, q) => s + q, 0);
                model.delete(op.order);
              } else {
                for (const l of op.partial) {
                  const k = key(l.item, l.location);
                  const take = Math.min(mine.get(k) ?? 0, l.quantity);
                  expected += take;
                  if ((mine.get(k) ?? 0) - take > 0) mine.set(k, (mine.get(k) ?? 0) - take); else mine.delete(k);
                }
              }
              (await j.release(op.order, op.partial)).should.equal(expected);
            }
            for (const i of items) {
              for (const l of locations) {
                const reserved = await j.reservedQuantity(i, l);
                reserved.should.be.belowOrEqual(limitOf(i, l));
                reserved.should.equal(total(key(i, l)));
              }
            }
          }
        } finally {
          await j.close();
        }
      }), { numRuns: 150 });
    });

    it('answers "reserved for stock read at t" from its in-memory ledger exactly as a sum over the rows would (property)', async () => {
      // The ledger (open units; handed-over units by time) must agree with the rows for any read time,
      // after partial releases of handed-over rows and the sweep of old ones — kept up as it goes, and
      // rebuilt from the rows (as after another connection's write).
      const items = ['A', 'B'];
      const locations = ['L1', 'L2'];
      const lineArb = fc.record({ item: fc.constantFrom(...items), location: fc.constantFrom(...locations), quantity: fc.integer({ min: 1, max: 5 }) });
      const orders = ['o1', 'o2', 'o3', 'o4'];
      const opArb = fc.oneof(
        fc.record({ kind: fc.constant('reserve' as const), order: fc.constantFrom(...orders), lines: fc.array(lineArb, { minLength: 1, maxLength: 3 }) }),
        fc.record({ kind: fc.constant('handOver' as const), order: fc.constantFrom(...orders) }),
        fc.record({ kind: fc.constant('release' as const), order: fc.constantFrom(...orders), partial: fc.option(fc.array(lineArb, { maxLength: 2 }), { nil: undefined }) }),
        // Small steps cross 50 ms slots, larger ones seconds; the largest passes HANDED_OVER_KEEP_MS (the sweep).
        fc.record({ kind: fc.constant('wait' as const), ms: fc.oneof(fc.integer({ min: 1, max: 120 }), fc.integer({ min: 900, max: 2500 }), fc.constant(HANDED_OVER_KEEP_MS)) }),
      );
      await fc.assert(fc.asyncProperty(fc.array(opArb, { maxLength: 30 }), fc.array(fc.integer({ min: -3000, max: 200 }), { minLength: 3, maxLength: 6 }), async (ops, readOffsets) => {
        const c = clock(1_770_000_000_000 + 37);
        const j = SqliteJournal.open(':memory:', { now: c.now });
        const db = (j as unknown as { db: Database.Database }).db;
        const bySum = db.prepare('SELECT COALESCE(SUM(quantity), 0) AS q FROM reservations WHERE item = ? AND location = ? AND (handed_at IS NULL OR handed_at > ?)');
        try {
          for (const op of ops) {
            if (op.kind === 'reserve') await j.reserve(op.order, op.lines.map((l) => ({ ...l, limit: 1000 })));
            else if (op.kind === 'handOver') await j.handOver(op.order);
            else if (op.kind === 'release') await j.release(op.order, op.partial);
            else c.t += op.ms;
            for (const i of items) {
              for (const l of locations) {
                for (const off of readOffsets) {
                  const readAt = c.t + off;
                  const rows = (bySum.get(i, l, readAt) as { q: number }).q;
                  (await j.reservedQuantity(i, l, readAt)).should.equal(rows, `${i}@${l} read at now${off}`);
                  (j as unknown as { ledgerCache: unknown }).ledgerCache = undefined;
                  (await j.reservedQuantity(i, l, readAt)).should.equal(rows, `${i}@${l} read at now${off}, ledger rebuilt`);
                }
              }
            }
          }
        } finally {
          await j.close();
        }
      }), { numRuns: 120 });
    });
  });

  describe('holds', () => {
    it('stores a hold as held with attempts 0 and reads it back', async () => {
      const j = open();
      const h = await j.putHold(hold('h1'));
      h.should.eql({ ...hold('h1'), attempts: 0, status: 'held' });
      (await j.getHold('h1'))!.should.eql(h);
      (await j.getHold('nope') === undefined).should.be.true();
    });

    it('resolves a hold exactly once: the second release gets undefined', async () => {
      const c = clock();
      const j = open(undefined, { now: c.now });
      await j.putHold(hold('h1'));
      const [first, second] = await Promise.all([
        j.resolveHold('h1', 'released', 'alice', 'fixed SKU'),
        j.resolveHold('h1', 'released', 'alice', 'fixed SKU'),
      ]);
      first!.should.containEql({ status: 'released', resolvedBy: 'alice', resolution: 'fixed SKU', resolvedAt: c.t });
      (second === undefined).should.be.true();
      (await j.resolveHold('h1', 'discarded', 'bob') === undefined).should.be.true();
      (await j.getHold('h1'))!.status.should.equal('released');
    });

    it('filters holds by status, finding code, route and age, newest first', async () => {
      const c = clock();
      const j = open(undefined, { now: c.now });
      await j.putHold(hold('h1', { heldAt: c.t - 3 * DAY, findings: [finding('SKU_UNMAPPED'), finding('TAX_MISMATCH')] }));
      await j.putHold(hold('h2', { heldAt: c.t - 2 * DAY, route: 'finance', findings: [finding('PRICE_MISMATCH')] }));
      await j.putHold(hold('h3', { heldAt: c.t - 1000, findings: [finding('TAX_MISMATCH')] }));
      await j.resolveHold('h2', 'discarded', 'bob');
      (await j.listHolds()).map((h) => h.id).should.eql(['h3', 'h2', 'h1']);
      (await j.listHolds({ status: 'held' })).map((h) => h.id).should.eql(['h3', 'h1']);
      (await j.listHolds({ code: 'TAX_MISMATCH' })).map((h) => h.id).should.eql(['h3', 'h1']);
      (await j.listHolds({ code: 'TAX' })).should.eql([]);
      (await j.listHolds({ route: 'finance' })).map((h) => h.id).should.eql(['h2']);
      (await j.listHolds({ olderThanMs: DAY })).map((h) => h.id).should.eql(['h2', 'h1']);
      (await j.listHolds({ status: 'held', code: 'TAX_MISMATCH', limit: 1 })).map((h) => h.id).should.eql(['h3']);
    });

    it('returns due retries oldest first and honours reschedule', async () => {
      const j = open();
      await j.putHold(hold('late', { retryAt: 300 }));
      await j.putHold(hold('early', { retryAt: 100 }));
      await j.putHold(hold('manual'));
      await j.putHold(hold('future', { retryAt: 10_000 }));
      await j.putHold(hold('gone', { retryAt: 50 }));
      await j.resolveHold('gone', 'discarded', 'bob');
      (await j.dueRetries(500)).map((h) => h.id).should.eql(['early', 'late']);
      (await j.dueRetries(500, 1)).map((h) => h.id).should.eql(['early']);
      await j.rescheduleHold('early', 600, 1);
      (await j.dueRetries(500)).map((h) => h.id).should.eql(['late']);
      (await j.getHold('early'))!.attempts.should.equal(1);
      await j.rescheduleHold('late', undefined, 2);
      (await j.dueRetries(20_000)).map((h) => h.id).should.eql(['early', 'future']);
      await j.rescheduleHold('missing', 1, 1).should.be.rejectedWith(/no hold with id "missing"/);
      // A resolved hold stays resolved.
      await j.rescheduleHold('gone', 1, 1);
      (await j.getHold('gone'))!.status.should.equal('discarded');
    });

    it('rejects a hold with an invalid finding or a msg that is not JSON-serialisable', async () => {
      const j = open();
      await j.putHold(hold('h1', { findings: [{ ...finding('X'), code: 'not snake' }] })).should.be.rejectedWith(/invalid hold: findings\[0\]\.code/);
      const circular: Record<string, unknown> = {};
      circular.self = circular;
      await j.putHold(hold('h2', { msg: circular })).should.be.rejectedWith(/hold h2 msg cannot be stored as JSON/);
      await j.putHold(hold('h3', { msg: { n: BigInt(1) } })).should.be.rejectedWith(/hold h3 msg cannot be stored as JSON/);
      (await j.listHolds()).should.eql([]);
    });
  });

  describe('leases and cursors', () => {
    it('gives a lease to one owner until it expires, and lets the owner renew it', async () => {
      const c = clock();
      const j = open(undefined, { now: c.now });
      (await j.acquireLease('reconcile', 'node-a', 1000)).should.be.true();
      (await j.acquireLease('reconcile', 'node-b', 1000)).should.be.false();
      (await j.acquireLease('other', 'node-b', 1000)).should.be.true();
      c.t += 900;
      (await j.acquireLease('reconcile', 'node-a', 1000)).should.be.true(); // renewed until t+1900
      c.t += 900;
      (await j.acquireLease('reconcile', 'node-b', 1000)).should.be.false();
      c.t += 100;
      (await j.acquireLease('reconcile', 'node-b', 1000)).should.be.true();
      (await j.acquireLease('reconcile', 'node-a', 1000)).should.be.false();
      await j.acquireLease('reconcile', 'node-a', 0).should.be.rejectedWith(/invalid lease ttl/);
    });

    it('stores cursors', async () => {
      const j = open();
      (await j.getCursor('d365-shipments') === undefined).should.be.true();
      await j.setCursor('d365-shipments', '2026-03-10T00:00:00Z');
      await j.setCursor('d365-shipments', '2026-03-11T00:00:00Z');
      (await j.getCursor('d365-shipments'))!.should.equal('2026-03-11T00:00:00Z');
      // The value it already holds: no row written (no WAL write, no sync for a re-checked order's line map).
      const rows = j.rowsChanged();
      await j.setCursor('d365-shipments', '2026-03-11T00:00:00Z');
      j.rowsChanged().should.equal(rows);
      await j.deleteCursor('d365-shipments');
      (await j.getCursor('d365-shipments') === undefined).should.be.true();
      await j.deleteCursor('never-set');
    });
  });

  describe('durability and sharing', () => {
    it('keeps events, orders, holds, reservations, leases and cursors across close and reopen', async () => {
      const file = path.join(dir, 'journal.sqlite');
      const c = clock();
      const a = SqliteJournal.open(file, { now: c.now });
      const r = await a.recordEvent(event({ dedupeKey: 'a' }));
      await a.recordEvent(event({ dedupeKey: 'b' }));
      await a.markEmitted((r as { seq: number }).seq);
      await a.transitionOrder(SHOP, '1', [undefined], 'created', { documents: { salesOrder: 'SO-1' } });
      await a.putHold(hold('h1', { retryAt: 5 }));
      await a.reserve('o1', [{ item: 'A', location: 'MAIN', quantity: 2, limit: 3 }]);
      await a.acquireLease('poll', 'node-a', 60_000);
      await a.setCursor('c', 'v');
      await a.close();

      const b = open(file, { now: c.now });
      (await b.recordEvent(event({ dedupeKey: 'a' }))).status.should.equal('duplicate');
      (await b.unemittedEvents()).map((e) => e.dedupeKey).should.eql(['b']);
      (await b.getOrder(SHOP, '1'))!.documents.should.eql({ salesOrder: 'SO-1' });
      (await b.dueRetries(10)).map((h) => h.id).should.eql(['h1']);
      (await b.reservedQuantity('A', 'MAIN')).should.equal(2);
      (await b.acquireLease('poll', 'node-b', 60_000)).should.be.false();
      (await b.getCursor('c'))!.should.equal('v');
    });

    it('shares one file between two open journals: one new, reservations counted across both', async () => {
      const file = path.join(dir, 'journal.sqlite');
      const a = open(file);
      const b = open(file);
      const results = await Promise.all([a.recordEvent(event()), b.recordEvent(event()), a.recordEvent(event()), b.recordEvent(event())]);
      results.filter((x) => x.status === 'new').should.have.length(1);
      // b has summed the reservations (its in-memory ledger) before a writes: it must notice a's writes.
      (await b.reservedQuantity('A', 'MAIN')).should.equal(0);
      (await a.reserve('o1', [{ item: 'A', location: 'MAIN', quantity: 2, limit: 3 }])).ok.should.be.true();
      (await b.reserve('o2', [{ item: 'A', location: 'MAIN', quantity: 2, limit: 3 }])).ok.should.be.false();
      (await b.reserve('o2', [{ item: 'A', location: 'MAIN', quantity: 1, limit: 3 }])).ok.should.be.true();
      (await a.reservedQuantity('A', 'MAIN')).should.equal(3);
      const before = Date.now() - 1;
      (await a.handOver('o1')).should.equal(2);
      (await b.reservedQuantity('A', 'MAIN', before)).should.equal(3); // a figure read before the hand-over
      (await b.reservedQuantity('A', 'MAIN', Date.now() + 1)).should.equal(1);
      (await b.release('o2')).should.equal(1);
      (await a.reservedQuantity('A', 'MAIN', Date.now() + 1)).should.equal(0);
    });

    it('rebuilds its reservation ledger only when another journal changed reservations, not on every commit of theirs', async () => {
      const file = path.join(dir, 'journal.sqlite');
      const a = open(file);
      const b = open(file);
      const line = { item: 'A', location: 'MAIN', quantity: 1, limit: 10 };
      (await b.reservedQuantity('A', 'MAIN')).should.equal(0);
      const built = b.ledgerBuilds;
      // Another process receiving webhooks and filing holds: b's ledger stays valid.
      await a.recordEvent(event());
      await a.putHold(hold('h1'));
      (await b.reservedQuantity('A', 'MAIN')).should.equal(0);
      b.ledgerBuilds.should.equal(built);
      // b's own reservation writes keep its ledger current without a rebuild.
      await b.reserve('o1', [line]);
      await b.handOver('o1');
      (await b.reservedQuantity('A', 'MAIN', 0)).should.equal(1);
      b.ledgerBuilds.should.equal(built);
      // a changes reservations: b rebuilds once and sees it.
      await a.reserve('o2', [{ ...line, quantity: 2 }]);
      (await b.reservedQuantity('A', 'MAIN', 0)).should.equal(3);
      (await b.reservedQuantity('A', 'MAIN', 0)).should.equal(3);
      b.ledgerBuilds.should.equal(built + 1);
      await a.release('o2', [{ item: 'A', location: 'MAIN', quantity: 1 }]);
      (await b.reservedQuantity('A', 'MAIN', 0)).should.equal(2);
      await a.release('o2');
      (await b.reservedQuantity('A', 'MAIN', Date.now() + 1)).should.equal(0);
    });

    it('lets exactly one of several processes record each webhook id and win each order transition, and never reserve past a limit', async function () {
      // Generous: most of the time is ts-node starting the children, which a loaded machine stretches.
      this.timeout(60_000);
      const file = path.join(dir, 'journal.sqlite');
      const here = open(file); // creates the schema first, so the race is about the data, not migration
      const keys = 40;
      // Three processes ask for one unit each per key, 120 in all, of an item with 30 units: exactly 30 succeed.
      const limit = 30;
      const workers = [0, 1].map((w) => fork(path.join(__dirname, 'fixtures', 'race-worker.ts'), [file, String(keys), `w${w}`, String(limit)], {
        execArgv: ['-r', 'ts-node/register/transpile-only'],
        stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
      }));
      children.push(...workers);
      const exited = (w: ReturnType<typeof fork>) => new Promise<never>((_, reject) => w.once('exit', (code) => reject(new Error(`worker exited with ${code}`))));
      await Promise.all(workers.map((w) => Promise.race([new Promise<void>((resolve) => w.once('message', () => resolve())), exited(w)])));
      const reports = workers.map((w) => new Promise<{ newKeys: string[]; wonOrders: string[]; reserved: number }>((resolve) => w.once('message', (m) => resolve(m as never))));
      workers.forEach((w) => w.send('go'));
      // This process races too, as a third writer on the same file.
      const mine = { newKeys: [] as string[], wonOrders: [] as string[], reserved: 0 };
      for (let i = 0; i < keys; i++) {
        if ((await here.recordEvent({ ...event({ dedupeKey: `wh-${i}` }), shop: 'race.myshopify.com' })).status === 'new') mine.newKeys.push(`wh-${i}`);
        if (await here.transitionOrder('race.myshopify.com', `o-${i}`, [undefined, 'received'], 'creating')) mine.wonOrders.push(`o-${i}`);
        if ((await here.reserve(`here-${i}`, [{ item: 'R', location: 'MAIN', quantity: 1, limit }])).ok) mine.reserved++;
      }
      const results = [mine, ...(await Promise.all(reports))];
      results.reduce((n, r) => n + r.reserved, 0).should.equal(limit);
      (await here.reservedQuantity('R', 'MAIN')).should.equal(limit);
      results.flatMap((r) => r.newKeys).sort().should.eql(Array.from({ length: keys }, (_, i) => `wh-${i}`).sort());
      results.flatMap((r) => r.wonOrders).sort().should.eql(Array.from({ length: keys }, (_, i) => `o-${i}`).sort());
      (await here.unemittedEvents()).should.have.length(keys);
      (await here.getOrder('race.myshopify.com', 'o-0'))!.history.should.have.length(1);
    });
  });

  describe('corrupted rows', () => {
    it('names the table, key and column when stored JSON or a column is malformed', async () => {
      const file = path.join(dir, 'journal.sqlite');
      const j = open(file);
      await j.putHold(hold('h1'));
      await j.putHold(hold('h2'));
      await j.transitionOrder(SHOP, '1', [undefined], 'created');
      await j.recordEvent(event());
      const raw = new Database(file);
      raw.prepare("UPDATE holds SET msg = '{not json' WHERE id = 'h1'").run();
      raw.prepare(`UPDATE holds SET findings = '[{"code":"X"}]' WHERE id = 'h2'`).run();
      raw.prepare("UPDATE orders SET documents = '{\"salesOrder\": 5}'").run();
      raw.prepare("UPDATE events SET meta = '[1]'").run();
      raw.close();
      await j.getHold('h1').should.be.rejectedWith(/corrupted row in table "holds" \(key "h1"\): column msg is not valid JSON/);
      await j.getHold('h2').should.be.rejectedWith(/corrupted row in table "holds" \(key "h2"\): column findings: \[0\]\.check/);
      await j.listHolds().should.be.rejectedWith(/table "holds"/);
      await j.getOrder(SHOP, '1').should.be.rejectedWith(/table "orders" \(key "acme.myshopify.com"\/"1"\): column documents: salesOrder/);
      await j.unemittedEvents().should.be.rejectedWith(/table "events" \(key 1\): column meta/);
      await j.reserve('o1', [{ item: 'A', location: 'MAIN', quantity: 1, limit: 5, lineItemId: '7' }]);
      const raw2 = new Database(file);
      raw2.prepare(`UPDATE reservations SET lines = '[["7", -1]]'`).run();
      raw2.close();
      await j.reservedLines('o1').should.be.rejectedWith(/table "reservations" \(key "o1"\/"A"\/"MAIN"\): column lines: \[0\]\[1\]/);
      // A failed read leaves the journal usable.
      (await j.recordEvent(event({ dedupeKey: 'next' }))).status.should.equal('new');
    });

    it('reports an unknown order state stored by hand', async () => {
      const file = path.join(dir, 'journal.sqlite');
      const j = open(file);
      await j.transitionOrder(SHOP, '1', [undefined], 'created');
      const raw = new Database(file);
      raw.prepare("UPDATE orders SET state = 'exploded'").run();
      raw.close();
      await j.getOrder(SHOP, '1').should.be.rejectedWith(/table "orders".*state/);
      await j.transitionOrder(SHOP, '1', ['created'], 'closed').should.be.rejectedWith(/table "orders"/);
    });
  });
});

describe('isReservationLines (reserve reads the lines without parsing a copy)', () => {
  const odd = fc.oneof(fc.string(), fc.integer(), fc.double(), fc.constant(null), fc.constant(undefined), fc.boolean(), fc.array(fc.integer()), fc.object());
  const field = <T>(usual: fc.Arbitrary<T>) => fc.oneof({ weight: 5, arbitrary: usual }, { weight: 1, arbitrary: odd });
  const num = fc.oneof(fc.integer({ min: -2, max: 1e6 }), fc.double(), fc.constantFrom(NaN, Infinity, -0, 0.5));
  const line = fc.oneof({ weight: 9, arbitrary: fc.record({
    item: field(fc.string({ maxLength: 3 })), location: field(fc.string({ maxLength: 3 })), quantity: field(num), limit: field(num),
    stockReadAt: field(num), lineItemId: field(fc.string({ maxLength: 2 })), extra: fc.string(),
  }, { requiredKeys: ['item', 'location', 'quantity', 'limit'] }) }, { weight: 1, arbitrary: odd });
  const lines = fc.oneof({ weight: 9, arbitrary: fc.array(line, { maxLength: 3 }) }, { weight: 1, arbitrary: odd });

  it('takes exactly what the schema takes, with the values the schema gives', () => {
    fc.assert(fc.property(lines, (v) => {
      const p = ReservationLines.safeParse(v);
      isReservationLines(v).should.equal(p.success);
      if (p.success) {
        const pick = (ls: readonly Record<string, unknown>[]) => ls.map((l) => [l.item, l.location, l.quantity, l.limit, l.stockReadAt, l.lineItemId]);
        pick(v as Record<string, unknown>[]).should.eql(pick(p.data));
      }
    }), { numRuns: 3000 });
  });
});

