import type { Node } from 'node-red';
import { z } from 'zod';
import { formatZodError } from '../contract';
import type { ShopifyAdminApi } from './admin-api';
import { API_VERSION_RE, DEFAULT_API_VERSION, SHOP_DOMAIN_RE, ShopifyAdminClient, ShopifyAdminClientInput } from './admin-client';

// The editor saves empty text inputs as '' — treat them as "not set".
const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v);

/** The `shopify-store` config node's settings as the editor saves them. */
export const ShopifyStoreConfig = z.object({
  name: z.string().optional(),
  shopDomain: z.preprocess((v) => (typeof v === 'string' ? v.trim().toLowerCase() : v),
    z.string({ error: 'shop domain is required' }).regex(SHOP_DOMAIN_RE, 'shop domain must look like your-shop.myshopify.com')),
  apiVersion: z.preprocess(blankToUndefined, z.string().regex(API_VERSION_RE, 'API version must be YYYY-MM (e.g. 2026-07) or unstable').default(DEFAULT_API_VERSION)),
  baseUrl: z.preprocess(blankToUndefined, z.url({ protocol: /^https?$/, error: 'base URL must be an http(s) URL' }).optional()),
});
export type ShopifyStoreConfig = z.infer<typeof ShopifyStoreConfig>;

export const ShopifyStoreCredentials = z.object({
  accessToken: z.preprocess(blankToUndefined, z.string().optional()),
  webhookSecret: z.preprocess(blankToUndefined, z.string().optional()),
  previousWebhookSecret: z.preprocess(blankToUndefined, z.string().optional()),
});
export type ShopifyStoreCredentials = z.infer<typeof ShopifyStoreCredentials>;

/** What a `shopify-store` config node offers the nodes that use it. */
export interface ShopifyStore {
  shopDomain: string;
  apiVersion: string;
  /** The shop's Admin API client, created on first use and shared by every node using this store. Throws a clear error when the store is misconfigured or has no access token. */
  getClient(): ShopifyAdminApi;
  /** Webhook signing secrets to accept: the current one first, then the previous one during a rotation. Empty when none is set. */
  webhookSecrets(): string[];
}

/** The runtime behind a `shopify-store` node, free of Node-RED so it can be tested directly. */
export class ShopifyStoreRuntime implements ShopifyStore {
  readonly shopDomain: string;
  readonly apiVersion: string;
  /** Set when the settings are invalid; secret-free, suitable for node.error and status. */
  readonly configError?: string;
  private readonly config?: ShopifyStoreConfig;
  private readonly credentials: ShopifyStoreCredentials;
  private client?: ShopifyAdminClient;

  constructor(rawConfig: unknown, rawCredentials: unknown, private readonly clientDefaults: Partial<ShopifyAdminClientInput> = {}) {
    const cfg = ShopifyStoreConfig.safeParse(rawConfig ?? {});
    const creds = ShopifyStoreCredentials.safeParse(rawCredentials ?? {});
    this.credentials = creds.success ? creds.data : {};
    if (cfg.success) this.config = cfg.data;
    else this.configError = formatZodError(cfg.error);
    const raw = (rawConfig ?? {}) as { shopDomain?: unknown; apiVersion?: unknown };
    this.shopDomain = this.config?.shopDomain ?? (typeof raw.shopDomain === 'string' ? raw.shopDomain : '');
    this.apiVersion = this.config?.apiVersion ?? (typeof raw.apiVersion === 'string' && raw.apiVersion ? raw.apiVersion : DEFAULT_API_VERSION);
  }

  getClient(): ShopifyAdminApi {
    if (!this.config) throw new Error(`Shopify store is misconfigured: ${this.configError}`);
    if (!this.credentials.accessToken) {
      throw new Error(`Shopify store ${this.shopDomain} has no Admin API access token: open the store's settings and paste the token of your custom app`);
    }
    this.client ??= new ShopifyAdminClient({
      ...this.clientDefaults,
      shopDomain: this.config.shopDomain,
      apiVersion: this.config.apiVersion,
      baseUrl: this.config.baseUrl,
      accessToken: this.credentials.accessToken,
    });
    return this.client;
  }

  webhookSecrets(): string[] {
    return [this.credentials.webhookSecret, this.credentials.previousWebhookSecret].filter((s): s is string => !!s);
  }
}

/** Credentials as Node-RED stores them for a `shopify-store` node. */
export type ShopifyStoreSecrets = Partial<Record<'accessToken' | 'webhookSecret' | 'previousWebhookSecret', string>>;

/** The node object other nodes get from RED.nodes.getNode(config.store). */
export interface ShopifyStoreNode extends Node<ShopifyStoreSecrets>, ShopifyStore {}
