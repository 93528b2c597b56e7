import { z } from 'zod';
import { ShopifyId } from './money';

/** inventory_levels/update|connect|disconnect webhook payload (REST InventoryLevel). */
export const InventoryLevel = z.looseObject({
  inventory_item_id: ShopifyId,
  location_id: ShopifyId,
  available: z.number().int().nullable(),
  updated_at: z.string(),
  admin_graphql_api_id: z.string().optional(),
});
export type InventoryLevel = z.infer<typeof InventoryLevel>;
