import type { IncomingMessage, ServerResponse } from 'http';
import type { HeaderBag } from './webhook';
import type { IntakeAnswer } from './webhook-intake';

/**
 * The HTTP edge of the trigger, on Node-RED's httpNode (an express 4 app). The body is read here as
 * raw bytes: the HMAC is over the exact bytes, and Node-RED installs no body parser on httpNode
 * routes other than the http-in node's own, so the stream reaches us untouched.
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
