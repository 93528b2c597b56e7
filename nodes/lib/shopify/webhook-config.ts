import { z } from 'zod';
import { formatZodError, SHOPIFY_TOPICS } from '../contract';
import type { ShopifyTopic } from '../contract';

/** Settings of the shopify-trigger node. The editor saves numbers as strings and checkboxes as booleans. */

export const DEFAULT_TRIGGER_TOPICS: readonly ShopifyTopic[] = ['orders/create', 'orders/updated', 'orders/cancelled', 'refunds/create'];

const blankToUndefined = (v: unknown) => (v === '' || v === null ? undefined : v);
const bool = (dflt: boolean) => z.preprocess((v) => (v === 'true' ? true : v === 'false' ? false : blankToUndefined(v)), z.boolean().default(dflt));
const int = (min: number, max: number, dflt: number) => z.preprocess(blankToUndefined, z.coerce.number().int().min(min).max(max).default(dflt));

export const TriggerConfig = z.object({
  name: z.string().default(''),
  store: z.string({ error: 'choose a Shopify store' }).min(1, 'choose a Shopify store'),
  journal: z.string({ error: 'choose an order journal' }).min(1, 'choose an order journal'),
  path: z.preprocess(blankToUndefined, z.string().trim()
    .regex(/^\/[A-Za-z0-9\-._~/]*$/, 'must start with "/" and contain only letters, digits and - . _ ~ /')
    .default('/shopify/webhooks')),
  topics: z.preprocess((v) => (typeof v === 'string' ? (v ? v.split(',') : undefined) : v),
    z.array(z.enum(SHOPIFY_TOPICS as [ShopifyTopic, ...ShopifyTopic[]])).min(1, 'select at least one topic').default([...DEFAULT_TRIGGER_TOPICS])),
  maxBodyKb: int(1, 10 * 1024, 1024),
  ignoreTest: bool(false),
  ignoreOwnWriteBacks: bool(true),
  /** settled: custody lasts until the writer or router recorded the order (crash-safe); emitted: until the emit. */
  custody: z.preprocess(blankToUndefined, z.enum(['settled', 'emitted']).default('settled')),
  /** Unsettled events older than this are not replayed at start (a flow that never settles them). */
  replayWindowH: int(1, 30 * 24, 72),
  reconcile: bool(false),
  reconcileIntervalS: int(30, 24 * 3600, 300),
  reconcileLookbackMin: int(1, 30 * 24 * 60, 60),
});
export type TriggerConfig = z.infer<typeof TriggerConfig>;

export function parseTriggerConfig(raw: unknown): TriggerConfig {
  const r = TriggerConfig.safeParse(raw);
  if (!r.success) throw new Error(`invalid settings: ${formatZodError(r.error)}`);
  return r.data;
}
