import { startBcSim, type BcSimOptionsInput } from '../../sim/bc';
import { startShopifySim, type ShopifySimOptions } from '../../sim/shopify';
import type { Sims } from '../../scripts/lib/sims';

/** Both simulators on random loopback ports, in this process. */
export async function benchSims(o: { bc?: BcSimOptionsInput; shopify?: ShopifySimOptions } = {}): Promise<Sims> {
  const shopify = await startShopifySim({ port: 0, ...o.shopify });
  const bc = await startBcSim({ port: 0, ...o.bc });
  return { shopify, bc, close: async () => { await Promise.all([shopify.close(), bc.close()]); } };
}
