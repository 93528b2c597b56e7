import { Refund, formatZodError, hasBlocking, isBlocking, safeParseOrder } from '../contract';
import type { Order } from '../contract';
import type { Erp, Finding, OrderMessage } from '../contract';
import { odataString } from '../d365/bc-api';
import type { BcApi } from '../d365/bc-api';
import type { OrderJournal, OrderRecord, OrderState } from '../journal/journal';
import type { ShopifyAdminApi } from '../shopify/admin-api';
import { instantMs, normaliseInstant } from '../shopify/webhook';
import { noteOwnWriteBack } from '../shopify/webhook-own-writes';
import { classifyBcError, isNotFound } from './bc-errors';
import { buildSalesOrder } from './build-sales-order';
import type { BuiltSalesOrder, LineMap, ResolvedIds, ShippingRef, WriterFinding } from './build-sales-order';
import { KeyedQueue } from './keyed-queue';
import { planRefund } from './refund-plan';
import type { BcLine, RefundPlan } from './refund-plan';
import { withRetry } from './retry';
import type { RetryPolicy } from './retry';
import type { WriterSettings } from './settings';
import { planUpdate } from './update-plan';

/** The `check` of the writer's findings: its node type, like every check node's. */
export const WRITER_CHECK = 'd365-order-writer';

export type WriterAction =
  | 'created' | 'exists' | 'dry-run' | 'cancelled' | 'refunded' | 'updated' | 'unchanged' | 'not-in-erp' | 'skipped' | 'rejected';

export interface WriterResult {
  ok: boolean;
  action: WriterAction;
  findings: WriterFinding[];
  salesOrder?: { id: string; number: string };
  creditMemo?: { id: string; number: string };
  /** Dry run: what would have been sent. */
  request?: { method: string; path: string; body?: unknown }[];
  /** Human-readable list of what changed in D365. */
  changes?: string[];
}

export interface WriterDeps {
  bc: BcApi;
  journal: OrderJournal;
  /** For the write-back of the D365 number; none = no write-back. */
  shopify?: ShopifyAdminApi;
  settings: WriterSettings;
  dryRun: boolean;
  /** Lease owner for the per-order create lock (unique per process). */
  owner: string;
  sleep?: (ms: number) => Promise<void>;
}

interface SalesOrderDoc { id: string; number: string; '@odata.etag'?: string; customerNumber?: string; currencyCode?: string; salesOrderLines?: BcLine[]; [k: string]: unknown }

/** Create lock per order: long enough for a create with retries, short enough that a dead instance's lock lapses. */
const CREATE_LEASE_MS = 120_000;
const PRE_CREATE: readonly (OrderState | undefined)[] = [undefined, 'received', 'checked', 'held', 'failed', 'creating'];
/** The write-back; the answer carries the order as it is right after it (see noteOwnVersion). */
const METAFIELDS_SET = `mutation d365WriteBack($metafields: [MetafieldsSetInput!]!) {
  metafieldsSet(metafields: $metafields) {
    metafields { id updatedAt owner { ... on Order { updatedAt metafield(namespace: "d365", key: "sales_order_number") { value } } } }
    userErrors { field message code }
  }
}`;
/** One metafield of the metafieldsSet answer, with the order it belongs to. */
type WrittenMetafield = { updatedAt?: string; owner?: { updatedAt?: string; metafield?: { value?: string } | null } | null };

/** Thrown inside a flow step to end it with findings (caught in `run`). */
class Stop extends Error {
  constructor(readonly result: WriterResult) { super(result.action); }
}

const fail = (findings: WriterFinding[], action: WriterAction = 'rejected'): WriterResult => ({ ok: false, action, findings });

/**
 * The d365-order-writer without Node-RED: creates the BC sales order exactly once and applies the
 * lifecycle rules to cancellations, refunds and edits. Business outcomes come back as a WriterResult
 * with findings; only bugs are thrown.
 */
export class OrderWriter {
  private readonly retry: RetryPolicy;
  private shipmentMethods?: Map<string, string>;
  private locations?: Map<string, string>;
  private readonly queue = new KeyedQueue();

  constructor(private readonly d: WriterDeps) {
    this.retry = { attempts: d.settings.attempts, baseMs: d.settings.retryBaseMs, sleep: d.sleep };
  }

  async handle(msg: OrderMessage, shopFallback?: string): Promise<WriterResult> {
    const shop = msg.shopify?.shop ?? shopFallback;
    if (!shop) return fail([{ code: 'PAYLOAD_INVALID', severity: 'error', message: 'msg.shopify.shop is missing and no Shopify store is configured', path: 'shopify.shop' }]);
    const p = msg.payload as { id?: unknown; order_id?: unknown } | null;
    const orderId = msg.topic === 'refunds/create' ? p?.order_id : p?.id;
    if (typeof orderId !== 'string' && typeof orderId !== 'number') return this.run(shop, msg);
    // One event per order at a time: the journal's create lease keeps instances apart, but inside one writer a
    // duplicate webhook (or a refund racing an edit) would otherwise interleave with the first.
    return this.queue.run(`${shop}:${orderId}`, () => this.run(shop, msg));
  }

  private async run(shop: string, msg: OrderMessage): Promise<WriterResult> {
    try {
      switch (msg.topic) {
        case 'orders/cancelled': return await this.cancel(shop, msg);
        case 'refunds/create': return await this.refund(shop, msg);
        case 'orders/updated': return await this.update(shop, msg);
        default: return await this.create(shop, msg);
      }
    } catch (e) {
      if (e instanceof Stop) return e.result;
      const c = classifyBcError(e);
      if (!c) throw e;
      return fail([c.retryable
        ? { code: 'D365_UNAVAILABLE', severity: 'error', retryable: true, message: `D365 did not answer after ${this.d.settings.attempts} attempt(s): ${c.message}` }
        : { code: 'D365_REJECTED', severity: 'error', message: `D365 rejected the request${c.code ? ` (${c.code})` : ''}: ${c.message}` }]);
    }
  }

  // --- create -----------------------------------------------------------------------------------

  private async create(shop: string, msg: OrderMessage): Promise<WriterResult> {
    const order = parseOrder(msg.payload);
    // Exactly what the exception router lets out of its clean output: no finding left at severity error. A forced
    // release or a "continue" rule has already downgraded the findings it waived to warnings, so no other pass is
    // needed (msg.shopify.source = release alone proves nothing). The writer's own findings describe its previous
    // attempt (e.g. D365 was down) and are replaced by this one.
    const blocking = (Array.isArray(msg.findings) ? msg.findings : []).filter((f) => f.check !== WRITER_CHECK && isBlocking(f));
    if (this.d.settings.blockOnFindings && blocking.length) {
      const codes = [...new Set(blocking.map((f) => f.code))];
      return fail([{ code: 'ORDER_HAS_BLOCKING_FINDINGS', severity: 'error', message: `not created: the order still has blocking findings (${codes.join(', ')})` }]);
    }
    const erp = msg.erp;
    const built = buildSalesOrder(order, erp, this.d.settings, await this.resolveIds(erp));
    if (hasBlocking(built.findings as Finding[])) return fail(built.findings);
    const warnings = built.findings;
    if (this.d.dryRun) return { ok: true, action: 'dry-run', findings: warnings, request: [{ method: 'POST', path: 'salesOrders', body: built.body }] };

    const orderId = String(order.id);
    const lease = `d365-create:${shop}:${orderId}`;
    if (!(await this.d.journal.acquireLease(lease, this.d.owner, CREATE_LEASE_MS))) {
      return fail([{ code: 'D365_CREATE_IN_PROGRESS', severity: 'error', retryable: true, message: 'another instance is creating this order in D365 right now' }]);
    }
    try {
      return await this.createLocked(shop, orderId, order, built, warnings);
    } finally {
      await this.d.journal.releaseLease(lease, this.d.owner);
    }
  }

  private async createLocked(shop: string, orderId: string, order: Order, built: BuiltSalesOrder, warnings: WriterFinding[]): Promise<WriterResult> {
    const rec = await this.d.journal.getOrder(shop, orderId);
    if (rec?.documents.salesOrderId && (rec.state === 'created' || rec.state === 'closed')) {
      return { ok: true, action: 'exists', findings: warnings, salesOrder: { id: rec.documents.salesOrderId, number: rec.documents.salesOrder ?? '' } };
    }
    if (rec?.state === 'cancelled') {
      return fail([{ code: 'ORDER_CANCELLED', severity: 'error', message: 'the order was cancelled in Shopify; it is not created in D365' }]);
    }
    const documents = {
      externalDocumentNumber: order.name, customerNumber: String(built.body.customerNumber), currencyCode: String(built.body.currencyCode ?? ''),
      lines: JSON.stringify(built.lines), shipping: JSON.stringify(built.shipping),
    };
    const findExisting = () => this.findByExternalNo('salesOrders', order.name);
    // The intent ('creating') is committed before every POST, so only an order with an earlier attempt can be in
    // D365 already (e.g. a create whose response was lost); 'always' also covers a journal restored from backup.
    const attempted = rec?.state === 'creating' || rec?.state === 'failed';
    let so = attempted || this.d.settings.verifyBeforeCreate === 'always' ? await withRetry(this.retry, findExisting) : undefined;
    let action: WriterAction = 'exists';
    if (!so) {
      const intent = await this.d.journal.transitionOrder(shop, orderId, PRE_CREATE, 'creating',
        { orderName: order.name, documents: { ...(rec?.documents ?? {}), ...documents }, event: 'd365-create-intent' });
      if (!intent) {
        const now = await this.d.journal.getOrder(shop, orderId);
        if (now?.documents.salesOrderId) return { ok: true, action: 'exists', findings: warnings, salesOrder: { id: now.documents.salesOrderId, number: now.documents.salesOrder ?? '' } };
        return fail([{ code: 'ORDER_CANCELLED', severity: 'error', message: `the order is ${now?.state ?? 'gone'} in the journal; it is not created in D365` }]);
      }
      try {
        so = await withRetry(this.retry, () => this.d.bc.post<SalesOrderDoc>('salesOrders', built.body), findExisting);
        action = 'created';
      } catch (e) {
        const c = classifyBcError(e);
        if (c) await this.d.journal.transitionOrder(shop, orderId, ['creating'], 'failed', { event: 'd365-create-failed', detail: `${c.code} ${c.message}`.trim() });
        throw e;
      }
    }
    const salesOrder = { id: so.id, number: so.number };
    await this.d.journal.transitionOrder(shop, orderId, [...PRE_CREATE, 'created'], 'created', {
      orderName: order.name,
      documents: { ...((await this.d.journal.getOrder(shop, orderId))?.documents ?? {}), ...documents, salesOrderId: so.id, salesOrder: so.number, ...versionDoc(order) },
      event: action === 'created' ? 'd365-created' : 'd365-found', detail: so.number,
    });
    // The order is D365 demand now: the reservation is handed over (it keeps counting only against stock
    // figures read before this moment, which do not show the order yet).
    await this.d.journal.handOver(`${shop}:${orderId}`);
    const wb = await this.writeBack(shop, order, so.number);
    return { ok: true, action, findings: [...warnings, ...wb], salesOrder };
  }

  private async resolveIds(erp: Erp | undefined): Promise<ResolvedIds> {
    const ids: ResolvedIds = { locations: {} };
    const codes = [...new Set((erp?.lines ?? []).map((l) => l.locationCode).filter((c): c is string => !!c))];
    if (codes.length) {
      if (!this.locations) {
        const all = await withRetry(this.retry, () => this.d.bc.list<{ id: string; code: string }>('locations', { select: ['id', 'code'] }));
        this.locations = new Map(all.map((l) => [l.code, l.id]));
      }
      for (const c of codes) { const id = this.locations.get(c); if (id) ids.locations[c] = id; }
    }
    const sm = erp?.shipmentMethod?.code;
    if (sm) {
      if (!this.shipmentMethods?.has(sm)) {
        const all = await withRetry(this.retry, () => this.d.bc.list<{ id: string; code: string }>('shipmentMethods', { select: ['id', 'code'] }));
        this.shipmentMethods = new Map(all.map((m) => [m.code, m.id]));
      }
      ids.shipmentMethodId = this.shipmentMethods.get(sm);
    }
    return ids;
  }

  private async findByExternalNo(entitySet: string, externalNo: string): Promise<SalesOrderDoc | undefined> {
    const found = await this.d.bc.list<SalesOrderDoc>(entitySet, { filter: `externalDocumentNumber eq ${odataString(externalNo)}`, top: 2 });
    return found[0];
  }

  private async writeBack(shop: string, order: Order, number: string): Promise<WriterFinding[]> {
    if (!this.d.settings.writeBack || !this.d.shopify) return [];
    const ownerId = order.admin_graphql_api_id ?? `gid://shopify/Order/${order.id}`;
    try {
      const data = await this.d.shopify.graphql<{ metafieldsSet?: { metafields?: WrittenMetafield[] | null; userErrors?: { message: string }[] } }>(METAFIELDS_SET, {
        metafields: [{ ownerId, namespace: 'd365', key: 'sales_order_number', type: 'single_line_text_field', value: number }],
      });
      const errs = data.metafieldsSet?.userErrors ?? [];
      if (!errs.length) {
        await this.noteOwnVersion(shop, order, number, data.metafieldsSet?.metafields?.[0]);
        return [];
      }
      return [{ code: 'WRITEBACK_FAILED', severity: 'warning', message: `D365 order ${number} created, but Shopify refused the metafield: ${errs.map((x) => x.message).join('; ')}` }];
    } catch (e) {
      return [{ code: 'WRITEBACK_FAILED', severity: 'warning', retryable: true, message: `D365 order ${number} created, but writing it back to Shopify failed: ${(e as Error).message}` }];
    }
  }

  /**
   * Tells the trigger that the orders/updated Shopify sends for our write-back is ours (loop protection).
   * metafieldsSet answers with the metafield and its order as they are after the write (no second
   * request). The order's version counts as ours only if it carries our number and is stamped with the
   * metafield's own updatedAt: a change by anyone after our write has a later updated_at, and taking it
   * for ours would drop a real edit. When Shopify moved the order's stamp past the metafield's (a change
   * in the same second), nothing is noted: the echo then comes through as an update that changes
   * nothing in D365.
   */
  private async noteOwnVersion(shop: string, order: Order, number: string, written: WrittenMetafield | undefined): Promise<void> {
    const at = normaliseInstant(written?.updatedAt);
    const owner = written?.owner;
    if (!at || owner?.metafield?.value !== number || normaliseInstant(owner.updatedAt) !== at) return;
    try {
      await noteOwnWriteBack(this.d.journal, shop, order.id, at);
    } catch {
      // Only the loop protection is lost: the write-back itself succeeded.
    }
  }

  // --- lifecycle --------------------------------------------------------------------------------

  private async openOrder(rec: OrderRecord): Promise<SalesOrderDoc | undefined> {
    try {
      return await withRetry(this.retry, () => this.d.bc.get<SalesOrderDoc>(`salesOrders(${rec.documents.salesOrderId})`, { expand: 'salesOrderLines' }));
    } catch (e) {
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private async cancel(shop: string, msg: OrderMessage): Promise<WriterResult> {
    const order = parseOrder(msg.payload);
    const orderId = String(order.id);
    const orderKey = `${shop}:${orderId}`;
    let rec = await this.d.journal.getOrder(shop, orderId);
    if (rec?.state === 'cancelled') return { ok: true, action: 'exists', findings: [] };
    if (!rec?.documents.salesOrderId) {
      // A create may have reached D365 without the journal hearing back.
      const so = await withRetry(this.retry, () => this.findByExternalNo('salesOrders', order.name));
      if (!so) {
        if (this.d.dryRun) return { ok: true, action: 'dry-run', findings: [], request: [] };
        await this.d.journal.release(orderKey);
        const done = await this.d.journal.transitionOrder(shop, orderId, PRE_CREATE.filter((s) => s !== 'creating'), 'cancelled',
          { orderName: order.name, event: 'cancelled-before-d365' });
        if (!done && (await this.d.journal.getOrder(shop, orderId))?.state === 'creating') {
          return fail([{ code: 'D365_CREATE_IN_PROGRESS', severity: 'error', retryable: true, message: 'the order is being created in D365; cancel again when that finished' }]);
        }
        return { ok: true, action: 'cancelled', findings: [], changes: ['no D365 order yet; reservation released'] };
      }
      rec = await this.d.journal.transitionOrder(shop, orderId, [...PRE_CREATE, 'created'], 'created',
        { orderName: order.name, documents: { ...(rec?.documents ?? {}), salesOrderId: so.id, salesOrder: so.number }, event: 'd365-found' });
      if (!rec) throw new Error('journal refused to record the D365 order found for the cancellation');
    }
    const so = await this.openOrder(rec);
    const number = rec.documents.salesOrder ?? '';
    const shipped = so?.salesOrderLines?.filter((l) => (l.shippedQuantity ?? 0) > 0) ?? [];
    if (!so || shipped.length) {
      const reason = !so ? `sales order ${number} is no longer open in D365 (posted or deleted)`
        : `sales order ${number} has shipped lines (${shipped.map((l) => `${l.lineObjectNumber} ×${l.shippedQuantity}`).join(', ')})`;
      await this.d.journal.appendHistory(shop, orderId, 'cancel-needs-person', reason);
      return fail([{ code: 'CANCEL_AFTER_SHIPMENT', severity: 'error', message: `cancelled in Shopify after shipment: ${reason}; a person decides (return, credit memo)` }]);
    }
    const path = `salesOrders(${so.id})`;
    if (this.d.dryRun) return { ok: true, action: 'dry-run', findings: [], request: [{ method: 'DELETE', path }] };
    await withRetry(this.retry, async () => {
      try { await this.d.bc.delete(path, so['@odata.etag'] ?? '*'); } catch (e) { if (!isNotFound(e)) throw e; }
    });
    await this.d.journal.release(orderKey);
    await this.d.journal.transitionOrder(shop, orderId, [rec.state], 'cancelled', { event: 'd365-order-deleted', detail: number });
    return { ok: true, action: 'cancelled', findings: [], salesOrder: { id: so.id, number }, changes: [`deleted sales order ${number}`, 'reservation released'] };
  }

  private async refund(shop: string, msg: OrderMessage): Promise<WriterResult> {
    const parsed = Refund.safeParse(msg.payload);
    if (!parsed.success) return fail([{ code: 'PAYLOAD_INVALID', severity: 'error', message: `msg.payload is not a Shopify refund: ${formatZodError(parsed.error)}` }]);
    const refund = parsed.data;
    const orderId = String(refund.order_id);
    const rec = await this.d.journal.getOrder(shop, orderId);
    if (!rec?.documents.salesOrderId) return { ok: true, action: 'not-in-erp', findings: [] };
    // Cancelled means the writer deleted the whole unshipped order: nothing was delivered, so nothing is credited
    // (Shopify sends the cancellation's refund and orders/cancelled in either order).
    if (rec.state === 'cancelled') return { ok: true, action: 'unchanged', findings: [], changes: [] };
    const key = `refund:${refund.id}`;
    const prior = parseJson<PersistedRefund>(rec.documents[key]);
    if (prior?.status === 'done') return { ok: true, action: 'exists', findings: [], creditMemo: prior.creditMemo };

    const so = await this.openOrder(rec);
    let plan: PersistedRefund;
    if (prior?.status === 'pending') plan = prior; // a repeat after a crash: finish the plan made then, not a new one
    else {
      const p: RefundPlan = planRefund(refund, parseJson<LineMap>(rec.documents.lines) ?? {}, parseJson<ShippingRef[]>(rec.documents.shipping) ?? [],
        so?.salesOrderLines, this.d.settings);
      if (hasBlocking(p.findings as Finding[])) return fail(p.findings);
      const name = rec.orderName ?? rec.documents.externalDocumentNumber ?? orderId;
      plan = {
        status: 'pending', warnings: p.findings,
        reduce: p.reduce.map((r) => ({ seq: r.sequence, to: r.to })),
        shipping: p.shipping && ('remove' in p.shipping ? { seq: p.shipping.sequence, to: 0 } : { seq: p.shipping.sequence, unitPrice: p.shipping.unitPrice }),
        credit: p.creditLines.length ? {
          customerNumber: so?.customerNumber ?? rec.documents.customerNumber ?? '',
          externalDocumentNumber: creditMemoRef(name, String(refund.id)),
          currencyCode: so?.currencyCode ?? rec.documents.currencyCode ?? '',
          salesCreditMemoLines: p.creditLines,
        } : undefined,
      };
    }
    const changes: string[] = [];
    if (this.d.dryRun) {
      const request = [
        ...plan.reduce.map((r) => ({ method: r.to ? 'PATCH' : 'DELETE', path: `salesOrders(${rec.documents.salesOrderId})/salesOrderLines(seq ${r.seq})`, body: r.to ? { quantity: r.to } : undefined })),
        ...(plan.credit ? [{ method: 'POST', path: 'salesCreditMemos', body: plan.credit }] : []),
      ];
      return { ok: true, action: 'dry-run', findings: plan.warnings, request };
    }
    await this.persist(shop, orderId, rec, { [key]: JSON.stringify(plan) }, 'refund-intent', String(refund.id));

    const lines = so?.salesOrderLines ?? [];
    // Only steps that still change something (an earlier attempt may have done some).
    const steps = [...plan.reduce, ...(plan.shipping ? [plan.shipping] : [])].flatMap((r): RefundStep[] => {
      const line = lines.find((l) => l.sequence === r.seq);
      if (!line) return []; // deleted by an earlier attempt
      const label = `line ${r.seq} (${line.lineObjectNumber || line.description})`;
      if ('unitPrice' in r && r.unitPrice !== undefined) return line.unitPrice === r.unitPrice ? [] : [{ line, set: { unitPrice: r.unitPrice }, text: `${label} price → ${r.unitPrice}` }];
      if (r.to === undefined) return [];
      if (r.to === 0) return [{ line, text: `${label} removed` }];
      // An absolute quantity, not a decrement: repeating the step after a crash cannot cut twice.
      return line.quantity === r.to ? [] : [{ line, set: { quantity: r.to }, text: `${label} ${line.quantity} → ${r.to}` }];
    });
    // BC changes lines only while the order is Draft (BC's "Open"); API v2.0 has no action to reopen a released one.
    const released = steps.length > 0 && typeof so?.status === 'string' && so.status !== 'Draft';
    if (!released) {
      for (const st of steps) {
        const path = `salesOrders(${so!.id})/salesOrderLines(${st.line.id})`;
        const etag = st.line['@odata.etag'] ?? '*';
        const set = st.set;
        if (set) await withRetry(this.retry, () => this.d.bc.patch(path, set, etag));
        else await withRetry(this.retry, async () => { try { await this.d.bc.delete(path, etag); } catch (e) { if (!isNotFound(e)) throw e; } });
        changes.push(st.text);
      }
    }
    let creditMemo: { id: string; number: string } | undefined;
    if (plan.credit) {
      const ref = String(plan.credit.externalDocumentNumber);
      const find = () => this.findByExternalNo('salesCreditMemos', ref);
      const cm = (await withRetry(this.retry, find)) ?? await withRetry(this.retry, () => this.d.bc.post<SalesOrderDoc>('salesCreditMemos', plan.credit), find);
      creditMemo = { id: cm.id, number: cm.number };
      changes.push(`credit memo ${cm.number} (${ref})`);
    }
    if (released) {
      // The plan stays pending: once a person reopened the order, the same refund again applies the rest.
      const number = rec.documents.salesOrder ?? so!.number;
      if (creditMemo) await this.d.journal.appendHistory(shop, orderId, 'refund-credited', changes.join('; '));
      return { ok: false, action: 'rejected', creditMemo, changes, findings: [...plan.warnings, { code: 'REFUND_ORDER_RELEASED', severity: 'error',
        message: `sales order ${number} is released in D365, so refunded units not yet shipped cannot be taken off it: ${steps.map((st) => st.text).join('; ')}. `
          + `Shopify no longer fulfils them: reopen the order in D365 and send the refund again${creditMemo ? ` (credit memo ${creditMemo.number} for the shipped units is made)` : ''}` }] };
    }
    const fresh = (await this.d.journal.getOrder(shop, orderId)) ?? rec;
    await this.persist(shop, orderId, fresh, {
      [key]: JSON.stringify({ status: 'done', creditMemo }), ...(creditMemo ? { [`creditMemo:${refund.id}`]: creditMemo.number } : {}),
    }, 'refund-applied', changes.join('; ') || 'nothing to change');
    return { ok: true, action: changes.length ? 'refunded' : 'unchanged', findings: plan.warnings, creditMemo, changes };
  }

  private async update(shop: string, msg: OrderMessage): Promise<WriterResult> {
    const order = parseOrder(msg.payload);
    const orderId = String(order.id);
    const rec = await this.d.journal.getOrder(shop, orderId);
    if (rec?.state === 'cancelled') return { ok: true, action: 'not-in-erp', findings: [] };
    if (order.cancelled_at) return { ok: true, action: 'skipped', findings: [] }; // orders/cancelled carries the rule
    if (!rec?.documents.salesOrderId) {
      // Shopify does not order its webhooks, and the journal drops an orders/create older than an update
      // it already has; reconciliation also emits orders/updated. So an update can be the first we see
      // of an order: create it, provided it came through the checks and the exception router.
      if (msg.routing) return this.create(shop, msg);
      return fail([{ code: 'UPDATE_BEFORE_CREATE', severity: 'error', message: `orders/updated for ${order.name}, which is not in D365 yet and did not come through the exception router: route orders/updated through the checks so the order can be created` }]);
    }
    // Shopify does not deliver in order and the checks do not keep it: a version older than the one D365
    // already reflects (its update overtook this one on the way here) must not undo the newer change.
    const applied = instantMs(rec.documents.version);
    const incoming = instantMs(order.updated_at);
    if (applied !== undefined && incoming !== undefined && incoming <= applied) {
      return { ok: true, action: 'unchanged', findings: [], changes: [], salesOrder: { id: rec.documents.salesOrderId, number: rec.documents.salesOrder ?? '' } };
    }
    const so = await this.openOrder(rec);
    if (!so) {
      return fail([{ code: 'UPDATE_CONFLICT', severity: 'error', message: `the order changed in Shopify but sales order ${rec.documents.salesOrder} is no longer open in D365` }]);
    }
    const lines = so.salesOrderLines ?? [];
    const plan = planUpdate(order, so, lines, parseJson<LineMap>(rec.documents.lines) ?? {}, this.d.settings);
    const base = `salesOrders(${so.id})`;
    const request: { method: string; path: string; body?: unknown }[] = [];
    if (Object.keys(plan.header).length) request.push({ method: 'PATCH', path: base, body: plan.header });
    const maxSeq = Math.max(0, ...lines.map((l) => l.sequence));
    for (const l of plan.note?.remove ?? []) request.push({ method: 'DELETE', path: `${base}/salesOrderLines(${l.id})` });
    (plan.note?.add ?? []).forEach((text, i) => request.push({ method: 'POST', path: `${base}/salesOrderLines`, body: { sequence: maxSeq + (i + 1) * 10000, lineType: 'Comment', description: text } }));
    const blocking = hasBlocking(plan.findings as Finding[]);
    if (this.d.dryRun) return { ok: !blocking, action: 'dry-run', findings: plan.findings, request };
    if (request.length && typeof so.status === 'string' && so.status !== 'Draft') {
      // BC changes a released order only after it is reopened, which API v2.0 cannot do.
      const what = [...(Object.keys(plan.header).length ? ['ship-to address'] : []), ...(plan.note ? ['note'] : [])].join(' and ');
      return fail([...plan.findings, { code: 'UPDATE_CONFLICT', severity: 'error', path: plan.note && !Object.keys(plan.header).length ? 'note' : 'shipping_address',
        message: `the ${what} changed in Shopify, but sales order ${so.number} is released in D365: reopen it and send the update again` }]);
    }
    const changes: string[] = [];
    if (Object.keys(plan.header).length) {
      await withRetry(this.retry, () => this.d.bc.patch(base, plan.header, so['@odata.etag'] ?? '*'));
      changes.push(`ship-to ${Object.keys(plan.header).join(', ')}`);
    }
    if (plan.note) {
      for (const l of plan.note.remove) {
        await withRetry(this.retry, async () => { try { await this.d.bc.delete(`${base}/salesOrderLines(${l.id})`, l['@odata.etag'] ?? '*'); } catch (e) { if (!isNotFound(e)) throw e; } });
      }
      for (const r of request.filter((x) => x.method === 'POST')) await withRetry(this.retry, () => this.d.bc.post(r.path, r.body));
      changes.push('note');
    }
    if (blocking) {
      if (changes.length) await this.d.journal.appendHistory(shop, orderId, 'd365-updated', changes.join('; '));
      return { ok: false, action: 'rejected', findings: plan.findings, changes };
    }
    // D365 reflects this version now (applied, or nothing to apply): older ones arriving later are skipped.
    const version = versionDoc(order);
    if (changes.length || version.version) {
      await this.persist(shop, orderId, rec, version, changes.length ? 'd365-updated' : 'd365-up-to-date', changes.join('; ') || `version ${version.version}`);
    }
    return { ok: true, action: changes.length ? 'updated' : 'unchanged', findings: plan.findings, changes, salesOrder: { id: so.id, number: so.number } };
  }

  /** Writes documents without changing the order's state (a compare-and-set on the state it has). */
  private async persist(shop: string, orderId: string, rec: OrderRecord, docs: Record<string, string>, event: string, detail: string): Promise<void> {
    let cur: OrderRecord | undefined = rec;
    for (let i = 0; i < 3 && cur; i++) {
      if (await this.d.journal.transitionOrder(shop, orderId, [cur.state], cur.state, { documents: { ...cur.documents, ...docs }, event, detail })) return;
      cur = await this.d.journal.getOrder(shop, orderId);
    }
    throw new Error(`journal: could not record ${event} for order ${orderId} (state kept changing)`);
  }
}

/** One change of a refund plan to an open-order line: PATCH `set`, or DELETE the line when `set` is undefined. */
interface RefundStep { line: BcLine; set?: Record<string, number>; text: string }

interface PersistedRefund {
  status: 'pending' | 'done';
  warnings: WriterFinding[];
  reduce: { seq: number; to: number }[];
  shipping?: { seq: number; to?: number; unitPrice?: number };
  credit?: Record<string, unknown>;
  creditMemo?: { id: string; number: string };
}

/** The credit memo's external document no.: order name + refund id, unique per refund, ≤ 35 characters. */
export function creditMemoRef(orderName: string, refundId: string): string {
  const full = `${orderName}/R${refundId}`;
  return full.length <= 35 ? full : `R${refundId}`.slice(-35);
}

function parseOrder(payload: unknown): Order {
  const r = safeParseOrder(payload);
  if (!r.success) throw new Stop(fail([{ code: 'PAYLOAD_INVALID', severity: 'error', message: `msg.payload is not a Shopify order: ${formatZodError(r.error)}` }]));
  return r.data;
}

function parseJson<T>(text: string | undefined): T | undefined {
  if (!text) return undefined;
  try { return JSON.parse(text) as T; } catch { return undefined; }
}

/** `documents.version`: the Shopify `updated_at` of the order version the D365 sales order reflects. */
function versionDoc(order: Order): Record<string, string> {
  const v = normaliseInstant(order.updated_at);
  return v ? { version: v } : {};
}
