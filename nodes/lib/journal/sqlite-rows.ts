import { z } from 'zod';
import { Finding, formatZodError } from '../contract';
import { HoldStatus, OrderState } from './journal';
import type { EventRecord, HoldRecord, OrderHistoryEntry, OrderRecord, ReservedLine } from './journal';

/**
 * Decoding of stored rows. Every JSON column goes through JSON.parse (never eval, never merged into
 * an existing object) and then a zod schema, so a row damaged on disk or by hand fails right here
 * with the table and key in the message instead of as a TypeError somewhere in a flow. zod's record
 * and object parsers build fresh objects and drop `__proto__` keys, so stored JSON cannot reach a
 * prototype.
 */

const JsonObject = z.record(z.string(), z.unknown());
const Documents = z.record(z.string(), z.string());
const Findings = z.array(Finding);

const OrderStateSchema = OrderState;

const nullableStr = z.string().nullable();
const nullableInt = z.number().nullable();

const EventRow = z.object({
  seq: z.number().int(),
  shop: z.string(),
  dedupe_key: z.string(),
  topic: z.string(),
  resource_id: nullableStr,
  resource_updated_at: nullableStr,
  body: z.string(),
  meta: z.string(),
  received_at: z.number(),
  emitted_at: nullableInt,
});

const OrderRow = z.object({
  shop: z.string(),
  order_id: z.string(),
  order_name: nullableStr,
  state: OrderStateSchema,
  documents: z.string(),
  updated_at: z.number(),
});

const HistoryRow = z.object({ at: z.number(), event: z.string(), detail: nullableStr });

const HoldRow = z.object({
  id: z.string(),
  shop: z.string(),
  order_id: z.string(),
  order_name: nullableStr,
  route: z.string(),
  reason: z.string(),
  findings: z.string(),
  msg: z.string(),
  held_by: z.string(),
  held_at: z.number(),
  retry_at: nullableInt,
  attempts: z.number().int(),
  status: HoldStatus,
  resolved_at: nullableInt,
  resolved_by: nullableStr,
  resolution: nullableStr,
});

const ReservedLinesRow = z.object({ item: z.string(), location: z.string(), lines: z.string() });
/** [lineItemId, quantity] pairs, as reserve() files them. */
const RowLines = z.array(z.tuple([z.string(), z.number().finite().positive()]));

export class CorruptRowError extends Error {
  constructor(table: string, key: string, problem: string) {
    super(`order journal: corrupted row in table "${table}" (key ${key}): ${problem}`);
    this.name = 'CorruptRowError';
  }
}

function row<T>(schema: z.ZodType<T>, table: string, key: string, raw: unknown): T {
  const r = schema.safeParse(raw);
  if (!r.success) throw new CorruptRowError(table, key, formatZodError(r.error));
  return r.data;
}

function json<T>(schema: z.ZodType<T>, table: string, key: string, column: string, text: string): T {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new CorruptRowError(table, key, `column ${column} is not valid JSON (${(e as Error).message})`);
  }
  const r = schema.safeParse(parsed);
  if (!r.success) throw new CorruptRowError(table, key, `column ${column}: ${formatZodError(r.error)}`);
  return r.data;
}

/** JSON.stringify with an error that says what could not be stored (circular msg, BigInt, …). */
export function encodeJson(what: string, value: unknown): string {
  let text: string | undefined;
  try {
    text = JSON.stringify(value);
  } catch (e) {
    throw new Error(`order journal: ${what} cannot be stored as JSON (${(e as Error).message})`);
  }
  if (text === undefined) throw new Error(`order journal: ${what} cannot be stored as JSON`);
  return text;
}

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

/** Drops absent optional fields, so records compare and serialise as if written by hand. */
function compact<T extends object>(o: T): T {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as T;
}

export function decodeEvent(raw: unknown): EventRecord {
  const key = describeKey(raw, 'seq');
  const r = row(EventRow, 'events', key, raw);
  return compact({
    seq: r.seq,
    shop: r.shop,
    dedupeKey: r.dedupe_key,
    topic: r.topic,
    resourceId: opt(r.resource_id),
    resourceUpdatedAt: opt(r.resource_updated_at),
    body: r.body,
    meta: json(JsonObject, 'events', key, 'meta', r.meta),
    receivedAt: r.received_at,
    emittedAt: opt(r.emitted_at),
  });
}

export function decodeOrder(raw: unknown, historyRows: readonly unknown[]): OrderRecord {
  const key = `${describeKey(raw, 'shop')}/${describeKey(raw, 'order_id')}`;
  const r = row(OrderRow, 'orders', key, raw);
  const history: OrderHistoryEntry[] = historyRows.map((h) => {
    const e = row(HistoryRow, 'order_history', key, h);
    return e.detail === null ? { at: e.at, event: e.event } : { at: e.at, event: e.event, detail: e.detail };
  });
  return compact({
    shop: r.shop,
    orderId: r.order_id,
    orderName: opt(r.order_name),
    state: r.state,
    documents: json(Documents, 'orders', key, 'documents', r.documents),
    history,
    updatedAt: r.updated_at,
  });
}

export function decodeHold(raw: unknown): HoldRecord {
  const key = describeKey(raw, 'id');
  const r = row(HoldRow, 'holds', key, raw);
  return compact({
    id: r.id,
    shop: r.shop,
    orderId: r.order_id,
    orderName: opt(r.order_name),
    route: r.route,
    reason: r.reason,
    findings: json(Findings, 'holds', key, 'findings', r.findings),
    msg: json(JsonObject, 'holds', key, 'msg', r.msg),
    heldBy: r.held_by,
    heldAt: r.held_at,
    retryAt: opt(r.retry_at),
    attempts: r.attempts,
    status: r.status,
    resolvedAt: opt(r.resolved_at),
    resolvedBy: opt(r.resolved_by),
    resolution: opt(r.resolution),
  });
}

function describeKey(raw: unknown, column: string): string {
  const v = raw && typeof raw === 'object' ? (raw as Record<string, unknown>)[column] : undefined;
  return typeof v === 'string' || typeof v === 'number' ? JSON.stringify(v) : '?';
}

/** A reservation row's Shopify lines, one entry per line item. */
export function decodeReservedLines(orderKey: string, raw: unknown): ReservedLine[] {
  const key = `${JSON.stringify(orderKey)}/${describeKey(raw, 'item')}/${describeKey(raw, 'location')}`;
  const r = row(ReservedLinesRow, 'reservations', key, raw);
  return json(RowLines, 'reservations', key, 'lines', r.lines)
    .map(([lineItemId, quantity]) => ({ lineItemId, item: r.item, location: r.location, quantity }));
}
