import type { Node, NodeAPI, NodeDef } from 'node-red';
import { z } from 'zod';
import type { BcApi } from './lib/d365/bc-api';
import { PriceRules, checkPrices, itemsToLookUp } from './lib/checks/price';
import type { D365ItemPrice } from './lib/checks/price';
import { CacheSettings, d365Unavailable, itemPriceLookup } from './lib/checks/price-lookup';
import { CheckMode, parseConfigOrFail, refuseConfig, wireCheckNode } from './lib/node-red/check-node';

const TYPE = 'd365-price-check';
const Config = PriceRules.extend({
  mode: CheckMode.default('annotate'),
  connection: z.string({ error: 'no D365 connection selected' }).min(1, 'no D365 connection selected'),
}).extend(CacheSettings.shape);

export = function (RED: NodeAPI) {
  function D365PriceCheck(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const rules = parseConfigOrFail(this, TYPE, Config, def);
    if (!rules) return;
    const conn = RED.nodes.getNode(rules.connection) as unknown as { getClient?: () => BcApi } | null;
    if (!conn || typeof conn.getClient !== 'function') {
      refuseConfig(this, TYPE, 'connection: the selected D365 connection does not exist (deploy it, or pick another)');
      return;
    }
    const prices = itemPriceLookup(() => conn.getClient!(), { ttlS: rules.cacheTtlS, max: rules.cacheMax });
    wireCheckNode(this, TYPE, rules.mode, async (order, msg) => {
      const wanted = itemsToLookUp(order, rules, msg.erp);
      let itemPrices: ReadonlyMap<string, D365ItemPrice | null> | undefined = new Map();
      const failures = [];
      if (wanted.length) {
        try {
          itemPrices = await prices.getMany(wanted);
        } catch (e) {
          itemPrices = undefined;
          failures.push(d365Unavailable(e, 'D365 item price lookup'));
        }
      }
      const out = checkPrices(order, rules, msg.erp, { itemPrices });
      return { findings: [...out.findings, ...failures] };
    });
  }
  RED.nodes.registerType(TYPE, D365PriceCheck);
};
