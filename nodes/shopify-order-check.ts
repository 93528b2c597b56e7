import type { Node, NodeAPI, NodeDef } from 'node-red';
import { formatZodError } from './lib/contract';
import { OrderRules, checkOrderRules } from './lib/checks/order-rules';
import { CheckMode, wireCheckNode } from './lib/node-red/check-node';
import { onInput } from './lib/node-red/types';

const TYPE = 'shopify-order-check';
const Config = OrderRules.extend({ mode: CheckMode.default('annotate') });

export = function (RED: NodeAPI) {
  function ShopifyOrderCheck(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const cfg = Config.safeParse(def);
    if (!cfg.success) {
      refuseConfig(this, formatZodError(cfg.error));
      return;
    }
    const rules = cfg.data;
    wireCheckNode(this, TYPE, rules.mode, (order) => checkOrderRules(order, rules));
  }
  RED.nodes.registerType(TYPE, ShopifyOrderCheck);
};

/** Bad config: say why once, show it, and fail every message through done(err) so Catch nodes see it. */
function refuseConfig(node: Node, reason: string): void {
  node.error(`${TYPE}: invalid configuration: ${reason}`);
  node.status({ fill: 'red', shape: 'ring', text: 'invalid config' });
  onInput(node, () => { throw new Error(`${TYPE}: invalid configuration: ${reason}`); });
}
