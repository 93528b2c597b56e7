// Rule and mapping tables, driven with the mouse and the file picker: add, reorder (drag handle),
// delete rows; CSV import; what is saved and deployed.
import 'should';
import assert from 'assert';
import type { Locator, Page } from 'playwright-core';
import { addNode, confirm, deployFromEditor, dragRow, nodeState, openDialog } from './dialog';
import { screenshotPath, useEditor } from './harness';
import { SEED_CONFIG, seedConfigNodes } from './nodes';

interface TableCase {
  type: string;
  props?: Record<string, unknown>;
  /** what a person does first so the table shows (e.g. tick the strategy that uses it) */
  reveal?(page: Page): Promise<void>;
  container: string;
  prop: string;
  csv: string;
  /** the node property after Done: the dialog's own normalisation (upper case codes) included */
  saved: Record<string, string>[];
}

// One entry per mapping table built with ShopifyD365Editor.mappingTable.
const TABLES: TableCase[] = [
  {
    type: 'd365-sku-validator', props: { connection: SEED_CONFIG.connection }, container: '#node-input-mapping-container', prop: 'mapping',
    csv: 'sku,itemNumber,variantCode\r\nTSHIRT-RED-M,1000,red-m\r\n"MUG, large",2000,\r\nposter-a2,3000,\r\n',
    saved: [{ sku: 'TSHIRT-RED-M', itemNumber: '1000', variantCode: 'RED-M' }, { sku: 'MUG, large', itemNumber: '2000', variantCode: '' },
      { sku: 'poster-a2', itemNumber: '3000', variantCode: '' }],
  },
  {
    type: 'd365-price-check', props: { connection: SEED_CONFIG.connection }, container: '#node-input-priceList-container', prop: 'priceList',
    csv: 'Item no.;Currency;Unit price\n1000;eur;12.50\n', // semicolon-separated, as European spreadsheet exports write it
    saved: [{ item: '1000', currency: 'EUR', unitPrice: '12.50' }],
  },
  {
    type: 'd365-price-check', props: { connection: SEED_CONFIG.connection }, container: '#node-input-tolerances-container', prop: 'tolerances',
    csv: 'item,absolute,percent\nGIFT*,0,0\n*,0.05,1\n',
    saved: [{ item: 'GIFT*', absolute: '0', percent: '0' }, { item: '*', absolute: '0.05', percent: '1' }],
  },
  {
    type: 'd365-tax-check', container: '#node-input-areas-container', prop: 'areas',
    csv: 'country,state,zip,code,rate,pricesIncludeTax\nus,ny,100,NYC,8.875,no\nde,,,DE-STD,19,yes\n',
    saved: [{ country: 'US', state: 'NY', zip: '100', code: 'NYC', rate: '8.875', pricesIncludeTax: 'no' },
      { country: 'DE', state: '', zip: '', code: 'DE-STD', rate: '19', pricesIncludeTax: 'yes' }],
  },
  {
    type: 'shopify-order-check', container: '#node-input-shippingMap-container', prop: 'shippingMap',
    csv: 'match,method,agent,service\nStandard,STANDARD,UPS,GROUND\nExpress,EXPRESS,,\n',
    saved: [{ match: 'Standard', method: 'STANDARD', agent: 'UPS', service: 'GROUND' }, { match: 'Express', method: 'EXPRESS', agent: '', service: '' }],
  },
  {
    type: 'shopify-order-check', container: '#node-input-requiredFields-container', prop: 'requiredFields',
    csv: 'path,when\nphone,always\nshipping_address.zip,shipping\n',
    saved: [{ path: 'phone', when: 'always' }, { path: 'shipping_address.zip', when: 'shipping' }],
  },
  {
    type: 'd365-inventory-gate', props: { connection: SEED_CONFIG.connection, journal: SEED_CONFIG.journal }, container: '#node-input-locations-container', prop: 'locations',
    csv: 'shopifyLocation,d365Location,backorder,backorderMax\ngid://shopify/Location/655441491,east,upto,5\n*,,default,\n',
    saved: [{ shopifyLocation: '655441491', d365Location: 'EAST', backorder: 'upto', backorderMax: '5' }, { shopifyLocation: '*', d365Location: '', backorder: 'default', backorderMax: '' }],
  },
  {
    type: 'd365-inventory-gate', props: { connection: SEED_CONFIG.connection, journal: SEED_CONFIG.journal }, container: '#node-input-safety-container', prop: 'safetyStockItems',
    csv: 'item,quantity\n1000:red,4\n',
    saved: [{ item: '1000:RED', quantity: '4' }],
  },
  {
    type: 'shopify-inventory-sync', props: { store: SEED_CONFIG.store, connection: SEED_CONFIG.connection, journal: SEED_CONFIG.journal },
    container: '#node-input-locations-container', prop: 'locations',
    csv: 'd365Location,shopifyLocation\neast,gid://shopify/Location/655441491\n,655441492\n',
    saved: [{ d365Location: 'EAST', shopifyLocation: '655441491' }, { d365Location: '', shopifyLocation: '655441492' }],
  },
  {
    type: 'shopify-inventory-sync', container: '#node-input-sku-container', prop: 'skuMapping',
    props: { store: SEED_CONFIG.store, connection: SEED_CONFIG.connection, journal: SEED_CONFIG.journal, locations: [{ d365Location: 'EAST', shopifyLocation: '655441491' }] },
    csv: 'sku,itemNumber,variantCode\nMUG-L,2000,l\n',
    saved: [{ sku: 'MUG-L', itemNumber: '2000', variantCode: 'L' }],
  },
  {
    type: 'd365-customer-matcher', props: { connection: SEED_CONFIG.connection }, container: '#node-input-defaultCustomers-container', prop: 'defaultCustomers',
    async reveal(page) {
      await page.locator('#node-input-strategies-container li', { hasText: 'default customer per country' }).locator('input[type=checkbox]').check();
    },
    csv: 'Country (ISO),D365 customer no.\nus,WEB-US\nde,WEB-DE\n',
    saved: [{ country: 'US', customer: 'WEB-US' }, { country: 'DE', customer: 'WEB-DE' }],
  },
];

/** A rule across a whole table or setting (checked by the property's validator, not cell by cell). */
interface RuleCase {
  name: string;
  type: string;
  props: Record<string, unknown>;
  /** what a person does in the dialog that breaks the rule … */
  breakIt(page: Page): Promise<void>;
  /** … exactly what node.validationErrors then holds … */
  errors: string[];
  /** … and what they do in the reopened dialog to fix it */
  fix(page: Page): Promise<void>;
}

const GATE_REFS = { connection: SEED_CONFIG.connection, journal: SEED_CONFIG.journal };
const SYNC_REFS = { store: SEED_CONFIG.store, ...GATE_REFS };
const csvInto = (container: string, csv: string) => async (page: Page) => {
  const table = page.locator(container);
  await table.scrollIntoViewIfNeeded();
  await importCsv(page, table, csv);
};
const tickStrategy = async (page: Page, label: string) =>
  page.locator('#node-input-strategies-container li', { hasText: label }).locator('input[type=checkbox]').check();

const RULES: RuleCase[] = [
  {
    name: 'SKU mapping: the same SKU twice (case-insensitive)', type: 'd365-sku-validator', props: { connection: SEED_CONFIG.connection },
    breakIt: csvInto('#node-input-mapping-container', 'sku,itemNumber\nMUG,2000\nmug,2001\n'),
    errors: ['SKU mug is mapped twice (rows 1 and 2)'],
    fix: csvInto('#node-input-mapping-container', 'sku,itemNumber\nMUG,2000\n'),
  },
  {
    name: 'SKU validator: the vendor item strategy without its custom API and field', type: 'd365-sku-validator', props: { connection: SEED_CONFIG.connection },
    breakIt: (page) => tickStrategy(page, 'vendor item number'),
    errors: ['BC v2.0 items have no vendor item number: name the custom API page that exposes it, or use the mapping table',
      'the vendor item strategy needs the field holding the vendor item number'],
    async fix(page) {
      await page.locator('#node-input-vendorItemApi').fill('contoso/items/v1.0');
      await page.locator('#node-input-vendorItemField').fill('vendorItemNo');
    },
  },
  {
    name: 'customer matcher: a country listed twice', type: 'd365-customer-matcher', props: { connection: SEED_CONFIG.connection },
    async breakIt(page) {
      await tickStrategy(page, 'default customer per country');
      await csvInto('#node-input-defaultCustomers-container', 'country,customer\nus,WEB-US\nUS,WEB-X\n')(page);
    },
    errors: ['country US is listed twice'],
    fix: csvInto('#node-input-defaultCustomers-container', 'country,customer\nus,WEB-US\n'),
  },
  {
    name: 'customer matcher: the stored-Shopify-id strategy without its field', type: 'd365-customer-matcher', props: { connection: SEED_CONFIG.connection },
    breakIt: (page) => tickStrategy(page, 'stored Shopify customer id'),
    errors: ['the stored-Shopify-id strategy needs the BC field that holds the id'],
    fix: async (page) => page.locator('#node-input-shopifyIdField').fill('shopifyCustomerId'),
  },
  {
    name: 'inventory gate: the mapped strategy without a Shopify location', type: 'd365-inventory-gate', props: { ...GATE_REFS, strategy: 'mapped' },
    breakIt: csvInto('#node-input-locations-container', 'shopifyLocation,d365Location\n,EAST\n'),
    errors: ['the mapped strategy needs at least one row with a Shopify location (or * for any)'],
    fix: csvInto('#node-input-locations-container', 'shopifyLocation,d365Location\n655441491,EAST\n'),
  },
  {
    name: 'inventory gate: a Shopify location mapped twice (id and gid)', type: 'd365-inventory-gate', props: { ...GATE_REFS, strategy: 'mapped' },
    breakIt: csvInto('#node-input-locations-container', 'shopifyLocation,d365Location\n655441491,EAST\ngid://shopify/Location/655441491,WEST\n'),
    errors: ['Shopify location 655441491 is mapped twice (rows 1 and 2)'],
    fix: csvInto('#node-input-locations-container', 'shopifyLocation,d365Location\n655441491,EAST\n*,WEST\n'),
  },
  {
    name: 'inventory gate: safety stock for one item set twice', type: 'd365-inventory-gate', props: GATE_REFS,
    breakIt: csvInto('#node-input-safety-container', 'item,quantity\n1000:red,4\n1000:RED,5\n'),
    errors: ['safety stock for 1000:RED is set twice (rows 1 and 2)'],
    fix: csvInto('#node-input-safety-container', 'item,quantity\n1000:red,4\n'),
  },
  {
    name: 'inventory sync: no location mapped', type: 'shopify-inventory-sync', props: SYNC_REFS,
    breakIt: csvInto('#node-input-locations-container', 'd365Location,shopifyLocation\n'),
    errors: ['map at least one D365 location to a Shopify location'],
    fix: csvInto('#node-input-locations-container', 'd365Location,shopifyLocation\neast,655441491\n'),
  },
  {
    name: 'inventory sync: a D365 location listed twice', type: 'shopify-inventory-sync', props: SYNC_REFS,
    breakIt: csvInto('#node-input-locations-container', 'd365Location,shopifyLocation\neast,655441491\nEAST,655441492\n'),
    errors: ['D365 location EAST is listed twice (rows 1 and 2)'],
    fix: csvInto('#node-input-locations-container', 'd365Location,shopifyLocation\neast,655441491\n,655441492\n'),
  },
];

async function importCsv(page: Page, table: Locator, csv: string, name = 'mapping.csv'): Promise<string> {
  const [chooser] = await Promise.all([
    page.waitForEvent('filechooser'),
    table.locator('button', { hasText: 'Import CSV' }).click(),
  ]);
  await chooser.setFiles({ name, mimeType: 'text/csv', buffer: Buffer.from(csv, 'utf8') });
  const note = table.locator('span', { hasText: `from ${name}` });
  await note.waitFor();
  return note.innerText();
}

const rowsOf = (list: Locator) => list.locator(':scope > li');

/** editableList animates removals: wait until the list really has `n` rows before using row indexes. */
async function waitRows(list: Locator, n: number): Promise<void> {
  await list.evaluate((el, n) => new Promise<void>((resolve) => {
    const tick = () => (el.querySelectorAll(':scope > li').length === n ? resolve() : setTimeout(tick, 50));
    tick();
  }), n);
}

describe('editor: rule and mapping tables in a real browser', function () {
  this.timeout(60_000);
  const editor = useEditor();
  let page: Page;
  const ids: string[] = [];
  const expected: Record<string, Record<string, unknown>> = {};

  before(async () => {
    const e = editor();
    await e.deploy([{ id: 'tables-tab', type: 'tab', label: 'Tables' }, ...seedConfigNodes(e.userDir)]);
    page = await e.reload();
  });

  it('exception router: rules are added, reordered by their handle and deleted; outputs, labels and wires follow', async () => {
    const id = await addNode(page, 'order-exception-router', { journal: SEED_CONFIG.journal }, { x: 200, y: 100 });
    ids.push(id);
    // Wire "catalogue team" (port 1) and "finance" (port 2) so we can see what happens to the wires.
    const [catalogue, finance] = [await addNode(page, 'debug', {}, { x: 500, y: 80 }), await addNode(page, 'debug', {}, { x: 500, y: 160 })];
    await page.evaluate(({ id, catalogue, finance }) => {
      const RED = (globalThis as any).RED;
      const n = RED.nodes.node(id);
      RED.nodes.addLink({ source: n, sourcePort: 1, target: RED.nodes.node(catalogue) });
      RED.nodes.addLink({ source: n, sourcePort: 2, target: RED.nodes.node(finance) });
      RED.view.redraw(true);
    }, { id, catalogue, finance });
    (await nodeState(page, id)).outputLabels.should.eql(['clean', 'catalogue team', 'finance', 'held (notify)', 're-check (released/retried)']);

    await openDialog(page, id);
    const list = page.locator('#node-input-rule-container');
    (await rowsOf(list).count()).should.equal(3);
    const add = page.locator('.node-input-rule-container-row .red-ui-editableList-addButton');

    await add.click();
    await waitRows(list, 4);
    let row = rowsOf(list).nth(3);
    await row.locator('.rule-name').fill('vip');
    await row.locator('.rule-when').selectOption('tag');
    await row.locator('.rule-value').fill('vip');
    await row.locator('.rule-action').selectOption('output');

    await add.click();
    await waitRows(list, 5);
    row = rowsOf(list).nth(4);
    await row.locator('.rule-name').fill('big orders');
    await row.locator('.rule-when').selectOption('total_gt');
    (await row.locator('.rule-value').getAttribute('placeholder'))!.should.equal('5000.00');
    await row.locator('.rule-value').fill('5000.00');
    await row.locator('.rule-action').selectOption('hold');
    await row.locator('.rule-when').selectOption('blocking'); // no value needed: the value box hides …
    (await row.locator('.rule-value').isVisible()).should.be.false();
    await row.locator('.rule-when').selectOption('total_gt'); // … and comes back with what was typed
    (await row.locator('.rule-value').inputValue()).should.equal('5000.00');

    await dragRow(page, list, 3, 0); // vip first
    (await rowsOf(list).locator('.rule-name').evaluateAll((els) => els.map((e: any) => e.value)))
      .should.eql(['vip', 'ERP busy', 'catalogue team', 'finance', 'big orders']);
    await rowsOf(list).nth(3).locator('.red-ui-editableList-item-remove').click(); // finance
    await waitRows(list, 4);
    await page.locator('.red-ui-tray').screenshot({ path: screenshotPath('router-dialog.png') });
    await confirm(page);

    const state = await nodeState(page, id);
    state.valid.should.be.true();
    (state.props.rules as object[]).should.eql([
      { name: 'vip', when: 'tag', value: 'vip', action: 'output' },
      { name: 'ERP busy', when: 'retryable', value: '', action: 'retry' },
      { name: 'catalogue team', when: 'code', value: 'SKU_*', action: 'output' },
      { name: 'big orders', when: 'total_gt', value: '5000.00', action: 'hold' },
    ]);
    state.outputs.should.equal(5);
    state.outputLabels.should.eql(['clean', 'vip', 'catalogue team', 'held (notify)', 're-check (released/retried)']);
    const links = await page.evaluate((id) => (globalThis as any).RED.nodes.filterLinks({ source: { id } })
      .map((l: any) => ({ port: Number(l.sourcePort), target: l.target.id })), id);
    links.should.eql([{ port: 2, target: catalogue }], 'the catalogue wire moved with its rule; the deleted rule took its wire');
    expected[id] = { rules: state.props.rules, outputs: 5, wires: [[], [], [catalogue], [], []] };
  });

  it('exception router: a rule without a name or with a bad amount marks the node invalid until fixed', async () => {
    const id = ids[0]!;
    await openDialog(page, id);
    const list = page.locator('#node-input-rule-container');
    await page.locator('.node-input-rule-container-row .red-ui-editableList-addButton').click();
    await waitRows(list, 5);
    const row = rowsOf(list).nth(4);
    await row.locator('.rule-when').selectOption('total_gt');
    await row.locator('.rule-value').fill('lots');
    await confirm(page);
    let state = await nodeState(page, id);
    state.valid.should.be.false();
    state.validationErrors.should.containEql('every rule needs a name');

    await openDialog(page, id);
    await rowsOf(list).nth(4).locator('.rule-name').fill('huge');
    await confirm(page);
    state = await nodeState(page, id);
    state.validationErrors.should.eql(['rule "huge": total must be an amount like 5000.00']);

    await openDialog(page, id);
    await rowsOf(list).nth(4).locator('.red-ui-editableList-item-remove').click();
    await waitRows(list, 4);
    await confirm(page);
    state = await nodeState(page, id);
    state.valid.should.be.true();
    state.outputs.should.equal(5);
  });

  it('SKU mapping: a bad CSV is marked row by row; a good one replaces it; rows reorder, delete and add', async () => {
    const c = TABLES[0]!;
    const id = await addNode(page, c.type, c.props, { x: 200, y: 260 });
    await openDialog(page, id);
    const table = page.locator(c.container);
    const list = table.locator('ol.sd365-table');
    const note = await importCsv(page, table, 'sku,itemNumber\nA,ITEM-NUMBER-LONGER-THAN-TWENTY\nB,\n', 'bad.csv');
    note.should.equal('Imported 2 row(s) from bad.csv; 2 need fixing (marked red)');
    (await list.locator('input.input-error').count()).should.equal(2);

    (await importCsv(page, table, c.csv)).should.equal('Imported 3 row(s) from mapping.csv');
    (await rowsOf(list).count()).should.equal(3);
    await dragRow(page, list, 2, 0);
    await rowsOf(list).nth(2).locator('.red-ui-editableList-item-remove').click(); // MUG, large
    await waitRows(list, 2);
    await table.locator('.red-ui-editableList-addButton').click();
    await waitRows(list, 3);
    const added = rowsOf(list).nth(2);
    await added.locator('.sd365-cell-sku').fill('CAP');
    await added.locator('.sd365-cell-itemNumber').fill('cap-1');
    await confirm(page);
    const state = await nodeState(page, id);
    state.valid.should.be.true();
    (state.props.mapping as object[]).should.eql([c.saved[2], c.saved[0], { sku: 'CAP', itemNumber: 'CAP-1', variantCode: '' }]);
    expected[id] = { mapping: state.props.mapping };
  });

  RULES.forEach((r, i) => {
    it(`${r.name}: marks the node invalid with "${r.errors.join('; ')}" until fixed`, async () => {
      const id = await addNode(page, r.type, r.props, { x: 750, y: 240 + 50 * i });
      await openDialog(page, id);
      await r.breakIt(page);
      await confirm(page);
      let state = await nodeState(page, id);
      state.valid.should.be.false();
      state.validationErrors.should.eql(r.errors);

      await openDialog(page, id);
      await r.fix(page);
      await confirm(page);
      state = await nodeState(page, id);
      state.validationErrors.should.eql([]);
      state.valid.should.be.true();
    });
  });

  TABLES.forEach((c, i) => {
    it(`${c.type} ${c.prop}: CSV import fills the table (${c.saved.length} rows) and Done saves it`, async () => {
      const id = await addNode(page, c.type, c.props, { x: 450, y: 240 + 50 * i });
      await openDialog(page, id);
      await c.reveal?.(page);
      const table = page.locator(c.container);
      await table.scrollIntoViewIfNeeded();
      (await importCsv(page, table, c.csv)).should.equal(`Imported ${c.saved.length} row(s) from mapping.csv`);
      await confirm(page);
      const state = await nodeState(page, id);
      state.validationErrors.should.eql([]);
      state.props[c.prop]!.should.eql(c.saved);
      expected[id] = { [c.prop]: c.saved };
    });
  });

  it('deploy stores the tables exactly as saved (GET /flows)', async () => {
    await deployFromEditor(page);
    const flows = await editor().getFlows();
    Object.keys(expected).length.should.equal(2 + TABLES.length);
    for (const [id, props] of Object.entries(expected)) {
      const n = flows.find((f) => f.id === id);
      assert(n, id);
      for (const [k, v] of Object.entries(props)) {
        if (k === 'outputs') assert.strictEqual((n.wires as unknown[]).length, v, `${n.type} has ${v} outputs`);
        else assert.deepStrictEqual(n[k], v, `${n.type}.${k}`);
      }
    }
  });
});
