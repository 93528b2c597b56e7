// A tiny express server on 127.0.0.1:<random port> for client tests; the handler sees every request.
import express from 'express';
import type { Request, Response } from 'express';
import type { AddressInfo } from 'net';
import type { Server } from 'http';

export interface LocalServer {
  url: string;
  requests: Request[];
  close(): Promise<void>;
}

export async function startServer(handler: (req: Request, res: Response) => void | Promise<void>): Promise<LocalServer> {
  const app = express();
  const requests: Request[] = [];
  app.use(express.json({ limit: '5mb' }));
  app.use(express.urlencoded({ extended: false }));
  app.use((req, res) => {
    requests.push(req);
    Promise.resolve(handler(req, res)).catch((e) => res.status(599).json({ testHandlerError: String(e) }));
  });
  const server: Server = await new Promise((resolve) => {
    const s = app.listen(0, '127.0.0.1', () => resolve(s));
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}

export const delay = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Asserts that no secret appears anywhere an error could be shown or logged. */
export function assertNoSecret(err: unknown, secrets: string[]): void {
  const { inspect } = require('util') as typeof import('util');
  const e = err as Error;
  const views = [e.message, String(e), JSON.stringify(e), inspect(e, { depth: 10, showHidden: true }), e.stack ?? ''];
  for (const s of secrets) {
    for (const v of views) {
      if (v.includes(s)) throw new Error(`secret leaked into ${JSON.stringify(v.slice(0, 300))}`);
    }
  }
}
