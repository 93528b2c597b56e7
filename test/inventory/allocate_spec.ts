import 'should';
import { allocate, atpOf, limitOf } from '../../nodes/lib/inventory/allocate';
import type { DemandLine, Place } from '../../nodes/lib/inventory/allocate';
import { GateRules, backorderAllowance, safetyStockLookup } from '../../nodes/lib/inventory/gate-settings';

// Pure decisions of the inventory gate: ATP arithmetic, location strategies, backorder policies, findings.
const rules = (r: Record<string, unknown> = {}) => GateRules.parse({ strategy: 'first', ...r });
const line = (i: number, item: string, quantity: number, shopifyLocation?: string): DemandLine =>
  ({ index: i, lineItemId: `L${i}`, item, quantity, shopifyLocation });

/** place() from a table: stock[item][location] = [inventory, onSalesOrders, reservedByOthers]. */
const places = (stock: Record<string, Record<string, [number, number?, number?]>>, safety = 0) => (item: string, loc: string): Place => {
  const [inventory = 0, onSalesOrders = 0, reservedByOthers = 0] = stock[item]?.[loc] ?? [];
  return { inventory, onSalesOrders, reservedByOthers, safety };
};
const run = (lines: DemandLine[], r: GateRules, stock: Record<string, Record<string, [number, number?, number?]>>, safety = 0, unstocked: string[] = []) =>
  allocate({ lines, rules: r, place: places(stock, safety), stockedLocations: [...new Set(Object.values(stock).flatMap(Object.keys))], unstocked: new Set(unstocked) });
const codes = (a: { findings: { code: string }[] }) => a.findings.map((f) => f.code);

describe('inventory allocation (pure)', () => {
  it('ATP = stock − open sales-order demand − other reservations − safety stock', () => {
    const p = { inventory: 10, onSalesOrders: 4, reservedByOthers: 1, safety: 2 };
    limitOf(p).should.equal(4);
    atpOf(p).should.equal(3);
  });

  it('safety stock: item+variant row, else item row, else the default', () => {
    const r = rules({ safetyStock: '2', safetyStockItems: [{ item: '1000', quantity: '5' }, { item: '1000:red', quantity: '7' }] });
    const safetyStockOf = safetyStockLookup(r);
    safetyStockOf('1000:RED').should.equal(7);
    safetyStockOf('1000:red').should.equal(7);
    safetyStockOf('1000:BLU').should.equal(5);
    safetyStockOf('1001').should.equal(2);
    safetyStockLookup(rules({ safetyStock: '3' }))('1000:RED').should.equal(3);
  });

  it('first: the whole order from the first location (priority order) that has every line', () => {
    const r = rules({ locations: [{ d365Location: 'EAST' }, { d365Location: 'WEST' }] });
    const a = run([line(0, 'A', 2), line(1, 'B', 1)], r, { A: { EAST: [5], WEST: [5] }, B: { EAST: [0], WEST: [3] } });
    a.blocked.should.be.false();
    [...a.locations.values()].should.eql(['WEST', 'WEST']);
    a.reservations.should.eql([{ item: 'A', location: 'WEST', quantity: 2, limit: 5, lineItemId: 'L0' }, { item: 'B', location: 'WEST', quantity: 1, limit: 3, lineItemId: 'L1' }]);
    a.findings.should.eql([]);
  });

  it('first: when no single location has everything, says so per location', () => {
    const r = rules({ locations: [{ d365Location: 'EAST' }, { d365Location: 'WEST' }] });
    const a = run([line(0, 'A', 2), line(1, 'B', 1)], r, { A: { EAST: [5], WEST: [0] }, B: { EAST: [0], WEST: [3] } });
    a.blocked.should.be.true();
    a.reservations.should.eql([]);
    a.findings.should.have.length(1);
    a.findings[0]!.message.should.match(/no single D365 location.*EAST lacks line 2 \(item B\) \(0 of 1\); WEST lacks line 1 \(item A\) \(0 of 2\)/);
  });

  it('split: each line from the first location that has it, counting what earlier lines took', () => {
    const r = rules({ strategy: 'split', locations: [{ d365Location: 'EAST' }, { d365Location: 'WEST' }] });
    const a = run([line(0, 'A', 3), line(1, 'A', 3), line(2, 'B', 1)], r, { A: { EAST: [4], WEST: [5] }, B: { EAST: [1] } });
    a.blocked.should.be.false();
    [...a.locations].should.eql([['L0', 'EAST'], ['L1', 'WEST'], ['L2', 'EAST']]);
  });

  it('mapped: Shopify location → D365 location, * for the rest; unmapped lines are LOCATION_UNMAPPED', () => {
    const r = rules({ strategy: 'mapped', locations: [{ shopifyLocation: 'gid://shopify/Location/11', d365Location: 'east' }] });
    r.locations[0]!.should.match({ shopifyLocation: '11', d365Location: 'EAST' });
    const a = run([line(0, 'A', 1, '11'), line(1, 'A', 1, '12'), line(2, 'A', 1)], r, { A: { EAST: [9] } });
    codes(a).should.eql(['LOCATION_UNMAPPED', 'LOCATION_UNMAPPED']);
    a.findings[0]!.message.should.match(/Shopify location 12/);
    a.findings[1]!.message.should.match(/names no Shopify location/);
    const star = rules({ strategy: 'mapped', locations: [{ shopifyLocation: '11', d365Location: 'EAST' }, { shopifyLocation: '*', d365Location: 'WEST' }] });
    const b = run([line(0, 'A', 1, '11'), line(1, 'A', 1, '12')], star, { A: { EAST: [9], WEST: [9] } });
    [...b.locations.values()].should.eql(['EAST', 'WEST']);
  });

  it('hold: INSUFFICIENT_STOCK with the quantities and how ATP was computed', () => {
    const r = rules({ strategy: 'mapped', locations: [{ shopifyLocation: '*', d365Location: 'EAST' }] });
    const a = run([line(0, 'A', 5)], r, { A: { EAST: [10, 4, 1] } }, 2);
    a.blocked.should.be.true();
    a.findings.should.eql([{ code: 'INSUFFICIENT_STOCK', severity: 'error', path: 'line_items[0]',
      message: 'line 1 (item A): 5 ordered, available to promise: EAST 3 (D365 stock 10 − on sales orders 4 − reserved for other orders 1 − safety stock 2)' }]);
  });

  it('allow up to N: backorders within N pass with a BACKORDERED warning and a limit raised by N; beyond N are held', () => {
    const r = rules({ strategy: 'mapped', backorder: 'upto', backorderMax: '2', locations: [{ shopifyLocation: '*', d365Location: 'EAST' }] });
    const a = run([line(0, 'A', 5)], r, { A: { EAST: [3] } });
    a.blocked.should.be.false();
    codes(a).should.eql(['BACKORDERED']);
    a.findings[0]!.severity!.should.equal('warning');
    a.findings[0]!.message.should.match(/5 ordered, 3 available to promise at EAST .*; 2 backordered \(backorders allowed up to 2\)/);
    a.reservations.should.eql([{ item: 'A', location: 'EAST', quantity: 5, limit: 5, lineItemId: 'L0' }]);
    codes(run([line(0, 'A', 6)], r, { A: { EAST: [3] } })).should.eql(['INSUFFICIENT_STOCK']);
  });

  it('allow: unlimited backorders; per-row policy overrides the default', () => {
    const r = rules({ strategy: 'split', backorder: 'hold', locations: [{ d365Location: 'EAST' }, { d365Location: 'WEST', backorder: 'allow' }] });
    const a = run([line(0, 'A', 50)], r, { A: { EAST: [3], WEST: [1] } });
    a.blocked.should.be.false();
    [...a.locations.values()].should.eql(['WEST']);
    a.reservations[0]!.limit.should.equal(Number.MAX_SAFE_INTEGER);
    backorderAllowance(r, r.locations[0]).should.equal(0);
    backorderAllowance(r, r.locations[1]).should.equal(Infinity);
  });

  it('two lines of one item at a backordering location share the raised limit', () => {
    const r = rules({ strategy: 'mapped', backorder: 'upto', backorderMax: '3', locations: [{ shopifyLocation: '*', d365Location: 'EAST' }] });
    const a = run([line(0, 'A', 2), line(1, 'A', 3)], r, { A: { EAST: [4] } });
    a.reservations.map((x) => x.limit).should.eql([7, 7]);
  });

  it('unstocked items: zero stock by default, or skipped (not reserved) with ITEM_NOT_STOCKED', () => {
    const r = rules({ locations: [{ d365Location: 'EAST' }] });
    codes(run([line(0, 'S', 1)], r, {}, 0, ['S'])).should.eql(['INSUFFICIENT_STOCK']);
    const skip = rules({ unstocked: 'skip', locations: [{ d365Location: 'EAST' }] });
    const a = run([line(0, 'S', 1), line(1, 'A', 1)], skip, { A: { EAST: [1] } }, 0, ['S']);
    a.blocked.should.be.false();
    codes(a).should.eql(['ITEM_NOT_STOCKED']);
    a.reservations.should.eql([{ item: 'A', location: 'EAST', quantity: 1, limit: 1, lineItemId: 'L1' }]);
    a.locations.get('L0')!.should.equal('EAST');
  });

  it('marks items whose ATP after the order is at or below the refresh threshold', () => {
    const r = rules({ refreshBelow: '2', locations: [{ d365Location: 'EAST' }] });
    [...run([line(0, 'A', 1), line(1, 'B', 1)], r, { A: { EAST: [3] }, B: { EAST: [10] } }).tight].should.eql(['A']);
  });

  it('settings: refuses what the runtime cannot use, with the row', () => {
    const bad = (r: Record<string, unknown>) => { const p = GateRules.safeParse(r); p.success.should.be.false(); return JSON.stringify(p.error!.issues.map((i) => i.message)); };
    bad({ strategy: 'mapped' }).should.match(/needs at least one row/);
    bad({ strategy: 'mapped', locations: [{ shopifyLocation: '1', d365Location: 'A' }, { shopifyLocation: '1', d365Location: 'B' }] }).should.match(/mapped twice \(rows 1 and 2\)/);
    bad({ locations: [{ shopifyLocation: 'abc', d365Location: 'A' }] }).should.match(/numeric location id/);
    bad({ locations: [{ d365Location: 'WAYTOOLONGCODE' }] }).should.match(/at most 10/);
    bad({ safetyStock: '-1' }).should.match(/cannot be negative/);
    bad({ safetyStockItems: [{ item: 'A', quantity: '1' }, { item: 'a', quantity: '2' }] }).should.match(/set twice/);
    bad({ backorderMax: '1.5' }).should.match(/whole number/);
    bad({ strategy: 'nearest' }).should.match(/mapped|first|split/);
    GateRules.parse({}).should.match({ strategy: 'first', backorder: 'hold', cacheTtlS: 30, refreshBelow: 5, unstocked: 'zero' });
  });
});
