import { startBcSim, type BcSim } from '../../sim/bc';
import { startShopifySim, type ShopifySim } from '../../sim/shopify';
import { PortInUseError, type PortWish } from './ports';

export interface Sims {
  shopify: ShopifySim;
  bc: BcSim;
  close(): Promise<void>;
}

const inUse = (e: unknown) => (e as NodeJS.ErrnoException | undefined)?.code === 'EADDRINUSE';

/**
 * Starts the Shopify and Business Central simulators on 127.0.0.1 (port 0 = a free one). Both start
 * from the same seeded catalogue, so SKUs, customers and locations agree between them.
 */
export async function startSims(opts: { shopify: PortWish; bc: PortWish; latencyMs?: number }): Promise<Sims> {
  let shopify: ShopifySim;
  try {
    shopify = await startShopifySim({ port: opts.shopify.port });
  } catch (e) {
    throw inUse(e) ? new PortInUseError(opts.shopify) : e;
  }
  let bc: BcSim;
  try {
    bc = await startBcSim({ port: opts.bc.port, latencyMs: opts.latencyMs ?? 1 });
  } catch (e) {
    await shopify.close();
    throw inUse(e) ? new PortInUseError(opts.bc) : e;
  }
  return { shopify, bc, close: async () => { await Promise.all([shopify.close(), bc.close()]); } };
}
