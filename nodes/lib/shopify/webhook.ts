import { ORDER_TOPICS, ShopifyMeta, isShopifyTopic, parseTopicPayload } from '../contract';
import type { ShopifyTopic } from '../contract';
import type { RecordEventInput } from '../journal/journal';
import { verifyShopifyHmac } from './hmac';

/**
 * The pure part of receiving a Shopify webhook: headers, signature, topic, JSON and schema, turned
 * into a verdict (reject / ignore / accept). Nothing here does I/O, so every rule is unit-tested
 * without a server; the intake (webhook-intake.ts) commits accepted events to the journal.
 */

export type HeaderBag = Record<string, string | string[] | undefined>;

export interface WebhookHeaders {
  hmac?: string;
  topic?: string;
  shopDomain?: string;
  apiVersion?: string;
  webhookId?: string;
  triggeredAt?: string;
  eventId?: string;
}

const HEADER_NAMES: Record<keyof WebhookHeaders, string> = {
  hmac: 'x-shopify-hmac-sha256',
  topic: 'x-shopify-topic',
  shopDomain: 'x-shopify-shop-domain',
  apiVersion: 'x-shopify-api-version',
  webhookId: 'x-shopify-webhook-id',
  triggeredAt: 'x-shopify-triggered-at',
  eventId: 'x-shopify-event-id',
};

/** Header names are case-insensitive (HTTP/2 lowercases them); a repeated header counts as its first value. */
export function readWebhookHeaders(headers: HeaderBag): WebhookHeaders {
  const lower = new Map<string, string>();
  for (const [k, v] of Object.entries(headers)) {
    const value = Array.isArray(v) ? v[0] : v;
    if (typeof value === 'string' && value.trim() !== '' && !lower.has(k.toLowerCase())) lower.set(k.toLowerCase(), value.trim());
  }
  const out: WebhookHeaders = {};
  for (const [key, name] of Object.entries(HEADER_NAMES) as [keyof WebhookHeaders, string][]) {
    const v = lower.get(name);
    if (v !== undefined) out[key] = v;
  }
  return out;
}

export const MAX_JSON_DEPTH = 64;

// One decoder for every body: a non-streaming decode() starts afresh each call, fatal errors included.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Parses a JSON body: strict UTF-8, depth-limited, and with every `__proto__` key removed so the
 * value can be copied or merged anywhere without reaching a prototype. Error texts give a position
 * at most, never a piece of the body (it carries customer data).
 */
/** A high surrogate without its low half, or a low one without its high half. */
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;
const NOT_UNICODE = 'body has a string that is not valid Unicode (an unpaired UTF-16 surrogate escape)';

export function parseJsonBody(raw: Buffer, maxDepth = MAX_JSON_DEPTH): { ok: true; value: unknown; text: string } | { ok: false; error: string } {
  let text: string;
  try {
    text = UTF8.decode(raw);
  } catch {
    return { ok: false, error: 'body is not valid UTF-8' };
  }
  if (text.trim() === '') return { ok: false, error: 'body is empty' };
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    const pos = /position (\d+)/.exec((e as Error).message);
    return { ok: false, error: pos ? `malformed JSON at position ${pos[1]}` : 'malformed JSON' };
  }
  // A lone UTF-16 surrogate can only come from a \u escape (the bytes were valid UTF-8): no real Shopify
  // body has one, and downstream (URL encoding of a D365 lookup) it would throw. Checked only when the
  // text has escapes at all.
  const escapes = text.includes('\\u');
  if (escapes && typeof value === 'string' && LONE_SURROGATE.test(value)) return { ok: false, error: NOT_UNICODE };
  // Most bodies have neither escapes nor a __proto__ key (an escaped one has escapes): then only the
  // depth is checked, on the text, without visiting every object of the value.
  if (!escapes && !text.includes('__proto__')) {
    return nestingDepth(text) > maxDepth ? { ok: false, error: `JSON nested deeper than ${maxDepth} levels` } : { ok: true, value, text };
  }
  // Iterative walk: a reviver or recursion would overflow the stack on a deeply nested body.
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 1 }];
  while (stack.length) {
    const { v, depth } = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (depth > maxDepth) return { ok: false, error: `JSON nested deeper than ${maxDepth} levels` };
    if (Object.prototype.hasOwnProperty.call(v, '__proto__')) delete (v as Record<string, unknown>)['__proto__'];
    for (const [k, child] of Object.entries(v)) {
      if (child !== null && typeof child === 'object') stack.push({ v: child, depth: depth + 1 });
      else if (escapes && (LONE_SURROGATE.test(k) || (typeof child === 'string' && LONE_SURROGATE.test(child)))) return { ok: false, error: NOT_UNICODE };
    }
  }
  // The decoded text goes back too: the journal stores it, and decoding a body twice costs per delivery.
  return { ok: true, value, text };
}

/** The deepest nesting of objects and arrays in a text JSON.parse accepted (brackets inside strings do not count). */
function nestingDepth(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // a backslash escapes the next character (\" does not end the string)
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/** Milliseconds of an ISO-8601 timestamp that carries an offset; undefined for anything else. */
export function instantMs(s: unknown): number | undefined {
  if (typeof s !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/i.test(s.trim())) return undefined;
  const ms = Date.parse(s.trim().replace(/([+-]\d{2})(\d{2})$/, '$1:$2'));
  return Number.isFinite(ms) ? ms : undefined;
}

/** The same instant as UTC ISO with milliseconds, so journal comparisons never depend on the shop's offset. */
export function normaliseInstant(s: unknown): string | undefined {
  const ms = instantMs(s);
  return ms === undefined ? undefined : new Date(ms).toISOString();
}

export interface DeliveryPolicy {
  /** The configured shop (`demo-shop.myshopify.com`); deliveries for another shop are ignored. */
  shopDomain: string;
  /** Current webhook secret first, then the previous one during a rotation. */
  secrets: readonly string[];
  /** Topics this node emits; others are acknowledged and ignored. */
  topics: ReadonlySet<string>;
  ignoreTest: boolean;
}

/** msg as the trigger emits it. */
export interface TriggerMessage {
  topic: ShopifyTopic;
  payload: unknown;
  shopify: ShopifyMeta;
  _shopifyEventSeq?: number;
}

export interface TriggerEvent {
  msg: TriggerMessage;
  record: RecordEventInput;
}

export type Verdict =
  | { kind: 'reject'; status: 400 | 401; reason: string }
  | { kind: 'ignore'; reason: string }
  | { kind: 'accept'; event: TriggerEvent };

/**
 * Judges one delivery. Order matters: the signature is checked before anything else is read, so an
 * unauthenticated caller learns nothing but "401"; topic filtering comes before JSON parsing so an
 * unsubscribed topic is acknowledged even if its body is not one we could parse.
 */
export function evaluateDelivery(headerBag: HeaderBag, raw: Buffer, policy: DeliveryPolicy): Verdict {
  const h = readWebhookHeaders(headerBag);
  if (!h.hmac) return { kind: 'reject', status: 401, reason: 'missing X-Shopify-Hmac-Sha256 header' };
  if (!verifyShopifyHmac(raw, h.hmac, policy.secrets)) return { kind: 'reject', status: 401, reason: 'HMAC verification failed' };
  const missing = (['topic', 'shopDomain', 'webhookId'] as const).filter((k) => !h[k]).map((k) => HEADER_DISPLAY[k]);
  if (missing.length) return { kind: 'reject', status: 400, reason: `missing header${missing.length > 1 ? 's' : ''}: ${missing.join(', ')}` };
  const shop = h.shopDomain!.toLowerCase();
  if (shop !== policy.shopDomain.toLowerCase()) return { kind: 'ignore', reason: `delivery for another shop (${shop})` };
  const topic = h.topic!;
  if (!isShopifyTopic(topic)) return { kind: 'ignore', reason: `topic ${topic} is not handled by this node` };
  if (!policy.topics.has(topic)) return { kind: 'ignore', reason: `topic ${topic} is not selected` };
  const json = parseJsonBody(raw);
  if (!json.ok) return { kind: 'reject', status: 400, reason: json.error };
  const parsed = parseTopicPayload(topic, json.value);
  if (!parsed.ok) return { kind: 'reject', status: 400, reason: `body is not a valid ${topic} payload: ${parsed.error}` };
  const payload = parsed.payload as Record<string, unknown>;
  if (policy.ignoreTest && payload.test === true) return { kind: 'ignore', reason: 'test order' };
  const meta = compactMeta({
    shop, topic, webhookId: h.webhookId, eventId: h.eventId, apiVersion: h.apiVersion, triggeredAt: h.triggeredAt, source: 'webhook',
  });
  return {
    kind: 'accept',
    event: buildEvent(topic, payload, json.text, meta, h.webhookId!, normaliseInstant(payload.updated_at) ?? normaliseInstant(h.triggeredAt)),
  };
}

const HEADER_DISPLAY = { topic: 'X-Shopify-Topic', shopDomain: 'X-Shopify-Shop-Domain', webhookId: 'X-Shopify-Webhook-Id' } as const;

/** The resource an event is about, for the journal's per-order ordering. */
export function resourceIdOf(topic: ShopifyTopic, payload: Record<string, unknown>): string | undefined {
  const id = (v: unknown) => (typeof v === 'number' || typeof v === 'string' ? String(v) : undefined);
  if (ORDER_TOPICS.includes(topic)) return id(payload.id);
  if (topic === 'orders/edited') return id((payload.order_edit as Record<string, unknown> | undefined)?.order_id);
  if (topic === 'refunds/create' || topic === 'fulfillments/create' || topic === 'fulfillments/update') return id(payload.order_id);
  return undefined;
}

/** Assembles the event both paths (webhook and reconciliation) commit to the journal. `updatedAt` is
 * given only for order topics: it orders versions of one order (an older orders/updated is stale). */
export function buildEvent(topic: ShopifyTopic, payload: Record<string, unknown>, body: string, meta: ShopifyMeta,
  dedupeKey: string, updatedAt: string | undefined): TriggerEvent {
  const resourceId = resourceIdOf(topic, payload);
  const record: RecordEventInput = { shop: meta.shop, dedupeKey, topic, body, meta: { ...meta } };
  if (resourceId !== undefined) record.resourceId = resourceId;
  if (ORDER_TOPICS.includes(topic) && updatedAt !== undefined) record.resourceUpdatedAt = updatedAt;
  return { msg: { topic, payload, shopify: meta }, record };
}

/** msg.shopify without undefined keys, so what is emitted equals what the journal stores and replays. */
export function compactMeta(m: ShopifyMeta): ShopifyMeta {
  return Object.fromEntries(Object.entries(m).filter(([, v]) => v !== undefined)) as ShopifyMeta;
}
