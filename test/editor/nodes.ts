// Per-node editor coverage as data: adding a node to the package is one entry here. The dialog spec
// fails when package.json registers a node type that has no entry.
import path from 'path';
import type { Fields } from './dialog';
import type { FlowNode } from './harness';

/** Config nodes the seed flow provides, so node dialogs can pick them. Their servers point at a
 * closed local port: nothing in the editor tests talks to Shopify or Microsoft. */
export const SEED_CONFIG = {
  store: 'seed-store',
  connection: 'seed-d365',
  journal: 'seed-journal',
};

export function seedConfigNodes(userDir: string): FlowNode[] {
  return [
    { id: SEED_CONFIG.store, type: 'shopify-store', name: 'seed shop', shopDomain: 'seed-shop.myshopify.com', apiVersion: '2026-07', baseUrl: 'http://127.0.0.1:9' },
    // As saved before the rate-limit fields existed: an upgraded flow's connection must stay valid.
    { id: SEED_CONFIG.connection, type: 'd365-connection', name: 'seed BC', flavour: 'bc', tenant: 'seed.onmicrosoft.com', environment: 'sandbox',
      companyId: '11111111-2222-3333-4444-555555555555', baseUrl: 'http://127.0.0.1:9', tokenUrl: 'http://127.0.0.1:9/token', maxConcurrency: 2, dryRun: true },
    { id: SEED_CONFIG.journal, type: 'order-journal', name: 'seed journal', backend: 'sqlite', file: path.join(userDir, 'seed-journal.sqlite'), retentionDays: 7 },
  ];
}

export interface Invalid {
  /** property whose form field gets a bad value */
  prop: string;
  value: string;
  /** what the editor then reports in node.validationErrors (the property name or the validator's message) */
  error: string;
}

export interface NodeCase {
  type: string;
  /** config nodes live in the Configuration nodes sidebar, not in the palette */
  config?: true;
  /** palette label (non-config nodes) */
  label?: string;
  /** required config-node properties: empty on a freshly added node, so it starts invalid */
  refs?: Partial<Record<keyof typeof SEED_CONFIG, string>>;
  /** bad values that must mark the node invalid */
  invalid: Invalid[];
  /** what a person enters in the dialog … */
  fill(f: Fields): Promise<void>;
  /** … and exactly what GET /flows must hold afterwards (editor text fields save strings) */
  stored: Record<string, unknown>;
  /** credentials of type password entered in the dialog: never to come back */
  secrets?: Record<string, string>;
}

export const NODES: NodeCase[] = [
  {
    type: 'shopify-store', config: true,
    // Bad values the dialog's own clean-up (a bare name gets .myshopify.com on change) leaves as typed.
    invalid: [{ prop: 'shopDomain', value: 'not a shop.example.com', error: 'shopDomain' }, { prop: 'apiVersion', value: '2026-13', error: 'apiVersion' }],
    async fill(f) {
      await f.text('name', 'EU shop');
      await f.text('shopDomain', 'eu-shop'); // the dialog completes a bare handle to the .myshopify.com domain
      await f.text('apiVersion', '2026-07');
      await f.text('accessToken', 'shpat_EDITOR_SECRET_TOKEN_1');
      await f.text('webhookSecret', 'whsec_EDITOR_SECRET_2');
      await f.text('baseUrl', 'http://127.0.0.1:9');
    },
    stored: { name: 'EU shop', shopDomain: 'eu-shop.myshopify.com', apiVersion: '2026-07', baseUrl: 'http://127.0.0.1:9' },
    secrets: { accessToken: 'shpat_EDITOR_SECRET_TOKEN_1', webhookSecret: 'whsec_EDITOR_SECRET_2' },
  },
  {
    type: 'd365-connection', config: true,
    invalid: [{ prop: 'tenant', value: '', error: 'tenant' }, { prop: 'companyId', value: 'CRONUS', error: 'companyId' }],
    async fill(f) {
      await f.text('name', 'BC sandbox');
      await f.text('tenant', 'contoso.onmicrosoft.com');
      await f.text('environment', 'sandbox');
      await f.text('companyId', 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee');
      await f.text('clientId', 'app-client-id');
      await f.text('clientSecret', 'EDITOR_CLIENT_SECRET_3');
      await f.text('maxConcurrency', '7');
      await f.check('dryRun', true);
      await f.text('baseUrl', 'http://127.0.0.1:9');
      await f.text('tokenUrl', 'http://127.0.0.1:9/token');
    },
    stored: { name: 'BC sandbox', flavour: 'bc', tenant: 'contoso.onmicrosoft.com', environment: 'sandbox', companyId: 'aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee', maxConcurrency: '7', dryRun: true },
    secrets: { clientSecret: 'EDITOR_CLIENT_SECRET_3' },
  },
  {
    type: 'order-journal', config: true,
    invalid: [{ prop: 'retentionDays', value: '0', error: 'retentionDays' }],
    async fill(f) {
      await f.text('name', 'main journal');
      await f.text('file', 'editor-journal.sqlite');
      await f.text('retentionDays', '14');
    },
    stored: { name: 'main journal', backend: 'sqlite', file: 'editor-journal.sqlite', retentionDays: '14' },
  },
  {
    type: 'shopify-trigger', label: 'shopify in', refs: { store: 'shopify-store', journal: 'order-journal' },
    invalid: [{ prop: 'path', value: 'no slash', error: 'path' }, { prop: 'maxBodyKb', value: '0', error: 'maxBodyKb' }],
    async fill(f) {
      await f.text('path', '/hooks/eu');
      await f.text('maxBodyKb', '2048');
      await f.el('topics-list').locator('input[value="orders/updated"]').setChecked(false);
      await f.el('topics-list').locator('input[value="orders/paid"]').setChecked(true);
      await f.check('reconcile', true);
      await f.text('reconcileIntervalS', '600');
    },
    stored: { path: '/hooks/eu', maxBodyKb: '2048', reconcile: true, reconcileIntervalS: '600',
      topics: ['orders/create', 'orders/paid', 'orders/cancelled', 'refunds/create'], store: SEED_CONFIG.store, journal: SEED_CONFIG.journal },
  },
  {
    type: 'shopify-order-check', label: 'order check',
    invalid: [{ prop: 'allowedCurrencies', value: 'usd', error: 'Invalid input pattern' }],
    async fill(f) {
      await f.select('mode', 'divert');
      await f.text('allowedCurrencies', 'USD, EUR');
      await f.select('testOrders', 'warn');
      await f.check('requireCountry', false);
      await f.el('statuses').locator('input[value="pending"]').setChecked(true);
    },
    stored: { mode: 'divert', allowedCurrencies: 'USD, EUR', testOrders: 'warn', requireCountry: false, allowedFinancialStatuses: ['pending', 'authorized', 'paid'] },
  },
  {
    type: 'd365-customer-matcher', label: 'customer matcher', refs: { connection: 'd365-connection' },
    invalid: [{ prop: 'cacheSize', value: '5', error: 'cache size: a whole number from 10 to 1000000' },
      { prop: 'cacheTtlS', value: '90000', error: 'cache TTL (s): a whole number from 0 to 86400' }],
    async fill(f) {
      await f.select('mode', 'divert');
      await f.text('cacheTtlS', '120');
      await f.text('cacheSize', '500');
    },
    stored: { mode: 'divert', cacheTtlS: '120', cacheSize: '500', connection: SEED_CONFIG.connection },
  },
  {
    type: 'd365-sku-validator', label: 'SKU validator', refs: { connection: 'd365-connection' },
    invalid: [{ prop: 'separator', value: '', error: 'separator: 1 to 5 characters' },
      { prop: 'cacheTtlS', value: '-1', error: 'cache TTL (s): a whole number from 0 to 86400' },
      { prop: 'cacheSize', value: '2000000', error: 'cache size: a whole number from 10 to 1000000' }],
    async fill(f) {
      await f.text('separator', '/');
      await f.select('caseRule', 'exact');
      await f.select('nonInventory', 'block');
      await f.text('cacheTtlS', '600');
      await f.text('cacheSize', '20000');
    },
    stored: { separator: '/', caseRule: 'exact', nonInventory: 'block', cacheTtlS: '600', cacheSize: '20000', connection: SEED_CONFIG.connection },
  },
  {
    type: 'd365-price-check', label: 'price check', refs: { connection: 'd365-connection' },
    invalid: [{ prop: 'companyCurrency', value: 'E1', error: 'Invalid input pattern' }, { prop: 'totalsTolerance', value: 'abc', error: 'must be a non-negative decimal number' },
      { prop: 'cacheTtlS', value: '90000', error: 'cache TTL: whole seconds, 0 to 86400' }, { prop: 'cacheMax', value: '0', error: 'cache size: a whole number of at least 1' }],
    async fill(f) {
      await f.text('companyCurrency', 'EUR');
      await f.text('totalsTolerance', '0.05');
      await f.select('zeroPrice', 'error');
      await f.text('cacheTtlS', '60');
      await f.text('cacheMax', '500');
    },
    stored: { companyCurrency: 'EUR', totalsTolerance: '0.05', zeroPrice: 'error', cacheTtlS: '60', cacheMax: '500', connection: SEED_CONFIG.connection },
  },
  {
    type: 'd365-tax-check', label: 'tax check',
    invalid: [{ prop: 'tolerancePct', value: '150', error: 'percent tolerance: 0 to 100' },
      { prop: 'toleranceAbs', value: '-1', error: 'must be a non-negative decimal number' },
      { prop: 'cacheTtlS', value: 'hour', error: 'cache TTL: whole seconds, 0 to 86400' }, { prop: 'cacheMax', value: '1.5', error: 'cache size: a whole number of at least 1' }],
    async fill(f) {
      await f.select('connection', SEED_CONFIG.connection);
      await f.select('mode', 'divert');
      await f.text('toleranceAbs', '0.02');
      await f.text('tolerancePct', '1');
      await f.check('taxShipping', false);
      await f.text('cacheTtlS', '120');
      await f.text('cacheMax', '100');
    },
    stored: { mode: 'divert', toleranceAbs: '0.02', tolerancePct: '1', taxShipping: false, cacheTtlS: '120', cacheMax: '100', connection: SEED_CONFIG.connection },
  },
  {
    type: 'd365-inventory-gate', label: 'inventory gate', refs: { connection: 'd365-connection', journal: 'order-journal' },
    invalid: [{ prop: 'refreshBelow', value: 'x', error: 'refresh threshold: a whole number from 0 to 1000000' },
      { prop: 'safetyStock', value: '1.5', error: 'default safety stock: a whole number from 0 to 1000000000' },
      { prop: 'cacheTtlS', value: '4000', error: 'stock cache TTL (s): a whole number from 0 to 3600' }],
    async fill(f) {
      await f.select('strategy', 'split');
      await f.select('backorder', 'allow');
      await f.text('safetyStock', '2');
      await f.text('cacheTtlS', '15');
      await f.text('refreshBelow', '3');
      await f.select('unstocked', 'skip');
    },
    stored: { strategy: 'split', backorder: 'allow', safetyStock: '2', cacheTtlS: '15', refreshBelow: '3', unstocked: 'skip',
      connection: SEED_CONFIG.connection, journal: SEED_CONFIG.journal },
  },
  {
    type: 'order-exception-router', label: 'exception router', refs: { journal: 'order-journal' },
    invalid: [{ prop: 'retryPollS', value: 'often', error: 'Invalid number' }, { prop: 'retrySchedule', value: 'soon', error: 'a list like 1m, 5m, 15m, 1h' }],
    async fill(f) {
      await f.text('name', 'holds');
      await f.text('retrySchedule', '30s, 2m');
      await f.text('retryPollS', '10');
    },
    stored: { name: 'holds', retrySchedule: '30s, 2m', retryPollS: '10', journal: SEED_CONFIG.journal },
  },
  {
    type: 'd365-order-writer', label: 'order writer', refs: { connection: 'd365-connection', journal: 'order-journal' },
    invalid: [{ prop: 'localCurrency', value: 'E1', error: 'Invalid input pattern' }, { prop: 'attempts', value: '0', error: 'attempts: a whole number from 1 to 10' },
      { prop: 'retryBaseMs', value: '-5', error: 'back-off: 0 to 60000 ms' }],
    async fill(f) {
      await f.select('shippingMode', 'charge');
      await f.text('shippingChargeNo', 'S-FREIGHT');
      await f.text('localCurrency', 'eur'); // saved upper-case
      await f.text('attempts', '5');
      await f.text('retryBaseMs', '250');
      await f.check('writeBack', false);
    },
    stored: { shippingMode: 'charge', shippingChargeNo: 'S-FREIGHT', localCurrency: 'EUR', attempts: '5', retryBaseMs: '250', writeBack: false,
      connection: SEED_CONFIG.connection, journal: SEED_CONFIG.journal },
  },
  {
    type: 'd365-trigger', label: 'D365 events', refs: { connection: 'd365-connection', journal: 'order-journal' },
    invalid: [{ prop: 'intervalS', value: '1', error: 'interval: 5 to 86400 seconds' }],
    async fill(f) {
      await f.text('intervalS', '300');
      await f.check('orderStatus', true);
      await f.select('startFrom', 'beginning');
    },
    stored: { intervalS: '300', orderStatus: true, startFrom: 'beginning', connection: SEED_CONFIG.connection, journal: SEED_CONFIG.journal },
  },
  {
    type: 'shopify-fulfillment-sender', label: 'fulfillment sender', refs: { store: 'shopify-store', journal: 'order-journal' },
    invalid: [{ prop: 'locations', value: 'EAST=main', error: 'location table line 1: the Shopify location id is a number' },
      { prop: 'carriers', value: 'UPS=UPS\nGLS', error: 'carrier table line 2: write CODE=value' },
      { prop: 'attempts', value: '0', error: 'attempts: a whole number from 1 to 10' },
      { prop: 'retryBaseMs', value: '-1', error: 'back-off: 0 to 60000 ms' }],
    async fill(f) {
      await f.check('notifyCustomer', true);
      await f.text('carriers', 'UPS=UPS\nGLS=GLS');
      await f.text('locations', 'EAST=655441491');
      await f.text('attempts', '5');
      await f.text('retryBaseMs', '250');
    },
    stored: { notifyCustomer: true, carriers: 'UPS=UPS\nGLS=GLS', locations: 'EAST=655441491', attempts: '5', retryBaseMs: '250', store: SEED_CONFIG.store, journal: SEED_CONFIG.journal },
  },
  {
    type: 'shopify-inventory-sync', label: 'inventory sync', refs: { store: 'shopify-store', connection: 'd365-connection', journal: 'order-journal' },
    invalid: [{ prop: 'intervalS', value: '5', error: 'interval: 0 (only on input) or 10 to 86400 seconds' },
      { prop: 'separator', value: '------', error: 'separator: 1 to 5 characters' },
      { prop: 'safetyStock', value: '-1', error: 'default safety stock: a whole number from 0 to 1000000000' },
      { prop: 'batchSize', value: '300', error: 'batch size: a whole number from 1 to 250' }],
    async fill(f) {
      // At least one location must be mapped: one row added in the table.
      const table = f.el('locations-container');
      await table.locator('.red-ui-editableList-addButton').click();
      const row = table.locator('ol.sd365-table > li').last();
      await row.locator('.sd365-cell-d365Location').fill('east');
      await row.locator('.sd365-cell-shopifyLocation').fill('655441491');
      await f.text('separator', '/');
      await f.text('safetyStock', '3');
      await f.check('subtractReservations', false);
      await f.text('intervalS', '600');
      await f.text('batchSize', '100');
    },
    stored: { locations: [{ d365Location: 'EAST', shopifyLocation: '655441491' }], separator: '/', safetyStock: '3', subtractReservations: false, intervalS: '600', batchSize: '100',
      store: SEED_CONFIG.store, connection: SEED_CONFIG.connection, journal: SEED_CONFIG.journal },
  },
];
