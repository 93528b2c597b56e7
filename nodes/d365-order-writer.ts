import type { Node, NodeAPI, NodeDef } from 'node-red';
import { randomUUID } from 'crypto';
import { z } from 'zod';
import { appendFindings, formatZodError } from './lib/contract';
import type { OrderMessage } from './lib/contract';
import { settleCustody } from './lib/journal/custody';
import { StatusCounter } from './lib/node-red/status';
import { onInput } from './lib/node-red/types';
import { lookupConfigNodes } from './lib/writer/config-nodes';
import { OrderWriter, WRITER_CHECK } from './lib/writer/order-writer';
import { WriterSettings } from './lib/writer/settings';

const Config = WriterSettings.extend({
  connection: z.string().min(1, 'choose a D365 connection'),
  journal: z.string().min(1, 'choose an order journal'),
  store: z.string().optional(),
});

export = function (RED: NodeAPI) {
  function D365OrderWriter(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new StatusCounter(node, ['created', 'updated', 'cancelled', 'refunded', 'dry run', 'failed'], ['failed']);
    const parsed = Config.safeParse(def);
    if (!parsed.success) {
      status.fail('invalid config');
      node.error(`d365-order-writer: ${formatZodError(parsed.error)}`);
      return;
    }
    const cfg = parsed.data;
    const deps = lookupConfigNodes(RED, cfg);
    if (!deps.bc || !deps.journal) {
      status.fail(!deps.bc ? 'no D365 connection' : 'no journal');
      node.error('d365-order-writer: the D365 connection or order journal config node is missing');
      return;
    }
    const owner = `${node.id}:${randomUUID()}`;
    let writer: OrderWriter | undefined;
    const getWriter = () => (writer ??= new OrderWriter({
      bc: deps.bc!(), journal: deps.journal!(), shopify: deps.shopify?.(), settings: cfg, dryRun: deps.dryRun(), owner,
    }));

    onInput(node, async (raw, send) => {
      const msg = raw as unknown as OrderMessage;
      status.busy('writing…');
      const r = await getWriter().handle(msg, deps.shopDomain);
      msg.findings = (Array.isArray(msg.findings) ? msg.findings : []).filter((f) => f.check !== WRITER_CHECK);
      appendFindings(msg, WRITER_CHECK, r.findings);
      msg.erp = { ...(msg.erp ?? {}), ...(r.salesOrder ? { salesOrder: r.salesOrder } : {}), ...(r.creditMemo ? { creditMemo: r.creditMemo } : {}) };
      msg.writer = { action: r.action, ...(r.changes ? { changes: r.changes } : {}) };
      if (r.request) msg.d365Request = r.request;
      const key = r.action === 'dry-run' ? 'dry run' : !r.ok ? 'failed'
        : ({ created: 'created', exists: 'created', updated: 'updated', cancelled: 'cancelled', refunded: 'refunded' } as Record<string, string>)[r.action];
      if (key) status.add(key); else status.show();
      // The outcome is recorded: the trigger's custody of the event ends. A failure is not settled here:
      // it goes on to whatever handles it (the router holds it and settles then).
      if (r.ok) await settleCustody(deps.journal!(), msg);
      send(r.ok ? [raw, null] : [null, raw]);
    }, (err) => status.fail(err.message));
  }
  RED.nodes.registerType('d365-order-writer', D365OrderWriter);
};
