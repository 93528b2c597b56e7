import type { Node } from 'node-red';
import { z } from 'zod';
import { formatZodError } from '../contract';
import type { BcApi } from './bc-api';
import { BcClient, BcClientInput, GUID_RE } from './bc-client';
import { ClientCredentialsTokenProvider, TokenProviderInput } from './token-provider';

// The editor saves empty text inputs as '' and numbers as strings.
const blankToUndefined = (v: unknown) => (typeof v === 'string' && v.trim() === '' ? undefined : typeof v === 'string' ? v.trim() : v);
const bool = z.preprocess((v) => (v === 'true' ? true : v === 'false' || v === '' || v === undefined ? false : v), z.boolean());

/** The `d365-connection` config node's settings as the editor saves them. */
export const D365ConnectionConfig = z.object({
  name: z.string().optional(),
  flavour: z.preprocess(blankToUndefined, z.enum(['bc'], { error: 'only Business Central (flavour "bc") is supported so far' }).default('bc')),
  tenant: z.preprocess(blankToUndefined, z.string({ error: 'tenant is required' }).regex(/^[A-Za-z0-9.-]+$/, 'tenant must be a directory id (GUID) or domain such as contoso.onmicrosoft.com')),
  environment: z.preprocess(blankToUndefined, z.string().regex(/^[A-Za-z0-9_-]+$/, 'environment must be a BC environment name such as production or sandbox').default('production')),
  companyId: z.preprocess(blankToUndefined, z.string({ error: 'company id is required' }).regex(GUID_RE, 'company id must be the company GUID (GET …/api/v2.0/companies shows it)')),
  baseUrl: z.preprocess(blankToUndefined, z.url({ protocol: /^https?$/, error: 'base URL must be an http(s) URL' }).optional()),
  tokenUrl: z.preprocess(blankToUndefined, z.url({ protocol: /^https?$/, error: 'token URL must be an http(s) URL' }).optional()),
  maxConcurrency: z.preprocess(blankToUndefined, z.coerce.number().int().min(1).max(20).default(5)),
  /** The request budget the client paces itself to: BC online allows 6,000 per user in any 5 minutes. */
  requestsPerWindow: z.preprocess(blankToUndefined, z.coerce.number().int().min(1).max(1_000_000).default(6000)),
  windowS: z.preprocess(blankToUndefined, z.coerce.number().positive().max(3600).default(300)),
  dryRun: bool.default(false),
});
export type D365ConnectionConfig = z.infer<typeof D365ConnectionConfig>;

export const D365ConnectionCredentials = z.object({
  clientId: z.preprocess(blankToUndefined, z.string().optional()),
  clientSecret: z.preprocess(blankToUndefined, z.string().optional()),
});
export type D365ConnectionCredentials = z.infer<typeof D365ConnectionCredentials>;

/** What a `d365-connection` config node offers the nodes that use it. */
export interface D365Connection {
  /** The Business Central client, created on first use and shared by every node using this connection (so the concurrency limit is per connection). Throws a clear error when misconfigured. */
  getClient(): BcApi;
  /** When true, nodes must not write to Dynamics 365 (they report what they would have sent). */
  dryRun: boolean;
  companyId: string;
}

/** The runtime behind a `d365-connection` node, free of Node-RED so it can be tested directly. */
export class D365ConnectionRuntime implements D365Connection {
  readonly dryRun: boolean;
  readonly companyId: string;
  /** Set when the settings are invalid; secret-free, suitable for node.error and status. */
  readonly configError?: string;
  private readonly config?: D365ConnectionConfig;
  private readonly credentials: D365ConnectionCredentials;
  private client?: BcClient;

  constructor(rawConfig: unknown, rawCredentials: unknown,
    private readonly overrides: { client?: Partial<BcClientInput>; token?: Partial<TokenProviderInput> } = {}) {
    const cfg = D365ConnectionConfig.safeParse(rawConfig ?? {});
    const creds = D365ConnectionCredentials.safeParse(rawCredentials ?? {});
    this.credentials = creds.success ? creds.data : {};
    if (cfg.success) this.config = cfg.data;
    else this.configError = formatZodError(cfg.error);
    const raw = (rawConfig ?? {}) as { companyId?: unknown; dryRun?: unknown };
    this.companyId = this.config?.companyId ?? (typeof raw.companyId === 'string' ? raw.companyId : '');
    // A broken connection is treated as dry-run: nothing should be written through it anyway.
    this.dryRun = this.config ? this.config.dryRun : true;
  }

  getClient(): BcApi {
    if (!this.config) throw new Error(`D365 connection is misconfigured: ${this.configError}`);
    if (!this.credentials.clientId || !this.credentials.clientSecret) {
      throw new Error('D365 connection has no client id/secret: open the connection settings and enter the Entra app registration\'s client id and secret');
    }
    if (!this.client) {
      const c = this.config;
      const tokens = new ClientCredentialsTokenProvider({
        ...this.overrides.token,
        tenant: c.tenant,
        clientId: this.credentials.clientId,
        clientSecret: this.credentials.clientSecret,
        tokenUrl: c.tokenUrl,
      });
      this.client = new BcClient({
        ...this.overrides.client,
        tenant: c.tenant,
        environment: c.environment,
        companyId: c.companyId,
        baseUrl: c.baseUrl,
        maxConcurrency: c.maxConcurrency,
        requestsPerWindow: c.requestsPerWindow,
        windowMs: c.windowS * 1000,
      }, tokens);
    }
    return this.client;
  }
}

/** Credentials as Node-RED stores them for a `d365-connection` node. */
export type D365ConnectionSecrets = Partial<Record<'clientId' | 'clientSecret', string>>;

/** The node object other nodes get from RED.nodes.getNode(config.connection). */
export interface D365ConnectionNode extends Node<D365ConnectionSecrets>, D365Connection {}
