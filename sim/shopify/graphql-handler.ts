import type { Request, Response } from 'express';
import { buildSchema, execute, getOperationAST, parse, validate, type DocumentNode, type FragmentDefinitionNode, type GraphQLError } from 'graphql';
import { LeakyBucket } from './bucket';
import type { SimCore } from './core';
import { actualCost, requestedCost } from './cost';
import { rootValue } from './resolvers';
import { SDL } from './schema.graphql';

export const MAX_QUERY_COST = 1000;

export interface GraphqlCounters { requests: number; pointsSpent: number; throttled: number; maxCostExceeded: number; unauthorized: number }

const schema = buildSchema(SDL);
const root = rootValue();

/** POST /admin/api/:version/graphql.json — auth, cost, leaky bucket, execution, extensions.cost on every answer. */
export function graphqlHandler(core: SimCore, counters: GraphqlCounters) {
  const buckets = new Map<string, LeakyBucket>();
  const bucketFor = (token: string) => {
    let b = buckets.get(token);
    if (!b) buckets.set(token, (b = new LeakyBucket(core.opts.bucket.maximumAvailable, core.opts.bucket.restoreRate)));
    b.maximumAvailable = core.opts.bucket.maximumAvailable;
    b.restoreRate = core.opts.bucket.restoreRate;
    return b;
  };
  const costExt = (bucket: LeakyBucket, requested: number, actual: number | null) => ({
    cost: { requestedQueryCost: requested, actualQueryCost: actual, throttleStatus: bucket.status() },
  });
  const gqlErrors = (errors: readonly GraphQLError[]) => errors.map((e) => e.toJSON());

  return async (req: Request, res: Response): Promise<void> => {
    const token = req.get('X-Shopify-Access-Token');
    if (token !== core.opts.accessToken) {
      counters.unauthorized++;
      res.status(401).json({ errors: '[API] Invalid API key or access token (unrecognized login or wrong password)' });
      return;
    }
    const version = String(req.params.version);
    if (!/^(\d{4}-\d{2}|unstable)$/.test(version)) {
      res.status(404).json({ errors: 'Not Found' });
      return;
    }
    counters.requests++;
    res.set('X-Shopify-API-Version', version);
    const bucket = bucketFor(token);
    const body = (req.body ?? {}) as { query?: unknown; variables?: unknown; operationName?: unknown };
    if (typeof body.query !== 'string' || body.query.length === 0) {
      res.status(400).json({ errors: { query: 'Required parameter missing or invalid' } });
      return;
    }
    const variables = body.variables && typeof body.variables === 'object' && !Array.isArray(body.variables) ? (body.variables as Record<string, unknown>) : {};
    let doc: DocumentNode;
    try {
      doc = parse(body.query, { maxTokens: 20_000 });
    } catch (e) {
      res.json({ errors: gqlErrors([e as GraphQLError]), extensions: costExt(bucket, 0, 0) });
      return;
    }
    const validation = validate(schema, doc);
    if (validation.length) {
      res.json({ errors: gqlErrors(validation), extensions: costExt(bucket, 0, 0) });
      return;
    }
    const operationName = typeof body.operationName === 'string' ? body.operationName : undefined;
    const operation = getOperationAST(doc, operationName);
    if (!operation) {
      res.json({ errors: [{ message: 'An operation name is required when the document has several operations.' }], extensions: costExt(bucket, 0, 0) });
      return;
    }
    const fragments: Record<string, FragmentDefinitionNode> = {};
    for (const d of doc.definitions) if (d.kind === 'FragmentDefinition') fragments[d.name.value] = d;
    const costInput = { schema, operation, fragments, variables };
    const requested = requestedCost(costInput);
    if (requested > MAX_QUERY_COST) {
      counters.maxCostExceeded++;
      res.json({
        errors: [{
          message: `Query cost is ${requested}, which exceeds the single query max cost limit (${MAX_QUERY_COST}).\n\nSee https://shopify.dev/concepts/about-apis/rate-limits for more information on how the\ncost of a query is calculated.\n\nTo query larger amounts of data with fewer limits, bulk operations should be used instead.\nSee https://shopify.dev/tutorials/perform-bulk-operations-with-admin-api for usage details.\n`,
          extensions: { code: 'MAX_COST_EXCEEDED', cost: requested, maxCost: MAX_QUERY_COST, documentation: 'https://shopify.dev/api/usage/rate-limits' },
        }],
        extensions: costExt(bucket, requested, null),
      });
      return;
    }
    if (!bucket.take(requested)) {
      counters.throttled++;
      const throttled = {
        errors: [{ message: 'Throttled', extensions: { code: 'THROTTLED', documentation: 'https://shopify.dev/api/usage/rate-limits' } }],
        extensions: costExt(bucket, requested, null),
      };
      if (core.opts.bucket.httpStatus === 429) {
        res.set('Retry-After', String(Math.max(1, Math.ceil(bucket.secondsUntil(requested)))));
        res.status(429).json(throttled);
      } else res.json(throttled);
      return;
    }
    const result = await execute({ schema, document: doc, rootValue: root, contextValue: { core, apiVersion: version }, variableValues: variables, operationName });
    const actual = Math.min(requested, actualCost(costInput, result.data as Record<string, unknown> | null | undefined));
    bucket.refund(requested - actual);
    counters.pointsSpent += actual;
    const out: Record<string, unknown> = {};
    if (result.errors?.length) out.errors = gqlErrors(result.errors);
    out.data = result.data ?? null;
    out.extensions = costExt(bucket, requested, actual);
    res.json(out);
  };
}
