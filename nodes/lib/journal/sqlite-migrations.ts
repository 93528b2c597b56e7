import type Database from 'better-sqlite3';

/**
 * Schema of the SQLite journal, as an append-only list of migrations. A database records the
 * versions it has applied in `schema_migrations`; opening applies the missing ones in one IMMEDIATE
 * transaction, so two processes opening a fresh file at once cannot both migrate it.
 * Never edit a shipped migration: add a new one.
 */
/** Widths of migration 3's handed-over slots (as shipped; migration 4 drops them). */
const SECOND_MS = 1000;
const SLOT_MS = 50;
const SLOT_WIDTHS = `(VALUES (${SECOND_MS}), (${SLOT_MS}))`;

/**
 * Migration 3's triggers. A row counts into the totals when it arrives (NEW) and out when it leaves (OLD):
 * open units per item + location, or handed-over units in its slot of each width. An update is the old
 * row leaving and the new one arriving. One trigger per case, each with its WHEN, so a row change runs
 * only the statements it needs (a hand-over: one update and one upsert).
 */
const RESERVATION_TOTAL_TRIGGERS = (() => {
  const openIn = `INSERT INTO reservation_open (item, location, quantity) VALUES (NEW.item, NEW.location, NEW.quantity)
          ON CONFLICT (item, location) DO UPDATE SET quantity = quantity + excluded.quantity;`;
  const openOut = 'UPDATE reservation_open SET quantity = quantity - OLD.quantity WHERE item = OLD.item AND location = OLD.location;';
  const handedIn = `INSERT INTO reservation_handed (item, location, width, slot, quantity)
          SELECT NEW.item, NEW.location, w.column1, NEW.handed_at / w.column1, NEW.quantity FROM ${SLOT_WIDTHS} AS w WHERE true
          ON CONFLICT (item, location, width, slot) DO UPDATE SET quantity = quantity + excluded.quantity;`;
  // One statement per width: an OR of the two would search every slot of the item.
  const handedOut = [SECOND_MS, SLOT_MS].map((w) => `UPDATE reservation_handed SET quantity = quantity - OLD.quantity
          WHERE item = OLD.item AND location = OLD.location AND width = ${w} AND slot = OLD.handed_at / ${w};`).join('\n        ');
  const trigger = (name: string, event: string, when: string, body: string) =>
    `      CREATE TRIGGER reservations_count_${name} AFTER ${event} ON reservations WHEN ${when} BEGIN\n        ${body}\n      END;`;
  return [
    trigger('insert_open', 'INSERT', 'NEW.handed_at IS NULL', openIn),
    trigger('insert_handed', 'INSERT', 'NEW.handed_at IS NOT NULL', handedIn),
    trigger('delete_open', 'DELETE', 'OLD.handed_at IS NULL', openOut),
    trigger('delete_handed', 'DELETE', 'OLD.handed_at IS NOT NULL', handedOut),
    trigger('update_open_out', 'UPDATE', 'OLD.handed_at IS NULL', openOut),
    trigger('update_handed_out', 'UPDATE', 'OLD.handed_at IS NOT NULL', handedOut),
    trigger('update_open_in', 'UPDATE', 'NEW.handed_at IS NULL', openIn),
    trigger('update_handed_in', 'UPDATE', 'NEW.handed_at IS NOT NULL', handedIn),
  ].join('\n');
})();

export const MIGRATIONS: readonly { version: number; sql: string }[] = [
  {
    version: 1,
    sql: `
      CREATE TABLE events (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,      -- AUTOINCREMENT: a pruned seq is never reused
        shop TEXT NOT NULL,
        dedupe_key TEXT NOT NULL,
        topic TEXT NOT NULL,
        resource_id TEXT,
        resource_updated_at TEXT,                   -- as received
        resource_updated_ms INTEGER,                -- the same instant, for ordering across offsets
        body TEXT NOT NULL,
        meta TEXT NOT NULL,
        received_at INTEGER NOT NULL,
        emitted_at INTEGER,
        UNIQUE (shop, dedupe_key)
      );
      CREATE INDEX events_resource ON events (shop, resource_id, resource_updated_ms);
      CREATE INDEX events_unemitted ON events (seq) WHERE emitted_at IS NULL;
      CREATE INDEX events_received ON events (received_at);

      CREATE TABLE orders (
        shop TEXT NOT NULL,
        order_id TEXT NOT NULL,
        order_name TEXT,
        state TEXT NOT NULL,
        documents TEXT NOT NULL,
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (shop, order_id)
      );
      CREATE TABLE order_history (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        shop TEXT NOT NULL,
        order_id TEXT NOT NULL,
        at INTEGER NOT NULL,
        event TEXT NOT NULL,
        detail TEXT
      );
      CREATE INDEX order_history_order ON order_history (shop, order_id, id);

      CREATE TABLE reservations (
        order_key TEXT NOT NULL,
        item TEXT NOT NULL,
        location TEXT NOT NULL,
        quantity REAL NOT NULL CHECK (quantity > 0),
        PRIMARY KEY (order_key, item, location)
      );
      CREATE INDEX reservations_item ON reservations (item, location);

      CREATE TABLE holds (
        id TEXT PRIMARY KEY,
        shop TEXT NOT NULL,
        order_id TEXT NOT NULL,
        order_name TEXT,
        route TEXT NOT NULL,
        reason TEXT NOT NULL,
        findings TEXT NOT NULL,
        msg TEXT NOT NULL,
        held_by TEXT NOT NULL,
        held_at INTEGER NOT NULL,
        retry_at INTEGER,
        attempts INTEGER NOT NULL,
        status TEXT NOT NULL,
        resolved_at INTEGER,
        resolved_by TEXT,
        resolution TEXT
      );
      CREATE INDEX holds_status_retry ON holds (status, retry_at);
      CREATE INDEX holds_held_at ON holds (held_at);

      CREATE TABLE leases (
        name TEXT PRIMARY KEY,
        owner TEXT NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE TABLE cursors (
        name TEXT PRIMARY KEY,
        value TEXT NOT NULL
      );
    `,
  },
  {
    // Reservations handed over to D365 (the sales order exists) are kept for a while with the time of
    // the handover: stock figures read before it do not include the order yet, so for them it still counts.
    version: 2,
    sql: `
      ALTER TABLE reservations ADD COLUMN handed_at INTEGER;
      CREATE INDEX reservations_open ON reservations (item, location, handed_at, quantity);
      CREATE INDEX reservations_handed ON reservations (handed_at) WHERE handed_at IS NOT NULL;
    `,
  },
  {
    // What the gate asks per item + location ("how much do others hold?") summed every row handed over
    // since the stock was read: at Black-Friday rates thousands of rows per question. Triggers keep
    // totals instead: open units per item + location, and units handed over per item + location in
    // slots of 1 s and of 50 ms (SECOND_MS, SLOT_MS), so a question sums whole seconds, then the 50 ms
    // slots of the second the stock was read in, then only the rows of its 50 ms slot.
    version: 3,
    sql: `
      CREATE TABLE reservation_open (
        item TEXT NOT NULL,
        location TEXT NOT NULL,
        quantity REAL NOT NULL,
        PRIMARY KEY (item, location)
      ) WITHOUT ROWID;
      CREATE TABLE reservation_handed (
        item TEXT NOT NULL,
        location TEXT NOT NULL,
        width INTEGER NOT NULL,                     -- ms per slot: SECOND_MS or SLOT_MS
        slot INTEGER NOT NULL,                      -- handed_at / width
        quantity REAL NOT NULL,
        PRIMARY KEY (item, location, width, slot)
      ) WITHOUT ROWID;
      CREATE INDEX reservation_handed_expiry ON reservation_handed (width, slot);

${RESERVATION_TOTAL_TRIGGERS}

      INSERT INTO reservation_open (item, location, quantity)
        SELECT item, location, SUM(quantity) FROM reservations WHERE handed_at IS NULL GROUP BY item, location;
      INSERT INTO reservation_handed (item, location, width, slot, quantity)
        SELECT item, location, w.column1, handed_at / w.column1, SUM(quantity) FROM reservations, ${SLOT_WIDTHS} AS w
        WHERE handed_at IS NOT NULL GROUP BY item, location, w.column1, handed_at / w.column1;
    `,
  },
  {
    // The totals move into memory (ReservationLedger, built from the rows and rebuilt when another
    // process has changed reservations): the triggers cost more on every reservation write than the
    // reads they saved. So do the two indexes by item + location, which only the summing queries read.
    // Each transaction with reservation writes counts one change in reservations_version, which is how
    // a process knows another one changed them.
    version: 4,
    sql: `
      CREATE TABLE reservations_version (id INTEGER PRIMARY KEY CHECK (id = 1), n INTEGER NOT NULL);
      INSERT INTO reservations_version (id, n) VALUES (1, 0);
      DROP INDEX reservations_item;
      DROP INDEX reservations_open;
      DROP TRIGGER reservations_count_insert_open;
      DROP TRIGGER reservations_count_insert_handed;
      DROP TRIGGER reservations_count_delete_open;
      DROP TRIGGER reservations_count_delete_handed;
      DROP TRIGGER reservations_count_update_open_out;
      DROP TRIGGER reservations_count_update_handed_out;
      DROP TRIGGER reservations_count_update_open_in;
      DROP TRIGGER reservations_count_update_handed_in;
      DROP TABLE reservation_open;
      DROP TABLE reservation_handed;
    `,
  },
  {
    // Reservations become one B-tree keyed by order + item + location (WITHOUT ROWID: a rowid table
    // kept the same key in a second index, two B-trees per write), and each row files the Shopify lines
    // it holds units for ([lineItemId, quantity] pairs), which the inventory gate kept in a cursor per
    // order (`inventory-gate:lines:<order key>`, a JSON list of {lineItemId, item, location, quantity}):
    // two statements fewer per order. The cursors are folded into the rows and deleted.
    version: 5,
    sql: `
      CREATE TABLE reservations_v5 (
        order_key TEXT NOT NULL,
        item TEXT NOT NULL,
        location TEXT NOT NULL,
        quantity REAL NOT NULL CHECK (quantity > 0),
        handed_at INTEGER,
        lines TEXT,
        PRIMARY KEY (order_key, item, location)
      ) WITHOUT ROWID;
      INSERT INTO reservations_v5 (order_key, item, location, quantity, handed_at, lines)
        SELECT r.order_key, r.item, r.location, r.quantity, r.handed_at,
          (SELECT json_group_array(json_array(json_extract(j.value, '$.lineItemId'), json_extract(j.value, '$.quantity')))
             FROM cursors c, json_each(CASE WHEN json_valid(c.value) AND json_type(c.value) = 'array' THEN c.value ELSE '[]' END) j
             WHERE c.name = 'inventory-gate:lines:' || r.order_key
               AND json_type(j.value, '$.lineItemId') = 'text' AND json_type(j.value, '$.quantity') IN ('integer', 'real')
               AND json_extract(j.value, '$.quantity') > 0
               AND json_extract(j.value, '$.item') = r.item AND json_extract(j.value, '$.location') = r.location
             HAVING COUNT(*) > 0)
        FROM reservations r;
      DROP TABLE reservations;
      ALTER TABLE reservations_v5 RENAME TO reservations;
      CREATE INDEX reservations_handed ON reservations (handed_at) WHERE handed_at IS NOT NULL;
      DELETE FROM cursors WHERE name LIKE 'inventory-gate:lines:%';
    `,
  },
];

export const SCHEMA_VERSION = MIGRATIONS[MIGRATIONS.length - 1].version;

/** Brings the database to SCHEMA_VERSION; refuses a file written by a newer version of this package. */
export function migrate(db: Database.Database, now: number): void {
  db.transaction(() => {
    db.exec('CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)');
    const row = db.prepare('SELECT MAX(version) AS v FROM schema_migrations').get() as { v: number | null };
    const current = row.v ?? 0;
    if (current > SCHEMA_VERSION) {
      throw new Error(`order journal: the database has schema version ${current}, newer than this package supports (${SCHEMA_VERSION}); upgrade the package or use another file`);
    }
    const mark = db.prepare('INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)');
    for (const m of MIGRATIONS) {
      if (m.version <= current) continue;
      db.exec(m.sql);
      mark.run(m.version, now);
    }
  }).immediate();
}
