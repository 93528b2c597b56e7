import { z } from 'zod';
import type { Finding } from '../contract';

/**
 * The order journal: the durable state behind every promise this package makes (a webhook 200, a
 * reservation, a hold, "created in D365 exactly once"). Every method that returns has committed.
 * Async so that a networked backend (Redis) can implement the same interface.
 */

/** A webhook (or reconciled) event as recorded before it is acknowledged. */
export interface EventRecord {
  seq: number;
  shop: string;
  /** X-Shopify-Webhook-Id, or `reconcile:<order id>:<updated_at>` for polled events. */
  dedupeKey: string;
  topic: string;
  /** Shopify resource id the event is about (order id for orders/*; order_id for refunds), if any. */
  resourceId?: string;
  /** updated_at of the resource (orders/updated ordering). */
  resourceUpdatedAt?: string;
  /** Raw JSON body exactly as received. */
  body: string;
  /** msg.shopify as it will be emitted. */
  meta: Record<string, unknown>;
  receivedAt: number;
  emittedAt?: number;
}

export type RecordEventInput = Omit<EventRecord, 'seq' | 'receivedAt' | 'emittedAt'>;

export type RecordEventResult =
  | { status: 'new'; seq: number }
  | { status: 'duplicate' }
  /** An orders/updated older than one already recorded for the same resource. */
  | { status: 'stale'; newerUpdatedAt: string };

export const OrderState = z.enum(['received', 'checked', 'held', 'creating', 'created', 'cancelled', 'closed', 'failed']);
export type OrderState = z.infer<typeof OrderState>;

export const HoldStatus = z.enum(['held', 'released', 'discarded']);
export type HoldStatus = z.infer<typeof HoldStatus>;

export interface OrderHistoryEntry {
  at: number;
  event: string;
  detail?: string;
}

export interface OrderRecord {
  shop: string;
  orderId: string;
  orderName?: string;
  state: OrderState;
  /** D365 document numbers/ids keyed by kind: salesOrder, salesOrderId, creditMemo:<refund id>, … */
  documents: Record<string, string>;
  history: OrderHistoryEntry[];
  updatedAt: number;
}

export interface ReservationLine {
  /** D365 item (+ variant) key, e.g. `1996-S` or `1996-S:RED`. */
  item: string;
  location: string;
  quantity: number;
  /** Units available to promise before any in-flight reservation: the reservation succeeds only if
   * (sum of other orders' reservations for item+location) + quantity <= limit. */
  limit: number;
  /** When the D365 figure behind `limit` was read (epoch ms; default now): reservations handed over to
   * D365 after that moment still count, since the figure does not include their sales orders yet. */
  stockReadAt?: number;
  /** The Shopify line item the units are for: filed with the reservation, so a refund can release by line. */
  lineItemId?: string;
}

/** Units of an order's open reservation by Shopify line item (as reserved: see ReservationLine.lineItemId). */
export interface ReservedLine {
  lineItemId: string;
  item: string;
  location: string;
  quantity: number;
}

/** How long a handed-over reservation is kept: longer than any stock figure may be cached (1 h) plus slack. */
export const HANDED_OVER_KEEP_MS = 65 * 60_000;

/** A journal's promise-returning methods as their synchronous selves (what runs inside its transaction). */
type Synchronous<T> = { [K in keyof T]: T[K] extends (...args: infer A) => Promise<infer R> ? (...args: A) => R : never };

/** The journal's reservation (and cursor) methods, synchronous, inside reservationTransaction; each does what its OrderJournal namesake does. */
export type ReservationTx = Synchronous<Pick<OrderJournal, 'reserve' | 'release' | 'handOver' | 'reservedQuantity' | 'reservationsOf' | 'reservedLines' | 'getCursor' | 'setCursor' | 'deleteCursor'>> & {
  /** The order's journal state (undefined: no record). */
  orderState(shop: string, orderId: string): OrderState | undefined;
};

export interface ReserveResult {
  ok: boolean;
  /** Lines that did not fit, with what was left for them. Nothing is reserved when ok is false. */
  shortfalls: { item: string; location: string; requested: number; available: number }[];
}

export interface HoldRecord {
  id: string;
  shop: string;
  orderId: string;
  orderName?: string;
  /** Router rule / route name that held it. */
  route: string;
  reason: string;
  findings: Finding[];
  /** The whole message needed to replay the order (serialisable parts only). */
  msg: Record<string, unknown>;
  heldBy: string;
  heldAt: number;
  /** For retry-later holds: when to retry next and how many attempts were made. */
  retryAt?: number;
  attempts: number;
  status: HoldStatus;
  resolvedAt?: number;
  resolvedBy?: string;
  resolution?: string;
}

export interface HoldFilter {
  status?: HoldStatus;
  code?: string;
  route?: string;
  olderThanMs?: number;
  limit?: number;
}

export interface OrderJournal {
  // --- webhook events ---------------------------------------------------------------------------
  /** Records an event durably unless its dedupe key was seen (duplicate) or it is an older update. */
  recordEvent(e: RecordEventInput): Promise<RecordEventResult>;
  markEmitted(seq: number): Promise<void>;
  /**
   * Ends custody of an event by its dedupe key (as `markEmitted` does by seq): the order it carried
   * is recorded somewhere durable now. False when there is no such unsettled event (another journal,
   * or settled already).
   */
  settleEvent(shop: string, dedupeKey: string): Promise<boolean>;
  /** Events recorded but not yet settled (emitted, or settled downstream when custody lasts that long),
   * in seq order, after `afterSeq` (for paging through a backlog). */
  unemittedEvents(limit?: number, afterSeq?: number): Promise<EventRecord[]>;
  /** Drops emitted events received longer ago than the age (unemitted ones are kept); returns how many. */
  pruneEvents(olderThanMs: number): Promise<number>;

  // --- orders -----------------------------------------------------------------------------------
  getOrder(shop: string, orderId: string): Promise<OrderRecord | undefined>;
  /**
   * Compare-and-set on the order's state: moves to `to` only if the current state is one of
   * `from` (`undefined` in `from` = no record yet). Returns the record after the change, or
   * undefined when the state did not match (someone else got there first).
   */
  transitionOrder(shop: string, orderId: string, from: readonly (OrderState | undefined)[], to: OrderState,
    change?: { orderName?: string; documents?: Record<string, string>; event?: string; detail?: string }): Promise<OrderRecord | undefined>;
  /** Appends to an order's history; allowed before the order has a record (shown once it exists). */
  appendHistory(shop: string, orderId: string, event: string, detail?: string): Promise<void>;

  // --- inventory reservations -------------------------------------------------------------------
  /**
   * Runs `fn` with the reservation methods in one write transaction, synchronously (`fn` must not
   * await): what it reads cannot change before what it writes is committed, so an allocation read
   * and reserved in one call never races another order's. A throw rolls back its writes and rejects.
   * `fn` must have no effect outside the transaction: a backend may run it again after rolling back
   * (SqliteJournal does when another write of the same group commit throws).
   */
  reservationTransaction<T>(fn: (tx: ReservationTx) => T): Promise<T>;
  /** All-or-nothing reservation of an order's lines (replaces that order's earlier reservation). */
  reserve(orderKey: string, lines: readonly ReservationLine[]): Promise<ReserveResult>;
  /** Releases an order's reservation (all lines, or only `quantities` per item+location), handed over or not. */
  release(orderKey: string, quantities?: readonly { item: string; location: string; quantity: number }[]): Promise<number>;
  /**
   * The order is D365 sales-order demand now: its reservation stops counting for stock figures read
   * after this moment, still counts for figures read before (they do not include the order), and is
   * dropped after HANDED_OVER_KEEP_MS. Returns the units handed over.
   */
  handOver(orderKey: string): Promise<number>;
  /** Units reserved at item+location that a D365 figure read at `stockReadAt` (default now) does not include. */
  reservedQuantity(item: string, location: string, stockReadAt?: number): Promise<number>;
  /** The order's reservation while it is in flight (not yet handed over). */
  reservationsOf(orderKey: string): Promise<{ item: string; location: string; quantity: number }[]>;
  /** The same by Shopify line item, for the lines reserved with a lineItemId (quantities as reserved). */
  reservedLines(orderKey: string): Promise<ReservedLine[]>;

  // --- exception holds --------------------------------------------------------------------------
  /** Stores a hold (status 'held'); an existing id is replaced and set back to 'held'. */
  putHold(h: Omit<HoldRecord, 'status' | 'attempts'> & { attempts?: number }): Promise<HoldRecord>;
  getHold(id: string): Promise<HoldRecord | undefined>;
  listHolds(filter?: HoldFilter): Promise<HoldRecord[]>;
  /** Due retry-later holds (retryAt <= now), oldest first. */
  dueRetries(now: number, limit?: number): Promise<HoldRecord[]>;
  /** Moves a held hold to released/discarded exactly once; returns undefined if it was not 'held'. */
  resolveHold(id: string, status: 'released' | 'discarded', by: string, resolution?: string): Promise<HoldRecord | undefined>;
  rescheduleHold(id: string, retryAt: number | undefined, attempts: number): Promise<void>;

  // --- singletons and cursors ---------------------------------------------------------------------
  /** Takes or renews a named lease for `owner` (one instance runs a poll); false if another holds it. */
  acquireLease(name: string, owner: string, ttlMs: number): Promise<boolean>;
  /** Gives a lease up early (a stopping instance, a finished critical section); no-op unless `owner` holds it. */
  releaseLease(name: string, owner: string): Promise<void>;
  getCursor(name: string): Promise<string | undefined>;
  setCursor(name: string, value: string): Promise<void>;
  deleteCursor(name: string): Promise<void>;

  close(): Promise<void>;
}
