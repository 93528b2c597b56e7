import type { Node, NodeAPI, NodeDef } from 'node-red';
import { OrderRules, checkOrderRules } from './lib/checks/order-rules';
import { CheckMode, parseConfigOrFail, wireCheckNode } from './lib/node-red/check-node';

const TYPE = 'shopify-order-check';
const Config = OrderRules.extend({ mode: CheckMode.default('annotate') });

export = function (RED: NodeAPI) {
  function ShopifyOrderCheck(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const rules = parseConfigOrFail(this, TYPE, Config, def);
    if (!rules) return;
    wireCheckNode(this, TYPE, rules.mode, (order) => checkOrderRules(order, rules));
  }
  RED.nodes.registerType(TYPE, ShopifyOrderCheck);
};
