import { createHmac } from 'crypto';
import http from 'http';
import https from 'https';
import type { ChaosOptions } from './options';
import { uuid, type Rng } from './rng';
import { isSimTopic } from './topics';

export interface Subscription {
  id: number;
  topic: string;
  callbackUrl: string;
  name?: string;
  /** App-config (toml) subscriptions are managed by Shopify and never auto-deleted; API ones are. */
  managed: boolean;
  consecutiveFailures: number;
  createdAt: string;
}

export interface DeliveryRecord {
  webhookId: string;
  eventId: string;
  topic: string;
  subscriptionId: number;
  url: string;
  triggeredAt: string;
  attempts: number;
  status: 'scheduled' | 'in_flight' | 'retrying' | 'delivered' | 'dropped' | 'abandoned';
  /** HTTP status of the last attempt, or the network error. */
  last?: number | string;
}

export interface WebhookCounters {
  emitted: number;
  attempted: number;
  succeeded: number;
  failed: number;
  dropped: number;
  duplicated: number;
  delayed: number;
  abandoned: number;
  subscriptionsDeleted: number;
}

export interface WebhookEngineOptions {
  shop: string;
  secret: string;
  apiVersion: string;
  timeScale: number;
  deliveryTimeoutMs: number;
  connectTimeoutMs: number;
  retryScheduleMinutes: number[];
  chaos: ChaosOptions;
  rand: Rng;
}

interface Delivery { record: DeliveryRecord; sub: Subscription; body: Buffer; hmac: string }

const LOG_LIMIT = 2000;

/**
 * Delivers webhooks the way Shopify does: signed REST JSON, one webhook id per delivery reused by its
 * retries, retries on an exponential schedule, subscription deleted after the last retry fails.
 */
export class WebhookEngine {
  readonly counters: WebhookCounters = { emitted: 0, attempted: 0, succeeded: 0, failed: 0, dropped: 0, duplicated: 0, delayed: 0, abandoned: 0, subscriptionsDeleted: 0 };
  readonly log: DeliveryRecord[] = [];
  private readonly subs = new Map<number, Subscription>();
  private nextSubId = 1_000_000;
  private readonly timers = new Set<NodeJS.Timeout>();
  private readonly inFlight = new Set<http.ClientRequest>();
  private readonly agents = { http: new http.Agent({ keepAlive: true }), https: new https.Agent({ keepAlive: true }) };
  private pending = 0;
  private waiters: (() => void)[] = [];
  private closed = false;

  constructor(private readonly o: WebhookEngineOptions) {}

  setChaos(chaos: ChaosOptions): void {
    this.o.chaos = chaos;
  }

  get chaos(): ChaosOptions {
    return this.o.chaos;
  }

  subscribe(topic: string, callbackUrl: string, opts: { name?: string; managed?: boolean } = {}): Subscription {
    if (!isSimTopic(topic)) throw new RangeError(`unsupported webhook topic ${topic}`);
    const url = new URL(callbackUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new RangeError('callbackUrl must be http(s)');
    const sub: Subscription = { id: ++this.nextSubId, topic, callbackUrl: url.toString(), name: opts.name, managed: opts.managed ?? false, consecutiveFailures: 0, createdAt: new Date().toISOString() };
    this.subs.set(sub.id, sub);
    return sub;
  }

  unsubscribe(id: number): boolean {
    return this.subs.delete(id);
  }

  subscriptions(): Subscription[] {
    return [...this.subs.values()];
  }

  subscription(id: number): Subscription | undefined {
    return this.subs.get(id);
  }

  /** One merchant action's event on one topic: every subscription gets its own delivery (own webhook id, shared event id). */
  emit(topic: string, payload: object): void {
    if (this.closed) return;
    this.counters.emitted++;
    const eventId = uuid(this.o.rand);
    const triggeredAt = new Date().toISOString();
    // Serialise once: every attempt and retry sends these exact bytes.
    const body = Buffer.from(JSON.stringify(payload), 'utf8');
    const hmac = createHmac('sha256', this.o.secret).update(body).digest('base64');
    for (const sub of this.subs.values()) {
      if (sub.topic !== topic) continue;
      const record: DeliveryRecord = { webhookId: uuid(this.o.rand), eventId, topic, subscriptionId: sub.id, url: sub.callbackUrl, triggeredAt, attempts: 0, status: 'scheduled' };
      this.remember(record);
      const d: Delivery = { record, sub, body, hmac };
      // Draw every chaos number for every delivery so one switch does not reshuffle the others.
      const c = this.o.chaos;
      const [rDrop, rLate, rOoo, rOooDelay, rDup] = [this.o.rand(), this.o.rand(), this.o.rand(), this.o.rand(), this.o.rand()];
      if (rDrop < c.dropProbability) {
        record.status = 'dropped';
        this.counters.dropped++;
        continue;
      }
      let delay = 0;
      if (rLate < c.lateProbability) delay += c.lateDelayMs * this.o.timeScale;
      if (rOoo < c.outOfOrderProbability) delay += Math.round(rOooDelay * c.outOfOrderMaxDelayMs);
      if (delay > 0) this.counters.delayed++;
      this.later(delay, () => this.attempt(d));
      if (rDup < c.duplicateProbability) {
        this.counters.duplicated++;
        this.later(delay + 5, () => this.send(d).then(() => undefined));
      }
    }
  }

  /** Resolves when nothing is scheduled or in flight (retries included). */
  settled(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  close(): void {
    this.closed = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const r of this.inFlight) r.destroy();
    this.agents.http.destroy();
    this.agents.https.destroy();
    this.pending = 0;
    this.flushWaiters();
  }

  private remember(r: DeliveryRecord): void {
    this.log.push(r);
    if (this.log.length > LOG_LIMIT) this.log.splice(0, this.log.length - LOG_LIMIT);
  }

  private later(ms: number, fn: () => Promise<void> | void): void {
    this.pending++;
    const t = setTimeout(() => {
      this.timers.delete(t);
      Promise.resolve()
        .then(fn)
        .catch(() => undefined)
        .finally(() => this.done());
    }, ms);
    this.timers.add(t);
  }

  private done(): void {
    this.pending = Math.max(0, this.pending - 1);
    if (this.pending === 0) this.flushWaiters();
  }

  private flushWaiters(): void {
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
  }

  private async attempt(d: Delivery): Promise<void> {
    if (this.closed) return;
    const { record, sub } = d;
    if (!this.subs.has(sub.id)) {
      record.status = 'abandoned';
      this.counters.abandoned++;
      return;
    }
    record.status = 'in_flight';
    const ok = await this.send(d);
    if (this.closed) return;
    if (ok) {
      record.status = 'delivered';
      sub.consecutiveFailures = 0;
      return;
    }
    sub.consecutiveFailures++;
    const retryIndex = record.attempts - 1;
    const wait = this.o.retryScheduleMinutes[retryIndex];
    if (wait !== undefined) {
      record.status = 'retrying';
      this.later(wait * 60_000 * this.o.timeScale, () => this.attempt(d));
      return;
    }
    record.status = 'abandoned';
    this.counters.abandoned++;
    if (!sub.managed && this.subs.delete(sub.id)) this.counters.subscriptionsDeleted++;
  }

  /** One HTTP POST; true only for a 2xx answered within the timeouts (3xx counts as failure, as at Shopify). */
  private send(d: Delivery): Promise<boolean> {
    const { record, sub, body, hmac } = d;
    record.attempts++;
    this.counters.attempted++;
    const url = new URL(record.url);
    const secure = url.protocol === 'https:';
    const headers: Record<string, string> = {
      'Content-Type': 'application/json',
      'Content-Length': String(body.length),
      'User-Agent': 'Shopify-Captain-Hook',
      'X-Shopify-Topic': record.topic,
      'X-Shopify-Hmac-Sha256': hmac,
      'X-Shopify-Shop-Domain': this.o.shop,
      'X-Shopify-API-Version': this.o.apiVersion,
      'X-Shopify-Webhook-Id': record.webhookId,
      'X-Shopify-Triggered-At': record.triggeredAt,
      'X-Shopify-Event-Id': record.eventId,
    };
    if (sub.name) headers['X-Shopify-Name'] = sub.name;
    return new Promise((resolve) => {
      let settled = false;
      const finish = (ok: boolean, last: number | string) => {
        if (settled) return;
        settled = true;
        clearTimeout(total);
        this.inFlight.delete(req);
        record.last = last;
        if (ok) this.counters.succeeded++;
        else this.counters.failed++;
        resolve(ok);
      };
      const req = (secure ? https : http).request(url, { method: 'POST', headers, agent: secure ? this.agents.https : this.agents.http }, (res) => {
        res.resume();
        const status = res.statusCode ?? 0;
        res.on('end', () => finish(status >= 200 && status < 300, status));
        res.on('error', () => finish(false, 'response error'));
      });
      this.inFlight.add(req);
      const total = setTimeout(() => req.destroy(new Error('timeout')), this.o.deliveryTimeoutMs);
      req.on('socket', (s) => {
        if (!s.connecting) return;
        const c = setTimeout(() => req.destroy(new Error('connect timeout')), this.o.connectTimeoutMs);
        s.once('connect', () => clearTimeout(c));
        s.once('close', () => clearTimeout(c));
      });
      req.on('error', (e: NodeJS.ErrnoException) => finish(false, e.code ?? e.message));
      req.end(body);
    });
  }
}
