// Import › Examples: every file in examples/ is listed under the package and imports with no unknown
// node types (the directory is read, so a new example is covered without touching this spec).
import 'should';
import { readdirSync, readFileSync } from 'fs';
import path from 'path';
import type { Page } from 'playwright-core';
import { settle } from './dialog';
import { ROOT, useEditor } from './harness';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const EXAMPLES = readdirSync(path.join(ROOT, 'examples')).filter((f) => f.endsWith('.json')).sort();

async function openExamples(page: Page) {
  await page.evaluate(() => (globalThis as any).RED.actions.invoke('core:show-examples-import-dialog'));
  const tab = page.locator('#red-ui-clipboard-dialog-import-tab-examples');
  await tab.waitFor({ state: 'visible' });
  await settle(page);
  const module = tab.locator('.red-ui-treeList-label', { hasText: pkg.name });
  await module.click(); // a module's examples are a folder: expand it
  return tab;
}

describe('editor: Import › Examples in a real browser', function () {
  this.timeout(60_000);
  const editor = useEditor();
  let page: Page;

  before(async () => {
    await editor().deploy([{ id: 'examples-tab', type: 'tab', label: 'Examples' }]);
  });
  // Examples share config-node ids: each import starts from a freshly loaded editor, so none conflicts.
  beforeEach(async () => { page = await editor().reload(); });

  it(`lists the package's examples (${EXAMPLES.length} in examples/)`, async () => {
    EXAMPLES.length.should.be.above(0);
    const tab = await openExamples(page);
    for (const file of EXAMPLES) {
      await tab.locator('.red-ui-treeList-label', { hasText: path.basename(file, '.json') }).waitFor({ state: 'visible' });
    }
    await page.locator('#red-ui-clipboard-dialog-cancel').click();
    await settle(page);
  });

  for (const file of EXAMPLES) {
    it(`imports "${path.basename(file, '.json')}" with every node type known`, async () => {
      const flow = JSON.parse(readFileSync(path.join(ROOT, 'examples', file), 'utf8')) as { id: string; type: string }[];
      const ids = flow.filter((n) => !['tab', 'group', 'junction'].includes(n.type)).map((n) => n.id);
      const tab = await openExamples(page);
      await tab.locator('.red-ui-treeList-label', { hasText: path.basename(file, '.json') }).click();
      await page.locator('#red-ui-clipboard-dialog-import-opt-new').click(); // into a new flow, beside what is there
      await page.locator('#red-ui-clipboard-dialog-ok').click();
      await page.locator('#red-ui-clipboard-dialog-ok').waitFor({ state: 'hidden' });
      // The dialog closes first and fetches the example afterwards: wait for its nodes to arrive.
      await page.waitForFunction((ids) => ids.some((id) => (globalThis as any).RED.nodes.node(id)), ids, { timeout: 15_000 });
      await settle(page);
      const result = await page.evaluate((ids) => {
        const RED = (globalThis as any).RED;
        const unknown = RED.nodes.getType('unknown');
        const found: string[] = [];
        const unknownTypes: string[] = [];
        const visit = (n: any) => {
          if (!ids.includes(n.id)) return;
          found.push(n.id);
          if (n.type === 'unknown' || n._def === unknown || !RED.nodes.getType(n.type)) unknownTypes.push(n.type);
        };
        RED.nodes.eachNode(visit);
        RED.nodes.eachConfig(visit);
        const notes = Array.from((globalThis as any).document.querySelectorAll('.red-ui-notification')).map((e: any) => e.textContent);
        return { found, unknownTypes, notes };
      }, ids);
      result.unknownTypes.should.eql([]);
      result.notes.filter((t: string) => /unrecognised|unknown|missing/i.test(t)).should.eql([]);
      result.found.length.should.equal(ids.length);
    });
  }
});
