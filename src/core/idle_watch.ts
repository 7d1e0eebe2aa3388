/** One watched deadline. */
export interface Watched {
  last: number;
  limit: number;
  onIdle: () => void;
}

/**
 * Fires callbacks for entries not touched within their limit, with one shared interval instead
 * of a timer per request or per chunk: arming, touching and disarming are a Set operation and a
 * field write. A deadline fires up to one tick late; the tick is a fraction of the limits.
 */
export class IdleWatch {
  readonly #entries = new Set<Watched>();
  readonly #tickMs: number;
  readonly #now: () => number;
  #interval: ReturnType<typeof setInterval> | undefined;

  constructor(tickMs: number, now: () => number = Date.now) {
    this.#tickMs = tickMs;
    this.#now = now;
  }

  /** Starts watching: `onIdle` runs once if `touch` is not called for `limit` ms. */
  add(limit: number, onIdle: () => void): Watched {
    const entry: Watched = { last: this.#now(), limit, onIdle };
    this.#entries.add(entry);
    if (this.#interval === undefined) {
      const interval = setInterval(() => this.#sweep(), this.#tickMs);
      Deno.unrefTimer(interval);
      this.#interval = interval;
    }
    return entry;
  }

  /** Restarts an entry's clock (a chunk arrived). */
  touch(entry: Watched): void {
    entry.last = this.#now();
  }

  /** Stops watching an entry. */
  remove(entry: Watched): void {
    this.#entries.delete(entry);
    if (this.#entries.size === 0 && this.#interval !== undefined) {
      clearInterval(this.#interval);
      this.#interval = undefined;
    }
  }

  /** Number of entries being watched. */
  get size(): number {
    return this.#entries.size;
  }

  #sweep(): void {
    const now = this.#now();
    for (const entry of this.#entries) {
      if (now - entry.last >= entry.limit) {
        this.remove(entry);
        entry.onIdle();
      }
    }
  }
}
