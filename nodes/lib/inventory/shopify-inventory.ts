import { z } from 'zod';
import { formatZodError } from '../contract';
import type { ShopifyAdminApi } from '../shopify/admin-api';

/** Shopify's limit on quantities per inventorySetQuantities call. */
export const MAX_QUANTITIES_PER_CALL = 250;
/** Aliased inventoryLevel reads per query (keeps a query's cost well under the 1000-point ceiling). */
const LEVELS_PER_QUERY = 50;

const numericId = (gid: string): string => gid.slice(gid.lastIndexOf('/') + 1);
export const inventoryItemGid = (id: string): string => `gid://shopify/InventoryItem/${id}`;
const levelGid = (itemId: string, locationId: string) => `gid://shopify/InventoryLevel/${locationId}?inventory_item_id=${itemId}`;

const ItemsPage = z.object({
  inventoryItems: z.object({
    nodes: z.array(z.object({ id: z.string(), sku: z.string().nullable(), tracked: z.boolean() })),
    pageInfo: z.object({ hasNextPage: z.boolean(), endCursor: z.string().nullable() }),
  }),
});

const ITEMS_QUERY = `query inventoryItemsBySku($after: String) {
  inventoryItems(first: 250, after: $after) { nodes { id sku tracked } pageInfo { hasNextPage endCursor } }
}`;

function parse<T>(schema: z.ZodType<T>, data: unknown, what: string): T {
  const r = schema.safeParse(data);
  if (!r.success) throw new Error(`Shopify returned unexpected data for ${what}: ${formatZodError(r.error)}`);
  return r.data;
}

/** Every tracked inventory item's numeric id by SKU (upper-cased), paging through the shop once. */
export async function inventoryItemsBySku(api: ShopifyAdminApi, maxPages = 400): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  let after: string | null = null;
  for (let page = 0; page < maxPages; page++) {
    const data: z.infer<typeof ItemsPage> = parse(ItemsPage, await api.graphql(ITEMS_QUERY, { after }), 'inventoryItems');
    for (const n of data.inventoryItems.nodes) if (n.tracked && n.sku) out.set(n.sku.trim().toUpperCase(), numericId(n.id));
    if (!data.inventoryItems.pageInfo.hasNextPage) break;
    after = data.inventoryItems.pageInfo.endCursor;
  }
  return out;
}

export interface LevelRef {
  /** Numeric inventory item id. */
  item: string;
  /** Numeric location id. */
  location: string;
}

const Level = z.object({ quantities: z.array(z.object({ name: z.string(), quantity: z.number().int() })) }).nullable();

/** Current `available` per level, `null` where the item is not stocked at the location; several levels per query. */
export async function readAvailable(api: ShopifyAdminApi, refs: readonly LevelRef[]): Promise<(number | null)[]> {
  const out: (number | null)[] = [];
  for (let i = 0; i < refs.length; i += LEVELS_PER_QUERY) {
    const part = refs.slice(i, i + LEVELS_PER_QUERY);
    const vars = Object.fromEntries(part.map((r, j) => [`id${j}`, levelGid(r.item, r.location)]));
    const query = `query levels(${part.map((_, j) => `$id${j}: ID!`).join(', ')}) {
${part.map((_, j) => `  l${j}: inventoryLevel(id: $id${j}) { quantities(names: ["available"]) { name quantity } }`).join('\n')}
}`;
    const data = await api.graphql<Record<string, unknown>>(query, vars);
    part.forEach((_, j) => {
      const level = parse(Level, data[`l${j}`] ?? null, 'inventoryLevel');
      out.push(level ? level.quantities.find((q) => q.name === 'available')?.quantity ?? 0 : null);
    });
  }
  return out;
}

export interface SetQuantity extends LevelRef {
  quantity: number;
  /** What we believe Shopify holds now; a mismatch is refused as CHANGE_FROM_QUANTITY_STALE. */
  changeFromQuantity: number;
}

export interface QuantityError {
  /** Index into the call's quantities, when Shopify names one. */
  index?: number;
  code: string;
  message: string;
}

const SetPayload = z.object({
  inventorySetQuantities: z.object({
    inventoryAdjustmentGroup: z.object({ id: z.string() }).nullable(),
    userErrors: z.array(z.object({ field: z.array(z.string()).nullable().optional(), message: z.string(), code: z.string().nullable().optional() })),
  }).nullable(),
});

const SET_MUTATION = `mutation setAvailable($input: InventorySetQuantitiesInput!, $idempotencyKey: String!) {
  inventorySetQuantities(input: $input) @idempotent(key: $idempotencyKey) {
    inventoryAdjustmentGroup { id }
    userErrors { field message code }
  }
}`;

/** One compare-and-set of `available` quantities (all or nothing, as Shopify applies it). */
export async function setAvailable(api: ShopifyAdminApi, quantities: readonly SetQuantity[], idempotencyKey: string,
  referenceDocumentUri?: string): Promise<QuantityError[]> {
  const data = parse(SetPayload, await api.graphql(SET_MUTATION, {
    input: {
      name: 'available', reason: 'correction', referenceDocumentUri,
      quantities: quantities.map((q) => ({
        inventoryItemId: inventoryItemGid(q.item), locationId: `gid://shopify/Location/${q.location}`, quantity: q.quantity, changeFromQuantity: q.changeFromQuantity,
      })),
    },
  }, { idempotencyKey }), 'inventorySetQuantities');
  const payload = data.inventorySetQuantities;
  if (!payload) return [{ code: 'NO_RESULT', message: 'Shopify returned no result for inventorySetQuantities' }];
  return payload.userErrors.map((e) => {
    const f = e.field ?? [];
    const at = f[0] === 'input' && f[1] === 'quantities' && f[2] !== undefined ? Number(f[2]) : NaN;
    return { index: Number.isInteger(at) ? at : undefined, code: e.code ?? 'USER_ERROR', message: e.message };
  });
}
