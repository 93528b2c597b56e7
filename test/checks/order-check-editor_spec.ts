import 'should';
import { readFileSync } from 'fs';
import path from 'path';
import { commaList, formatCsv, parseCsv } from '../../nodes/lib/checks/csv';

// The shared editor helper loads under Node too (module.exports), so its CSV code and validators run here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const editor = require('../../resources/shopify-d365-editor.js') as {
  csv: { parse(t: string): string[][]; format(r: unknown[][]): string };
  validators: Record<string, (...a: any[]) => (v: string) => true | string>;
  validateRows(rows: unknown, cols: { key: string; label: string; validate?: (v: string) => true | string }[]): true | string[];
  rowsFromCsv(t: string[][], cols: { key: string; label: string; default?: string }[]): Record<string, string>[];
  csvFromRows(rows: Record<string, string>[], cols: { key: string; label: string }[]): string;
};

const CASES = [
  'match,method,agent,service\r\nStandard,STANDARD,,\r\n',
  'a,"b, with comma","c ""quoted"""\nd,e,f',
  '\uFEFFcountry;state;rate\nNL;;21\nDE;;19,5\n',
  '"multi\nline",x\r\n\r\n\r\nlast,row',
  'single',
  '',
  ',,\n',
  '"unterminated, quote',
];

describe('CSV for mapping tables (runtime helper and editor copy)', () => {
  it('parses quotes, escaped quotes, CRLF, BOM, blank lines and semicolon files', () => {
    parseCsv(CASES[0]!).should.eql([['match', 'method', 'agent', 'service'], ['Standard', 'STANDARD', '', '']]);
    parseCsv(CASES[1]!).should.eql([['a', 'b, with comma', 'c "quoted"'], ['d', 'e', 'f']]);
    parseCsv(CASES[2]!).should.eql([['country', 'state', 'rate'], ['NL', '', '21'], ['DE', '', '19,5']]);
    parseCsv(CASES[3]!).should.eql([['multi\nline', 'x'], ['last', 'row']]);
    parseCsv('').should.eql([]);
  });

  it('format then parse gives the rows back, including awkward values', () => {
    const rows = [['a', 'b,c', 'say "hi"'], [' lead', 'semi;colon', 'line\nbreak'], ['', '', 'Zoë 😀']];
    parseCsv(formatCsv(rows)).should.eql(rows);
    formatCsv([['x', 'y']]).should.equal('x,y\r\n');
  });

  it('the editor copy behaves exactly like the runtime helper', () => {
    for (const c of CASES) editor.csv.parse(c).should.eql(parseCsv(c), JSON.stringify(c));
    const rows = [['a', 'b,c', 'say "hi"'], [' lead', 'semi;colon', 'line\nbreak'], [null, 3, 'x']];
    editor.csv.format(rows).should.equal(formatCsv(rows));
  });

  it('comma-list settings accept text or arrays', () => {
    commaList.parse('paid, authorized,,').should.eql(['paid', 'authorized']);
    commaList.parse(['USD ', '']).should.eql(['USD']);
    commaList.parse('"a,b", c').should.eql(['a,b', 'c']);
  });

  it('imports CSV rows by header (key or label, any order) or by position, and exports with keys', () => {
    const cols = [{ key: 'match', label: 'Shopify code / title' }, { key: 'method', label: 'Shipment method' }, { key: 'agent', label: 'Agent', default: '' }];
    editor.rowsFromCsv(parseCsv('method,match\nEXPRESS,Express\n'), cols).should.eql([{ match: 'Express', method: 'EXPRESS', agent: '' }]);
    editor.rowsFromCsv(parseCsv('Shipment method;Shopify code / title;Agent\nPICKUP;Local Pickup;\n'), cols).should.eql([{ match: 'Local Pickup', method: 'PICKUP', agent: '' }]);
    editor.rowsFromCsv(parseCsv('Standard,STANDARD,UPS\n'), cols).should.eql([{ match: 'Standard', method: 'STANDARD', agent: 'UPS' }]);
    const out = editor.csvFromRows([{ match: 'Standard', method: 'STANDARD', agent: '' }], cols);
    out.should.equal('match,method,agent\r\nStandard,STANDARD,\r\n');
    editor.rowsFromCsv(parseCsv(out), cols).should.eql([{ match: 'Standard', method: 'STANDARD', agent: '' }]);
  });

  it('validates rows the way the runtime schema does, naming row and problem', () => {
    const v = editor.validators;
    const cols = [{ key: 'match', label: 'm', validate: v.required!('shipping code/title') }, { key: 'method', label: 'x', validate: v.code!('shipment method code', 10, true) },
      { key: 'rate', label: 'r', validate: v.percent!('tax rate %') }, { key: 'tol', label: 't', validate: v.decimal!('absolute tolerance', false) }];
    editor.validateRows([{ match: 'Standard', method: 'STANDARD', rate: '6', tol: '' }], cols).should.be.true();
    editor.validateRows([{ match: '', method: 'WAY-TOO-LONG-CODE', rate: '101', tol: '-1' }], cols).should.eql([
      'row 1: shipping code/title is empty', 'row 1: shipment method code is longer than 10 characters',
      'row 1: tax rate % must be a number between 0 and 100', 'row 1: absolute tolerance must be a non-negative decimal number, e.g. 0.01',
    ]);
    editor.validateRows('nope', cols).should.eql(['expected a table']);
    editor.validateRows([{ __proto__: { match: 'x' } }], [cols[0]!]).should.eql(['row 1: shipping code/title is empty']);
  });
});

const HTML = (type: string) => readFileSync(path.join(__dirname, '..', '..', 'nodes', `${type}.html`), 'utf8');
const CODES: Record<string, string[]> = {
  'shopify-order-check': ['CONTACT_MISSING', 'SHIPPING_ADDRESS_MISSING', 'COUNTRY_MISSING', 'SKU_MISSING', 'REQUIRED_FIELD_MISSING', 'SHIPPING_METHOD_UNMAPPED',
    'SHIPPING_METHOD_DEFAULTED', 'SHIPPING_METHOD_AMBIGUOUS', 'FINANCIAL_STATUS_NOT_ALLOWED', 'TEST_ORDER', 'ORDER_CANCELLED', 'NO_LINES_LEFT', 'HIGH_RISK', 'CURRENCY_NOT_ALLOWED', 'PAYLOAD_INVALID'],
  'd365-price-check': ['PRICE_MISMATCH', 'PRICE_UNKNOWN', 'PRICE_NOT_CHECKED', 'ZERO_PRICE', 'CURRENCY_MISMATCH', 'DISCOUNT_ALLOCATION_MISMATCH', 'TOTALS_MISMATCH', 'D365_UNAVAILABLE', 'PAYLOAD_INVALID'],
  'd365-tax-check': ['TAX_AREA_UNMAPPED', 'TAX_AREA_UNKNOWN', 'CUSTOMER_TAX_AREA_DIFFERS', 'TAXES_INCLUDED_MISMATCH', 'TAX_MISSING', 'TAX_MISMATCH', 'TAX_EXEMPT_CHARGED', 'D365_UNAVAILABLE', 'PAYLOAD_INVALID'],
};
const SOURCES: Record<string, string[]> = {
  'shopify-order-check': ['nodes/lib/checks/order-rules.ts'],
  'd365-price-check': ['nodes/lib/checks/price.ts', 'nodes/lib/checks/price-lookup.ts'],
  'd365-tax-check': ['nodes/lib/checks/tax.ts', 'nodes/lib/checks/price-lookup.ts'],
};

describe('check node editors', () => {
  for (const type of Object.keys(CODES)) {
    it(`${type}: literal registration, two outputs, shared helper loaded, every finding code documented`, () => {
      const html = HTML(type);
      html.should.match(new RegExp(`RED\\.nodes\\.registerType\\('${type}', \\{\\s*category: 'Shopify → D365'`));
      html.should.match(/outputs: 2,/);
      html.should.match(/outputLabels: \['pass', 'fail'\]/);
      html.should.match(/icon: '[a-z0-9-]+\.svg'/);
      html.should.containEql('<script src="resources/node-red-contrib-shopify-d365/shopify-d365-editor.js"></script>');
      html.should.containEql(`data-template-name="${type}"`);
      const help = html.slice(html.indexOf(`data-help-name="${type}"`));
      for (const code of CODES[type]!) help.should.containEql(`<code>${code}</code>`);
      // ...and the help lists no code the logic does not emit (PAYLOAD_INVALID comes from the shared runtime).
      const src = SOURCES[type]!.map((f) => readFileSync(path.join(__dirname, '..', '..', f), 'utf8')).join('\n');
      const emitted = new Set([...src.matchAll(/code: '([A-Z_]+)'/g)].map((m) => m[1]!));
      emitted.add('PAYLOAD_INVALID');
      [...help.matchAll(/<dt><code>([A-Z_]+)<\/code>/g)].map((m) => m[1]!).filter((c) => !emitted.has(c)).should.eql([]);
      for (const c of emitted) CODES[type]!.should.containEql(c);
    });
  }
});
