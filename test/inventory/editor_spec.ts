import 'should';
import { readFileSync } from 'fs';
import path from 'path';
import { GateRules } from '../../nodes/lib/inventory/gate-settings';
import { SyncRules } from '../../nodes/lib/inventory/sync-settings';
import { editorDefaults, editorErrors, loadEditorDef } from '../checks/customer-editor-harness';

// The dialogs' validators agree with the runtime's zod settings; the help names every code.
const help = (type: string) => readFileSync(path.join(__dirname, '..', '..', 'nodes', `${type}.html`), 'utf8').split('data-help-name')[1]!;

describe('inventory editors', () => {
  describe('d365-inventory-gate', () => {
    const def = loadEditorDef('d365-inventory-gate');
    const defaults = () => editorDefaults(def);

    it('two outputs pass/fail, its icon, and defaults the runtime accepts', () => {
      def.outputs.should.equal(2);
      def.outputLabels.should.eql(['pass', 'fail']);
      def.icon.should.equal('d365-inventory-gate.svg');
      editorErrors(def, defaults()).should.eql([]);
      GateRules.safeParse(defaults()).success.should.be.true();
    });

    it('marks invalid what the runtime refuses', () => {
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ strategy: 'mapped' }, /at least one row with a Shopify location/],
        [{ strategy: 'mapped', locations: [{ shopifyLocation: '1', d365Location: 'A', backorder: 'hold', backorderMax: '' }, { shopifyLocation: 'gid://shopify/Location/1', d365Location: 'B', backorder: 'hold', backorderMax: '' }] }, /mapped twice/],
        [{ locations: [{ shopifyLocation: 'east', d365Location: 'A', backorder: 'hold', backorderMax: '' }] }, /Shopify location/],
        [{ locations: [{ shopifyLocation: '', d365Location: 'TOOLONGCODE1', backorder: 'hold', backorderMax: '' }] }, /longer than 10/],
        [{ backorderMax: '-1' }, /backorder limit/],
        [{ safetyStock: '1.5' }, /safety stock/],
        [{ safetyStockItems: [{ item: 'A', quantity: '' }] }, /safety stock is empty/],
        [{ safetyStockItems: [{ item: 'A', quantity: '1' }, { item: 'a', quantity: '2' }] }, /set twice/],
        [{ cacheTtlS: '4000' }, /cache TTL/],
      ];
      for (const [patch, re] of cases) {
        const node = { ...defaults(), ...patch };
        editorErrors(def, node).join('\n').should.match(re);
        GateRules.safeParse(node).success.should.be.false(`runtime should refuse ${JSON.stringify(patch)} too`);
      }
    });

    it('help lists every finding code and setting', () => {
      const h = help('d365-inventory-gate');
      for (const code of ['INSUFFICIENT_STOCK', 'LOCATION_UNMAPPED', 'BACKORDERED', 'INVENTORY_NOT_CHECKED', 'ERP_LINE_INVALID', 'ITEM_NOT_STOCKED', 'INVENTORY_NOT_RESERVED', 'D365_UNAVAILABLE', 'PAYLOAD_INVALID']) h.should.containEql(code);
      for (const s of ['Safety stock', 'Backorders', 'orders/cancelled', 'refunds/create', 'divert', 'invalid config']) h.should.containEql(s);
    });
  });

  describe('shopify-inventory-sync', () => {
    const def = loadEditorDef('shopify-inventory-sync');
    const valid = () => ({ ...editorDefaults(def), locations: [{ d365Location: 'EAST', shopifyLocation: '655441491' }] });

    it('two outputs report/failed items, its icon; a mapped location makes it valid for both', () => {
      def.outputs.should.equal(2);
      def.outputLabels.should.eql(['report', 'failed items']);
      def.icon.should.equal('shopify-inventory-sync.svg');
      editorErrors(def, editorDefaults(def)).join().should.match(/map at least one D365 location/);
      editorErrors(def, valid()).should.eql([]);
      SyncRules.safeParse(valid()).success.should.be.true();
    });

    it('marks invalid what the runtime refuses', () => {
      const cases: [Record<string, unknown>, RegExp][] = [
        [{ locations: [{ d365Location: 'EAST', shopifyLocation: 'x' }] }, /Shopify location/],
        [{ locations: [{ d365Location: 'EAST', shopifyLocation: '1' }, { d365Location: 'east', shopifyLocation: '2' }] }, /listed twice/],
        [{ intervalS: '5' }, /interval/],
        [{ batchSize: '251' }, /batch size/],
        [{ skuMapping: [{ sku: '', itemNumber: 'A', variantCode: '' }] }, /SKU is empty/],
        [{ separator: 'toolong' }, /separator/],
      ];
      for (const [patch, re] of cases) {
        const node = { ...valid(), ...patch };
        editorErrors(def, node).join('\n').should.match(re);
        SyncRules.safeParse(node).success.should.be.false(`runtime should refuse ${JSON.stringify(patch)} too`);
      }
    });

    it('help lists the outputs, codes and status texts', () => {
      const h = help('shopify-inventory-sync');
      for (const s of ['inventory/sync', 'inventory/sync-failed', 'CHANGE_FROM_QUANTITY_STALE', 'ITEM_NOT_STOCKED_AT_LOCATION', 'SHOPIFY_UNAVAILABLE', 'standby (lease elsewhere)', 'syncing…', 'invalid config']) h.should.containEql(s);
    });
  });
});
