import type { OrderMessage } from '../contract';

/** The parts of a message a held order needs to be replayed; transport objects (req/res) and the
 * message id are dropped, and the copy is plain JSON so it can be stored and survives a restart. */
const KEPT = ['topic', 'payload', 'shopify', 'erp', 'findings', 'routing'] as const;

export function storableMessage(msg: OrderMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of KEPT) if (msg[k] !== undefined) out[k] = msg[k];
  return JSON.parse(JSON.stringify(out)) as Record<string, unknown>;
}

export interface Routing {
  decision: 'clean' | 'output' | 'hold' | 'retry' | 'released' | 'retried';
  rule?: string;
  at: string;
  /** Retry-later attempts made so far for this order. */
  attempts: number;
  holdId?: string;
  by?: string;
}

export function orderIdentity(msg: OrderMessage): { shop: string; orderId: string; orderName?: string } {
  const p = (msg.payload ?? {}) as { id?: unknown; order_id?: unknown; name?: unknown };
  const orderId = String(p.order_id ?? p.id ?? 'unknown');
  return { shop: msg.shopify?.shop ?? 'unknown', orderId, orderName: typeof p.name === 'string' ? p.name : undefined };
}
