/** A fulfillment order as read from Shopify (only what allocation needs). */
export interface FoLine { id: string; remainingQuantity: number; sku?: string | null; lineItemId: string }
export interface FulfillmentOrderInfo { id: string; status: string; locationId?: string; lines: FoLine[] }

/** One shipped D365 line, keyed by the Shopify line item id when the writer's journal knows it, else by SKU. */
export interface ShippedLine { lineItemId?: string; sku?: string; quantity: number; /** Shopify location id the units left from. */ locationId?: string; label: string }

export interface Allocation {
  /** One fulfillmentCreate per location: fulfillment order id → its line items and quantities. */
  groups: { locationId: string; byFo: { fulfillmentOrderId: string; fulfillmentOrderLineItems: { id: string; quantity: number }[] }[] }[];
  /** Shipped units no open fulfillment-order line takes, and why. */
  leftovers: { label: string; quantity: number; reason: 'unknown' | 'on-hold' | 'exhausted' }[];
}

const FULFILLABLE = new Set(['OPEN', 'IN_PROGRESS']);
const HELD = new Set(['ON_HOLD', 'SCHEDULED']);

/** `gid://shopify/LineItem/466157049` → `466157049` (REST ids are what the journal keys on). */
export function legacyId(gid: string): string {
  return gid.slice(gid.lastIndexOf('/') + 1).split('?')[0]!;
}

/**
 * Allocates shipped quantities to fulfillment-order lines with remaining quantity (pure). A line goes to
 * the fulfillment order at its own location first, then to any other open one. Because only remaining
 * quantities are allocated, sending the same shipment again allocates nothing: the repeat is a no-op.
 */
export function allocate(shipped: readonly ShippedLine[], fos: readonly FulfillmentOrderInfo[]): Allocation {
  const left = new Map<string, number>();
  for (const fo of fos) for (const l of fo.lines) left.set(l.id, l.remainingQuantity);
  const picks = new Map<string, Map<string, number>>(); // fo id → fo line id → qty
  const leftovers: Allocation['leftovers'] = [];
  for (const s of shipped) {
    const matches = (l: FoLine) => (s.lineItemId ? l.lineItemId === s.lineItemId : !!s.sku && l.sku === s.sku);
    const candidates = fos.flatMap((fo) => fo.lines.filter(matches).map((line) => ({ fo, line })));
    const open = candidates.filter((c) => FULFILLABLE.has(c.fo.status))
      .sort((a, b) => Number(b.fo.locationId === s.locationId) - Number(a.fo.locationId === s.locationId));
    let need = s.quantity;
    for (const { fo, line } of open) {
      const take = Math.min(need, left.get(line.id) ?? 0);
      if (take <= 0) continue;
      left.set(line.id, left.get(line.id)! - take);
      const m = picks.get(fo.id) ?? new Map<string, number>();
      m.set(line.id, (m.get(line.id) ?? 0) + take);
      picks.set(fo.id, m);
      need -= take;
      if (!need) break;
    }
    if (need > 0) {
      const reason = !candidates.length ? 'unknown'
        : candidates.some((c) => HELD.has(c.fo.status) && c.line.remainingQuantity > 0) ? 'on-hold' : 'exhausted';
      leftovers.push({ label: s.label, quantity: need, reason });
    }
  }
  const groups = new Map<string, Allocation['groups'][number]>();
  for (const fo of fos) {
    const m = picks.get(fo.id);
    if (!m) continue;
    const loc = fo.locationId ?? '';
    const g = groups.get(loc) ?? { locationId: loc, byFo: [] };
    g.byFo.push({ fulfillmentOrderId: fo.id, fulfillmentOrderLineItems: [...m].map(([id, quantity]) => ({ id, quantity })) });
    groups.set(loc, g);
  }
  return { groups: [...groups.values()], leftovers };
}

/** Parses the "CODE=Carrier name" table of the dialog (one per line; blank lines and # comments ignored). */
export function parseTable(text: string | undefined): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>;
  for (const raw of (text ?? '').split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#')) continue;
    const i = line.indexOf('=');
    if (i <= 0) continue;
    out[line.slice(0, i).trim().toUpperCase()] = line.slice(i + 1).trim();
  }
  return out;
}
