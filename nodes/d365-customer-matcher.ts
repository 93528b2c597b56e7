import type { Node, NodeAPI, NodeDef } from 'node-red';
import { CUSTOMER_CHECK, checkCustomer } from './lib/checks/customer-check';
import { CustomerRules } from './lib/checks/customer-rules';
import type { D365Lookups } from './lib/d365/lookups';
import { connectionLookups } from './lib/d365/lookups-node';
import { parseConfigOrFail, refuseConfig, wireCheckNode } from './lib/node-red/check-node';

export = function (RED: NodeAPI) {
  function D365CustomerMatcher(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const rules = parseConfigOrFail(this, CUSTOMER_CHECK, CustomerRules, def);
    if (!rules) return;
    const conn = connectionLookups(RED, def.connection, { ttlS: rules.cacheTtlS, max: rules.cacheSize });
    if (typeof conn === 'string') return refuseConfig(this, CUSTOMER_CHECK, conn);
    // Created on first use, then the same object for this node's life (same connection, same settings).
    let shared: D365Lookups | undefined;
    wireCheckNode(this, CUSTOMER_CHECK, rules.mode, (order) => checkCustomer(order, rules, { lookups: (shared ??= conn.lookups()), dryRun: conn.dryRun() }));
  }
  RED.nodes.registerType('d365-customer-matcher', D365CustomerMatcher);
};
