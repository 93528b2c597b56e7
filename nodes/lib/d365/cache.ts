import { LRUCache } from 'lru-cache';

export interface CacheOptions {
  /** How long an answer (found or not found) is trusted, in milliseconds; 0 turns caching off
   * (concurrent requests for one key still share a fetch). */
  ttlMs: number;
  /** Most entries kept; the least recently used go first. */
  max: number;
}

export interface CacheCounters {
  /** Keys answered from the cache (or by joining a request already in flight for the same key). */
  hits: number;
  /** Keys that had to be fetched. */
  misses: number;
}

/**
 * A bounded, time-limited cache of lookup answers keyed by string. Negative answers are cached too
 * (as the caller's "nothing found" value), so an unknown SKU does not cost a call per order.
 * Concurrent requests for the same key share one fetch instead of each asking Dynamics 365.
 */
export class LookupCache<V extends object> {
  private readonly lru?: LRUCache<string, V>;
  private readonly pending = new Map<string, Promise<V>>();
  readonly counters: CacheCounters = { hits: 0, misses: 0 };

  constructor(opts: CacheOptions) {
    // lru-cache reads ttl 0 as "never expires", so "off" means no LRU at all.
    if (opts.ttlMs > 0) this.lru = new LRUCache<string, V>({ max: opts.max, ttl: opts.ttlMs });
  }

  get size(): number {
    return this.lru?.size ?? 0;
  }

  set(key: string, value: V): void {
    this.lru?.set(key, value);
  }

  delete(key: string): void {
    this.lru?.delete(key);
  }

  /** Whether answers are kept at all (a TTL of 0 turns caching off). */
  get enabled(): boolean {
    return this.lru !== undefined;
  }

  /** One key's cached answer (counted as a hit), or undefined when it is not cached: peekMany for one key, without its Map. */
  peek(key: string): V | undefined {
    const hit = this.lru?.get(key);
    if (hit !== undefined) this.counters.hits++;
    return hit;
  }

  /**
   * Every key's cached answer, or undefined (counting nothing) when any key is not cached: the
   * synchronous fast path of a warm cache, without getMany's promises.
   */
  peekMany(keys: readonly string[]): Map<string, V> | undefined {
    if (!this.lru) return undefined;
    const out = new Map<string, V>();
    for (const key of keys) {
      const hit = this.lru.get(key);
      if (hit === undefined) return undefined;
      out.set(key, hit);
    }
    this.counters.hits += out.size;
    return out;
  }

  /**
   * Answers every key: cached ones directly, in-flight ones by waiting, and all remaining ones with a
   * single call of `fetch(missing)`. A key absent from fetch's result is cached as `notFound`.
   * If fetch fails nothing is cached and the error propagates.
   */
  async getMany(keys: Iterable<string>, fetch: (missing: string[]) => Promise<Map<string, V>>, notFound: V): Promise<Map<string, V>> {
    const out = new Map<string, V>();
    const waits: Promise<void>[] = [];
    const missing: string[] = [];
    for (const key of new Set(keys)) {
      const hit = this.lru?.get(key);
      if (hit !== undefined) {
        this.counters.hits++;
        out.set(key, hit);
        continue;
      }
      const inflight = this.pending.get(key);
      if (inflight) {
        this.counters.hits++;
        waits.push(inflight.then((v) => { out.set(key, v); }));
        continue;
      }
      this.counters.misses++;
      missing.push(key);
    }
    if (missing.length) {
      const batch = fetch(missing);
      for (const key of missing) {
        const p = batch.then((found) => {
          const v = found.get(key) ?? notFound;
          this.lru?.set(key, v);
          return v;
        });
        this.pending.set(key, p);
        // Clean up whichever way it ends; the rejection itself is observed through `waits` below.
        const clear = () => { if (this.pending.get(key) === p) this.pending.delete(key); };
        p.then(clear, clear);
        waits.push(p.then((v) => { out.set(key, v); }));
      }
    }
    await Promise.all(waits);
    return out;
  }
}
