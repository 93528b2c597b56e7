/** Shopify's leaky bucket for GraphQL cost points: fills at restoreRate per second up to maximumAvailable. */
export class LeakyBucket {
  private available: number;
  private stamp: number;

  constructor(public maximumAvailable: number, public restoreRate: number, private readonly now: () => number = Date.now) {
    this.available = maximumAvailable;
    this.stamp = now();
  }

  currentlyAvailable(): number {
    const t = this.now();
    this.available = Math.min(this.maximumAvailable, this.available + ((t - this.stamp) / 1000) * this.restoreRate);
    this.stamp = t;
    return this.available;
  }

  /** Takes `cost` points if available; false means the request is throttled. */
  take(cost: number): boolean {
    if (this.currentlyAvailable() < cost) return false;
    this.available -= cost;
    return true;
  }

  /** Gives back the difference between the requested and the actual cost. */
  refund(points: number): void {
    this.currentlyAvailable();
    this.available = Math.min(this.maximumAvailable, this.available + Math.max(0, points));
  }

  /** Seconds until `cost` points are available. */
  secondsUntil(cost: number): number {
    return Math.max(0, (cost - this.currentlyAvailable()) / this.restoreRate);
  }

  status() {
    return { maximumAvailable: this.maximumAvailable, currentlyAvailable: Math.floor(this.currentlyAvailable()), restoreRate: this.restoreRate };
  }
}
