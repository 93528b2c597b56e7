import type { IncomingMessage, ServerResponse } from 'http';
import type { HeaderBag } from './webhook';
import type { IntakeAnswer } from './webhook-intake';

/**
 * The HTTP edge of the trigger, on Node-RED's httpNode (an express 4 app). The body is read here as
 * raw bytes: the HMAC is over the exact bytes. httpNode itself parses nothing on our route, but the
 * admin app, when it shares the root, does: see keepRawBodiesBeforeAdminParsers.
 */

type Req = IncomingMessage & { body?: unknown; _body?: boolean };
type Res = ServerResponse;

export type RawBodyResult =
  | { ok: true; body: Buffer }
  | { ok: false; status: 400 | 413 | 415 | 500; reason: string };

export function readRawBody(req: Req, limit: number): Promise<RawBodyResult> {
  const tooLarge = { ok: false, status: 413, reason: `body larger than ${limit} bytes` } as const;
  // A raw-body middleware placed earlier (e.g. by httpNodeMiddleware) may already hold the bytes.
  if (Buffer.isBuffer(req.body)) return Promise.resolve(req.body.length > limit ? tooLarge : { ok: true, body: req.body });
  if (req._body || req.readableEnded) {
    return Promise.resolve({ ok: false, status: 500, reason: 'request body was already parsed by other middleware (check httpNodeMiddleware); the raw bytes are needed for HMAC verification' });
  }
  const encoding = String(req.headers['content-encoding'] ?? 'identity').toLowerCase();
  if (encoding !== 'identity') {
    req.resume();
    return Promise.resolve({ ok: false, status: 415, reason: `content-encoding ${encoding} is not accepted` });
  }
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) {
    req.resume(); // drain and discard, so the connection can carry the answer
    return Promise.resolve(tooLarge);
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let size = 0;
    const onData = (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.off('data', onData);
        chunks.length = 0;
        req.resume();
        resolve(tooLarge);
        return;
      }
      chunks.push(chunk);
    };
    req.on('data', onData);
    req.on('end', () => resolve({ ok: true, body: Buffer.concat(chunks) }));
    req.on('error', () => resolve({ ok: false, status: 400, reason: 'request aborted while reading the body' }));
  });
}

export interface RouteOptions {
  maxBytes: number;
  receive: (headers: HeaderBag, raw: Buffer) => Promise<IntakeAnswer>;
  /** A body that could not even be read (413/415/400/500): counted as rejected by the node. */
  onUnreadable?: (status: number, reason: string) => void;
  /** Anything that escaped the intake (a bug): answered 500 and reported. */
  onCrash?: (err: Error) => void;
}

function answer(res: Res, status: number, message: string): void {
  if (res.headersSent) return;
  const body = JSON.stringify(status === 200 ? { status: message } : { error: message });
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

/** The express handler: read → judge and commit → answer → emit. Nothing slow runs before the answer. */
export function webhookHandler(opts: RouteOptions): (req: Req, res: Res) => void {
  return (req, res) => {
    void (async () => {
      const raw = await readRawBody(req, opts.maxBytes);
      if (!raw.ok) {
        opts.onUnreadable?.(raw.status, raw.reason);
        answer(res, raw.status, raw.reason);
        return;
      }
      const a = await opts.receive(req.headers as HeaderBag, raw.body);
      answer(res, a.status, a.message);
      if (a.after) await a.after();
    })().catch((e: unknown) => {
      const err = e instanceof Error ? e : new Error(String(e));
      answer(res, 500, 'internal error');
      opts.onCrash?.(err);
    });
  };
}

interface Layer { route?: { path?: unknown; methods?: Record<string, boolean> } }
export interface HttpApp { _router?: { stack: Layer[] } }

/** True when the app already has a route for method+path (a second trigger on one path would never be reached). */
export function hasRoute(app: HttpApp, path: string, method = 'post'): boolean {
  return (app._router?.stack ?? []).some((l) => l.route?.path === path && !!l.route.methods?.[method]);
}

/** Removes method+path routes the way core http-in does on close, so a redeploy does not stack handlers. */
export function removeRoute(app: HttpApp, path: string, method = 'post'): number {
  const stack = app._router?.stack;
  if (!stack) return 0;
  let removed = 0;
  for (let i = stack.length - 1; i >= 0; i--) {
    const r = stack[i].route;
    if (r?.path === path && r.methods?.[method]) {
      stack.splice(i, 1);
      removed++;
    }
  }
  return removed;
}

type NextFn = (err?: unknown) => void;
interface ExpressLike {
  _router?: { stack: { name?: string }[] };
  router?: { stack: { name?: string }[] };
  use(fn: (req: Req, res: Res, next: NextFn) => void): unknown;
}

/**
 * With Node-RED's defaults (httpAdminRoot and httpNodeRoot both "/") every request passes the admin
 * app first, and its JSON body parser consumes a webhook's body before our route sees it: the raw
 * bytes, and with them the HMAC, would be lost. This puts a small reader in front of the admin app's
 * body parsers that keeps the raw bytes of POSTs to the paths in `paths` (full URL paths, node root
 * included); readRawBody then uses them. Installed once per admin app; a no-op when the admin app
 * has no body parser in the way (separate roots, the test helper).
 */
export function keepRawBodiesBeforeAdminParsers(adminApp: unknown, paths: ReadonlyMap<string, number>): boolean {
  // RED.httpAdmin is the runtime's admin app, mounted inside the editor API's app that carries the
  // parsers: look up the chain of parent apps (express sets `parent` when an app is mounted).
  let app = adminApp as (ExpressLike & { [KEPT]?: boolean; parent?: unknown }) | undefined;
  let stack: { name?: string }[] | undefined;
  let at = -1;
  for (; app && typeof app.use === 'function'; app = app.parent as typeof app) {
    if (app[KEPT]) return true;
    stack = routerStack(app);
    at = stack?.findIndex((l) => l.name === 'jsonParser' || l.name === 'urlencodedParser') ?? -1;
    if (at >= 0) break;
  }
  if (!app || !stack || at < 0) return false;
  app.use(function shopifyWebhookRawBody(req: Req, _res: Res, next: NextFn) {
    if (req.method !== 'POST' || req._body) return next();
    const pathname = (req.url ?? '').split('?')[0] ?? '';
    const limit = paths.get(pathname.replace(/\/+$/, '') || '/');
    if (limit === undefined) return next();
    // Keep at most limit+1 bytes: enough for readRawBody to answer 413, without buffering a flood.
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      if (size <= limit) chunks.push(c);
      size += c.length;
    });
    req.on('end', () => {
      req.body = Buffer.concat(chunks).subarray(0, limit + 1);
      req._body = true; // body-parser skips requests marked as parsed
      next();
    });
    req.on('error', next);
  });
  stack.splice(at, 0, stack.pop()!);
  app[KEPT] = true;
  return true;
}
const KEPT = Symbol.for('node-red-contrib-shopify-d365.rawBodies');

/** express 4 keeps the router at `_router` (its `router` getter throws); express 5 at `router`. */
function routerStack(app: ExpressLike): { name?: string }[] | undefined {
  if (app._router) return app._router.stack;
  try {
    return app.router?.stack;
  } catch {
    return undefined;
  }
}

/** The full URL path a route on httpNode answers at: httpNodeRoot + path, without a trailing slash. */
export function fullNodePath(httpNodeRoot: unknown, path: string): string {
  const root = typeof httpNodeRoot === 'string' ? httpNodeRoot : '/';
  return `${root.replace(/\/+$/, '')}${path}`.replace(/\/+$/, '') || '/';
}
