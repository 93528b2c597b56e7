// The dialog's validators (editor side) refuse bad config before deploy. They run here in a vm with a stub RED,
// the shared editor helpers, and the same inputs the runtime schema refuses.
import 'should';
import { CustomerRules } from '../../nodes/lib/checks/customer-rules';
import { editorDefaults, editorErrors, loadEditorDef } from './customer-editor-harness';

describe('d365-customer-matcher editor', () => {
  const def = loadEditorDef('d365-customer-matcher');
  const defaults = () => editorDefaults(def);

  it('declares two outputs labelled pass/fail, its icon, and defaults the runtime accepts', () => {
    def.outputs.should.equal(2);
    def.outputLabels.should.eql(['pass', 'fail']);
    def.icon.should.equal('d365-customer-matcher.svg');
    editorErrors(def, defaults()).should.eql([]);
    CustomerRules.safeParse(defaults()).success.should.be.true();
  });

  it('marks the node invalid for the config the runtime refuses', () => {
    const cases: [Record<string, unknown>, RegExp][] = [
      [{ strategies: [{ name: 'email', enabled: false }] }, /enable at least one strategy/],
      [{ strategies: [{ name: 'countryDefault', enabled: true }] }, /needs at least one country/],
      [{ defaultCustomers: [{ country: 'USA', customer: 'WEB-US' }] }, /two-letter/],
      [{ defaultCustomers: [{ country: 'US', customer: 'A' }, { country: 'us', customer: 'B' }] }, /US is listed twice/],
      [{ strategies: [{ name: 'shopifyId', enabled: true }] }, /needs the BC field/],
      [{ shopifyIdApi: 'nonsense' }, /publisher\/group\/v1\.0/],
      [{ template: [{ field: 'email', value: 'x' }] }, /set from the order/],
      [{ template: [{ field: '__proto__', value: 'x' }] }, /BC field name/],
      [{ cacheTtlS: '-5' }, /cache TTL/],
      [{ cacheSize: '5' }, /cache size/],
    ];
    for (const [patch, re] of cases) {
      const node = { ...defaults(), ...patch };
      editorErrors(def, node).join('\n').should.match(re);
      CustomerRules.safeParse(node).success.should.be.false(`runtime should refuse ${JSON.stringify(patch)} too`);
    }
  });
});
