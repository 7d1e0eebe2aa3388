import type { RequestObserver } from "./entry.ts";

/** How often an idle check runs while there has been traffic since the last collection. */
export const IDLE_CHECK_MS = 5_000;
/** Old-generation growth since the last collection that makes a quiet gateway collect. */
export const IDLE_GC_GROWTH_BYTES = 16 * 1024 * 1024;

/** V8's `gc()` as `--v8-flags=--expose-gc` installs it (its options are V8's). */
export type GcFunction = (options?: { type?: "major" | "minor"; flavor?: "last-resort" }) => void;

/** Options for `IdleCollector`; the defaults are the runtime's. */
export interface IdleCollectorOptions {
  /** V8's `gc` (see `exposedGc`). */
  gc: GcFunction;
  /**
   * Heap bytes in use, read right after a young-generation collection, when they are the old
   * generation's (default: `Deno.memoryUsage().heapUsed`).
   */
  heapBytes?: () => number;
  checkMs?: number;
  growthBytes?: number;
  /** Told about each collection (for a debug log line). */
  onCollect?: (report: { beforeBytes: number; afterBytes: number; ms: number }) => void;
}

/**
 * Gives memory back after a spike: thousands of streams held open, large bodies. Once nothing has
 * been in flight and no request has arrived for a whole check (5-10 s), and V8's old generation has
 * grown by 16 MB since the last collection, this runs V8's last-resort collection: a pause of a few
 * tens of ms, taken only when no request waits.
 *
 * It measures the old generation only: each quiet check first runs a young-generation collection
 * (about a millisecond, and it keeps the optimised code), then reads the heap in use. The young
 * generation is where a load's short-lived objects go, and the tasks pin its size
 * (`--min-semi-space-size` = `--max-semi-space-size` = 16 MB, with V8's memory reducer off): it
 * takes its full size under the first load and keeps it, so a load adds nothing there to give back,
 * and memory after a load stays where it was before it.
 *
 * Giving the young generation back after each load would cost more than the memory is worth: any
 * full collection made while the gateway is quiet throws away V8's optimised code for the request
 * path. With no request in flight, the hidden classes of per-request objects die in the collection,
 * and V8 deoptimises the code that refers to them ("embedded weak objects cleared" under
 * `--trace-deopt`). Measured after 12 s of quiet: 100-200 functions recompiled and 3,500-4,900
 * requests/s in the first second, against 9-23 recompiled and 5,000-9,100 requests/s with no full
 * collection. A steady load's old generation grows by a few MB; held streams grow it by hundreds.
 *
 * Per request it costs two counter updates; its interval runs only between a request and the
 * next quiet check.
 */
export class IdleCollector implements RequestObserver {
  readonly #gc: GcFunction;
  readonly #heapBytes: () => number;
  readonly #checkMs: number;
  readonly #growthBytes: number;
  readonly #onCollect: IdleCollectorOptions["onCollect"];
  #inflight = 0;
  #arrived = 0;
  #arrivedAtLastCheck = 0;
  #base: number;
  #interval: ReturnType<typeof setInterval> | undefined;

  constructor(options: IdleCollectorOptions) {
    this.#gc = options.gc;
    this.#heapBytes = options.heapBytes ?? (() => Deno.memoryUsage().heapUsed);
    this.#checkMs = options.checkMs ?? IDLE_CHECK_MS;
    this.#growthBytes = options.growthBytes ?? IDLE_GC_GROWTH_BYTES;
    this.#onCollect = options.onCollect;
    this.#base = this.#heapBytes();
  }

  /** Whether an idle check is scheduled. */
  get watching(): boolean {
    return this.#interval !== undefined;
  }

  start(): void {
    this.#inflight++;
    this.#arrived++;
    if (this.#interval === undefined) {
      const interval = setInterval(() => this.#check(), this.#checkMs);
      Deno.unrefTimer(interval);
      this.#interval = interval;
    }
  }

  end(): void {
    this.#inflight--;
  }

  /** Stops the idle checks (the server stopped). */
  close(): void {
    if (this.#interval === undefined) return;
    clearInterval(this.#interval);
    this.#interval = undefined;
  }

  #check(): void {
    const quiet = this.#inflight === 0 && this.#arrived === this.#arrivedAtLastCheck;
    this.#arrivedAtLastCheck = this.#arrived;
    if (!quiet) return;
    this.close();
    this.#gc({ type: "minor" });
    const before = this.#heapBytes();
    if (before - this.#base >= this.#growthBytes) {
      const started = performance.now();
      this.#gc({ type: "major", flavor: "last-resort" });
      const ms = performance.now() - started;
      this.#base = this.#heapBytes();
      this.#onCollect?.({ beforeBytes: before, afterBytes: this.#base, ms });
    } else if (before < this.#base) {
      this.#base = before;
    }
  }
}

/** V8's `gc` when the process was started with `--v8-flags=--expose-gc`, else undefined. */
export function exposedGc(): GcFunction | undefined {
  const gc = (globalThis as { gc?: unknown }).gc;
  return typeof gc === "function" ? gc as GcFunction : undefined;
}
