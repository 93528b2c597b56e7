import 'should';
import helper from 'node-red-node-test-helper';
import orderJournal = require('../../nodes/order-journal');
import shopifyStore = require('../../nodes/shopify-store');
import senderNode = require('../../nodes/shopify-fulfillment-sender');

// The node's retry settings arrive from the editor as strings: parsed once, bad values refused with a red status.
describe('shopify-fulfillment-sender node: retry settings', () => {
  afterEach(() => helper.unload());
  const load = (cfg: Record<string, unknown>) => helper.load([orderJournal, shopifyStore, senderNode], [
    { id: 't', type: 'tab' },
    { id: 'j', type: 'order-journal', file: ':memory:' },
    { id: 's', type: 'shopify-store', shopDomain: 'demo-shop.myshopify.com', baseUrl: 'http://127.0.0.1:9' },
    { id: 'n', z: 't', type: 'shopify-fulfillment-sender', store: 's', journal: 'j', ...cfg, wires: [[], []] },
  ], { s: { accessToken: 'shpat_secret_token' } });

  for (const [cfg, why] of [[{ attempts: '0' }, /attempts/], [{ attempts: '11' }, /attempts/], [{ retryBaseMs: '-5' }, /retryBaseMs/], [{ retryBaseMs: 'soon' }, /retryBaseMs/]] as const) {
    it(`refuses ${JSON.stringify(cfg)} with node.error and a red status`, async () => {
      await load(cfg);
      const n = helper.getNode('n');
      n.error.should.be.calledWithMatch(why);
      n.status.should.be.calledWithMatch({ fill: 'red', text: 'invalid config' });
    });
  }

  it('accepts the editor\'s strings (and flows saved before the settings existed)', async () => {
    await load({ attempts: '5', retryBaseMs: '250' });
    helper.getNode('n').error.should.not.be.called();
    await helper.unload();
    await load({});
    helper.getNode('n').error.should.not.be.called();
  });
});
