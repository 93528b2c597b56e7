import Database from 'better-sqlite3';
import { mkdirSync, promises as fsp } from 'fs';
import path from 'path';
import { Worker } from 'worker_threads';
import { z } from 'zod';
import { Finding, formatZodError } from '../contract';
import { parseInstant } from './instant';
import { HANDED_OVER_KEEP_MS, OrderState } from './journal';
import type {
  EventRecord, HoldFilter, HoldRecord, OrderJournal, OrderRecord, RecordEventInput, RecordEventResult,
  ReservationLine, ReservedLine, ReserveResult, ReservationTx,
} from './journal';
import { migrate } from './sqlite-migrations';
import { ReservationLedger, placeKey } from './reservation-ledger';
import { decodeEvent, decodeHold, decodeOrder, decodeReservedLines, encodeJson } from './sqlite-rows';

export interface SqliteJournalOptions {
  /** Clock in epoch ms (tests move it to expire leases and age events). */
  now?: () => number;
  /** How long a write waits for another process holding the file's write lock before failing. */
  busyTimeoutMs?: number;
}

// Inputs are validated before they touch the database so a bad caller gets a clear message, not a
// constraint error or, worse, a stored row that fails to decode later.
const nonEmpty = z.string().min(1);
const RecordEventSchema = z.object({
  shop: nonEmpty,
  dedupeKey: nonEmpty,
  topic: nonEmpty,
  resourceId: z.string().optional(),
  resourceUpdatedAt: z.string().optional(),
  body: z.string(),
  meta: z.record(z.string(), z.unknown()),
});
const nonNegative = z.number().finite().nonnegative();
const ReservationLineSchema = z.object({
  item: nonEmpty, location: z.string(), quantity: nonNegative, limit: z.number().finite(), stockReadAt: z.number().finite().optional(), lineItemId: nonEmpty.optional(),
});
const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
const filled = (x: unknown): x is string => typeof x === 'string' && x !== '';
/**
 * Whether ReservationLines takes `v` as it is: checked without the copy a parse makes (the gate's lines,
 * once per order). Anything else goes through the schema, which says what is wrong.
 */
export function isReservationLines(v: unknown): v is ReservationLine[] {
  if (!Array.isArray(v)) return false;
  for (const l of v as unknown[]) {
    if (typeof l !== 'object' || l === null || Array.isArray(l)) return false;
    const r = l as Record<string, unknown>;
    if (!filled(r.item) || typeof r.location !== 'string' || !finite(r.quantity) || r.quantity < 0 || !finite(r.limit)
      || (r.stockReadAt !== undefined && !finite(r.stockReadAt)) || (r.lineItemId !== undefined && !filled(r.lineItemId))) return false;
  }
  return true;
}
const ReleaseLineSchema = z.object({ item: nonEmpty, location: z.string(), quantity: nonNegative });
// Built once: a zod schema built per call costs more than the SQL it guards.
export const ReservationLines = z.array(ReservationLineSchema);
const ReleaseLines = z.array(ReleaseLineSchema);
const Documents = z.record(z.string(), z.string()).optional();
const Text = z.string();
const Positive = z.number().finite().positive();
const Count = z.number().int().nonnegative();
const OptionalInstant = z.number().finite().optional();
const Resolution = z.enum(['released', 'discarded']);
const OrderStateSchema = OrderState;
const PutHoldSchema = z.object({
  id: nonEmpty,
  shop: nonEmpty,
  orderId: nonEmpty,
  orderName: z.string().optional(),
  route: z.string(),
  reason: z.string(),
  findings: z.array(Finding),
  msg: z.record(z.string(), z.unknown()),
  heldBy: z.string(),
  heldAt: z.number().finite(),
  retryAt: z.number().finite().optional(),
  attempts: z.number().int().nonnegative().default(0),
});

function check<T>(schema: z.ZodType<T>, what: string, value: unknown): T {
  const r = schema.safeParse(value);
  if (!r.success) throw new Error(`order journal: invalid ${what}: ${formatZodError(r.error)}`);
  return r.data;
}

const ORDER_TOPIC_PREFIX = 'orders/';

/** A reservation row as the ledger needs it (handed_at: when it was handed over to D365, or null). */
interface ReservationRow { item: string; location: string; quantity: number; handed_at: number | null }

/**
 * The embedded journal backend: one SQLite file (or `:memory:`), shared by every node of a
 * Node-RED instance and by several Node-RED processes on the same machine.
 *
 * Writes are group-committed: calls made in the same turn of the event loop (every webhook that
 * arrived together) are queued and committed by one IMMEDIATE transaction, and the WAL is then
 * fdatasync'ed once for all of them off the event loop (see syncWal); a promise resolves only after
 * that sync, so a promise that resolves means the write is on disk. IMMEDIATE takes the file's
 * write lock before reading, so check-then-write sequences (dedupe, CAS, reservations, leases) are
 * atomic across processes, and a second process waits (busy_timeout) instead of failing or reading
 * a snapshot that is about to be stale.
 */
export class SqliteJournal implements OrderJournal {
  private readonly now: () => number;
  private readonly s: ReturnType<typeof prepare>;
  private readonly queue: QueuedOp[] = [];
  private flushTimer: NodeJS.Immediate | undefined;
  private readonly transaction: Database.Transaction<(fn: () => void) => void>;
  private readonly savepoint: (fn: () => unknown) => unknown;
  private readonly tx: ReservationTx;
  /** When handed-over rows past their keep time were last dropped. */
  private sweptAt = 0;
  /** The reservation rows summed per item + location (see ReservationLedger); undefined: to be rebuilt. */
  private ledgerCache: ReservationLedger | undefined;
  /**
   * The ledger was found current inside the write transaction running now: the transaction holds the
   * write lock, so no other connection can commit until it ends, and the ledger needs no re-check (two
   * to five per order otherwise). Cleared when a batch starts and ends.
   */
  private ledgerLocked = false;
  /** PRAGMA data_version when the ledger was last known current: it changes when another connection commits. */
  private ledgerDataVersion = -1;
  /** The reservations' change counter (reservations_version) the ledger reflects. */
  private ledgerChanges = -1;
  /** Set by a reservation write in the batch being committed: the batch then counts one change in reservations_version. */
  private reservationsChanged = false;
  /** Times the ledger was built from the rows (at first use, after another process changed reservations, after a failed write). */
  ledgerBuilds = 0;
  /** Write transactions committed so far; with group commit, often fewer than write calls. */
  commits = 0;
  /** Batches run again, each write in its own savepoint, because an operation threw in the first run. */
  retriedBatches = 0;
  /** WAL syncs so far (each one fdatasync); several commits made during one sync share the next. */
  syncs = 0;
  /** Settles batches committed since the last sync started: they wait for the next one. */
  private unsynced: Settle[] = [];
  /** The sync in progress and the batches it covers. */
  private syncing: Settle[] | undefined;
  private closing = false;
  /** The WAL file, or undefined for `:memory:` (nothing to make durable). */
  private readonly wal: string | undefined;
  private readonly checkpointer: Checkpointer | undefined;

  private constructor(private readonly db: Database.Database, readonly file: string, opts: SqliteJournalOptions) {
    this.now = opts.now ?? Date.now;
    // SQLite names the WAL after the database path (resolved now, as SQLite did when opening it).
    this.wal = file === ':memory:' ? undefined : `${path.resolve(file)}-wal`;
    if (this.wal) this.checkpointer = new Checkpointer(db, path.resolve(file), opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS);
    this.s = prepare(db);
    this.tx = this.reservationMethods();
    this.transaction = db.transaction((fn: () => void) => fn());
    // Called inside the batch's transaction, better-sqlite3 makes this a SAVEPOINT … RELEASE.
    this.savepoint = db.transaction((fn: () => unknown) => fn());
  }

  /** Opens (creating directories, the file and the schema as needed) a journal. `:memory:` gives a private, non-durable one. */
  static open(file: string, opts: SqliteJournalOptions = {}): SqliteJournal {
    const memory = file === ':memory:';
    let db: Database.Database;
    try {
      if (!memory) mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
      db = new Database(file);
    } catch (e) {
      throw new Error(`order journal: cannot open ${file}: ${(e as Error).message}`);
    }
    try {
      // busy_timeout first: switching to WAL and migrating need the write lock another process may hold.
      db.pragma(`busy_timeout = ${Math.max(0, Math.floor(opts.busyTimeoutMs ?? DEFAULT_BUSY_TIMEOUT_MS))}`);
      if (!memory) {
        // WAL: readers never block the writer and vice versa, which several nodes and processes need.
        const mode = db.pragma('journal_mode = WAL', { simple: true });
        if (String(mode).toLowerCase() !== 'wal') throw new Error(`the file system does not support WAL (journal_mode stays ${String(mode)})`);
      }
      // Every table here backs a promise already made to someone else (the 200 that stops Shopify
      // retrying, a reservation, a hold), so a commit must reach the disk before the method returns.
      // The migration commits with synchronous = FULL (the WAL is fsync'ed inside COMMIT).
      db.pragma('synchronous = FULL');
      migrate(db, (opts.now ?? Date.now)());
      // Then NORMAL: COMMIT no longer fsyncs (in WAL mode NORMAL alone may lose the last commits on
      // power loss or an OS crash); instead syncWal fdatasyncs the WAL in libuv's thread pool after
      // each group commit and only then settles its callers — the same durability as FULL, without
      // blocking the event loop for the disk. Checkpoints still sync WAL and database (NORMAL does).
      if (!memory) db.pragma('synchronous = NORMAL');
      // Checkpoints mostly off the event loop: with the default (1000 pages) a COMMIT copies the WAL
      // into the database and fsyncs both on the loop every ~4 MB (tens of ms on a busy disk); the
      // Checkpointer does that copying in a worker thread. Its checkpoints race new commits, so
      // under steady load the WAL is never fully copied and never restarts; a COMMIT-time checkpoint
      // every WAL_RESTART_PAGES (~64 MB) copies the few frames left, after which the WAL restarts.
      if (!memory) db.pragma(`wal_autocheckpoint = ${WAL_RESTART_PAGES}`);
      // A write of a group commit retried in a savepoint (see commitBatch) keeps undo copies of the pages it touches
      // in a temporary file by default: a write() per page per operation. They are needed only until
      // RELEASE, never after a crash, so memory is enough.
      db.pragma('temp_store = MEMORY');
    } catch (e) {
      db.close();
      throw new Error(`order journal: cannot open ${file}: ${(e as Error).message}`);
    }
    return new SqliteJournal(db, file, opts);
  }

  /**
   * Reads run at once when nothing is queued; otherwise they queue behind the pending writes, so a
   * read issued after a write (awaited or not) always sees it.
   */
  private run<T>(fn: () => T): Promise<T> {
    // With a commit not yet on disk, a read waits for the sync too: what it returns may show that commit.
    if (!this.queue.length && !this.unsynced.length && !this.syncing) {
      if (!this.db.open || this.closing) return Promise.reject(closedError());
      try {
        return Promise.resolve(fn());
      } catch (e) {
        return Promise.reject(toError(e));
      }
    }
    return this.enqueue(fn, false);
  }

  /** Group commit: see flush. */
  private write<T>(fn: () => T): Promise<T> {
    return this.enqueue(fn, true);
  }

  private enqueue<T>(fn: () => T, writes: boolean): Promise<T> {
    if (!this.db.open || this.closing) return Promise.reject(closedError());
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ fn, writes, resolve: resolve as (v: unknown) => void, reject });
      // setImmediate, not a microtask: it runs after the current poll phase, so every request that
      // arrived together (and every call their handlers made) joins one commit.
      this.flushTimer ??= setImmediate(() => this.flush());
    });
  }

  /**
   * Commits everything queued since the last flush. Operations run in call order inside ONE
   * IMMEDIATE transaction (one WAL sync for all, see syncWal); an operation that throws is rolled
   * back alone (the batch runs again, each write in its own savepoint) and rejects only its caller, while later ones see earlier ones'
   * writes (dedupe and stale rules hold inside a batch as across batches). Promises settle only
   * after COMMIT and the WAL sync that follows it: "every method that returns has committed" still
   * holds. A failed BEGIN or COMMIT (busy, disk full, I/O error) rejects every caller of the batch at
   * once, and nothing of it is kept.
   */
  private flush(): void {
    if (this.flushTimer) clearImmediate(this.flushTimer);
    this.flushTimer = undefined;
    // Not while the WAL is being synced: appending to it then can wait for the disk on the event loop
    // (the page the last commit ended in is under writeback and locked for writes, tens of ms on a
    // busy disk). The queue commits the moment the sync ends; its callers would wait for that sync's
    // successor anyway.
    if (this.syncing) return;
    while (this.queue.length) this.commitBatch(this.queue.splice(0, MAX_BATCH));
  }

  private commitBatch(batch: QueuedOp[]): void {
    if (!this.db.open) {
      for (const op of batch) op.reject(closedError());
      return;
    }
    let outcomes: ({ ok: true; value: unknown } | { ok: false; error: Error })[] = [];
    const writes = batch.some((op) => op.writes);
    let opFailed = false;
    /** Runs the batch's operations in order; `isolate`: each write in its own savepoint, so one that throws fails alone. */
    const runAll = (isolate: boolean) => () => {
      outcomes = [];
      this.ledgerLocked = false;
      this.reservationsChanged = false;
      for (const op of batch) {
        try {
          outcomes.push({ ok: true, value: op.writes && isolate ? this.savepoint(op.fn) : op.fn() });
        } catch (e) {
          // Its writes are rolled back, but the ledger may have counted some of them: rebuilt on next use.
          this.ledgerCache = undefined;
          opFailed = true;
          // SQLite ends the whole transaction on some errors (SQLITE_FULL, IOERR, BUSY): then no
          // operation of the batch has committed, and all must fail.
          if (!isolate || (writes && !this.db.inTransaction)) throw e;
          outcomes.push({ ok: false, error: toError(e) });
        }
      }
      // Once per transaction, however many reservation writes it holds: enough for other processes to notice.
      if (this.reservationsChanged) this.ledgerChanges = this.s.countReservationChange.get() as number;
    };
    let changed = false;
    try {
      if (writes) {
        let before = this.rowsChanged();
        try {
          // Optimistic: no savepoints (two statements per write saved), as operations rarely throw. If one
          // does, the whole transaction is rolled back and the batch runs again with a savepoint per write,
          // so only the failing one fails (operations have no effect outside the transaction: see
          // OrderJournal.reservationTransaction). A lone operation never needs one: its failure is the batch's.
          this.transaction.immediate(runAll(false));
        } catch (e) {
          if (!opFailed || batch.length === 1) throw e;
          before = this.rowsChanged();
          this.retriedBatches++;
          this.transaction.immediate(runAll(true));
        }
        this.commits++;
        changed = this.rowsChanged() !== before;
      } else {
        runAll(true)();
      }
    } catch (e) {
      this.ledgerCache = undefined; // nothing of the batch was kept
      const err = toError(e);
      for (const op of batch) op.reject(err);
      return;
    } finally {
      this.ledgerLocked = false;
    }
    // The callers wait for the WAL sync with only their settle functions and outcomes kept: what the operations
    // captured (an order's lines, a webhook's body) can be collected meanwhile, not promoted to the old generation.
    const settlers = batch.map((op) => ({ resolve: op.resolve, reject: op.reject }));
    const settle: Settle = (syncError) => settlers.forEach((op, i) => {
      const o = outcomes[i]!;
      if (syncError) op.reject(syncError);
      else if (o.ok) op.resolve(o.value);
      else op.reject(o.error);
    });
    if (!this.wal) settle();
    // A batch that changed no row (only reads, duplicates, no-op updates) wrote nothing to the WAL,
    // but waits for the commits it may have seen: the sync in progress covers them unless more were
    // made since it started.
    else if (!changed && !this.unsynced.length) {
      if (this.syncing) this.syncing.push(settle);
      else settle();
    } else {
      this.unsynced.push(settle);
      if (!this.syncing) this.syncWal();
    }
  }

  /** Rows changed by this connection since it opened (rows changed inside a rolled-back savepoint count too). */
  rowsChanged(): number {
    return (this.s.totalChanges.get() as { n: number }).n;
  }

  /**
   * Makes every commit so far durable with one fdatasync of the WAL (what synchronous = FULL does
   * inside each COMMIT), then settles the batches it covers. Writes queued meanwhile are committed
   * as soon as it ends (see flush), and the next sync starts: under load one sync covers many. The
   * file is opened per sync so a WAL replaced on disk is never missed. A sync that fails rejects
   * the callers it covers: their writes are committed but maybe not durable, so e.g. a webhook is
   * answered 503, Shopify retries, and the retry is a duplicate of a now-durable event.
   */
  private syncWal(): void {
    const covered = this.unsynced;
    this.unsynced = [];
    this.syncing = covered;
    const wal = this.wal!;
    void (async () => {
      const fh = await fsp.open(wal, 'r+'); // r+: Windows cannot flush a read-only handle
      try {
        await fh.datasync();
      } finally {
        await fh.close();
      }
    })().then(() => {
      this.syncs++;
      this.checkpointer?.maybeRun(this.commits);
      return undefined;
    }, (e: unknown) => new Error(`order journal: could not write ${wal} to disk: ${toError(e).message}`)).then((err) => {
      this.syncing = undefined;
      for (const settle of covered) settle(err);
      if (this.queue.length) this.flush();
      if (this.unsynced.length && !this.syncing) this.syncWal();
    });
  }

  // --- webhook events -----------------------------------------------------------------------------

  recordEvent(input: RecordEventInput): Promise<RecordEventResult> {
    return this.write((): RecordEventResult => {
      const e = check(RecordEventSchema, 'event', input);
      if (this.s.eventByKey.get(e.shop, e.dedupeKey)) return { status: 'duplicate' };
      // An unparseable or offset-less updated_at is recorded but takes no part in ordering.
      const updatedMs = parseInstant(e.resourceUpdatedAt);
      if (e.topic.startsWith(ORDER_TOPIC_PREFIX) && e.resourceId !== undefined && updatedMs !== undefined) {
        const newer = this.s.newerOrderEvent.get(e.shop, e.resourceId, updatedMs) as { resource_updated_at: string } | undefined;
        if (newer) return { status: 'stale', newerUpdatedAt: newer.resource_updated_at };
      }
      const info = this.s.insertEvent.run(e.shop, e.dedupeKey, e.topic, e.resourceId ?? null, e.resourceUpdatedAt ?? null,
        updatedMs ?? null, e.body, encodeJson('event meta', e.meta), this.now());
      return { status: 'new', seq: Number(info.lastInsertRowid) };
    });
  }

  markEmitted(seq: number): Promise<void> {
    return this.write(() => {
      this.s.markEmitted.run(this.now(), seq);
    });
  }

  settleEvent(shop: string, dedupeKey: string): Promise<boolean> {
    return this.write(() => this.s.settleEvent.run(this.now(), shop, dedupeKey).changes > 0);
  }

  unemittedEvents(limit?: number, afterSeq = 0): Promise<EventRecord[]> {
    return this.run(() => this.s.unemitted.all(afterSeq, limitArg(limit)).map(decodeEvent));
  }

  pruneEvents(olderThanMs: number): Promise<number> {
    return this.write(() => {
      check(nonNegative, 'prune age', olderThanMs);
      return this.s.pruneEvents.run(this.now() - olderThanMs).changes;
    });
  }

  // --- orders -------------------------------------------------------------------------------------

  getOrder(shop: string, orderId: string): Promise<OrderRecord | undefined> {
    return this.run(() => this.readOrder(shop, orderId));
  }

  private readOrder(shop: string, orderId: string): OrderRecord | undefined {
    const row = this.s.order.get(shop, orderId);
    return row === undefined ? undefined : decodeOrder(row, this.s.history.all(shop, orderId));
  }

  transitionOrder(shop: string, orderId: string, from: readonly (OrderState | undefined)[], to: OrderState,
    change: { orderName?: string; documents?: Record<string, string>; event?: string; detail?: string } = {}): Promise<OrderRecord | undefined> {
    return this.write(() => {
      check(nonEmpty, 'shop', shop);
      check(nonEmpty, 'order id', orderId);
      check(OrderStateSchema, 'target state', to);
      const documents = check(Documents, 'documents', change.documents);
      const current = this.readOrder(shop, orderId);
      if (current ? !from.includes(current.state) : !from.includes(undefined)) return undefined;
      const at = this.now();
      // Spread (not Object.assign) so a `__proto__` key stays data and never becomes a prototype.
      const merged = encodeJson('order documents', { ...(current?.documents ?? {}), ...(documents ?? {}) });
      const name = change.orderName ?? current?.orderName ?? null;
      if (current) this.s.updateOrder.run(to, name, merged, at, shop, orderId);
      else this.s.insertOrder.run(shop, orderId, name, to, merged, at);
      this.s.insertHistory.run(shop, orderId, at, change.event ?? `state:${to}`, change.detail ?? null);
      return this.readOrder(shop, orderId);
    });
  }

  /** History is keyed by shop + order id; entries written before the order record exists show once it does. */
  appendHistory(shop: string, orderId: string, event: string, detail?: string): Promise<void> {
    return this.write(() => {
      const at = this.now();
      this.s.insertHistory.run(shop, orderId, at, event, detail ?? null);
      this.s.touchOrder.run(at, shop, orderId);
    });
  }

  // --- inventory reservations ---------------------------------------------------------------------

  /** See OrderJournal.reservationTransaction: `fn` runs inside the group commit, in its own savepoint. */
  reservationTransaction<T>(fn: (tx: ReservationTx) => T): Promise<T> {
    return this.write(() => fn(this.tx));
  }

  reserve(orderKey: string, lines: readonly ReservationLine[]): Promise<ReserveResult> {
    return this.write(() => this.tx.reserve(orderKey, lines));
  }

  release(orderKey: string, quantities?: readonly { item: string; location: string; quantity: number }[]): Promise<number> {
    return this.write(() => this.tx.release(orderKey, quantities));
  }

  handOver(orderKey: string): Promise<number> {
    return this.write(() => this.tx.handOver(orderKey));
  }

  reservedQuantity(item: string, location: string, stockReadAt?: number): Promise<number> {
    return this.run(() => this.tx.reservedQuantity(item, location, stockReadAt));
  }

  reservationsOf(orderKey: string): Promise<{ item: string; location: string; quantity: number }[]> {
    return this.run(() => this.tx.reservationsOf(orderKey));
  }

  reservedLines(orderKey: string): Promise<ReservedLine[]> {
    return this.run(() => this.tx.reservedLines(orderKey));
  }

  /**
   * The ledger, rebuilt from the rows first if another connection (another Node-RED process) has
   * changed reservations since. Any commit of another connection changes data_version; only one with
   * reservation writes moves reservations_version, so another process receiving webhooks or filing
   * holds costs one read here, not a rebuild. Inside a write transaction nobody else can commit; outside
   * one, the counter is read before the rows, so a commit in between only causes one more rebuild.
   */
  private ledger(): ReservationLedger {
    if (this.ledgerLocked && this.ledgerCache) return this.ledgerCache;
    const ledger = this.currentLedger();
    // Set once the ledger is known current. Only this journal's write transactions (BEGIN IMMEDIATE) run
    // here: inside one, no other connection commits until it ends.
    this.ledgerLocked = this.db.inTransaction;
    return ledger;
  }

  private currentLedger(): ReservationLedger {
    const dataVersion = this.s.dataVersion.get() as number;
    if (this.ledgerCache && dataVersion === this.ledgerDataVersion) return this.ledgerCache;
    const changes = this.s.reservationChanges.get() as number;
    this.ledgerDataVersion = dataVersion;
    if (this.ledgerCache && changes === this.ledgerChanges) return this.ledgerCache;
    const ledger = new ReservationLedger();
    // NULL (open) sorts first; hand-overs arrive in time order, as the ledger appends them.
    for (const r of this.s.ledgerRows.iterate() as Iterable<ReservationRow>) ledger.addRow(r.item, r.location, r.handed_at, r.quantity);
    this.ledgerBuilds++;
    this.ledgerChanges = changes;
    return (this.ledgerCache = ledger);
  }

  /** The synchronous reservation methods: the async ones above and reservationTransaction run them. */
  private reservationMethods(): ReservationTx {
    const { s } = this;
    /** Takes rows out of the ledger as they are deleted (or handed over). */
    const forget = (ledger: ReservationLedger, rows: readonly ReservationRow[]) => {
      for (const r of rows) ledger.addRow(r.item, r.location, r.handed_at, -r.quantity);
    };
    // Totals kept by adding and subtracting REAL quantities can carry float dust (0.1 + 0.2 − 0.2);
    // quantities in D365 have at most 5 decimals.
    const tidy = (q: number) => Math.round(q * 1e5) / 1e5;
    return {
      orderState: (shop, orderId) => (s.orderState.get(shop, orderId) as { state: OrderState } | undefined)?.state,
      reserve: (orderKey, lines) => {
        check(nonEmpty, 'order key', orderKey);
        const parsed = isReservationLines(lines) ? lines : check(ReservationLines, 'reservation lines', lines);
        // Several lines of one order on the same item+location are one demand; the tightest limit wins.
        // …and the oldest figure behind them decides which handed-over reservations still count.
        const now = this.now();
        const wanted = new Map<string, { item: string; location: string; quantity: number; limit: number; stockReadAt: number; lines: [string, number][] }>();
        for (const l of parsed) {
          const k = placeKey(l.item, l.location);
          let w = wanted.get(k);
          const readAt = l.stockReadAt ?? now;
          if (w) {
            w.quantity += l.quantity;
            w.limit = Math.min(w.limit, l.limit);
            w.stockReadAt = Math.min(w.stockReadAt, readAt);
          } else wanted.set(k, w = { item: l.item, location: l.location, quantity: l.quantity, limit: l.limit, stockReadAt: readAt, lines: [] });
          if (l.lineItemId !== undefined && l.quantity > 0) w.lines.push([l.lineItemId, l.quantity]);
        }
        const ledger = this.ledger();
        const own = s.rowsOf.all(orderKey) as ReservationRow[];
        const shortfalls: ReserveResult['shortfalls'] = [];
        for (const w of wanted.values()) {
          if (w.quantity === 0) continue;
          // What others hold for this figure: everything counted for it, less the order's own rows.
          const mine = own.reduce((sum, r) => (r.item === w.item && r.location === w.location && (r.handed_at === null || r.handed_at > w.stockReadAt) ? sum + r.quantity : sum), 0);
          const others = tidy(ledger.held(w.item, w.location, w.stockReadAt) - mine);
          if (others + w.quantity > w.limit) {
            shortfalls.push({ item: w.item, location: w.location, requested: w.quantity, available: Math.max(0, w.limit - others) });
          }
        }
        if (shortfalls.length) return { ok: false, shortfalls };
        // A new order (the usual case) has no rows to replace: no DELETE.
        if (own.length) {
          s.releaseAll.run(orderKey);
          forget(ledger, own);
        }
        for (const w of wanted.values()) {
          if (w.quantity <= 0) continue;
          s.insertReservation.run(orderKey, w.item, w.location, w.quantity, w.lines.length ? JSON.stringify(w.lines) : null);
          ledger.addOpen(w.item, w.location, w.quantity);
        }
        this.reservationsChanged = true;
        return { ok: true, shortfalls: [] };
      },
      release: (orderKey, quantities) => {
        const ledger = this.ledger();
        if (quantities === undefined) {
          const rows = s.rowsOf.all(orderKey) as ReservationRow[];
          if (!rows.length) return 0;
          s.releaseAll.run(orderKey);
          forget(ledger, rows);
          this.reservationsChanged = true;
          return rows.reduce((sum, r) => sum + r.quantity, 0);
        }
        let released = 0;
        for (const q of check(ReleaseLines, 'release quantities', quantities)) {
          const row = s.reservation.get(orderKey, q.item, q.location) as ReservationRow | undefined;
          if (!row) continue;
          const take = Math.min(row.quantity, q.quantity);
          if (take >= row.quantity) s.deleteReservation.run(orderKey, q.item, q.location);
          else s.setReservation.run(row.quantity - take, orderKey, q.item, q.location);
          forget(ledger, [{ ...row, quantity: take }]);
          released += take;
        }
        if (released) this.reservationsChanged = true;
        return released;
      },
      handOver: (orderKey) => {
        const now = this.now();
        const ledger = this.ledger();
        const handed = s.handOver.all(now, orderKey) as ReservationRow[];
        for (const r of handed) {
          ledger.addOpen(r.item, r.location, -r.quantity);
          ledger.addHanded(r.item, r.location, now, r.quantity);
        }
        // Rows past HANDED_OVER_KEEP_MS go with the next handover, at most once a second (not per order).
        let changed = handed.length > 0;
        if (Math.abs(now - this.sweptAt) >= 1000) {
          this.sweptAt = now;
          if (s.dropHandedBefore.run(now - HANDED_OVER_KEEP_MS).changes) changed = true;
          ledger.dropHandedBefore(now - HANDED_OVER_KEEP_MS);
        }
        if (changed) this.reservationsChanged = true;
        return handed.reduce((sum, r) => sum + r.quantity, 0);
      },
      reservedQuantity: (item, location, stockReadAt) => tidy(this.ledger().held(item, location, stockReadAt ?? this.now())),
      reservationsOf: (orderKey) => s.reservationsOf.all(orderKey) as { item: string; location: string; quantity: number }[],
      reservedLines: (orderKey) => s.reservedLines.all(orderKey).flatMap((r) => decodeReservedLines(orderKey, r)),
      getCursor: (name) => (s.cursor.get(name) as { value: string } | undefined)?.value,
      setCursor: (name, value) => {
        check(nonEmpty, 'cursor name', name);
        check(Text, 'cursor value', value);
        s.putCursor.run(name, value);
      },
      deleteCursor: (name) => { s.dropCursor.run(name); },
    };
  }

  // --- exception holds ----------------------------------------------------------------------------

  /** Stores a hold as 'held'. Putting an existing id again replaces it (a re-held order starts afresh). */
  putHold(h: Omit<HoldRecord, 'status' | 'attempts'> & { attempts?: number }): Promise<HoldRecord> {
    return this.write(() => {
      const v = check(PutHoldSchema, 'hold', h);
      this.s.putHold.run({
        id: v.id, shop: v.shop, order_id: v.orderId, order_name: v.orderName ?? null, route: v.route, reason: v.reason,
        findings: encodeJson(`hold ${v.id} findings`, v.findings), msg: encodeJson(`hold ${v.id} msg`, v.msg),
        held_by: v.heldBy, held_at: v.heldAt, retry_at: v.retryAt ?? null, attempts: v.attempts,
      });
      return decodeHold(this.s.hold.get(v.id));
    });
  }

  getHold(id: string): Promise<HoldRecord | undefined> {
    return this.run(() => {
      const row = this.s.hold.get(id);
      return row === undefined ? undefined : decodeHold(row);
    });
  }

  listHolds(filter: HoldFilter = {}): Promise<HoldRecord[]> {
    return this.run(() => {
      const where: string[] = [];
      const args: unknown[] = [];
      if (filter.status !== undefined) { where.push('status = ?'); args.push(filter.status); }
      if (filter.route !== undefined) { where.push('route = ?'); args.push(filter.route); }
      if (filter.code !== undefined) {
        where.push("EXISTS (SELECT 1 FROM json_each(holds.findings) f WHERE json_extract(f.value, '$.code') = ?)");
        args.push(filter.code);
      }
      if (filter.olderThanMs !== undefined) { where.push('held_at <= ?'); args.push(this.now() - filter.olderThanMs); }
      const sql = `SELECT * FROM holds ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY held_at DESC, rowid DESC LIMIT ?`;
      return this.db.prepare(sql).all(...args, limitArg(filter.limit)).map(decodeHold);
    });
  }

  dueRetries(now: number, limit?: number): Promise<HoldRecord[]> {
    return this.run(() => this.s.dueRetries.all(now, limitArg(limit)).map(decodeHold));
  }

  resolveHold(id: string, status: 'released' | 'discarded', by: string, resolution?: string): Promise<HoldRecord | undefined> {
    return this.write(() => {
      check(Resolution, 'hold resolution status', status);
      // The CAS on status = 'held' is what makes a double-clicked "release" harmless.
      const changed = this.s.resolveHold.run(status, this.now(), by, resolution ?? null, id).changes;
      return changed ? decodeHold(this.s.hold.get(id)) : undefined;
    });
  }

  /** Only a hold still 'held' is rescheduled (one resolved meanwhile stays resolved); an unknown id is an error. */
  rescheduleHold(id: string, retryAt: number | undefined, attempts: number): Promise<void> {
    return this.write(() => {
      check(Count, 'attempts', attempts);
      check(OptionalInstant, 'retryAt', retryAt);
      if (this.s.rescheduleHold.run(retryAt ?? null, attempts, id).changes === 0 && !this.s.hold.get(id)) {
        throw new Error(`order journal: no hold with id ${JSON.stringify(id)}`);
      }
    });
  }

  // --- singletons and cursors ---------------------------------------------------------------------

  acquireLease(name: string, owner: string, ttlMs: number): Promise<boolean> {
    return this.write(() => {
      check(nonEmpty, 'lease name', name);
      check(nonEmpty, 'lease owner', owner);
      check(Positive, 'lease ttl', ttlMs);
      const now = this.now();
      const row = this.s.lease.get(name) as { owner: string; expires_at: number } | undefined;
      if (row && row.owner !== owner && row.expires_at > now) return false;
      this.s.putLease.run(name, owner, now + ttlMs);
      return true;
    });
  }

  releaseLease(name: string, owner: string): Promise<void> {
    return this.write(() => {
      this.s.dropLease.run(name, owner);
    });
  }

  getCursor(name: string): Promise<string | undefined> {
    return this.run(() => this.tx.getCursor(name));
  }

  deleteCursor(name: string): Promise<void> {
    return this.write(() => this.tx.deleteCursor(name));
  }

  setCursor(name: string, value: string): Promise<void> {
    return this.write(() => this.tx.setCursor(name, value));
  }

  /**
   * Commits what is queued, waits until it is on disk (its callers settled), then closes the
   * database; idempotent. Calls made once close has begun reject with "the journal is closed".
   */
  async close(): Promise<void> {
    this.flush();
    this.closing = true;
    while (this.syncing || this.unsynced.length) {
      await new Promise<void>((resolve) => (this.syncing ?? this.unsynced).push(() => resolve()));
    }
    await this.checkpointer?.stop();
    if (this.db.open) this.db.close();
  }

  /** Checkpoints the worker thread completed (see Checkpointer). */
  get checkpoints(): number {
    return this.checkpointer?.done ?? 0;
  }

  get isOpen(): boolean {
    return this.db.open;
  }
}

const DEFAULT_BUSY_TIMEOUT_MS = 10_000;
const WAL_RESTART_PAGES = 16_384;

/** Runs in the checkpoint worker: its own connection to the file, a PASSIVE checkpoint per request. */
const CHECKPOINT_WORKER = `
const { parentPort, workerData } = require('worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('busy_timeout = ' + workerData.busyTimeoutMs);
db.pragma('wal_autocheckpoint = 0');
parentPort.on('message', (m) => {
  if (m === 'stop') { db.close(); parentPort.close(); return; }
  try { db.pragma('wal_checkpoint(PASSIVE)'); parentPort.postMessage({ ok: true }); }
  catch (e) { parentPort.postMessage({ ok: false, error: String(e && e.message) }); }
});
`;

/**
 * Copies the WAL back into the database off the event loop: a worker thread with its own connection
 * runs PASSIVE checkpoints (they wait for no reader or writer; SQLite syncs the WAL before and the
 * database after, as any checkpoint does). One at a time, after at least CHECKPOINT_EVERY commits
 * or a second with any commit, so the WAL stays a few MB and is reused from its start. Started on
 * first need (a short-lived journal never starts one; closing the last connection checkpoints
 * anyway). If the worker cannot run, the connection goes back to SQLite's own auto-checkpoint.
 */
class Checkpointer {
  done = 0;
  private worker: Worker | undefined;
  private running = false;
  private failed = false;
  private commitsAtLast = 0;
  private lastAt = Date.now();

  constructor(private readonly db: Database.Database, private readonly file: string, private readonly busyTimeoutMs: number) {}

  maybeRun(commits: number): void {
    if (this.running || this.failed || commits === this.commitsAtLast) return;
    if (commits - this.commitsAtLast < CHECKPOINT_EVERY && Date.now() - this.lastAt < 1000) return;
    this.commitsAtLast = commits;
    this.lastAt = Date.now();
    this.running = true;
    try {
      this.worker ??= this.start();
      this.worker.postMessage('checkpoint');
    } catch {
      this.fallBack();
    }
  }

  private start(): Worker {
    const w = new Worker(CHECKPOINT_WORKER, {
      eval: true, workerData: { driver: require.resolve('better-sqlite3'), file: this.file, busyTimeoutMs: this.busyTimeoutMs },
    });
    w.unref(); // never keeps a process alive
    // A failed checkpoint (busy, I/O) is tried again at the next opportunity; the WAL only grows meanwhile.
    w.on('message', (m: { ok: boolean }) => {
      this.running = false;
      if (m.ok) this.done++;
    });
    w.on('error', () => this.fallBack());
    w.on('exit', () => {
      if (this.worker === w) this.fallBack(); // ended on its own: nothing would answer the next request
    });
    return w;
  }

  private fallBack(): void {
    this.failed = true;
    this.running = false;
    this.worker = undefined;
    if (this.db.open) this.db.pragma('wal_autocheckpoint = 1000');
  }

  /** Ends the worker (after the checkpoint it may be running). */
  async stop(): Promise<void> {
    const w = this.worker;
    this.worker = undefined;
    this.failed = true;
    if (!w || w.threadId === -1) return; // never started, or already ended
    const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
    w.postMessage('stop');
    const timer = setTimeout(() => void w.terminate(), 5000);
    await exited;
    clearTimeout(timer);
  }
}

/** Commits between checkpoints at most (a commit is one batch of writes). */
const CHECKPOINT_EVERY = 100;

/** Settles a committed batch's callers, or rejects them all when the WAL could not be synced. */
type Settle = (syncError?: Error) => void;

interface QueuedOp {
  fn: () => unknown;
  writes: boolean;
  resolve: (v: unknown) => void;
  reject: (e: Error) => void;
}

/** Operations per transaction at most, so one flush never holds the file's write lock for long. */
const MAX_BATCH = 500;

function closedError(): Error {
  return new Error('order journal: the journal is closed');
}

function toError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}

/** SQLite treats a negative LIMIT as "no limit". */
function limitArg(limit: number | undefined): number {
  return limit === undefined || !Number.isFinite(limit) ? -1 : Math.max(0, Math.floor(limit));
}

function prepare(db: Database.Database) {
  const p = (sql: string) => db.prepare(sql);
  return {
    totalChanges: p('SELECT total_changes() AS n'),
    eventByKey: p('SELECT seq FROM events WHERE shop = ? AND dedupe_key = ?'),
    newerOrderEvent: p(`SELECT resource_updated_at FROM events
      WHERE shop = ? AND resource_id = ? AND resource_updated_ms > ? AND substr(topic, 1, ${ORDER_TOPIC_PREFIX.length}) = '${ORDER_TOPIC_PREFIX}'
      ORDER BY resource_updated_ms DESC LIMIT 1`),
    insertEvent: p(`INSERT INTO events (shop, dedupe_key, topic, resource_id, resource_updated_at, resource_updated_ms, body, meta, received_at)
      VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`),
    markEmitted: p('UPDATE events SET emitted_at = ? WHERE seq = ? AND emitted_at IS NULL'),
    settleEvent: p('UPDATE events SET emitted_at = ? WHERE shop = ? AND dedupe_key = ? AND emitted_at IS NULL'),
    unemitted: p('SELECT * FROM events WHERE emitted_at IS NULL AND seq > ? ORDER BY seq LIMIT ?'),
    pruneEvents: p('DELETE FROM events WHERE emitted_at IS NOT NULL AND received_at < ?'),

    order: p('SELECT * FROM orders WHERE shop = ? AND order_id = ?'),
    history: p('SELECT at, event, detail FROM order_history WHERE shop = ? AND order_id = ? ORDER BY id'),
    insertOrder: p('INSERT INTO orders (shop, order_id, order_name, state, documents, updated_at) VALUES (?, ?, ?, ?, ?, ?)'),
    updateOrder: p('UPDATE orders SET state = ?, order_name = ?, documents = ?, updated_at = ? WHERE shop = ? AND order_id = ?'),
    touchOrder: p('UPDATE orders SET updated_at = ? WHERE shop = ? AND order_id = ?'),
    insertHistory: p('INSERT INTO order_history (shop, order_id, at, event, detail) VALUES (?, ?, ?, ?, ?)'),

    // Reservation rows, for the ledger: open ones (handed_at NULL, sorted first), then hand-overs in time order.
    ledgerRows: p(`SELECT item, location, handed_at, SUM(quantity) AS quantity FROM reservations
      GROUP BY item, location, handed_at ORDER BY handed_at`),
    dataVersion: p('PRAGMA data_version').pluck(),
    reservationChanges: p('SELECT n FROM reservations_version WHERE id = 1').pluck(),
    countReservationChange: p('UPDATE reservations_version SET n = n + 1 WHERE id = 1 RETURNING n').pluck(),
    rowsOf: p('SELECT item, location, quantity, handed_at FROM reservations WHERE order_key = ?'),
    orderState: p('SELECT state FROM orders WHERE shop = ? AND order_id = ?'),
    handOver: p('UPDATE reservations SET handed_at = ? WHERE order_key = ? AND handed_at IS NULL RETURNING item, location, quantity, handed_at'),
    dropHandedBefore: p('DELETE FROM reservations WHERE handed_at IS NOT NULL AND handed_at < ?'),
    reservation: p('SELECT item, location, quantity, handed_at FROM reservations WHERE order_key = ? AND item = ? AND location = ?'),
    reservationsOf: p('SELECT item, location, quantity FROM reservations WHERE order_key = ? AND handed_at IS NULL ORDER BY item, location'),
    insertReservation: p('INSERT INTO reservations (order_key, item, location, quantity, lines) VALUES (?, ?, ?, ?, ?)'),
    reservedLines: p('SELECT item, location, lines FROM reservations WHERE order_key = ? AND handed_at IS NULL AND lines IS NOT NULL ORDER BY item, location'),
    setReservation: p('UPDATE reservations SET quantity = ? WHERE order_key = ? AND item = ? AND location = ?'),
    deleteReservation: p('DELETE FROM reservations WHERE order_key = ? AND item = ? AND location = ?'),
    releaseAll: p('DELETE FROM reservations WHERE order_key = ?'),

    hold: p('SELECT * FROM holds WHERE id = ?'),
    putHold: p(`INSERT INTO holds (id, shop, order_id, order_name, route, reason, findings, msg, held_by, held_at, retry_at, attempts, status)
      VALUES (@id, @shop, @order_id, @order_name, @route, @reason, @findings, @msg, @held_by, @held_at, @retry_at, @attempts, 'held')
      ON CONFLICT (id) DO UPDATE SET shop = excluded.shop, order_id = excluded.order_id, order_name = excluded.order_name,
        route = excluded.route, reason = excluded.reason, findings = excluded.findings, msg = excluded.msg,
        held_by = excluded.held_by, held_at = excluded.held_at, retry_at = excluded.retry_at, attempts = excluded.attempts,
        status = 'held', resolved_at = NULL, resolved_by = NULL, resolution = NULL`),
    dueRetries: p(`SELECT * FROM holds WHERE status = 'held' AND retry_at IS NOT NULL AND retry_at <= ?
      ORDER BY retry_at, held_at, rowid LIMIT ?`),
    resolveHold: p(`UPDATE holds SET status = ?, resolved_at = ?, resolved_by = ?, resolution = ?
      WHERE id = ? AND status = 'held'`),
    rescheduleHold: p("UPDATE holds SET retry_at = ?, attempts = ? WHERE id = ? AND status = 'held'"),

    lease: p('SELECT owner, expires_at FROM leases WHERE name = ?'),
    putLease: p(`INSERT INTO leases (name, owner, expires_at) VALUES (?, ?, ?)
      ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at`),
    dropLease: p('DELETE FROM leases WHERE name = ? AND owner = ?'),
    cursor: p('SELECT value FROM cursors WHERE name = ?'),
    dropCursor: p('DELETE FROM cursors WHERE name = ?'),
    // Writing the value a cursor already holds changes no row (and so costs no WAL write or sync).
    putCursor: p(`INSERT INTO cursors (name, value) VALUES (?, ?)
      ON CONFLICT (name) DO UPDATE SET value = excluded.value WHERE value IS NOT excluded.value`),
  };
}
