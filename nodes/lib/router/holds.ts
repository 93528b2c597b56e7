import { reopenCustody } from '../journal/custody';
import type { HoldFilter, HoldRecord, OrderJournal } from '../journal/journal';

/**
 * The exception hold queue as the admin API and the editor's sidebar see it: every deployed router
 * registers here with its journal and a way to re-emit; list/release/discard work across them.
 * No Node-RED inside, so it is unit-testable; the router node and the admin routes are thin.
 */
export interface RouterHandle {
  id: string;
  name: string;
  journal: OrderJournal;
  /** Emits a released order (re-check output, or clean output when forced). Called after the commit;
   * `eventKey`: the journal event that keeps custody of the released order, if custody is kept. */
  emitReleased(hold: HoldRecord, opts: { force: boolean; by: string; eventKey?: string }): void;
}

/**
 * Takes a hold out of the queue exactly once (the journal's compare-and-set from 'held'), custody of
 * the order re-opened first so that a crash right after the release replays it. Undefined when the
 * hold was no longer 'held' (someone else released or discarded it).
 */
export async function releaseHold(journal: OrderJournal, hold: HoldRecord, by: string, resolution: string, source: 'release' | 'retry'):
  Promise<{ hold: HoldRecord; eventKey?: string } | undefined> {
  const custody = await reopenCustody(journal, hold, source);
  const done = await journal.resolveHold(hold.id, 'released', by, resolution);
  if (!done) {
    // Not ours to release: the event recorded just now must not replay it.
    if (custody?.fresh) await journal.settleEvent(custody.shop, custody.key);
    return undefined;
  }
  return { hold: done, eventKey: custody?.key };
}

export class HoldError extends Error {
  constructor(readonly status: 404 | 409 | 400, message: string) {
    super(message);
    this.name = 'HoldError';
  }
}

export interface HoldListing {
  holds: HoldSummary[];
  counts: { byCode: Record<string, number>; byRoute: Record<string, number>; total: number };
}

/** What the list shows: everything but the stored message. */
export type HoldSummary = Omit<HoldRecord, 'msg'> & { routerName?: string; routerDeployed: boolean };

export class HoldRegistry {
  private readonly routers = new Map<string, RouterHandle>();

  register(h: RouterHandle): void {
    this.routers.set(h.id, h);
  }

  unregister(id: string): void {
    this.routers.delete(id);
  }

  private journals(): OrderJournal[] {
    return [...new Set([...this.routers.values()].map((r) => r.journal))];
  }

  async list(filter: HoldFilter = {}): Promise<HoldListing> {
    const all: HoldRecord[] = [];
    for (const j of this.journals()) all.push(...(await j.listHolds(filter)));
    all.sort((a, b) => b.heldAt - a.heldAt);
    const holds = all.slice(0, filter.limit ?? 500).map((h) => this.summarise(h));
    const byCode: Record<string, number> = {};
    const byRoute: Record<string, number> = {};
    for (const h of all) {
      byRoute[h.route] = (byRoute[h.route] ?? 0) + 1;
      for (const code of new Set(h.findings.filter((f) => f.severity === 'error').map((f) => f.code))) {
        byCode[code] = (byCode[code] ?? 0) + 1;
      }
    }
    return { holds, counts: { byCode, byRoute, total: all.length } };
  }

  private summarise(h: HoldRecord): HoldSummary {
    const { msg: _msg, ...rest } = h;
    const router = this.routers.get(h.heldBy);
    return { ...rest, routerName: router?.name, routerDeployed: !!router };
  }

  /** One hold with its stored message (for the detail view). */
  async get(id: string): Promise<{ hold: HoldRecord; journal: OrderJournal }> {
    for (const j of this.journals()) {
      const hold = await j.getHold(id);
      if (hold) return { hold, journal: j };
    }
    throw new HoldError(404, `no held order with id ${id}`);
  }

  /**
   * Releases a held order exactly once: the journal's compare-and-set from 'held' decides, so a
   * double click (or two editors, or two instances) re-emits it once and the second caller gets 409.
   */
  async release(id: string, by: string, force = false): Promise<HoldRecord> {
    const { hold, journal } = await this.get(id);
    const router = this.routers.get(hold.heldBy);
    if (!router) throw new HoldError(409, `the router that held ${hold.orderName ?? hold.orderId} is not deployed; deploy it to release`);
    const done = await releaseHold(journal, hold, by, force ? 'released without re-check' : 'released for re-check', 'release');
    if (!done) throw new HoldError(409, `${hold.orderName ?? hold.orderId} was already ${hold.status === 'held' ? 'resolved' : hold.status}`);
    await journal.appendHistory(hold.shop, hold.orderId, force ? 'hold:released-forced' : 'hold:released', `by ${by}`);
    router.emitReleased(done.hold, { force, by, eventKey: done.eventKey });
    return done.hold;
  }

  async discard(id: string, by: string, reason: string): Promise<HoldRecord> {
    if (!reason.trim()) throw new HoldError(400, 'a reason is required to discard a held order');
    const { hold, journal } = await this.get(id);
    const done = await journal.resolveHold(id, 'discarded', by, reason.trim());
    if (!done) throw new HoldError(409, `${hold.orderName ?? hold.orderId} was already ${hold.status}`);
    await journal.appendHistory(hold.shop, hold.orderId, 'hold:discarded', `by ${by}: ${reason.trim()}`);
    return done;
  }
}
