import { readdirSync, readFileSync } from 'fs';
import path from 'path';
import { z } from 'zod';
import type { Sims } from './sims';

/** One node of a flow file: every node has an id and a type; the rest depends on the type. */
export const FlowNode = z.looseObject({ id: z.string().min(1), type: z.string().min(1) });
export type FlowNode = z.infer<typeof FlowNode>;
export const FlowFile = z.array(FlowNode);

export const FULL_LIFECYCLE = '01 - Full order lifecycle.json';

export function examplesDir(packageRoot: string): string {
  return path.join(packageRoot, 'examples');
}

/** The example flow files, in their numbered order. */
export function exampleFiles(packageRoot: string): string[] {
  return readdirSync(examplesDir(packageRoot)).filter((f) => f.endsWith('.json')).sort();
}

export function readExample(packageRoot: string, file: string): FlowNode[] {
  const raw: unknown = JSON.parse(readFileSync(path.join(examplesDir(packageRoot), file), 'utf8'));
  const parsed = FlowFile.safeParse(raw);
  if (!parsed.success) throw new Error(`${file}: not a Node-RED flow (a JSON array of nodes with id and type): ${parsed.error.issues[0]?.message}`);
  return parsed.data;
}

/**
 * The flow with its config nodes pointed at the simulators and carrying the simulators' credentials
 * (Node-RED's admin API moves `credentials` into its credential store; they never reach flows.json).
 * Examples ship without credentials, as Node-RED examples must.
 */
export function pointAtSims(flow: readonly FlowNode[], sims: Sims): FlowNode[] {
  const { shopify, bc } = sims;
  return flow.map((n) => {
    switch (n.type) {
      case 'shopify-store':
        return {
          ...n, shopDomain: shopify.options.shop, apiVersion: shopify.options.apiVersion, baseUrl: shopify.url,
          credentials: { accessToken: shopify.options.accessToken, webhookSecret: shopify.options.webhookSecret },
        };
      case 'd365-connection':
        return {
          ...n, tenant: bc.tenant, environment: bc.environment, companyId: bc.companyId, baseUrl: bc.url, tokenUrl: bc.tokenUrl,
          credentials: { clientId: bc.clientId, clientSecret: bc.clientSecret },
        };
      default:
        return { ...n };
    }
  });
}

/** Webhook topics and paths of the flow's Shopify triggers, to subscribe in the Shopify simulator. */
export function triggerSubscriptions(flow: readonly FlowNode[]): { path: string; topics: string[] }[] {
  return flow.filter((n) => n.type === 'shopify-trigger' && n.d !== true).map((n) => ({
    path: typeof n.path === 'string' && n.path ? n.path : '/shopify/webhooks',
    topics: Array.isArray(n.topics) ? n.topics.filter((t): t is string => typeof t === 'string') : [],
  }));
}

/** Subscribes every trigger of the flow in the Shopify simulator (webhooks go to Node-RED's httpNode routes). */
export function subscribeWebhooks(flow: readonly FlowNode[], sims: Sims, nodeRedUrl: string): { unsubscribe(): void; count: number } {
  const ids: number[] = [];
  for (const s of triggerSubscriptions(flow)) {
    for (const topic of s.topics) ids.push(sims.shopify.subscribe(topic, `${nodeRedUrl}${s.path}`, { name: 'node-red' }).id);
  }
  return { count: ids.length, unsubscribe: () => { for (const id of ids) sims.shopify.unsubscribe(id); } };
}
