import type { NodeAPI } from 'node-red';

/** Runtime half of the "Order exceptions" editor sidebar: the editor half lives in the .html beside
 * this file. The data comes from the admin API the exception router registers (shopify-d365/holds). */
export = function (RED: NodeAPI) {
  (RED as unknown as { plugins: { registerPlugin(id: string, def: Record<string, unknown>): void } })
    .plugins.registerPlugin('shopify-d365-order-exceptions', { type: 'shopify-d365-sidebar' });
};
