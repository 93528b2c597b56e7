// The "Order exceptions" sidebar tab against a running flow: orders held by the exception router
// are listed with their finding codes; Release and Discard work from the browser.
import 'should';
import { readFileSync } from 'fs';
import path from 'path';
import type { Page } from 'playwright-core';
import { settle } from './dialog';
import { ROOT, screenshotPath, useEditor } from './harness';
import type { FlowNode } from './harness';

const fixture = () => JSON.parse(readFileSync(path.join(ROOT, 'test', 'fixtures', 'order-1001.json'), 'utf8'));
const finding = (check: string, code: string, message: string) => ({ check, code, severity: 'error', message, path: 'line_items[0].sku', retryable: false });

/** inject → exception router (no rules: blocking findings are held) → debug per output. */
function heldOrderFlow(userDir: string): FlowNode[] {
  const second = { ...fixture(), id: 450789470, name: '#1002', order_number: 1002 };
  const inject = (id: string, order: unknown, findings: unknown[]) => ({
    id, type: 'inject', z: 'exc-tab', name: id, x: 120, y: id === 'inject-1001' ? 80 : 140, wires: [['router']],
    props: [{ p: 'payload' }, { p: 'topic', vt: 'str' },
      { p: 'findings', v: JSON.stringify(findings), vt: 'json' },
      { p: 'shopify', v: JSON.stringify({ shop: 'demo-shop.myshopify.com', topic: 'orders/create', source: 'webhook' }), vt: 'json' }],
    payload: JSON.stringify(order), payloadType: 'json', topic: 'orders/create', repeat: '', once: false,
  });
  const debug = (id: string, name: string, y: number) => ({
    id, type: 'debug', z: 'exc-tab', name, active: true, tosidebar: true, console: false, tostatus: false,
    complete: 'routing', targetType: 'msg', x: 600, y, wires: [],
  });
  return [
    { id: 'exc-tab', type: 'tab', label: 'Exceptions' },
    { id: 'exc-journal', type: 'order-journal', name: 'exceptions journal', backend: 'sqlite', file: path.join(userDir, 'exceptions.sqlite'), retentionDays: 7 },
    inject('inject-1001', fixture(), [finding('sku', 'SKU_UNMAPPED', 'SKU TSHIRT-X has no D365 item'), finding('customer', 'CUSTOMER_AMBIGUOUS', 'two customers share this e-mail')]),
    inject('inject-1002', second, [finding('tax', 'TAX_MISMATCH', 'tax differs by 0.42')]),
    { id: 'router', type: 'order-exception-router', z: 'exc-tab', name: 'exceptions', journal: 'exc-journal', rules: [], retrySchedule: '1m', retryPollS: 5,
      outputs: 3, x: 350, y: 110, wires: [['clean'], ['held'], ['recheck']] },
    debug('clean', 'clean', 60), debug('held', 'held', 110), debug('recheck', 're-check', 160),
  ];
}

describe('editor: Order exceptions sidebar in a real browser', function () {
  this.timeout(60_000);
  const editor = useEditor();
  let page: Page;
  const holdOf = (name: string) => page.locator('.sd365-hold', { has: page.locator('.sd365-order', { hasText: name }) });

  before(async () => {
    const e = editor();
    await e.deploy(heldOrderFlow(e.userDir));
    // The deploy answers before every node has started: an inject not started yet answers 404.
    for (const id of ['inject-1001', 'inject-1002']) {
      let status = 0;
      for (let i = 0; i < 50 && status !== 200; i++) {
        if (i) await new Promise((r) => setTimeout(r, 200));
        status = (await e.api('POST', `/inject/${id}`)).status;
      }
      status.should.equal(200, `POST /inject/${id}`);
    }
    page = await e.reload();
  });

  it('lists the held orders with their finding codes', async () => {
    await page.evaluate(() => (globalThis as any).RED.actions.invoke('shopify-d365:show-order-exceptions'));
    const tab = page.locator('.sd365-exceptions');
    await tab.waitFor({ state: 'visible' });
    await tab.locator('.sd365-hold').nth(1).waitFor();
    (await tab.locator('.sd365-hold').count()).should.equal(2);
    (await holdOf('#1001').locator('.sd365-finding code').allInnerTexts()).sort().should.eql(['CUSTOMER_AMBIGUOUS', 'SKU_UNMAPPED']);
    (await holdOf('#1002').locator('.sd365-finding code').allInnerTexts()).should.eql(['TAX_MISMATCH']);
    (await tab.locator('.sd365-counts').innerText()).should.match(/2 held/);
    await settle(page);
    await page.locator('#red-ui-sidebar').screenshot({ path: screenshotPath('exceptions-tab.png') });
  });

  it('Release sends the order back through the checks (re-check output) and it leaves the list', async () => {
    await holdOf('#1001').locator('.sd365-release').click();
    await holdOf('#1001').waitFor({ state: 'detached' });
    const released = await editor().api('GET', '/shopify-d365/holds?status=released');
    released.body.holds.map((h: { orderName: string }) => h.orderName).should.eql(['#1001']);
    released.body.holds[0].resolvedBy.should.equal('editor');
    // The debug node on the re-check output shows the released order in the Debug sidebar.
    await page.evaluate(() => (globalThis as any).RED.sidebar.show('debug'));
    const msg = page.locator('.red-ui-debug-msg', { hasText: 're-check' });
    await msg.waitFor();
    (await msg.innerText()).should.match(/released/);
    (await page.locator('.red-ui-debug-msg', { hasText: 'clean' }).count()).should.equal(0);
  });

  it('Discard asks why, records the reason and empties the list', async () => {
    await page.evaluate(() => (globalThis as any).RED.actions.invoke('shopify-d365:show-order-exceptions'));
    await holdOf('#1002').waitFor();
    const asked: string[] = [];
    page.once('dialog', async (d) => { asked.push(d.message()); await d.accept('duplicate of #1001'); });
    await holdOf('#1002').locator('.sd365-discard').click();
    await holdOf('#1002').waitFor({ state: 'detached' });
    asked.should.eql(['Why discard #1002? (recorded in the order history)']);
    const discarded = await editor().api('GET', '/shopify-d365/holds?status=discarded');
    discarded.body.holds.map((h: { orderName: string; resolution: string }) => [h.orderName, h.resolution]).should.eql([['#1002', 'duplicate of #1001']]);
    await page.locator('.sd365-exceptions .sd365-empty', { hasText: 'No held orders.' }).waitFor();
  });
});
