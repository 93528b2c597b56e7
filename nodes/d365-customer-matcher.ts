import type { Node, NodeAPI, NodeDef } from 'node-red';
import { CUSTOMER_CHECK, checkCustomer } from './lib/checks/customer-check';
import { CustomerRules } from './lib/checks/customer-rules';
import { connectionLookups } from './lib/d365/lookups-node';
import { parseConfigOrFail, refuseConfig, wireCheckNode } from './lib/node-red/check-node';

export = function (RED: NodeAPI) {
  function D365CustomerMatcher(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const rules = parseConfigOrFail(this, CUSTOMER_CHECK, CustomerRules, def);
    if (!rules) return;
    const conn = connectionLookups(RED, def.connection, { ttlS: rules.cacheTtlS, max: rules.cacheSize });
    if (typeof conn === 'string') return refuseConfig(this, CUSTOMER_CHECK, conn);
    wireCheckNode(this, CUSTOMER_CHECK, rules.mode, (order) => checkCustomer(order, rules, { lookups: conn.lookups(), dryRun: conn.dryRun() }));
  }
  RED.nodes.registerType('d365-customer-matcher', D365CustomerMatcher);
};
