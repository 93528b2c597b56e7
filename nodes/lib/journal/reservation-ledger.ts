/**
 * Units held per item + location, in memory: open reservations, and handed-over ones with the time of
 * the hand-over (a stock figure read before it does not include the order as D365 demand yet, so for
 * that figure they still count). The journal's rows stay the truth: SqliteJournal builds this from
 * them and rebuilds it whenever another connection has written or one of its own writes failed, so
 * "how much do other orders hold?" (asked per line by the inventory gate) is a map lookup, not SQL.
 */
export class ReservationLedger {
  private readonly open = new Map<string, number>();
  private readonly handed = new Map<string, HandedSeries>();

  /** Adds (or, negative, removes) open units. */
  addOpen(item: string, location: string, quantity: number): void {
    const k = placeKey(item, location);
    const left = (this.open.get(k) ?? 0) + quantity;
    // Nothing left (within the float dust of adding and taking away REAL quantities): no entry kept.
    if (Math.abs(left) < 1e-9) this.open.delete(k);
    else this.open.set(k, left);
  }

  /** Adds (or, negative, removes) units handed over at `at`. */
  addHanded(item: string, location: string, at: number, quantity: number): void {
    const k = placeKey(item, location);
    let series = this.handed.get(k);
    if (!series) this.handed.set(k, (series = new HandedSeries()));
    series.add(at, quantity);
  }

  /** Adds (or, negative, removes) a reservation row's units: open while `handedAt` is null, else handed over then. */
  addRow(item: string, location: string, handedAt: number | null, quantity: number): void {
    if (handedAt === null) this.addOpen(item, location, quantity);
    else this.addHanded(item, location, handedAt, quantity);
  }

  /** Units a stock figure read at `readAt` does not include: the open ones and those handed over after it. */
  held(item: string, location: string, readAt: number): number {
    const k = placeKey(item, location);
    return (this.open.get(k) ?? 0) + (this.handed.get(k)?.after(readAt) ?? 0);
  }

  /** Forgets hand-overs before `before` (the journal deletes their rows at the same time). */
  dropHandedBefore(before: number): void {
    for (const [k, series] of this.handed) {
      series.dropBefore(before);
      if (series.empty) this.handed.delete(k);
    }
  }
}

/** One key per item + D365 location (NUL cannot occur in either). */
export const placeKey = (item: string, location: string): string => `${item}\u0000${location}`;

/**
 * Hand-overs of one item + location as quantities per time, in time order (appends are the usual case),
 * with running sums: "handed over after t" is a binary search and a subtraction, however many
 * hand-overs a busy item has had within the keep time.
 */
class HandedSeries {
  private at: number[] = [];
  private q: number[] = [];
  /** cum[i]: base + q[0] + … + q[i]. */
  private cum: number[] = [];
  /** What the entries dropped so far summed to (cum keeps counting from it, so a sweep rewrites nothing). */
  private base = 0;

  get empty(): boolean {
    return this.at.length === 0;
  }

  add(at: number, quantity: number): void {
    const i = this.indexFrom(at, true);
    if (this.at[i] === at) this.q[i]! += quantity;
    else if (i === this.at.length) {
      this.at.push(at);
      this.q.push(quantity);
      this.cum.push(this.sumTo(i) + quantity);
      return;
    } else {
      this.at.splice(i, 0, at);
      this.q.splice(i, 0, quantity);
      this.cum.splice(i, 0, 0);
    }
    // An earlier time (a rebuild, a clock set back): the running sums from it on change.
    for (let j = i; j < this.cum.length; j++) this.cum[j] = this.sumTo(j) + this.q[j]!;
  }

  /** Sum of the quantities handed over after `t`. */
  after(t: number): number {
    const n = this.cum.length;
    return n === 0 ? 0 : this.cum[n - 1]! - this.sumTo(this.indexFrom(t, false));
  }

  dropBefore(t: number): void {
    const i = this.indexFrom(t, true);
    if (i === 0) return;
    this.base = this.cum[i - 1]!;
    this.at = this.at.slice(i);
    this.q = this.q.slice(i);
    this.cum = this.cum.slice(i);
  }

  /** The running sum before entry i. */
  private sumTo(i: number): number {
    return i === 0 ? this.base : this.cum[i - 1]!;
  }

  /** Index of the first entry at `t` or later (`orAt`), or later than `t`: a binary search. */
  private indexFrom(t: number, orAt: boolean): number {
    const before = (x: number) => (orAt ? x < t : x <= t);
    let lo = 0;
    let hi = this.at.length;
    // Appends and reads of recent figures look at the end: check it before searching.
    if (hi === 0 || before(this.at[hi - 1]!)) return hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (before(this.at[mid]!)) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
