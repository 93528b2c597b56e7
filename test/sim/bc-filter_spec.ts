import 'should';
import { evaluate, parseFilter } from '../../sim/bc/odata/filter';
import { parseQueryOptions, applyFilterSort } from '../../sim/bc/odata/query';
import { BcError } from '../../sim/bc/errors';

const rows = [
  { number: 'C1', displayName: "Chen O'Brien", city: 'Reno', balance: 10, taxLiable: true, id: 'AB2A2B21-0000-4000-8000-000000000001', lastModifiedDateTime: '2026-03-01T10:00:00.000Z', orderDate: '2026-03-01' },
  { number: 'C2', displayName: 'Bob Norman', city: 'Louisville', balance: 250.5, taxLiable: false, id: 'ab2a2b21-0000-4000-8000-000000000002', lastModifiedDateTime: '2026-03-05T10:00:00.000Z', orderDate: '2026-03-05' },
  { number: 'C3', displayName: 'Zoë Müller', city: 'Reno', balance: 0, taxLiable: true, id: 'ab2a2b21-0000-4000-8000-000000000003', lastModifiedDateTime: '2026-03-09T10:00:00.000Z', orderDate: '2026-03-09' },
];
const match = (f: string) => rows.filter((r) => evaluate(parseFilter(f), r)).map((r) => r.number);
const syntaxError = (f: string) => {
  try { parseFilter(f); } catch (e) { (e as BcError).status.should.equal(400); return (e as BcError).code; }
  throw new Error(`expected '${f}' to be rejected`);
};

describe('BC simulator $filter', () => {
  it('compares strings, numbers and booleans', () => {
    match("number eq 'C2'").should.eql(['C2']);
    match("number ne 'C2'").should.eql(['C1', 'C3']);
    match('balance gt 0').should.eql(['C1', 'C2']);
    match('balance ge 10 and balance le 10').should.eql(['C1']);
    match('balance lt 10.5').should.eql(['C1', 'C3']);
    match('taxLiable eq false').should.eql(['C2']);
  });

  it("reads '' inside a string literal as one quote (O''Brien)", () => {
    match("displayName eq 'Chen O''Brien'").should.eql(['C1']);
    match("contains(displayName,'O''Br')").should.eql(['C1']);
  });

  it('handles and/or precedence and parentheses', () => {
    match("city eq 'Reno' and (balance eq 0 or balance eq 250.5)").should.eql(['C3']);
    match("(city eq 'Reno' or city eq 'Louisville') and taxLiable eq true").should.eql(['C1', 'C3']);
    match("not (city eq 'Reno')").should.eql(['C2']);
  });

  it('supports startswith, endswith, contains, tolower, toupper and in', () => {
    match("startswith(displayName,'Bob')").should.eql(['C2']);
    match("endswith(displayName,'ller')").should.eql(['C3']);
    match("tolower(city) eq 'reno'").should.eql(['C1', 'C3']);
    match("toupper(displayName) eq 'ZOË MÜLLER'").should.eql(['C3']);
    match("number in ('C1','C3')").should.eql(['C1', 'C3']);
  });

  it('compares unquoted datetimes and dates chronologically, GUIDs case-insensitively', () => {
    match('lastModifiedDateTime gt 2026-03-05T09:59:59.999Z').should.eql(['C2', 'C3']);
    match('lastModifiedDateTime ge 2026-03-05T12:00:00+02:00').should.eql(['C2', 'C3']);
    match('orderDate lt 2026-03-05').should.eql(['C1']);
    match('id eq ab2a2b21-0000-4000-8000-000000000001').should.eql(['C1']);
  });

  it('rejects bad syntax with BadRequest_NotFound', () => {
    syntaxError("number eq 'C1").should.equal('BadRequest_NotFound');
    syntaxError('number eq').should.equal('BadRequest_NotFound');
    syntaxError("(number eq 'C1'").should.equal('BadRequest_NotFound');
    syntaxError("number eq 'C1' junk").should.equal('BadRequest_NotFound');
    syntaxError("frobnicate(number) eq 'x'").should.equal('BadRequest_NotFound');
    syntaxError('number # 3').should.equal('BadRequest_NotFound');
  });

  it("rejects 'or' across different fields, as Business Central does", () => {
    syntaxError("number eq 'C1' or city eq 'Reno'").should.equal('BadRequest_NotSupported');
  });

  it('parses $select, nested $expand, $orderby, $top and $skip', () => {
    const o = parseQueryOptions({
      $select: 'number,displayName', $expand: 'salesOrderLines($expand=item;$select=sequence,quantity),customer', $orderby: 'balance desc', $top: '2', $skip: '0',
    });
    o.select!.should.eql(['number', 'displayName']);
    o.expand!.map((e) => e.nav).should.eql(['salesOrderLines', 'customer']);
    o.expand![0]!.options.expand![0]!.nav.should.equal('item');
    o.expand![0]!.options.select!.should.eql(['sequence', 'quantity']);
    applyFilterSort(rows, o).map((r) => r.number).should.eql(['C2', 'C1', 'C3']);
    (() => parseQueryOptions({ $top: '-1' })).should.throw(BcError);
    (() => parseQueryOptions({ $expand: 'lines(' })).should.throw(BcError);
    (() => parseQueryOptions({ $bogus: '1' })).should.throw(BcError);
  });
});
