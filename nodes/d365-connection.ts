import type { NodeAPI, NodeDef } from 'node-red';
import { D365ConnectionNode, D365ConnectionRuntime, D365ConnectionSecrets } from './lib/d365/connection-config';

type Def = NodeDef & Record<string, unknown>;

export = function (RED: NodeAPI) {
  function D365ConnectionConfigNode(this: D365ConnectionNode, def: Def) {
    RED.nodes.createNode(this, def);
    const runtime = new D365ConnectionRuntime(def, this.credentials);
    this.dryRun = runtime.dryRun;
    this.companyId = runtime.companyId;
    this.getClient = () => runtime.getClient();
    if (runtime.configError) {
      this.status({ fill: 'red', shape: 'ring', text: 'invalid config' });
      this.error(`d365-connection: ${runtime.configError}`);
    }
  }
  RED.nodes.registerType<D365ConnectionNode, Def, unknown, D365ConnectionSecrets>('d365-connection', D365ConnectionConfigNode, {
    credentials: {
      clientId: { type: 'text' },
      clientSecret: { type: 'password' },
    },
  });
};
