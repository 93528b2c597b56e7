import type { ResolvedSimOptions } from './options';
import type { ShopStore } from './store';
import type { WebhookEngine } from './webhooks';
import type { Rng } from './rng';

interface IdempotencyEntry { fingerprint: string; pending: boolean; result?: unknown }

/** Shared simulator state the GraphQL resolvers and the control API work on. */
export interface SimCore {
  opts: ResolvedSimOptions;
  store: ShopStore;
  webhooks: WebhookEngine;
  rand: Rng;
  jobs: Map<string, { done: boolean }>;
  idempotency: Map<string, IdempotencyEntry>;
  /** Timers for asynchronous jobs, cleared on close. */
  timers: Set<NodeJS.Timeout>;
}

/** Per-request GraphQL context. */
export interface GqlContext { core: SimCore; apiVersion: string }

/** Version-gated behaviour: 2026-04 made @idempotent and changeFromQuantity mandatory. */
export const requiresIdempotency = (version: string) => version === 'unstable' || version >= '2026-04';
