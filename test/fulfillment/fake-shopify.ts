import type { ShopifyAdminApi } from '../../nodes/lib/shopify/admin-api';

interface FoLine { id: string; lineItemId: string; sku: string; total: number; remaining: number }
interface Fo { id: string; status: string; location: string; lines: FoLine[] }

const lineView = (l: FoLine) => ({ id: l.id, remainingQuantity: l.remaining, sku: l.sku, lineItem: { id: `gid://shopify/LineItem/${l.lineItemId}`, sku: l.sku } });

/** A Shopify order with fulfillment orders, answering the sender's and writer's operations by name. */
export class FakeShopify implements ShopifyAdminApi {
  fos: Fo[] = [];
  fulfillments: { id: string; location: string; tracking?: { company?: string; number?: string; url?: string }; notify: boolean; lines: { id: string; quantity: number }[] }[] = [];
  metafields: Record<string, string> = {};
  /** Next fulfillmentCreate succeeds but its answer is lost. */
  loseNextCreate = false;
  private n = 0;

  constructor(readonly order = { id: 'gid://shopify/Order/450789469', legacyResourceId: '450789469', name: '#1001' }) {}

  addFo(location: string, lines: { lineItemId: string; sku: string; quantity: number }[], status = 'OPEN') {
    this.fos.push({ id: `gid://shopify/FulfillmentOrder/${++this.n}`, status, location,
      lines: lines.map((l) => ({ id: `gid://shopify/FulfillmentOrderLineItem/${++this.n}`, lineItemId: l.lineItemId, sku: l.sku, total: l.quantity, remaining: l.quantity })) });
  }

  /** Page sizes the sender's queries ask for (its first read: 10 fulfillment orders, 30 lines each). */
  pageSize = { fos: 10, lines: 30 };
  /** Operations received, by name (to count paging requests). */
  ops: string[] = [];

  private page<X, Y>(all: X[], size: number, after: string | undefined, view: (x: X) => Y) {
    const start = after ? Number(after) : 0;
    const end = Math.min(all.length, start + size);
    return { pageInfo: { hasNextPage: end < all.length, endCursor: String(end) }, nodes: all.slice(start, end).map(view) };
  }

  async graphql<T>(query: string, v: any = {}): Promise<T> {
    const op = /(?:query|mutation)\s+(\w+)/.exec(query)![1]!;
    this.ops.push(op);
    if (op === 'd365FindOrder') return { orders: { nodes: v.q === `name:"${this.order.name}"` ? [this.order] : [] } } as T;
    if (op === 'd365FulfillmentOrders' || op === 'd365MoreFulfillmentOrders') {
      if (v.id !== this.order.id) return { order: null } as T;
      const fulfillmentOrders = this.page(this.fos, this.pageSize.fos, v.after, (fo) => ({ id: fo.id, status: fo.status,
        assignedLocation: { location: { id: `gid://shopify/Location/${fo.location}`, legacyResourceId: fo.location } },
        lineItems: this.page(fo.lines, this.pageSize.lines, undefined, lineView) }));
      if (op === 'd365MoreFulfillmentOrders') return { order: { fulfillmentOrders } } as T;
      return { order: { ...this.order, fulfillmentOrders,
        fulfillments: this.fulfillments.map((f) => ({ id: f.id, trackingInfo: f.tracking ? [{ number: f.tracking.number }] : [], location: { legacyResourceId: f.location } })) } } as T;
    }
    if (op === 'd365MoreFulfillmentOrderLines') {
      const fo = this.fos.find((f) => f.id === v.id);
      return { fulfillmentOrder: fo ? { lineItems: this.page(fo.lines, 200, v.after, lineView) } : null } as T;
    }
    if (op === 'd365FulfillmentCreate') {
      const input = v.fulfillment;
      const lines: { id: string; quantity: number }[] = [];
      let location = '';
      for (const g of input.lineItemsByFulfillmentOrder) {
        const fo = this.fos.find((f) => f.id === g.fulfillmentOrderId);
        if (!fo || !['OPEN', 'IN_PROGRESS'].includes(fo.status)) return { fulfillmentCreate: { fulfillment: null, userErrors: [{ field: ['fulfillment'], message: 'Fulfillment order is not open' }] } } as T;
        if (location && location !== fo.location) return { fulfillmentCreate: { fulfillment: null, userErrors: [{ message: 'All fulfillment orders must be at the same location' }] } } as T;
        location = fo.location;
        for (const l of g.fulfillmentOrderLineItems) {
          const line = fo.lines.find((x) => x.id === l.id)!;
          if (l.quantity > line.remaining) return { fulfillmentCreate: { fulfillment: null, userErrors: [{ message: 'Quantity exceeds remaining' }] } } as T;
        }
      }
      for (const g of input.lineItemsByFulfillmentOrder) {
        const fo = this.fos.find((f) => f.id === g.fulfillmentOrderId)!;
        for (const l of g.fulfillmentOrderLineItems) { fo.lines.find((x) => x.id === l.id)!.remaining -= l.quantity; lines.push(l); }
        fo.status = fo.lines.every((l) => l.remaining === 0) ? 'CLOSED' : 'IN_PROGRESS';
      }
      const f = { id: `gid://shopify/Fulfillment/${++this.n}`, location, tracking: input.trackingInfo, notify: !!input.notifyCustomer, lines };
      this.fulfillments.push(f);
      if (this.loseNextCreate) { this.loseNextCreate = false; throw Object.assign(new Error('socket hang up'), { name: 'ShopifyHttpError', retryable: true, status: 0 }); }
      return { fulfillmentCreate: { fulfillment: { id: f.id, status: 'SUCCESS' }, userErrors: [] } } as T;
    }
    if (op === 'd365WriteBack') {
      for (const m of v.metafields) this.metafields[`${m.ownerId}:${m.namespace}.${m.key}`] = m.value;
      return { metafieldsSet: { metafields: [], userErrors: [] } } as T;
    }
    throw new Error(`FakeShopify: unexpected operation ${op}`);
  }
}
