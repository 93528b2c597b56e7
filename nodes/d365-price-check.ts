import type { Node, NodeAPI, NodeDef } from 'node-red';
import { z } from 'zod';
import { PriceRules, checkPrices, itemsToLookUp } from './lib/checks/price';
import type { D365ItemPrice } from './lib/checks/price';
import { CacheSettings, cachedItemPrices, d365Unavailable, itemPrices } from './lib/checks/price-lookup';
import { connectionLookups } from './lib/d365/lookups-node';
import { CheckMode, parseConfigOrFail, refuseConfig, wireCheckNode } from './lib/node-red/check-node';

const TYPE = 'd365-price-check';
const NO_PRICES: ReadonlyMap<string, D365ItemPrice | null> = new Map();
const Config = PriceRules.extend({
  mode: CheckMode.default('annotate'),
  connection: z.string({ error: 'no D365 connection selected' }).min(1, 'no D365 connection selected'),
}).extend(CacheSettings.shape);

export = function (RED: NodeAPI) {
  function D365PriceCheck(this: Node, def: NodeDef & Record<string, unknown>) {
    RED.nodes.createNode(this, def);
    const rules = parseConfigOrFail(this, TYPE, Config, def);
    if (!rules) return;
    // The connection's shared lookups: items the SKU validator already fetched cost no second request.
    const conn = connectionLookups(RED, rules.connection, { ttlS: rules.cacheTtlS, max: rules.cacheMax });
    if (typeof conn === 'string') return refuseConfig(this, TYPE, conn);
    wireCheckNode(this, TYPE, rules.mode, (order, msg) => {
      const wanted = itemsToLookUp(order, rules, msg.erp);
      // Warm cache: answered synchronously, no promise.
      const cached = wanted.length ? cachedItemPrices(conn.lookups(), wanted) : NO_PRICES;
      if (cached) return checkPrices(order, rules, msg.erp, { itemPrices: cached });
      return itemPrices(conn.lookups(), wanted).then((prices) => checkPrices(order, rules, msg.erp, { itemPrices: prices }), (e: unknown) => {
        const failure = d365Unavailable(e, 'D365 item price lookup');
        const outcome = checkPrices(order, rules, msg.erp, {});
        outcome.findings.push(failure);
        return outcome;
      });
    });
  }
  RED.nodes.registerType(TYPE, D365PriceCheck);
};
