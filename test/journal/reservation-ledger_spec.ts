import 'should';
import fc from 'fast-check';
import { ReservationLedger } from '../../nodes/lib/journal/reservation-ledger';

describe('ReservationLedger', () => {
  it('counts open units always and handed-over units only for figures read before the hand-over', () => {
    const l = new ReservationLedger();
    l.addOpen('A', 'MAIN', 2);
    l.addHanded('A', 'MAIN', 1000, 3);
    l.addHanded('A', 'MAIN', 2000, 4);
    l.held('A', 'MAIN', 999).should.equal(9);
    l.held('A', 'MAIN', 1000).should.equal(6);
    l.held('A', 'MAIN', 1999).should.equal(6);
    l.held('A', 'MAIN', 2000).should.equal(2);
    l.held('A', 'OTHER', 0).should.equal(0);
    l.held('B', 'MAIN', 0).should.equal(0);
    l.dropHandedBefore(2000);
    l.held('A', 'MAIN', 0).should.equal(6);
  });

  it('agrees with a plain sum over its entries for any order of adds, removals, sweeps and read times (property)', () => {
    const places = [['A', 'L1'], ['A', 'L2'], ['B', 'L1']] as const;
    const opArb = fc.oneof(
      fc.record({ kind: fc.constant('open' as const), place: fc.nat(2), q: fc.integer({ min: -5, max: 5 }) }),
      // Times mostly rising (appends), sometimes earlier (a clock set back, a rebuild in any order).
      fc.record({ kind: fc.constant('handed' as const), place: fc.nat(2), at: fc.integer({ min: 0, max: 200 }), q: fc.integer({ min: -5, max: 5 }) }),
      fc.record({ kind: fc.constant('drop' as const), before: fc.integer({ min: 0, max: 200 }) }),
    );
    fc.assert(fc.property(fc.array(opArb, { maxLength: 60 }), fc.array(fc.integer({ min: -1, max: 201 }), { minLength: 1, maxLength: 5 }), (ops, reads) => {
      const ledger = new ReservationLedger();
      const open = new Map<number, number>();
      let handed: { place: number; at: number; q: number }[] = [];
      for (const op of ops) {
        if (op.kind === 'open') {
          const [item, location] = places[op.place]!;
          ledger.addOpen(item, location, op.q);
          open.set(op.place, (open.get(op.place) ?? 0) + op.q);
        } else if (op.kind === 'handed') {
          const [item, location] = places[op.place]!;
          ledger.addHanded(item, location, op.at, op.q);
          handed.push({ place: op.place, at: op.at, q: op.q });
        } else {
          ledger.dropHandedBefore(op.before);
          handed = handed.filter((h) => h.at >= op.before);
        }
        for (const [p, [item, location]] of places.entries()) {
          for (const t of reads) {
            const expected = (open.get(p) ?? 0) + handed.filter((h) => h.place === p && h.at > t).reduce((s, h) => s + h.q, 0);
            ledger.held(item, location, t).should.equal(expected, `${item}@${location} read at ${t}`);
          }
        }
      }
    }), { numRuns: 300 });
  });
});
