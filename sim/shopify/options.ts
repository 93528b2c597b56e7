import { z } from 'zod';
import type { Catalogue } from '../catalogue';

/** Chaos switches for webhook delivery; probabilities are drawn from the seeded PRNG, so runs repeat. */
export const ChaosOptions = z.object({
  /** Probability that a delivery is sent twice (same webhook id, as Shopify's at-least-once does). */
  duplicateProbability: z.number().min(0).max(1).default(0),
  /** Probability that a delivery is held back by up to `outOfOrderMaxDelayMs`, so later events overtake it. */
  outOfOrderProbability: z.number().min(0).max(1).default(0),
  outOfOrderMaxDelayMs: z.number().int().nonnegative().default(200),
  /** Probability that a delivery is never sent (only reconciliation can find the change). */
  dropProbability: z.number().min(0).max(1).default(0),
  /** Probability that a delivery arrives late by `lateDelayMs` (Shopify: "up to a day late"; scaled by timeScale). */
  lateProbability: z.number().min(0).max(1).default(0),
  lateDelayMs: z.number().int().nonnegative().default(60 * 60 * 1000),
});
export type ChaosOptions = z.infer<typeof ChaosOptions>;

export const ThrottleOptions = z.object({
  maximumAvailable: z.number().positive().default(2000),
  restoreRate: z.number().positive().default(100),
  /** Shopify answers THROTTLED with HTTP 200 (usual) or 429 with Retry-After (seen sometimes). */
  httpStatus: z.union([z.literal(200), z.literal(429)]).default(200),
});
export type ThrottleOptions = z.infer<typeof ThrottleOptions>;

export const ShopifySimOptions = z.object({
  shop: z.string().regex(/^[a-z0-9][a-z0-9-]*\.myshopify\.com$/).default('demo-shop.myshopify.com'),
  accessToken: z.string().min(1).default('shpat_sim_access_token'),
  /** The app's client secret: webhook HMACs are signed with it. */
  webhookSecret: z.string().min(1).default('sim_webhook_secret'),
  apiVersion: z.string().regex(/^(\d{4}-\d{2}|unstable)$/).default('2026-07'),
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(0),
  catalogue: z.custom<Catalogue>((v) => typeof v === 'object' && v !== null && Array.isArray((v as Catalogue).items)).optional(),
  bucket: ThrottleOptions.default(ThrottleOptions.parse({})),
  /** 1 = real time; 0.001 turns the ~4 h webhook retry schedule into ~15 s. */
  timeScale: z.number().positive().max(1000).default(1),
  deliveryTimeoutMs: z.number().int().positive().default(5000),
  connectTimeoutMs: z.number().int().positive().default(1000),
  /** Waits between webhook attempts in minutes (Shopify: 8 retries over ~4 h, exponential). */
  retryScheduleMinutes: z.array(z.number().nonnegative()).max(50).default([1, 2, 4, 8, 16, 32, 60, 117]),
  seed: z.number().int().default(1),
  chaos: ChaosOptions.default(ChaosOptions.parse({})),
  /** Optional token for the /_sim control API (header X-Sim-Control-Token); none = open (local use only). */
  controlToken: z.string().min(1).optional(),
  /** Delay before an orderCancel job completes (real time, not scaled). */
  cancelJobDelayMs: z.number().int().nonnegative().default(20),
  /** Simulated processing time of idempotent mutations, so concurrent requests with one key can overlap. */
  mutationLatencyMs: z.number().int().nonnegative().default(0),
  /** Shop timezone offset used in REST timestamps (Shopify renders them in the shop's zone). */
  utcOffsetMinutes: z.number().int().min(-720).max(840).default(-300),
  /** Clock for order timestamps (tests pass a controllable one); default Date.now. */
  now: z.custom<() => number>((v) => typeof v === 'function').optional(),
});
export type ShopifySimOptions = z.input<typeof ShopifySimOptions>;
export type ResolvedSimOptions = z.infer<typeof ShopifySimOptions>;
