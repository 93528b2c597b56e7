import type { Node, NodeAPI, NodeDef } from 'node-red';
import { z } from 'zod';
import { CacheSettings, d365Unavailable } from './lib/checks/price-lookup';
import { TaxRules, checkTax, findTaxArea, taxAddress } from './lib/checks/tax';
import { cachedTaxLookups, taxLookups } from './lib/checks/tax-lookup';
import { connectionLookups } from './lib/d365/lookups-node';
import type { ConnectionLookups } from './lib/d365/lookups-node';
import { CheckMode, parseConfigOrFail, refuseConfig, wireCheckNode } from './lib/node-red/check-node';

const TYPE = 'd365-tax-check';
const Config = TaxRules.extend({
  mode: CheckMode.default('annotate'),
  /** Optional: without a connection the tax area and customer are not verified in D365. */
  connection: z.string().default(''),
}).extend(CacheSettings.shape);

export = function (RED: NodeAPI) {
  function D365TaxCheck(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const rules = parseConfigOrFail(this, TYPE, Config, def);
    if (!rules) return;
    let verify: ConnectionLookups | undefined;
    if (rules.connection) {
      const conn = connectionLookups(RED, rules.connection, { ttlS: rules.cacheTtlS, max: rules.cacheMax }, 'deploy it, pick another, or choose none');
      if (typeof conn === 'string') return refuseConfig(this, TYPE, conn);
      verify = conn;
    }
    wireCheckNode(this, TYPE, rules.mode, (order, msg) => {
      if (!verify) return checkTax(order, rules, msg.erp, {});
      const lookups = verify.lookups();
      const area = findTaxArea(rules.areas, taxAddress(order));
      const customer = msg.erp?.customer?.number;
      // Warm cache: answered synchronously, no promise.
      const cached = cachedTaxLookups(lookups, area?.code, customer);
      if (cached) return checkTax(order, rules, msg.erp, cached, area);
      return taxLookups(lookups, area?.code, customer).then((l) => checkTax(order, rules, msg.erp, l, area), (e: unknown) => {
        const failure = d365Unavailable(e, 'D365 tax area/customer lookup');
        const outcome = checkTax(order, rules, msg.erp, {}, area);
        outcome.findings.push(failure);
        return outcome;
      });
    });
  }
  RED.nodes.registerType(TYPE, D365TaxCheck);
};
