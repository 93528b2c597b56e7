import type { Node, NodeAPI, NodeDef } from 'node-red';
import { z } from 'zod';
import { appendFindings, formatZodError } from './lib/contract';
import type { OrderMessage } from './lib/contract';
import { parseTable } from './lib/fulfillment/allocate';
import { FulfillmentSender, SenderSettings } from './lib/fulfillment/fulfillment-sender';
import { StatusCounter } from './lib/node-red/status';
import { onInput } from './lib/node-red/types';
import { lookupConfigNodes } from './lib/writer/config-nodes';

/** The `check` of the sender's findings: its node type, like every check node's. */
const CHECK = 'shopify-fulfillment-sender';
const Config = z.object({
  store: z.string().min(1, 'choose a Shopify store'),
  journal: z.string().min(1, 'choose an order journal'),
  notifyCustomer: z.union([z.boolean(), z.enum(['true', 'false']).transform((v) => v === 'true')]).default(false),
  carriers: z.string().max(20_000).default('UPS=UPS\nFEDEX=FedEx\nDHL=DHL Express\nUSPS=USPS'),
  locations: z.string().max(20_000).default(''),
  attempts: SenderSettings.shape.attempts,
  retryBaseMs: SenderSettings.shape.retryBaseMs,
});

export = function (RED: NodeAPI) {
  function ShopifyFulfillmentSender(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const node = this;
    const status = new StatusCounter(node, ['fulfilled', 'repeats', 'skipped', 'failed'], ['failed']);
    const parsed = Config.safeParse(def);
    if (!parsed.success) {
      status.fail('invalid config');
      node.error(`shopify-fulfillment-sender: ${formatZodError(parsed.error)}`);
      return;
    }
    const cfg = parsed.data;
    const deps = lookupConfigNodes(RED, cfg);
    if (!deps.shopify || !deps.journal || !deps.shopDomain) {
      status.fail(!deps.shopify ? 'no Shopify store' : 'no journal');
      node.error('shopify-fulfillment-sender: the Shopify store or order journal config node is missing');
      return;
    }
    const settings = SenderSettings.parse({ notifyCustomer: cfg.notifyCustomer, carriers: parseTable(cfg.carriers), locations: parseTable(cfg.locations), attempts: cfg.attempts, retryBaseMs: cfg.retryBaseMs });
    let sender: FulfillmentSender | undefined;
    const getSender = () => (sender ??= new FulfillmentSender({ shopify: deps.shopify!(), journal: deps.journal!(), shop: deps.shopDomain!, settings }));

    onInput(node, async (raw, send) => {
      const msg = raw as unknown as OrderMessage;
      if (msg.topic !== 'd365/shipment' && typeof msg.topic === 'string' && msg.topic.startsWith('d365/')) {
        // Other d365-trigger events (order status changes) share its output: not ours, passed on untouched.
        status.add('skipped');
        send([raw, null]);
        return;
      }
      if (msg.topic !== 'd365/shipment') {
        appendFindings(msg, CHECK, [{ code: 'PAYLOAD_INVALID', severity: 'error', message: `expected topic d365/shipment, got ${JSON.stringify(String(msg.topic)).slice(0, 60)}` }]);
        status.add('failed');
        send([null, raw]);
        return;
      }
      status.busy('fulfilling…');
      const r = await getSender().send(msg.payload);
      msg.findings = (Array.isArray(msg.findings) ? msg.findings : []).filter((f) => f.check !== CHECK);
      appendFindings(msg, CHECK, r.findings);
      msg.fulfillment = { action: r.action, orderId: r.orderId, fulfillments: r.fulfillments };
      status.add(!r.ok ? 'failed' : r.action === 'fulfilled' ? 'fulfilled' : 'repeats');
      send(r.ok ? [raw, null] : [null, raw]);
    }, (err) => status.fail(err.message));
  }
  RED.nodes.registerType('shopify-fulfillment-sender', ShopifyFulfillmentSender);
};
