import type { Node, NodeAPI, NodeDef } from 'node-red';
import { randomUUID } from 'crypto';
import { z } from 'zod';
import { formatZodError } from './lib/contract';
import { D365EventPoller } from './lib/d365-events/event-poller';
import { StatusCounter } from './lib/node-red/status';
import { onInput } from './lib/node-red/types';
import { lookupConfigNodes } from './lib/writer/config-nodes';

const Flag = (d: boolean) => z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).default(d);
const Config = z.object({
  connection: z.string().min(1, 'choose a D365 connection'),
  journal: z.string().min(1, 'choose an order journal'),
  intervalS: z.coerce.number().min(5).max(86_400).default(60),
  orderStatus: Flag(false),
  tracking: Flag(true),
  startFrom: z.enum(['now', 'beginning']).default('now'),
});

export = function (RED: NodeAPI) {
  function D365Trigger(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new StatusCounter(node, ['shipments', 'order changes'], []);
    const parsed = Config.safeParse(def);
    if (!parsed.success) {
      status.fail('invalid config');
      node.error(`d365-trigger: ${formatZodError(parsed.error)}`);
      return;
    }
    const cfg = parsed.data;
    const deps = lookupConfigNodes(RED, cfg);
    if (!deps.bc || !deps.journal) {
      status.fail(!deps.bc ? 'no D365 connection' : 'no journal');
      node.error('d365-trigger: the D365 connection or order journal config node is missing');
      return;
    }
    let poller: D365EventPoller | undefined;
    const name = `d365-trigger:${node.id}`;
    const owner = `${node.id}:${randomUUID()}`;
    const getPoller = () => (poller ??= new D365EventPoller({
      bc: deps.bc!(), journal: deps.journal!(), name, owner,
      // The lease outlives one interval so the holder keeps it between polls; a dead holder's lease lapses after three.
      leaseMs: cfg.intervalS * 3000, orderStatus: cfg.orderStatus, tracking: cfg.tracking, startFrom: cfg.startFrom,
      emit: (e) => { node.send({ topic: e.topic, payload: e.payload }); },
    }));
    let running: Promise<void> | undefined;
    const poll = (): Promise<void> => (running ??= (async () => {
      try {
        const r = await getPoller().poll();
        if (r.skipped) { node.status({ fill: 'grey', shape: 'ring', text: 'standby (lease elsewhere)' }); return; }
        if (r.shipments) status.add('shipments', r.shipments);
        if (r.orders) status.add('order changes', r.orders);
        if (!r.shipments && !r.orders) status.show();
      } finally {
        running = undefined;
      }
    })());
    const tick = () => poll().catch((e: Error) => { status.fail(e.message); node.error(`d365-trigger: poll failed: ${e.message}`); });
    const timer = setInterval(tick, cfg.intervalS * 1000);
    const first = setTimeout(tick, 1000);
    // An input message polls at once (inject, or a test), reporting failures through done(err).
    onInput(node, async () => { await poll(); }, (err) => status.fail(err.message));
    node.on('close', (_removed: boolean, done: () => void) => {
      clearInterval(timer);
      clearTimeout(first);
      // Give the lease back, so the redeployed node (or another instance) polls at once instead of
      // standing by until the lease lapses.
      (running ?? Promise.resolve()).catch(() => undefined)
        .then(() => (poller ? deps.journal!().releaseLease(`${name}:lease`, owner) : undefined))
        .catch((e: Error) => node.warn(`d365-trigger: could not give the poll lease back: ${e.message}`))
        .then(() => done());
    });
  }
  RED.nodes.registerType('d365-trigger', D365Trigger);
};
