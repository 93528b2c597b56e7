import type { OrderJournal } from '../journal/journal';
import { normaliseInstant } from './webhook';

/**
 * Loop protection for our own write-backs. When a node of this package changes a Shopify order
 * (e.g. d365-order-writer tags it with the D365 number), Shopify answers with the order's new
 * `updated_at` and then sends an orders/updated webhook for exactly that version. The writer calls
 * `noteOwnWriteBack` with that `updated_at`; the trigger (option "ignore own write-backs") skips an
 * orders/updated whose `updated_at` is the same instant. Only that one version is skipped: a later
 * change by anyone else has a later `updated_at` and comes through. The marker is one journal
 * cursor per order (`shopify-trigger:own-write:<shop>:<order id>`), overwritten by each write-back.
 */
export function ownWriteKey(shop: string, orderId: string | number): string {
  return `shopify-trigger:own-write:${shop.toLowerCase()}:${String(orderId)}`;
}

export async function noteOwnWriteBack(journal: OrderJournal, shop: string, orderId: string | number, updatedAt: string): Promise<void> {
  const at = normaliseInstant(updatedAt);
  if (at === undefined) throw new Error('noteOwnWriteBack: updatedAt must be an ISO-8601 timestamp with an offset');
  await journal.setCursor(ownWriteKey(shop, orderId), at);
}

export async function isOwnWriteBack(journal: OrderJournal, shop: string, orderId: string | number, updatedAt: unknown): Promise<boolean> {
  const at = normaliseInstant(updatedAt);
  if (at === undefined) return false;
  return (await journal.getCursor(ownWriteKey(shop, orderId))) === at;
}
