import type { NodeAPI, NodeDef } from 'node-red';
import { ShopifyStoreNode, ShopifyStoreRuntime, ShopifyStoreSecrets } from './lib/shopify/store-config';

type Def = NodeDef & Record<string, unknown>;

export = function (RED: NodeAPI) {
  function ShopifyStoreConfigNode(this: ShopifyStoreNode, def: Def) {
    RED.nodes.createNode(this, def);
    const runtime = new ShopifyStoreRuntime(def, this.credentials);
    this.shopDomain = runtime.shopDomain;
    this.apiVersion = runtime.apiVersion;
    this.getClient = () => runtime.getClient();
    this.webhookSecrets = () => runtime.webhookSecrets();
    if (runtime.configError) {
      this.status({ fill: 'red', shape: 'ring', text: 'invalid config' });
      this.error(`shopify-store: ${runtime.configError}`);
    }
  }
  RED.nodes.registerType<ShopifyStoreNode, Def, unknown, ShopifyStoreSecrets>('shopify-store', ShopifyStoreConfigNode, {
    credentials: {
      accessToken: { type: 'password' },
      webhookSecret: { type: 'password' },
      previousWebhookSecret: { type: 'password' },
    },
  });
};
