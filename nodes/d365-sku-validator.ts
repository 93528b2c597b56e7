import type { Node, NodeAPI, NodeDef } from 'node-red';
import { formatZodError } from './lib/contract';
import { SKU_CHECK, checkSkus } from './lib/checks/sku-check';
import { SkuRules } from './lib/checks/sku-rules';
import { connectionLookups, refuseConfig } from './lib/d365/lookups-node';
import { wireCheckNode } from './lib/node-red/check-node';

export = function (RED: NodeAPI) {
  function D365SkuValidator(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const cfg = SkuRules.safeParse(def);
    if (!cfg.success) return refuseConfig(this, SKU_CHECK, formatZodError(cfg.error));
    const rules = cfg.data;
    const conn = connectionLookups(RED, def.connection, { ttlS: rules.cacheTtlS, max: rules.cacheSize });
    if (typeof conn === 'string') return refuseConfig(this, SKU_CHECK, conn);
    wireCheckNode(this, SKU_CHECK, rules.mode, (order, msg) => checkSkus(order, rules, conn.lookups(), msg.erp?.lines));
  }
  RED.nodes.registerType('d365-sku-validator', D365SkuValidator);
};
