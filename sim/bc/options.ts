/** Options of the Business Central simulator, validated with zod (defaults = the documented online limits). */
import { z } from 'zod';
import type { Catalogue } from '../catalogue';

export const Limits = z.object({
  requestsPerWindow: z.number().int().positive().default(6000),
  windowMs: z.number().positive().default(300_000),
  maxConcurrent: z.number().int().positive().default(5),
  maxQueue: z.number().int().nonnegative().default(95),
  queueTimeoutMs: z.number().positive().default(480_000),
  /** BC documents Retry-After only for 502/503; on by default so clients can use it, switch off to test backoff without it. */
  retryAfterOn429: z.boolean().default(true),
});

export const Faults = z.object({
  /** Probability that an API request fails with one of errorStatuses before it is processed. */
  errorRate: z.number().min(0).max(1).default(0),
  errorStatuses: z.array(z.union([z.literal(429), z.literal(503), z.literal(504)])).min(1).default([429, 503, 504]),
  /** Probability that a sales order POST is committed but the client gets no proper response. */
  lostResponseRate: z.number().min(0).max(1).default(0),
  /** What the client sees then: a 504, a reset connection, or either at random. */
  lostResponseMode: z.enum(['gateway-timeout', 'reset', 'random']).default('random'),
  /** 503 for every API request (the token endpoint keeps working). */
  down: z.boolean().default(false),
});

export const BcSimOptions = z.object({
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(0),
  tenant: z.string().regex(/^[\w.-]+$/).default('sim-tenant.onmicrosoft.com'),
  environment: z.string().regex(/^[\w-]+$/).default('production'),
  clientId: z.string().min(1).default('sim-client-id'),
  clientSecret: z.string().min(1).default('sim-client-secret'),
  /** More service principals (client id → secret); limits apply per client id. */
  extraClients: z.record(z.string(), z.string()).default({}),
  catalogue: z.custom<Catalogue>((v) => typeof v === 'object' && v !== null && Array.isArray((v as Catalogue).items)).optional(),
  seed: z.number().int().default(1),
  limits: Limits.prefault({}),
  /** Multiplies every limit duration (window, queue timeout, token lifetime): 0.001 makes 5 minutes 300 ms. */
  timeScale: z.number().positive().default(1),
  /** Processing time per request (per operation inside a $batch), in ms. */
  latencyMs: z.number().nonnegative().default(1),
  /** Server page size; `Prefer: odata.maxpagesize` may ask for any size up to maxPageSize. */
  pageSize: z.number().int().positive().default(20_000),
  maxPageSize: z.number().int().positive().default(20_000),
  tokenExpiresIn: z.number().int().positive().default(3599),
  taxAreaFrom: z.enum(['shipTo', 'customer']).default('shipTo'),
  faults: Faults.prefault({}),
});

export type BcSimOptionsInput = z.input<typeof BcSimOptions>;
export type BcSimConfig = z.infer<typeof BcSimOptions>;
export type FaultsInput = z.input<typeof Faults>;
export type LimitsInput = z.input<typeof Limits>;
