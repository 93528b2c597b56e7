import { createHash } from 'crypto';
import type { HoldRecord, OrderJournal } from './journal';

/**
 * Custody of an acknowledged event lasts until the order it carries is recorded somewhere durable:
 * created (or otherwise finished) by the writer, or stored as a hold by the router. Until then the
 * journal lists the event as unsettled and the trigger replays it at the next start, so a process
 * killed while the order is inside the checks loses nothing.
 *
 * A message in custody carries `msg.shopify.eventKey` (the event's dedupe key) and `msg.shopify.shop`;
 * nodes that end custody settle by that pair, so a journal that never recorded the event (another
 * journal config node) is left alone.
 */

interface CustodyCarrier { shopify?: { shop?: unknown; eventKey?: unknown } }

export interface CustodyKey { shop: string; key: string }

export function custodyOf(msg: CustodyCarrier): CustodyKey | undefined {
  const s = msg.shopify;
  if (!s || typeof s.shop !== 'string' || typeof s.eventKey !== 'string' || !s.shop || !s.eventKey) return undefined;
  return { shop: s.shop, key: s.eventKey };
}

/** Ends custody of the message's event; true when this call settled it. */
export async function settleCustody(journal: OrderJournal, msg: CustodyCarrier): Promise<boolean> {
  const c = custodyOf(msg);
  return c ? journal.settleEvent(c.shop, c.key) : false;
}

/**
 * A stable id for what is held on behalf of one event: a replay of the same event (the process died
 * between storing the hold and settling the event) replaces the hold instead of adding a second one.
 */
export function holdIdFor(c: CustodyKey): string {
  return createHash('sha256').update(`${c.shop}\n${c.key}`).digest('hex').slice(0, 32);
}

/**
 * Re-opens custody for an order leaving a hold (released by a person or by retry-later): the held
 * message is recorded as a new event before the hold is resolved, so a process killed after the
 * release replays the order through the checks instead of losing it. The key is stable per hold
 * incarnation: a second attempt at the same release finds the event already recorded (`fresh` false).
 */
export async function reopenCustody(journal: OrderJournal, hold: HoldRecord, source: 'release' | 'retry'):
  Promise<(CustodyKey & { fresh: boolean }) | undefined> {
  const c = custodyOf(hold.msg as CustodyCarrier);
  const topic = hold.msg.topic;
  if (!c || typeof topic !== 'string' || !topic) return undefined;
  const key = `release:${hold.id}:${hold.heldAt}`;
  const r = await journal.recordEvent({
    shop: c.shop, dedupeKey: key, topic, resourceId: hold.orderId, body: JSON.stringify(hold.msg.payload ?? null),
    meta: { ...(hold.msg.shopify as Record<string, unknown>), source, eventKey: key },
  });
  return { shop: c.shop, key, fresh: r.status === 'new' };
}
