import { z } from 'zod';
import { ShopifyId } from './money';
import { LineItem } from './order';

/** fulfillments/create|update webhook payload (REST Fulfillment). */
export const Fulfillment = z.looseObject({
  id: ShopifyId,
  admin_graphql_api_id: z.string().optional(),
  order_id: ShopifyId,
  status: z.string(),
  created_at: z.string(),
  updated_at: z.string().optional(),
  location_id: ShopifyId.nullable().optional(),
  name: z.string().optional(),
  service: z.string().nullable().optional(),
  shipment_status: z.string().nullable().optional(),
  tracking_company: z.string().nullable().optional(),
  tracking_number: z.string().nullable().optional(),
  tracking_numbers: z.array(z.string()).default([]),
  tracking_url: z.string().nullable().optional(),
  tracking_urls: z.array(z.string()).default([]),
  line_items: z.array(LineItem.partial().extend({ id: ShopifyId, quantity: z.number().int().positive() })).default([]),
});
export type Fulfillment = z.infer<typeof Fulfillment>;
