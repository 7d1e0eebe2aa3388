import { LinkedList, ListNode } from "./linked_list.ts";

/** One watched deadline. */
export class Watched extends ListNode {
  constructor(
    /** When the entry was last touched (the watch's clock). */
    public last: number,
    /** Milliseconds without a touch before `onIdle` runs. */
    readonly limit: number,
    readonly onIdle: () => void,
  ) {
    super();
  }
}

/**
 * Fires callbacks for entries not touched within their limit, with one shared interval instead
 * of a timer per request or per chunk: arming, touching and disarming are a few field writes. A
 * deadline fires up to one tick late; the tick is a fraction of the limits.
 *
 * The interval starts with the first entry and stops at the first tick that finds no entries,
 * not as soon as the last one goes: one request at a time would otherwise start and stop a timer
 * for each request, which costs far more than the request's other bookkeeping.
 */
export class IdleWatch {
  // A list, not a Set: entries come and go with every request (see LinkedList).
  readonly #entries = new LinkedList<Watched>();
  readonly #tickMs: number;
  readonly #now: () => number;
  #interval: ReturnType<typeof setInterval> | undefined;

  constructor(tickMs: number, now: () => number = Date.now) {
    this.#tickMs = tickMs;
    this.#now = now;
  }

  /** Starts watching: `onIdle` runs once if `touch` is not called for `limit` ms. */
  add(limit: number, onIdle: () => void): Watched {
    const entry = new Watched(this.#now(), limit, onIdle);
    this.#entries.push(entry);
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

  /** Stops watching an entry. Safe to call twice. */
  remove(entry: Watched): void {
    this.#entries.remove(entry);
  }

  /** Stops the interval now; entries still watched fire no more unless another is added. */
  close(): void {
    if (this.#interval === undefined) return;
    clearInterval(this.#interval);
    this.#interval = undefined;
  }

  /** Whether the interval is running (it outlives the last entry by up to one tick). */
  get running(): boolean {
    return this.#interval !== undefined;
  }

  /** Number of entries being watched. */
  get size(): number {
    return this.#entries.size;
  }

  #sweep(): void {
    if (this.#entries.size === 0) return this.close();
    const now = this.#now();
    let due: Watched[] | undefined;
    this.#entries.forEach((entry) => {
      if (now - entry.last >= entry.limit) (due ??= []).push(entry);
    });
    if (due === undefined) return;
    // Callbacks may remove other entries (and add new ones): an entry an earlier callback
    // removed does not fire.
    for (const entry of due) {
      if (this.#entries.remove(entry)) entry.onIdle();
    }
  }
}
