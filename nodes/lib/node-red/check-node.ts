import type { Node, NodeMessageInFlow } from 'node-red';
import { z } from 'zod';
import { Erp, FindingInput, ORDER_TOPICS, appendFindings, formatZodError, hasBlocking, safeParseOrder } from '../contract';
import type { Order } from '../contract';
import type { Finding, OrderMessage, ShopifyTopic } from '../contract';
import { STATUS_INTERVAL_MS, StatusCounter } from './status';
import { isThenable, onInput } from './types';
import type { Send } from './types';

export const CheckMode = z.enum(['annotate', 'divert']);
export type CheckMode = z.infer<typeof CheckMode>;

export interface CheckOutcome {
  findings: Omit<FindingInput, 'check'>[];
  /** The part of msg.erp this check fills (shallow-merged into msg.erp). */
  erp?: Partial<Erp>;
}

export type CheckFn = (order: Order, msg: OrderMessage) => Promise<CheckOutcome> | CheckOutcome;

/** Bad config: say why once, show it, and fail every message through done(err) so Catch nodes see it. */
export function refuseConfig(node: Node, type: string, reason: string): void {
  const text = `${type}: invalid configuration: ${reason}`;
  node.error(text);
  node.status({ fill: 'red', shape: 'ring', text: 'invalid config' });
  onInput(node, () => { throw new Error(text); });
}

/** A node's config parsed with its schema once, in the constructor; invalid config is refused (see refuseConfig). */
export function parseConfigOrFail<S extends z.ZodType>(node: Node, type: string, schema: S, def: unknown): z.infer<S> | undefined {
  const cfg = schema.safeParse(def);
  if (cfg.success) return cfg.data;
  refuseConfig(node, type, formatZodError(cfg.error));
  return undefined;
}

/**
 * The shared runtime of every check node: takes an order message, runs the check, replaces this
 * check's earlier findings (a released order is re-checked, not double-flagged), fills msg.erp, and
 * sends on output 1, or on output 2 in divert mode when a blocking finding was added.
 * Messages that are not orders (refunds, shipments) pass through output 1 untouched.
 */
export function wireCheckNode(node: Node, check: string, mode: CheckMode, run: CheckFn): StatusCounter {
  const status = new StatusCounter(node, ['passed', 'flagged', 'skipped'], ['flagged'], STATUS_INTERVAL_MS);
  const at = { check, mode, status };
  onInput(node, (raw: NodeMessageInFlow, send) => {
    const msg = raw as unknown as OrderMessage;
    if (!ORDER_TOPICS.includes(msg.topic as ShopifyTopic) && msg.topic !== undefined && msg.topic !== '') {
      status.add('skipped');
      send([raw, null]);
      return;
    }
    const prior: Finding[] = Array.isArray(msg.findings) ? msg.findings : [];
    // The usual case (no earlier finding of this check) keeps the array instead of copying it.
    msg.findings = hasFindingOf(prior, check) ? prior.filter((f) => f.check !== check) : prior;
    const parsed = safeParseOrder(msg.payload);
    if (!parsed.success) {
      finish(at, msg, send, { findings: [{ code: 'PAYLOAD_INVALID', severity: 'error', message: `msg.payload is not a Shopify order: ${formatZodError(parsed.error)}` }] });
      return;
    }
    msg.payload = parsed.data; // the validated object: the next node recognises it instead of parsing again
    // A check that answers synchronously (no lookup, or every lookup cached) costs no promise (and no closure).
    const outcome = run(parsed.data, msg);
    if (isThenable(outcome)) return Promise.resolve(outcome).then((o) => finish(at, msg, send, o));
    finish(at, msg, send, outcome);
  }, (err) => status.fail(err.message));
  return status;
}

function hasFindingOf(findings: readonly Finding[], check: string): boolean {
  for (const f of findings) if (f.check === check) return true;
  return false;
}

/** Files the outcome on the message (findings replaced for this check, msg.erp filled in place) and sends it on. */
function finish(at: { check: string; mode: CheckMode; status: StatusCounter }, msg: OrderMessage, send: Send, outcome: CheckOutcome): void {
  appendFindings(msg, at.check, outcome.findings);
  if (outcome.erp) msg.erp = Object.assign(msg.erp !== null && typeof msg.erp === 'object' ? msg.erp : {}, outcome.erp);
  const blocked = outcome.findings.length > 0 && hasBlocking(msg.findings!.filter((f) => f.check === at.check));
  at.status.add(blocked ? 'flagged' : 'passed');
  const raw = msg as unknown as NodeMessageInFlow;
  send(at.mode === 'divert' && blocked ? [null, raw] : [raw, null]);
}
