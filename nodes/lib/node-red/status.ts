import type { Node } from 'node-red';

/**
 * Counts what a node did and shows it as its status: green while everything passes, yellow when
 * something was flagged/held, red after an unexpected failure (cleared by the next success).
 * Text stays short (<= ~20 chars per Node-RED's guidance) and never carries message content.
 */
export class StatusCounter {
  private counts = new Map<string, number>();
  private failing?: string;

  constructor(private readonly node: Node, private readonly order: readonly string[], private readonly warnKeys: readonly string[] = []) {
    this.show();
  }

  add(key: string, n = 1): void {
    this.counts.set(key, (this.counts.get(key) ?? 0) + n);
    this.failing = undefined;
    this.show();
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
    this.node.status({ fill: 'blue', shape: 'ring', text });
  }

  show(): void {
    if (this.failing) {
      this.node.status({ fill: 'red', shape: 'ring', text: this.failing });
      return;
    }
    const parts = this.order.filter((k) => this.get(k) > 0).map((k) => `${this.get(k)} ${k}`);
    if (!parts.length) {
      this.node.status({ fill: 'grey', shape: 'ring', text: 'ready' });
      return;
    }
    const warn = this.warnKeys.some((k) => this.get(k) > 0);
    this.node.status({ fill: warn ? 'yellow' : 'green', shape: 'dot', text: parts.join(' · ') });
  }
}
