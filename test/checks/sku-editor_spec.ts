import 'should';
import { SkuRules } from '../../nodes/lib/checks/sku-rules';
import { editorDefaults, editorErrors, loadEditorDef } from './customer-editor-harness';

describe('d365-sku-validator editor', () => {
  const def = loadEditorDef('d365-sku-validator');
  const defaults = () => editorDefaults(def);
  const errors = (node: Record<string, unknown>) => editorErrors(def, node);

  it('declares two outputs labelled pass/fail, its icon, and defaults the runtime accepts', () => {
    def.outputs.should.equal(2);
    def.outputLabels.should.eql(['pass', 'fail']);
    def.icon.should.equal('d365-sku-validator.svg');
    errors(defaults()).should.eql([]);
    SkuRules.safeParse(defaults()).success.should.be.true();
  });

  it('marks the node invalid for the config the runtime refuses', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ strategies: [{ name: 'itemNumber', enabled: false }] }, /enable at least one strategy/],
      [{ mapping: [{ sku: 'A-1', itemNumber: '1000', variantCode: '' }, { sku: ' a-1', itemNumber: '1001', variantCode: '' }] }, /mapped twice \(rows 1 and 2\)/],
      [{ mapping: [{ sku: 'A', itemNumber: '', variantCode: '' }] }, /item number is empty/],
      [{ mapping: [{ sku: 'A', itemNumber: 'X'.repeat(21), variantCode: '' }] }, /longer than 20/],
      [{ mapping: [{ sku: 'A', itemNumber: '1000', variantCode: 'TOOLONGCODE' }] }, /longer than 10/],
      [{ separator: '' }, /separator/],
      [{ separator: ' ' }, /trimmed away/],
      [{ strategies: [{ name: 'vendorItem', enabled: true }] }, /no vendor item number/],
      [{ cacheTtlS: 'soon' }, /cache TTL/],
    ];
    for (const [patch, re] of cases) {
      const node = { ...defaults(), ...patch };
      errors(node).join('\n').should.match(re);
      SkuRules.safeParse(node).success.should.be.false(`runtime should refuse ${JSON.stringify(patch)} too`);
    }
  });
});
