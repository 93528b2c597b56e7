import type { Node, NodeAPI, NodeDef } from 'node-red';
import { SKU_CHECK, checkSkus } from './lib/checks/sku-check';
import { SkuRules } from './lib/checks/sku-rules';
import { connectionLookups } from './lib/d365/lookups-node';
import { parseConfigOrFail, refuseConfig, wireCheckNode } from './lib/node-red/check-node';

export = function (RED: NodeAPI) {
  function D365SkuValidator(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const rules = parseConfigOrFail(this, SKU_CHECK, SkuRules, def);
    if (!rules) return;
    const conn = connectionLookups(RED, def.connection, { ttlS: rules.cacheTtlS, max: rules.cacheSize });
    if (typeof conn === 'string') return refuseConfig(this, SKU_CHECK, conn);
    wireCheckNode(this, SKU_CHECK, rules.mode, (order, msg) => checkSkus(order, rules, conn.lookups(), msg.erp?.lines));
  }
  RED.nodes.registerType('d365-sku-validator', D365SkuValidator);
};
