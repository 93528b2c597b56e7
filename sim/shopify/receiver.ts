import express from 'express';
import type { AddressInfo } from 'net';
import type { IncomingHttpHeaders, Server } from 'http';

export interface ReceivedDelivery { headers: IncomingHttpHeaders; raw: Buffer; receivedAt: number }

/** How the receiver answers the n-th request (0-based): an HTTP status, optionally after a delay. */
export type Responder = (n: number, d: ReceivedDelivery) => number | { status: number; delayMs?: number };

/**
 * A local webhook endpoint that keeps the exact bytes it received, for tests, the demo and the benchmark.
 * Listens on 127.0.0.1 on a random port.
 */
export class WebhookReceiver {
  readonly deliveries: ReceivedDelivery[] = [];
  private waiters: { n: number; resolve: () => void }[] = [];

  private constructor(private readonly server: Server, readonly url: string, public respond: Responder) {}

  static async start(respond: Responder = () => 200, path = '/webhooks'): Promise<WebhookReceiver> {
    const app = express();
    let self: WebhookReceiver | undefined;
    app.post(path, express.raw({ type: () => true, limit: '10mb' }), (req, res) => {
      const d: ReceivedDelivery = { headers: req.headers, raw: Buffer.isBuffer(req.body) ? req.body : Buffer.alloc(0), receivedAt: Date.now() };
      const n = self!.deliveries.length;
      self!.deliveries.push(d);
      self!.notify();
      const r = self!.respond(n, d);
      const { status, delayMs = 0 } = typeof r === 'number' ? { status: r } : r;
      const answer = () => {
        if (status >= 300 && status < 400) res.redirect(status, '/elsewhere');
        else res.status(status).end();
      };
      if (delayMs > 0) setTimeout(answer, delayMs);
      else answer();
    });
    const server = await new Promise<Server>((resolve) => {
      const s = app.listen(0, '127.0.0.1', () => resolve(s));
    });
    const { port } = server.address() as AddressInfo;
    self = new WebhookReceiver(server, `http://127.0.0.1:${port}${path}`, respond);
    return self;
  }

  /** Resolves once at least n deliveries have arrived; rejects after timeoutMs. */
  waitFor(n: number, timeoutMs = 5000): Promise<void> {
    if (this.deliveries.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`only ${this.deliveries.length} of ${n} deliveries after ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ n, resolve: () => { clearTimeout(t); resolve(); } });
    });
  }

  json(i: number): unknown {
    return JSON.parse(this.deliveries[i]!.raw.toString('utf8'));
  }

  byTopic(topic: string): ReceivedDelivery[] {
    return this.deliveries.filter((d) => d.headers['x-shopify-topic'] === topic);
  }

  async close(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private notify(): void {
    const ready = this.waiters.filter((w) => this.deliveries.length >= w.n);
    this.waiters = this.waiters.filter((w) => this.deliveries.length < w.n);
    for (const w of ready) w.resolve();
  }
}
