import type { Node, NodeAPI, NodeDef, NodeMessage } from 'node-red';
import { randomUUID } from 'crypto';
import { z } from 'zod';
import { ORDER_TOPICS, formatZodError, hasBlocking, safeParseOrder } from './lib/contract';
import type { Finding, OrderMessage, ShopifyTopic } from './lib/contract';
import type { HoldRecord, OrderJournal } from './lib/journal/journal';
import { registerHoldsAdmin } from './lib/node-red/holds-admin';
import { STATUS_INTERVAL_MS, StatusCounter } from './lib/node-red/status';
import { onInput } from './lib/node-red/types';
import { HoldRegistry, releaseHold } from './lib/router/holds';
import { custodyOf, holdIdFor, settleCustody } from './lib/journal/custody';
import { orderIdentity, storableMessage } from './lib/router/hold-message';
import type { Routing } from './lib/router/hold-message';
import { Rule, decide, outputRuleNames, parseSchedule } from './lib/router/rules';
import type { Decision } from './lib/router/rules';

const Config = z.object({
  name: z.string().optional(),
  journal: z.string().min(1, 'choose an order journal'),
  rules: z.array(Rule).default([]),
  retrySchedule: z.string().default('1m, 5m, 15m, 1h'),
  retryPollS: z.coerce.number().positive().default(5),
});

interface JournalNode extends Node { getJournal(): OrderJournal }

export = function (RED: NodeAPI) {
  const registry = new HoldRegistry();
  registerHoldsAdmin(RED, registry);

  function OrderExceptionRouter(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const node = this;
    // Throttled: on the hot path a status update per clean order costs more than the routing itself.
    const status = new StatusCounter(node, ['clean', 'routed', 'held', 'retrying', 'released'], ['held', 'retrying'], STATUS_INTERVAL_MS);
    const parsed = Config.safeParse(def);
    if (!parsed.success) {
      status.fail('invalid config');
      node.error(`order-exception-router: ${formatZodError(parsed.error)}`);
      return;
    }
    const cfg = parsed.data;
    let schedule: number[];
    try {
      schedule = parseSchedule(cfg.retrySchedule);
    } catch (e) {
      status.fail('invalid config');
      node.error(`order-exception-router: ${(e as Error).message}`);
      return;
    }
    const journalNode = RED.nodes.getNode(cfg.journal) as JournalNode | null;
    if (!journalNode || typeof journalNode.getJournal !== 'function') {
      status.fail('no journal');
      node.error('order-exception-router: the order journal config node is missing');
      return;
    }
    const journal = journalNode.getJournal();
    const routeOutputs = outputRuleNames(cfg.rules).length;
    const outputs = 1 + routeOutputs + 2; // clean, one per output rule, held (notification), re-check
    const HELD = outputs - 2;
    const RECHECK = outputs - 1;

    const sendOn = (index: number, msg: NodeMessage, send: (m: (NodeMessage | null)[]) => void) => {
      const out: (NodeMessage | null)[] = new Array(outputs).fill(null);
      out[index] = msg;
      send(out);
    };

    const hold = async (msg: OrderMessage, route: string, reason: string, retryAt: number | undefined, attempts: number) => {
      const id = orderIdentity(msg);
      // One hold per event: a replay of the event (killed before it was settled) replaces this hold.
      const custody = custodyOf(msg);
      const record = await journal.putHold({
        id: custody ? holdIdFor(custody) : randomUUID(), ...id, route, reason, findings: (msg.findings ?? []) as Finding[], msg: storableMessage(msg),
        heldBy: node.id, heldAt: Date.now(), retryAt, attempts,
      });
      await journal.appendHistory(id.shop, id.orderId, retryAt ? 'hold:retry-later' : 'hold:held', `${route}: ${reason}`);
      // Held durably: the trigger's custody of the event ends here.
      await settleCustody(journal, msg);
      return record;
    };

    /** Retry later or hold: the message is parked in the journal (and sent on the held output when held). */
    const park = async (raw: NodeMessage, msg: OrderMessage, routing: Routing, decision: Extract<Decision, { action: 'retry' | 'hold' }>,
      send: (m: (NodeMessage | null)[]) => void) => {
      if (decision.action === 'retry') {
        const attempts = routing.attempts + 1;
        routing.rule = decision.rule?.name;
        if (attempts <= schedule.length) {
          Object.assign(routing, { decision: 'retry', attempts });
          const h = await hold(msg, decision.rule?.name ?? 'retry', decision.reason, Date.now() + schedule[attempts - 1]!, attempts);
          routing.holdId = h.id;
          status.add('retrying');
          return;
        }
        routing.decision = 'hold';
        const h = await hold(msg, decision.rule?.name ?? 'retry', `retries exhausted after ${attempts - 1} attempts; ${decision.reason}`, undefined, attempts - 1);
        routing.holdId = h.id;
      } else {
        Object.assign(routing, { decision: 'hold', rule: decision.rule?.name });
        const h = await hold(msg, decision.rule?.name ?? 'unrouted', decision.reason, undefined, routing.attempts);
        routing.holdId = h.id;
      }
      status.add('held');
      sendOn(HELD, raw, send);
    };

    // Synchronous for clean and routed orders (no promise per message); only parking waits for the journal.
    onInput(node, (raw, send) => {
      const msg = raw as unknown as OrderMessage;
      const isOrder = !msg.topic || ORDER_TOPICS.includes(msg.topic as ShopifyTopic);
      if (!isOrder && !hasBlocking(msg.findings as Finding[] | undefined)) {
        // Refunds, shipments and other lifecycle events are not checked orders: pass them on, unless a
        // node (the writer, the fulfillment sender) failed them: then the finding rules route them too.
        status.add('clean');
        sendOn(0, raw, send);
        return;
      }
      const order = isOrder ? safeParseOrder(msg.payload) : undefined;
      const prev = (msg.routing ?? {}) as Partial<Routing>;
      const { decision, findings } = decide(order?.success ? order.data : undefined, (msg.findings ?? []) as Finding[], cfg.rules);
      msg.findings = findings;
      const routing: Routing = { decision: 'clean', at: new Date().toISOString(), attempts: prev.attempts ?? 0 };
      msg.routing = routing;
      switch (decision.action) {
        case 'clean':
          status.add('clean');
          sendOn(0, raw, send);
          return;
        case 'output':
          Object.assign(routing, { decision: 'output', rule: decision.rule.name });
          status.add('routed');
          sendOn(1 + decision.output, raw, send);
          return;
        default:
          return park(raw, msg, routing, decision, send);
      }
    }, (err) => status.fail(err.message));

    /** Re-emits a released hold: through the checks again (re-check output), or straight on when forced. */
    const emitReleased = (h: HoldRecord, opts: { force: boolean; by: string; eventKey?: string }) => {
      const msg = { ...h.msg, _msgid: RED.util.generateId() } as OrderMessage;
      const { eventKey: _settled, ...meta } = msg.shopify ?? { shop: h.shop, topic: String(msg.topic ?? '') };
      msg.shopify = { ...meta, source: opts.by === 'retry' ? 'retry' : 'release', ...(opts.eventKey ? { eventKey: opts.eventKey } : {}) };
      msg.routing = { decision: opts.by === 'retry' ? 'retried' : 'released', at: new Date().toISOString(), attempts: h.attempts, holdId: h.id, by: opts.by } satisfies Routing;
      if (opts.force) {
        msg.findings = (msg.findings ?? []).map((f) => (f.severity === 'error'
          ? { ...f, severity: 'warning' as const, message: `${f.message} (released by ${opts.by} without re-check)` } : f));
      } else {
        // The re-check output leads back to the first check: every check recomputes its own findings
        // and the writer tries again, so findings of the last pass (e.g. the writer's D365_UNAVAILABLE)
        // would only make the router repeat its old decision.
        msg.findings = [];
      }
      status.add('released');
      sendOn(opts.force ? 0 : RECHECK, msg as unknown as NodeMessage, (m) => node.send(m));
    };
    registry.register({ id: node.id, name: cfg.name || 'order-exception-router', journal, emitReleased });

    // Retry-later: due holds are taken with the same compare-and-set a person's release uses, so one
    // instance (and one tick) re-emits each. Survives restarts because the schedule lives in the journal.
    let polling = false;
    const pollRetries = async () => {
      if (polling) return;
      polling = true;
      try {
        for (const h of await journal.dueRetries(Date.now(), 100)) {
          if (h.heldBy !== node.id) continue;
          const taken = await releaseHold(journal, h, 'retry', `retry attempt ${h.attempts}`, 'retry');
          if (taken) emitReleased(taken.hold, { force: false, by: 'retry', eventKey: taken.eventKey });
        }
      } catch (e) {
        status.fail(`retry poll: ${(e as Error).message}`);
      } finally {
        polling = false;
      }
    };
    const timer = setInterval(() => void pollRetries(), cfg.retryPollS * 1000);
    timer.unref();
    node.on('close', () => {
      clearInterval(timer);
      registry.unregister(node.id);
      node.status({});
    });
  }

  RED.nodes.registerType('order-exception-router', OrderExceptionRouter);
};
