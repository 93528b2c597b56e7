import type { Node, NodeStatus } from 'node-red';

/** How often the check nodes show count-only changes: node.status() is not free (editor comms, Status nodes). */
export const STATUS_INTERVAL_MS = 250;

/**
 * Counts what a node did and shows it as its status: green while everything passes, yellow when
 * something was flagged/held, red after an unexpected failure (cleared by the next success).
 * Text stays short (<= ~20 chars per Node-RED's guidance) and never carries message content.
 *
 * With an interval (the check nodes use STATUS_INTERVAL_MS), a change of colour (ready → passing,
 * passing → flagged, a failure, its recovery) is shown at once and changes of the counts alone at
 * most once per interval, the last one always: a node passing thousands of messages a second would
 * otherwise spend much of its time on status. Without one (the default), every change is shown.
 */
export class StatusCounter {
  private counts = new Map<string, number>();
  private failing?: string;
  private shown?: NodeStatus;
  private shownAt = -Infinity;
  private timer?: NodeJS.Timeout;

  constructor(private readonly node: Node, private readonly order: readonly string[], private readonly warnKeys: readonly string[] = [],
    private readonly intervalMs = 0) {
    if (intervalMs > 0) node.on('close', () => this.cancel());
    this.show();
  }

  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
    const recovered = this.failing !== undefined;
    this.failing = undefined;
    if (recovered || this.fill() !== this.shown?.fill || Date.now() - this.shownAt >= this.intervalMs) this.show();
    else this.timer ??= setTimeout(() => this.show(), this.intervalMs - (Date.now() - this.shownAt)).unref();
  }

  get(key: string): number {
    return this.counts.get(key) ?? 0;
  }

  /** Shows a failure (short, secret-free text) until the next success. */
  fail(text: string): void {
    this.failing = text.length > 40 ? `${text.slice(0, 39)}…` : text;
    this.show();
  }

  /** A transient activity line, e.g. "polling…" (blue). */
  busy(text: string): void {
    this.put({ fill: 'blue', shape: 'ring', text });
  }

  /** Shows the current state now (and drops a pending deferred update). */
  show(): void {
    if (this.failing) {
      this.put({ fill: 'red', shape: 'ring', text: this.failing });
      return;
    }
    const parts = this.order.filter((k) => this.get(k) > 0).map((k) => `${this.get(k)} ${k}`);
    if (!parts.length) {
      this.put({ fill: 'grey', shape: 'ring', text: 'ready' });
      return;
    }
    this.put({ fill: this.fill(), shape: 'dot', text: parts.join(' · ') });
  }

  /** The colour the counts call for (red is the failing state, not a count). */
  private fill(): NodeStatus['fill'] {
    if (this.failing) return 'red';
    if (!this.order.some((k) => this.get(k) > 0)) return 'grey';
    return this.warnKeys.some((k) => this.get(k) > 0) ? 'yellow' : 'green';
  }

  private put(st: NodeStatus): void {
    this.cancel();
    this.shown = st;
    this.shownAt = Date.now();
    this.node.status(st);
  }

  private cancel(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
