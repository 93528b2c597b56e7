import 'should';
import { readFileSync } from 'fs';
import path from 'path';
import { Order } from '../../nodes/lib/contract';
import type { Finding } from '../../nodes/lib/contract';
import { Rule, codeMatches, decide, parseSchedule } from '../../nodes/lib/router/rules';

const order = Order.parse(JSON.parse(readFileSync(path.join(__dirname, '..', 'fixtures', 'order-1001.json'), 'utf8')));
const f = (code: string, severity: Finding['severity'] = 'error', extra: Partial<Finding> = {}): Finding =>
  ({ check: extra.check ?? 'sku', code, severity, message: code.toLowerCase(), retryable: false, ...extra });
const rules = (...rs: unknown[]) => rs.map((r) => Rule.parse(r));

describe('exception routing rules', () => {
  it('clean orders (no blocking findings) go clean; warnings do not block', () => {
    decide(order, [], []).decision.action.should.equal('clean');
    decide(order, [f('ITEM_NOT_INVENTORY', 'warning')], []).decision.action.should.equal('clean');
  });

  it('an unhandled blocking finding is held, never passed as clean', () => {
    const d = decide(order, [f('SKU_UNMAPPED')], rules({ name: 'finance', when: 'code', value: 'PRICE_*', action: 'output' })).decision;
    d.action.should.equal('hold');
    if (d.action === 'hold') d.reason.should.match(/SKU_UNMAPPED/);
  });

  it('first matching rule decides; output index counts only output rules', () => {
    const rs = rules(
      { name: 'slow erp', when: 'retryable', value: '', action: 'retry' },
      { name: 'catalogue team', when: 'code', value: 'SKU_*', action: 'output' },
      { name: 'finance', when: 'check', value: 'price,tax', action: 'output' },
      { name: 'everything else', when: 'blocking', value: '', action: 'hold' },
    );
    const a = decide(order, [f('TAX_MISMATCH', 'error', { check: 'tax' })], rs).decision;
    a.action.should.equal('output');
    if (a.action === 'output') { a.output.should.equal(1); a.rule.name.should.equal('finance'); }
    const b = decide(order, [f('SKU_BLOCKED'), f('D365_UNAVAILABLE', 'error', { retryable: true })], rs).decision;
    b.action.should.equal('retry');
    const c = decide(order, [f('CUSTOMER_AMBIGUOUS', 'error', { check: 'customer' })], rs).decision;
    c.action.should.equal('hold');
    if (c.action === 'hold') c.rule!.name.should.equal('everything else');
  });

  it('continue waives only what it matches and evaluation goes on', () => {
    const rs = rules(
      { name: 'allow services', when: 'code', value: 'ITEM_NOT_INVENTORY', action: 'continue' },
      { name: 'catalogue team', when: 'code', value: 'SKU_UNMAPPED', action: 'output' },
    );
    const one = decide(order, [f('ITEM_NOT_INVENTORY')], rs);
    one.decision.action.should.equal('clean');
    one.findings[0]!.severity.should.equal('warning');
    one.findings[0]!.message.should.match(/waived by rule "allow services"/);
    const two = decide(order, [f('ITEM_NOT_INVENTORY'), f('SKU_UNMAPPED')], rs);
    two.decision.action.should.equal('output');
    two.decision.waived.should.have.length(1);
  });

  it('matches order facts: tag, total above a threshold, country, channel', () => {
    const rs = rules(
      { name: 'vip', when: 'tag', value: 'VIP', action: 'output' },
      { name: 'big', when: 'total_gt', value: '600', action: 'hold' },
      { name: 'eu', when: 'country', value: 'NL,DE', action: 'output' },
      { name: 'pos', when: 'channel', value: 'pos', action: 'output' },
    );
    decide({ ...order, tags: 'wholesale, vip' }, [], rs).decision.action.should.equal('output');
    decide(order, [], rs).decision.action.should.equal('hold'); // 632.82 > 600
    decide({ ...order, total_price: '599.99' }, [], rs).decision.action.should.equal('clean');
    const eu = decide({ ...order, total_price: '10.00', shipping_address: { ...order.shipping_address, country_code: 'NL' } }, [], rs).decision;
    eu.action.should.equal('output');
    if (eu.action === 'output') eu.output.should.equal(1);
  });

  it('code patterns', () => {
    codeMatches('SKU_*', 'SKU_UNMAPPED').should.be.true();
    codeMatches('*_MISMATCH', 'TAX_MISMATCH').should.be.true();
    codeMatches('sku_unmapped', 'SKU_UNMAPPED').should.be.true();
    codeMatches('SKU_', 'SKU_UNMAPPED').should.be.false();
    codeMatches('SKU.*', 'SKU_UNMAPPED').should.be.false();
  });

  it('refuses bad rules with clear messages', () => {
    Rule.safeParse({ name: '', when: 'code', value: 'X', action: 'hold' }).success.should.be.false();
    const r = Rule.safeParse({ name: 'big', when: 'total_gt', value: 'lots', action: 'hold' });
    r.success.should.be.false();
    if (!r.success) r.error.issues[0]!.message.should.match(/decimal amount/);
    Rule.safeParse({ name: 'x', when: 'code', value: ' ', action: 'hold' }).success.should.be.false();
    Rule.safeParse({ name: 'x', when: 'code', value: 'A', action: 'explode' }).success.should.be.false();
  });

  it('parses retry schedules', () => {
    parseSchedule('30s, 5m,1h').should.eql([30_000, 300_000, 3_600_000]);
    parseSchedule('250ms').should.eql([250]);
    (() => parseSchedule('5 minutes')).should.throw(/not a duration/);
  });
});
