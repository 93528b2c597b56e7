// Every node of the package, as a person meets it in the editor: palette entry, dialog, validation,
// save + deploy read back through the admin API, and credentials that never come back.
import 'should';
import assert from 'assert';
import { existsSync, readFileSync } from 'fs';
import path from 'path';
import type { Page } from 'playwright-core';
import { addNode, cancel, confirm, deployFromEditor, fields, nodeState, openConfigDialog, openDialog } from './dialog';
import { CATEGORY, ROOT, screenshotPath, useEditor } from './harness';
import { NODES, SEED_CONFIG, seedConfigNodes } from './nodes';

const pkg = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8'));
const registered = new Set(Object.keys(pkg['node-red'].nodes as Record<string, string>));
const TAB = 'editor-tests-tab';

describe('editor: every node in a real browser (Chromium + Node-RED 4.1)', function () {
  this.timeout(60_000);
  const editor = useEditor();
  /** node id per type, as created by the tests below */
  const ids: Record<string, string> = {};
  let page: Page;

  before(async () => {
    const e = editor();
    await e.deploy([{ id: TAB, type: 'tab', label: 'Editor tests' }, ...seedConfigNodes(e.userDir)]);
    page = await e.reload();
  });

  /** Table entries for nodes another engineer has written but package.json does not load yet. */
  function pendingUnlessRegistered(ctx: Mocha.Context, type: string) {
    if (!registered.has(type)) ctx.skip();
  }

  it('has a coverage entry for every registered node and every editor .html', () => {
    const covered = new Set(NODES.map((n) => n.type));
    [...registered].filter((t) => !covered.has(t)).should.eql([], 'registered in package.json but missing from test/editor/nodes.ts');
    for (const type of covered) existsSync(path.join(ROOT, 'nodes', `${type}.html`)).should.be.true(`nodes/${type}.html`);
  });

  it('loads every editor script without errors', async () => {
    editor().pageErrors.should.eql([]);
    const missing = await page.evaluate((types) => types.filter((t) => !(globalThis as any).RED.nodes.getType(t)), [...registered]);
    missing.should.eql([], 'registered types the editor does not know');
  });

  for (const c of NODES.filter((n) => !n.config)) {
    it(`${c.type}: in the palette under "${CATEGORY}" with its icon and label`, async function () {
      pendingUnlessRegistered(this, c.type);
      const entry = page.locator(`.red-ui-palette-node[data-palette-type="${c.type}"]`);
      await entry.scrollIntoViewIfNeeded();
      (await entry.isVisible()).should.be.true();
      (await entry.locator('.red-ui-palette-label').innerText()).replace(/\s+/g, ' ').trim().should.equal(c.label);
      const category = await entry.evaluate((el) => (el as any).closest('.red-ui-palette-category').querySelector('.red-ui-palette-header span').textContent);
      category.should.equal(CATEGORY);
      // The icon the palette shows is our SVG (Node-RED silently falls back to a stock icon when it is missing).
      const icon = await entry.evaluate(async (el) => {
        const url = (el as any).querySelector('.red-ui-palette-icon-container').getAttribute('data-palette-icon');
        const img = new (globalThis as any).Image();
        img.src = url;
        await img.decode();
        return { url, naturalWidth: img.naturalWidth, body: await (await fetch(url)).text() };
      });
      icon.url.should.endWith(`/${pkg.name}/${c.type}.svg`);
      icon.naturalWidth.should.be.above(0);
      icon.body.should.equal(readFileSync(path.join(ROOT, 'icons', `${c.type}.svg`), 'utf8'));
    });
  }

  it('palette screenshot', async () => {
    const palette = page.locator('#red-ui-palette');
    const header = palette.locator('.red-ui-palette-header', { hasText: CATEGORY });
    await header.evaluate((el) => (el as any).scrollIntoView({ block: 'start' }));
    await palette.screenshot({ path: screenshotPath('palette.png') });
  });

  it('drag from the palette: the exception router lands in the workspace and opens its dialog on double-click', async () => {
    const before = await page.evaluate(() => (globalThis as any).RED.nodes.filterNodes({ type: 'order-exception-router' }).length);
    const entry = page.locator('.red-ui-palette-node[data-palette-type="order-exception-router"]');
    await entry.scrollIntoViewIfNeeded();
    const from = (await entry.boundingBox())!;
    const chart = (await page.locator('#red-ui-workspace-chart').boundingBox())!;
    await page.mouse.move(from.x + from.width / 2, from.y + from.height / 2);
    await page.mouse.down();
    await page.mouse.move(chart.x + 300, chart.y + 150, { steps: 15 });
    await page.mouse.up();
    const added = await page.evaluate(() => (globalThis as any).RED.nodes.filterNodes({ type: 'order-exception-router' }).map((n: any) => n.id));
    added.length.should.equal(before + 1);
    ids['order-exception-router'] = added[added.length - 1];
    const svg = page.locator(`#red-ui-workspace-chart g.red-ui-flow-node-group[id="${ids['order-exception-router']}"] rect.red-ui-flow-node`);
    await svg.dblclick();
    await page.locator('#node-input-rule-container').waitFor({ state: 'visible' });
    await cancel(page);
  });

  // Node-RED 4 takes a validator's returned message as "invalid" only when the function declares two
  // parameters; from a one-parameter validator the message counts as valid and the bad value is accepted.
  it('every property validator declares (v, opt), so its messages mark the node invalid', async () => {
    const oneParam = await page.evaluate((types) => types.flatMap((t) => {
      const defaults = (globalThis as any).RED.nodes.getType(t).defaults as Record<string, { validate?: Function }>;
      return Object.entries(defaults).filter(([, d]) => typeof d.validate === 'function' && d.validate.length !== 2).map(([k]) => `${t}.${k}`);
    }), [...registered]);
    oneParam.should.eql([]);
  });

  for (const c of NODES.filter((n) => !n.config)) {
    it(`${c.type}: added to a flow, invalid until its required fields are filled; bad values are marked; Done saves`, async function () {
      pendingUnlessRegistered(this, c.type);
      ids[c.type] ??= await addNode(page, c.type, {}, { x: 200 + 20 * Object.keys(ids).length, y: 80 + 45 * Object.keys(ids).length });
      const id = ids[c.type]!;
      const fresh = await nodeState(page, id);
      for (const prop of Object.keys(c.refs ?? {})) {
        fresh.valid.should.be.false(`${c.type} without ${prop}`);
        fresh.validationErrors.should.containEql(prop);
      }

      await openDialog(page, id);
      const f = fields(page);
      for (const bad of c.invalid) {
        await f.text(bad.prop, bad.value);
        (await f.marked(bad.prop)).should.be.true(`${c.type}.${bad.prop} = ${JSON.stringify(bad.value)} is marked`);
      }
      await confirm(page);
      const broken = await nodeState(page, id);
      if (c.invalid.length) broken.valid.should.be.false();
      for (const bad of c.invalid) broken.validationErrors.should.containEql(bad.error);

      await openDialog(page, id);
      for (const [prop, type] of Object.entries(c.refs ?? {})) {
        await f.select(prop, SEED_CONFIG[prop as keyof typeof SEED_CONFIG]);
        (await f.el(prop).inputValue()).should.equal(SEED_CONFIG[prop as keyof typeof SEED_CONFIG], `${prop} offers the seeded ${type}`);
      }
      await c.fill(f);
      for (const bad of c.invalid) (await f.marked(bad.prop)).should.be.false(`${c.type}.${bad.prop} no longer marked`);
      await confirm(page);
      const fixed = await nodeState(page, id);
      fixed.validationErrors.should.eql([]);
      fixed.valid.should.be.true();
    });
  }

  for (const c of NODES.filter((n) => n.config)) {
    it(`${c.type}: config dialog marks bad values and adds the node with what was entered`, async function () {
      pendingUnlessRegistered(this, c.type);
      await openConfigDialog(page, c.type);
      const f = fields(page, 'node-config-input');
      for (const bad of c.invalid) {
        await f.text(bad.prop, bad.value);
        (await f.marked(bad.prop)).should.be.true(`${c.type}.${bad.prop} = ${JSON.stringify(bad.value)} is marked`);
      }
      await c.fill(f);
      for (const bad of c.invalid) (await f.marked(bad.prop)).should.be.false(`${c.type}.${bad.prop} no longer marked`);
      await confirm(page, '#node-config-dialog-ok');
      const found = await page.evaluate(({ type, name }) => {
        const out: any[] = [];
        (globalThis as any).RED.nodes.eachConfig((n: any) => { if (n.type === type && n.name === name) out.push({ id: n.id, valid: n.valid }); });
        return out;
      }, { type: c.type, name: c.stored.name as string });
      found.length.should.equal(1);
      ids[c.type] = found[0].id;
      (await nodeState(page, found[0].id)).validationErrors.should.eql([]);
    });
  }

  it('deploy stores exactly what was entered (read back with GET /flows)', async () => {
    await deployFromEditor(page);
    const flows = await editor().getFlows();
    for (const c of NODES) {
      if (!ids[c.type]) continue; // pending: not registered yet
      const stored = flows.find((n) => n.id === ids[c.type]);
      assert(stored, `${c.type} ${ids[c.type]} deployed`);
      for (const [k, v] of Object.entries(c.stored)) assert.deepStrictEqual(stored[k], v, `${c.type}.${k}`);
    }
  });

  it('credentials: entered in the dialog, never sent back (GET /flows, GET /credentials, anything the browser receives)', async () => {
    const secretCases = NODES.filter((c) => c.secrets && ids[c.type]);
    secretCases.length.should.be.above(0);
    const secrets = secretCases.flatMap((c) => Object.values(c.secrets!));
    const received: string[] = [];
    page = await editor().reload((p) => {
      p.on('response', async (res) => { try { received.push(await res.text()); } catch { /* redirects have no body */ } });
      p.on('websocket', (ws) => ws.on('framereceived', (frame) => received.push(String(frame.payload))));
    });
    const flowsText = JSON.stringify(await editor().getFlows());
    for (const c of secretCases) {
      const id = ids[c.type]!;
      const creds = await editor().api('GET', `/credentials/${c.type}/${id}`);
      creds.status.should.equal(200);
      for (const name of Object.keys(c.secrets!)) {
        creds.body[`has_${name}`].should.be.true(`${c.type} has_${name}`);
        creds.body.should.not.have.property(name);
      }
      // Reopened, the dialog shows a placeholder, not the secret.
      await openConfigDialog(page, c.type, id);
      const f = fields(page, 'node-config-input');
      for (const name of Object.keys(c.secrets!)) (await f.el(name).inputValue()).should.equal('__PWRD__');
      await cancel(page, '#node-config-dialog-cancel');
      for (const s of secrets) {
        flowsText.should.not.containEql(s);
        JSON.stringify(creds.body).should.not.containEql(s);
      }
    }
    received.length.should.be.above(5);
    for (const s of secrets) received.filter((body) => body.includes(s)).should.eql([], `the browser received ${s}`);
  });
});
