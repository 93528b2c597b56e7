import 'should';
import Database from 'better-sqlite3';
import { fork, type ChildProcess } from 'child_process';
import { mkdtempSync, promises as fsp, rmSync } from 'fs';
import os from 'os';
import path from 'path';
import type { RecordEventInput, RecordEventResult } from '../../nodes/lib/journal/journal';
import { SqliteJournal } from '../../nodes/lib/journal/sqlite-journal';

const SHOP = 'acme.myshopify.com';

function event(key: string, over: Partial<RecordEventInput> = {}): RecordEventInput {
  return { shop: SHOP, dedupeKey: key, topic: 'orders/create', resourceId: '1001', body: `{"key":"${key}"}`, meta: { shop: SHOP, key }, ...over };
}

function update(key: string, orderId: string, updatedAt: string): RecordEventInput {
  return event(key, { topic: 'orders/updated', resourceId: orderId, resourceUpdatedAt: updatedAt });
}

/** Settles every promise, keeping rejections as values so one failure does not hide the others. */
function settled<T>(ps: Promise<T>[]): Promise<({ ok: true; value: T } | { ok: false; error: Error })[]> {
  return Promise.all(ps.map((p) => p.then((value) => ({ ok: true as const, value }), (error: Error) => ({ ok: false as const, error }))));
}

describe('SqliteJournal group commit', function () {
  let dir: string;
  let file: string;
  const opened: SqliteJournal[] = [];
  const children: ChildProcess[] = [];
  const open = (opts = {}) => {
    const j = SqliteJournal.open(file, opts);
    opened.push(j);
    return j;
  };
  /** Event rows as another connection sees them (what is on disk, not what a journal has queued). */
  const storedKeys = () => {
    const raw = new Database(file, { readonly: true });
    try {
      return (raw.prepare('SELECT dedupe_key FROM events ORDER BY seq').all() as { dedupe_key: string }[]).map((r) => r.dedupe_key);
    } finally {
      raw.close();
    }
  };

  beforeEach(() => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'group-commit-spec-'));
    file = path.join(dir, 'journal.sqlite');
  });
  const realOpen = fsp.open;
  /** Holds every WAL sync at its open until released (or fails it), so tests can see what waits for the disk. */
  const holdWalSyncs = () => {
    const held: { release: () => void; fail: (e: Error) => void }[] = [];
    fsp.open = ((p: string, ...rest: unknown[]) => (String(p).endsWith('-wal')
      ? new Promise((resolve, reject) => held.push({ release: () => resolve(realOpen(p, ...(rest as []))), fail: reject }))
      : realOpen(p, ...(rest as [])))) as typeof fsp.open;
    return held;
  };
  const tick = () => new Promise((r) => setTimeout(r, 20));

  afterEach(async () => {
    fsp.open = realOpen;
    for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    for (const j of opened.splice(0)) await j.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits the recordEvent calls of one tick in one transaction, each resolving with its own seq in call order', async () => {
    const j = open();
    const before = j.commits;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => j.recordEvent(event(`wh-${i}`))));
    (j.commits - before).should.equal(1);
    const seqs = results.map((r) => (r.status === 'new' ? r.seq : -1));
    seqs.every((s, i) => s > 0 && (i === 0 || s > seqs[i - 1])).should.be.true();
    storedKeys().should.eql(results.map((_, i) => `wh-${i}`));
    // Calls in a later tick form the next commit.
    await j.recordEvent(event('later'));
    (j.commits - before).should.equal(2);
  });

  it('resolves a caller only after the commit: the row is committed when the promise resolves, not before', async () => {
    const j = open();
    const p = j.recordEvent(event('wh-1')).then((r) => ({ r, seen: storedKeys() }));
    storedKeys().should.eql([]); // queued, not committed yet
    const { r, seen } = await p;
    r.status.should.equal('new');
    seen.should.eql(['wh-1']);
  });

  it('dedupes inside a batch: the same webhook id twice gives one new (the first) and one duplicate', async () => {
    const j = open();
    const before = j.commits;
    const [a, b, c] = await Promise.all([j.recordEvent(event('wh-1')), j.recordEvent(event('wh-1')), j.recordEvent(event('wh-1', { shop: 'other.myshopify.com' }))]);
    (j.commits - before).should.equal(1);
    a.status.should.equal('new');
    b.should.eql({ status: 'duplicate' });
    c.status.should.equal('new'); // the key is per shop
  });

  it('orders versions inside a batch: an older orders/updated after a newer one is stale, a newer one after an older is new', async () => {
    const j = open();
    const [older1, newer, older2, newest] = await Promise.all([
      j.recordEvent(update('u-1', '7', '2026-03-10T11:00:00-05:00')),
      j.recordEvent(update('u-2', '7', '2026-03-10T16:00:05Z')),
      j.recordEvent(update('u-3', '7', '2026-03-10T11:00:04-05:00')), // 16:00:04Z: older than u-2
      j.recordEvent(update('u-4', '7', '2026-03-10T12:00:00-05:00')),
    ]);
    older1.status.should.equal('new');
    newer.status.should.equal('new');
    older2.should.eql({ status: 'stale', newerUpdatedAt: '2026-03-10T16:00:05Z' });
    newest.status.should.equal('new');
    storedKeys().should.eql(['u-1', 'u-2', 'u-4']);
  });

  it('fails one bad event alone: the others of its batch are recorded and resolve', async () => {
    const j = open();
    const before = j.commits;
    const results = await settled<RecordEventResult>([
      j.recordEvent(event('good-1')),
      j.recordEvent(event('')), // invalid: empty dedupe key
      j.recordEvent(event('bad-meta', { meta: { n: BigInt(1) } as never })), // fails after its dedupe read
      j.recordEvent(event('good-2')),
      j.recordEvent(event('good-1')),
    ]);
    (j.commits - before).should.equal(1);
    j.retriedBatches.should.equal(1); // run without savepoints first, then again with one per write
    results.map((r) => (r.ok ? r.value.status : 'rejected')).should.eql(['new', 'rejected', 'rejected', 'new', 'duplicate']);
    (results[1] as { error: Error }).error.message.should.match(/invalid event: dedupeKey/);
    (results[2] as { error: Error }).error.message.should.match(/event meta/);
    storedKeys().should.eql(['good-1', 'good-2']);
  });

  it('runs a batch whose writes all succeed once, without savepoints; with a failing write, again, and the reservations of the others count once', async () => {
    const j = open();
    const line = (quantity: number) => [{ item: 'A', location: 'EAST', quantity, limit: 100 }];
    await Promise.all([j.reserve('o1', line(1)), j.recordEvent(event('e1')), j.reserve('o2', line(2))]);
    j.retriedBatches.should.equal(0);
    let runs = 0;
    const results = await settled<unknown>([
      j.reservationTransaction((tx) => { runs++; return tx.reserve('o3', line(3)); }),
      j.reserve('o4', [{ item: '', location: 'EAST', quantity: 1, limit: 100 }]), // invalid: empty item
      j.release('o1'),
      j.reserve('o5', line(5)),
    ]);
    j.retriedBatches.should.equal(1);
    runs.should.equal(2); // rolled back with the first run, run again in its savepoint
    results.map((r) => r.ok).should.eql([true, false, true, true]);
    (await j.reservedQuantity('A', 'EAST')).should.equal(2 + 3 + 5);
    const raw = new Database(file, { readonly: true });
    try {
      (raw.prepare("SELECT SUM(quantity) AS q FROM reservations WHERE item = 'A'").get() as { q: number }).q.should.equal(10);
    } finally {
      raw.close();
    }
  });

  it('rejects every caller of a batch whose transaction cannot commit, keeps none of it, and works again afterwards', async () => {
    const j = open({ busyTimeoutMs: 20 });
    await j.recordEvent(event('before'));
    const seq = ((await j.recordEvent(event('to-mark'))) as { seq: number }).seq;
    // Another process holds the write lock for longer than the busy timeout.
    const other = new Database(file);
    other.prepare('BEGIN IMMEDIATE').run();
    let results;
    try {
      results = await settled<unknown>([j.recordEvent(event('a')), j.markEmitted(seq), j.recordEvent(event('b')), j.unemittedEvents()]);
    } finally {
      other.prepare('ROLLBACK').run();
      other.close();
    }
    results.every((r) => !r.ok && /locked|busy/i.test(r.error.message)).should.be.true();
    storedKeys().should.eql(['before', 'to-mark']);
    (await j.unemittedEvents()).map((e) => e.dedupeKey).should.eql(['before', 'to-mark']);
    (await j.recordEvent(event('a'))).status.should.equal('new'); // Shopify's retry is recorded
  });

  it('keeps call order with the other methods: a write or read issued after recordEvent, awaited or not, sees it', async () => {
    const j = open();
    const recorded = j.recordEvent(event('wh-1'));
    const settledNow = j.settleEvent(SHOP, 'wh-1'); // issued before recordEvent resolved
    const listed = j.unemittedEvents();
    (await recorded).status.should.equal('new');
    (await settledNow).should.be.true();
    (await listed).should.eql([]);

    const r2 = await j.recordEvent(event('wh-2'));
    await j.markEmitted((r2 as { seq: number }).seq);
    (await j.unemittedEvents()).should.eql([]);
    (await j.recordEvent(event('wh-2'))).status.should.equal('duplicate');
  });

  it('gives concurrent callers on two journals of one file exactly one new per webhook id', async () => {
    const a = open();
    const b = open();
    const ids = Array.from({ length: 30 }, (_, i) => `wh-${i}`);
    const calls: Promise<RecordEventResult>[] = [];
    for (let round = 0; round < 3; round++) {
      for (const id of ids) calls.push(a.recordEvent(event(id)), b.recordEvent(event(id)));
      await new Promise((r) => setImmediate(r));
    }
    const results = await Promise.all(calls);
    results.filter((r) => r.status === 'new').should.have.length(ids.length);
    results.filter((r) => r.status === 'duplicate').should.have.length(ids.length * 5);
    storedKeys().sort().should.eql([...ids].sort());
  });

  it('splits a very large batch over several transactions and records every event', async () => {
    const j = open();
    const before = j.commits;
    const results = await Promise.all(Array.from({ length: 1200 }, (_, i) => j.recordEvent(event(`wh-${i}`))));
    results.every((r) => r.status === 'new').should.be.true();
    (j.commits - before).should.be.within(2, 3);
    storedKeys().should.have.length(1200);
  });

  it('commits queued calls on close, then rejects new ones', async () => {
    const j = open();
    const p = j.recordEvent(event('wh-1'));
    await j.close();
    (await p).status.should.equal('new');
    await j.recordEvent(event('wh-2')).should.be.rejectedWith(/journal is closed/);
    storedKeys().should.eql(['wh-1']);
  });

  it('settles callers only after the WAL is synced to disk, and a read waits for a commit it may see', async () => {
    const j = open();
    const held = holdWalSyncs();
    let done = false;
    const p = j.recordEvent(event('wh-1')).then((r) => { done = true; return r; });
    await tick();
    held.should.have.length(1); // committed, sync started and held
    done.should.be.false();
    let read = false;
    const listed = j.unemittedEvents().then((l) => { read = true; return l; });
    await tick();
    read.should.be.false();
    held[0].release();
    (await p).status.should.equal('new');
    (await listed).map((e) => e.dedupeKey).should.eql(['wh-1']);
    j.syncs.should.equal(1);
  });

  it('fails one bad read alone when reads queue behind a commit that is not on disk yet', async () => {
    const j = open();
    const hold = { shop: SHOP, orderId: '1', route: 'manual', reason: 'r', findings: [], msg: {}, heldBy: 'router', heldAt: 1 };
    await j.putHold({ ...hold, id: 'good' });
    await j.putHold({ ...hold, id: 'bad' });
    const raw = new Database(file);
    raw.prepare("UPDATE holds SET msg = '{not json' WHERE id = 'bad'").run();
    raw.close();
    const held = holdWalSyncs();
    const recorded = j.recordEvent(event('wh-1'));
    await tick();
    const reads = settled<unknown>([j.getHold('bad'), j.getHold('good')]);
    await tick();
    held[0].release();
    await recorded;
    const [bad, good] = await reads;
    bad.ok.should.be.false();
    (good.ok && (good.value as { id: string }).id).should.equal('good');
  });

  it('syncs nothing for a batch that changed no row (duplicates, no-op updates)', async () => {
    const j = open();
    await j.recordEvent(event('wh-1'));
    const syncs = j.syncs;
    const commits = j.commits;
    (await Promise.all([j.recordEvent(event('wh-1')), j.settleEvent(SHOP, 'nope'), j.pruneEvents(0)])).should.eql([{ status: 'duplicate' }, false, 0]);
    j.commits.should.equal(commits + 1);
    j.syncs.should.equal(syncs);
    (await j.recordEvent(event('wh-2'))).status.should.equal('new');
    j.syncs.should.equal(syncs + 1);
  });

  it('does not append to the WAL while it is being synced: writes made meanwhile commit together when the sync ends, then the next sync covers them', async () => {
    const j = open();
    const held = holdWalSyncs();
    const first = j.recordEvent(event('wh-1'));
    await tick();
    const later = [j.recordEvent(event('wh-2'))];
    await tick();
    later.push(j.recordEvent(event('wh-3')));
    await tick();
    j.commits.should.equal(1); // wh-2 and wh-3 wait in the queue, not in a commit
    held.should.have.length(1);
    held[0].release();
    (await first).status.should.equal('new');
    await tick();
    j.commits.should.equal(2); // both in one commit
    held.should.have.length(2);
    held[1].release();
    (await Promise.all(later)).map((r) => r.status).should.eql(['new', 'new']);
    j.syncs.should.equal(2);
  });

  it('rejects the callers a failed WAL sync covers, and the journal keeps working', async () => {
    const j = open();
    const held = holdWalSyncs();
    const ps = settled<RecordEventResult>([j.recordEvent(event('wh-1')), j.recordEvent(event('wh-2'))]);
    await tick();
    held[0].fail(new Error('EIO: i/o error'));
    (await ps).map((r) => (r.ok ? r.value.status : r.error.message)).should.eql(Array(2).fill(`order journal: could not write ${file}-wal to disk: EIO: i/o error`));
    fsp.open = realOpen;
    // Committed but not acknowledged: the retry is a duplicate of the event now on disk.
    (await j.recordEvent(event('wh-1'))).status.should.equal('duplicate');
    (await j.recordEvent(event('wh-3'))).status.should.equal('new');
  });

  it('waits for the last sync before closing', async () => {
    const j = open();
    const held = holdWalSyncs();
    const p = j.recordEvent(event('wh-1'));
    await tick();
    let closed = false;
    const c = j.close().then(() => { closed = true; });
    await j.recordEvent(event('wh-2')).should.be.rejectedWith(/journal is closed/);
    await tick();
    closed.should.be.false();
    held[0].release();
    await c;
    (await p).status.should.equal('new');
  });

  it('copies the WAL back into the database in a worker thread, without losing or blocking anything', async function () {
    this.timeout(30_000);
    const j = open();
    for (let i = 0; i < 120; i++) await j.recordEvent(event(`wh-${i}`)); // 120 commits: a checkpoint is due
    const until = Date.now() + 20_000;
    while (j.checkpoints === 0 && Date.now() < until) {
      await j.recordEvent(event(`more-${Date.now()}-${Math.random()}`));
      await new Promise((r) => setTimeout(r, 50));
    }
    j.checkpoints.should.be.above(0);
    await j.close();
    const again = open();
    (await again.unemittedEvents()).filter((e) => e.dedupeKey.startsWith('wh-')).should.have.length(120);
  });

  it('survives SIGKILL: every batch that resolved is on disk after reopening, and no batch is there in part', async function () {
    this.timeout(60_000);
    await open().close(); // creates the schema before the child starts
    const size = 25;
    const child = fork(path.join(__dirname, 'fixtures', 'group-commit-worker.ts'), [file, String(size)], {
      execArgv: ['-r', 'ts-node/register/transpile-only'],
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    children.push(child);
    const resolved: { batch: number; statuses: string[]; commits: number }[] = [];
    const killAfter = 5 + Math.floor(Math.random() * 20);
    await new Promise<void>((done, fail) => {
      child.once('exit', (code, signal) => (signal === 'SIGKILL' ? done() : fail(new Error(`worker exited with ${signal ?? code}`))));
      child.on('message', (m) => {
        resolved.push(m as (typeof resolved)[number]);
        // Killed while it keeps committing: the kill may land in the middle of the next batch.
        if (resolved.length === killAfter) child.kill('SIGKILL');
      });
    });
    // One commit per batch in the child (one fsync for its 25 events).
    resolved.forEach((r, i) => {
      r.statuses.should.eql(Array(size).fill('new'));
      r.commits.should.equal(i + 1);
    });
    const j = open();
    const perBatch = new Map<number, number>();
    for (const e of await j.unemittedEvents()) {
      const b = (e.meta as { batch: number }).batch;
      perBatch.set(b, (perBatch.get(b) ?? 0) + 1);
    }
    for (const r of resolved) (perBatch.get(r.batch) ?? 0).should.equal(size);
    for (const [, n] of perBatch) n.should.equal(size);
  });
});
