import type { Node, NodeAPI, NodeDef } from 'node-red';
import { z } from 'zod';
import type { BcApi } from './lib/d365/bc-api';
import { CacheSettings, d365Unavailable } from './lib/checks/price-lookup';
import { TaxRules, checkTax, findTaxArea, taxAddress } from './lib/checks/tax';
import type { TaxLookups } from './lib/checks/tax';
import { customerTaxLookup, taxAreaLookup } from './lib/checks/tax-lookup';
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
    let verify: { areas: ReturnType<typeof taxAreaLookup>; customers: ReturnType<typeof customerTaxLookup> } | undefined;
    if (rules.connection) {
      const conn = RED.nodes.getNode(rules.connection) as unknown as { getClient?: () => BcApi } | null;
      if (!conn || typeof conn.getClient !== 'function') {
        refuseConfig(this, TYPE, 'connection: the selected D365 connection does not exist (deploy it, pick another, or choose none)');
        return;
      }
      const api = () => conn.getClient!();
      const opts = { ttlS: rules.cacheTtlS, max: rules.cacheMax };
      verify = { areas: taxAreaLookup(api, opts), customers: customerTaxLookup(api, opts) };
    }
    wireCheckNode(this, TYPE, rules.mode, async (order, msg) => {
      const lookups: TaxLookups = {};
      const failures = [];
      if (verify) {
        const area = findTaxArea(rules.areas, taxAddress(order).addr);
        const customer = msg.erp?.customer?.number;
        try {
          const [areas, customers] = await Promise.all([
            area ? verify.areas.getMany([area.code]) : undefined,
            customer ? verify.customers.getMany([customer]) : undefined,
          ]);
          if (area) lookups.taxArea = areas!.get(area.code) ?? null;
          if (customer) lookups.customer = customers!.get(customer) ?? null;
        } catch (e) {
          failures.push(d365Unavailable(e, 'D365 tax area/customer lookup'));
        }
      }
      const out = checkTax(order, rules, msg.erp, lookups);
      return { findings: [...out.findings, ...failures], erp: out.erp };
    });
  }
  RED.nodes.registerType(TYPE, D365TaxCheck);
};
