import type { NodeAPI } from 'node-red';
import type { Request, Response } from 'express';
import { z } from 'zod';
import { HoldError, HoldRegistry } from '../router/holds';

/** Admin HTTP API of the exception hold queue, under Node-RED's admin app and its permissions
 * (`order-exceptions.read` / `order-exceptions.write`; a user with `*` or `read` has the first). */
export const ADMIN_BASE = '/shopify-d365/holds';

const ListQuery = z.object({
  status: z.enum(['held', 'released', 'discarded']).default('held'),
  code: z.string().max(100).optional(),
  route: z.string().max(100).optional(),
  olderThanMin: z.coerce.number().nonnegative().optional(),
  limit: z.coerce.number().int().positive().max(5000).default(500),
});
const ReleaseBody = z.object({ force: z.boolean().default(false) }).default({ force: false });
const DiscardBody = z.object({ reason: z.string().max(500) });

function who(req: Request): string {
  const user = (req as Request & { user?: { username?: string } }).user;
  return user?.username ? `editor:${user.username}` : 'editor';
}

function fail(res: Response, err: unknown): void {
  if (err instanceof HoldError) {
    res.status(err.status).json({ error: err.message });
  } else if (err instanceof z.ZodError) {
    res.status(400).json({ error: err.issues.map((i) => `${i.path.join('.') || 'body'}: ${i.message}`).join('; ') });
  } else {
    res.status(500).json({ error: err instanceof Error ? err.message : String(err) });
  }
}

export function registerHoldsAdmin(RED: NodeAPI, registry: HoldRegistry): void {
  const read = RED.auth.needsPermission('order-exceptions.read');
  const write = RED.auth.needsPermission('order-exceptions.write');
  RED.httpAdmin.get(ADMIN_BASE, read, async (req, res) => {
    try {
      const q = ListQuery.parse(req.query);
      res.json(await registry.list({
        status: q.status, code: q.code || undefined, route: q.route || undefined, limit: q.limit,
        olderThanMs: q.olderThanMin !== undefined ? q.olderThanMin * 60_000 : undefined,
      }));
    } catch (e) { fail(res, e); }
  });
  RED.httpAdmin.get(`${ADMIN_BASE}/:id`, read, async (req, res) => {
    try { res.json((await registry.get(String(req.params.id))).hold); } catch (e) { fail(res, e); }
  });
  RED.httpAdmin.post(`${ADMIN_BASE}/:id/release`, write, async (req, res) => {
    try {
      const body = ReleaseBody.parse(req.body && Object.keys(req.body).length ? req.body : undefined);
      res.json(await registry.release(String(req.params.id), who(req), body.force));
    } catch (e) { fail(res, e); }
  });
  RED.httpAdmin.post(`${ADMIN_BASE}/:id/discard`, write, async (req, res) => {
    try {
      res.json(await registry.discard(String(req.params.id), who(req), DiscardBody.parse(req.body ?? {}).reason));
    } catch (e) { fail(res, e); }
  });
}
