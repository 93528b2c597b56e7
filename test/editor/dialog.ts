// Editor actions a person performs, expressed once for every editor spec. Functions passed to
// page.evaluate run in the browser, so they reach the editor through globalThis (no DOM types here).
import type { Locator, Page } from 'playwright-core';

export interface NodeState {
  valid: boolean;
  validationErrors: string[];
  props: Record<string, unknown>;
  outputs: number;
  outputLabels: string[];
}

/** Adds a node of `type` to the active flow the way the palette's quick-add does (defaults applied). */
export async function addNode(page: Page, type: string, props: Record<string, unknown> = {}, at = { x: 300, y: 200 }): Promise<string> {
  return page.evaluate(({ type, props, at }) => {
    const RED = (globalThis as any).RED;
    const id = RED.nodes.id();
    RED.view.importNodes([{ id, type, z: RED.workspaces.active(), x: at.x, y: at.y, wires: [], ...props }],
      { touchImport: true, generateIds: false, notify: false, applyNodeDefaults: true });
    RED.view.select({ nodes: [] });
    RED.view.redraw(true);
    return id;
  }, { type, props, at });
}

export async function nodeState(page: Page, id: string): Promise<NodeState> {
  return page.evaluate((id) => {
    const RED = (globalThis as any).RED;
    const n = RED.nodes.node(id);
    if (!n) throw new Error(`no node ${id}`);
    RED.editor.validateNode(n);
    const props: Record<string, unknown> = {};
    for (const k of Object.keys(n._def.defaults || {})) props[k] = JSON.parse(JSON.stringify(n[k] ?? null));
    const labels = n._def.outputLabels;
    const outputLabels: string[] = [];
    for (let i = 0; i < (n.outputs || 0); i++) outputLabels.push(typeof labels === 'function' ? labels.call(n, i) : (labels || [])[i]);
    return { valid: n.valid, validationErrors: (n.validationErrors || []).map(String), props, outputs: n.outputs, outputLabels };
  }, id);
}

/** Opens a node's edit dialog (what a double-click does) and waits for its form. */
export async function openDialog(page: Page, id: string): Promise<Locator> {
  await page.evaluate((id) => { const RED = (globalThis as any).RED; RED.editor.edit(RED.nodes.node(id)); }, id);
  await page.locator('#node-dialog-ok').waitFor({ state: 'visible' });
  const form = page.locator('#dialog-form');
  await form.waitFor({ state: 'visible' });
  await settle(page);
  return form;
}

/** Opens the dialog of a new (`_ADD_`) or existing config node. */
export async function openConfigDialog(page: Page, type: string, id = '_ADD_'): Promise<Locator> {
  await page.evaluate(({ type, id }) => { (globalThis as any).RED.editor.editConfig('', type, id); }, { type, id });
  await page.locator('#node-config-dialog-ok').waitFor({ state: 'visible' });
  const form = page.locator('#node-config-dialog-edit-form');
  await form.waitFor({ state: 'visible' });
  await settle(page);
  return form;
}

/** The tray slides in and out: wait until jQuery animations are over before clicking. */
export async function settle(page: Page): Promise<void> {
  await page.waitForFunction(() => (globalThis as any).$(':animated').length === 0);
}

/** Clicks Done / Add / Update and waits for the tray to close (retrying a click lost in a redraw). */
export async function confirm(page: Page, button = '#node-dialog-ok'): Promise<void> {
  const b = page.locator(button);
  for (let attempt = 0; attempt < 3; attempt++) {
    await settle(page);
    if (!(await b.isVisible())) break;
    await b.click();
    try {
      await b.waitFor({ state: 'detached', timeout: 3000 });
      break;
    } catch { /* click swallowed by an animation: try again */ }
  }
  await settle(page);
}

export async function cancel(page: Page, button = '#node-dialog-cancel'): Promise<void> {
  await settle(page);
  await page.locator(button).click();
  await page.locator(button).waitFor({ state: 'detached' });
  await settle(page);
}

/** Form controls addressed by property name, as the template ids them (node-input-<prop>). */
export function fields(page: Page, prefix = 'node-input') {
  const el = (prop: string) => page.locator(`#${prefix}-${prop}`);
  return {
    el,
    async text(prop: string, value: string) {
      // A slow machine can move focus (the tray finishing its slide) between fill's select-all and its
      // typing, leaving the old text in place: type again until the field really holds the value.
      for (let attempt = 0; attempt < 3; attempt++) {
        await settle(page);
        await el(prop).fill(value);
        if ((await el(prop).inputValue()) === value) break;
      }
      const now = await el(prop).inputValue();
      if (now !== value) throw new Error(`#${prefix}-${prop} holds ${JSON.stringify(now)} after typing ${JSON.stringify(value)}`);
      await el(prop).dispatchEvent('change');
    },
    async select(prop: string, value: string) {
      await el(prop).selectOption(value);
    },
    async check(prop: string, on: boolean) {
      // As with text(): a click while the tray is still moving can miss; click again until the box shows it.
      for (let attempt = 0; attempt < 3 && (await el(prop).isChecked()) !== on; attempt++) {
        await settle(page);
        await el(prop).click({ force: true });
      }
      if ((await el(prop).isChecked()) !== on) throw new Error(`#${prefix}-${prop} is still ${on ? 'unchecked' : 'checked'} after clicking it`);
    },
    /** Whether the editor marks the field as invalid while the dialog is open. */
    async marked(prop: string): Promise<boolean> {
      return (await el(prop).getAttribute('class') ?? '').split(/\s+/).includes('input-error');
    },
  };
}
export type Fields = ReturnType<typeof fields>;

/** Deploys from the editor (the Deploy button's action) and waits until nothing is left to deploy. */
export async function deployFromEditor(page: Page): Promise<void> {
  // With invalid nodes the editor asks for confirmation first; a test that gets here with one is wrong.
  const invalid = await page.evaluate(() => {
    const RED = (globalThis as any).RED;
    const out: string[] = [];
    const check = (n: any) => { RED.editor.validateNode(n); if (!n.valid) out.push(`${n.type} ${n.id}: ${(n.validationErrors || []).join(', ')}`); };
    RED.nodes.eachNode(check);
    RED.nodes.eachConfig((n: any) => { if (n._def?.category === 'config' && n.users?.length) check(n); });
    return out;
  });
  if (invalid.length) throw new Error(`refusing to deploy invalid nodes:\n${invalid.join('\n')}`);
  await page.evaluate(() => (globalThis as any).RED.actions.invoke('core:deploy-flows'));
  await page.waitForFunction(() => !(globalThis as any).RED.nodes.dirty(), null, { timeout: 15_000 });
}

/** Drags an editableList row by its handle so it lands above row `to` (0-based). */
export async function dragRow(page: Page, list: Locator, from: number, to: number): Promise<void> {
  const rows = list.locator(':scope > li');
  const handle = rows.nth(from).locator('.red-ui-editableList-item-handle');
  const target = rows.nth(to);
  await handle.scrollIntoViewIfNeeded();
  const h = (await handle.boundingBox())!;
  const t = (await target.boundingBox())!;
  const up = to < from;
  await page.mouse.move(h.x + h.width / 2, h.y + h.height / 2);
  await page.mouse.down();
  const y = up ? t.y + 2 : t.y + t.height - 2;
  await page.mouse.move(h.x + h.width / 2, h.y + h.height / 2 + (up ? -5 : 5), { steps: 3 });
  await page.mouse.move(h.x + h.width / 2, y, { steps: 12 });
  await page.mouse.move(h.x + h.width / 2, y + (up ? -1 : 1), { steps: 2 });
  await page.mouse.up();
  await settle(page);
}
