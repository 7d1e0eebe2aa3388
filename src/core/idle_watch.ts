/** One watched stream. */
interface Watched {
  last: number;
  limit: number;
  onIdle: () => void;
}

/**
 * Detects streams that went silent, with one shared interval instead of a timer per chunk:
 * touching a stream is a field write, so the hot path pays nothing for the idle timeout.
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

  /** Starts watching; returns `touch` (call on every chunk) and `stop`. */
  watch(limit: number, onIdle: () => void): { touch: () => void; stop: () => void } {
    const entry: Watched = { last: this.#now(), limit, onIdle };
    this.#entries.add(entry);
    if (this.#interval === undefined) {
      const interval = setInterval(() => this.#sweep(), this.#tickMs);
      Deno.unrefTimer(interval);
      this.#interval = interval;
    }
    return {
      touch: () => {
        entry.last = this.#now();
      },
      stop: () => this.#remove(entry),
    };
  }

  /** Number of streams being watched. */
  get size(): number {
    return this.#entries.size;
  }

  #sweep(): void {
    const now = this.#now();
    for (const entry of this.#entries) {
      if (now - entry.last >= entry.limit) {
        this.#remove(entry);
        entry.onIdle();
      }
    }
  }

  #remove(entry: Watched): void {
    this.#entries.delete(entry);
    if (this.#entries.size === 0 && this.#interval !== undefined) {
      clearInterval(this.#interval);
      this.#interval = undefined;
    }
  }
}
