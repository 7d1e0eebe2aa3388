import type { RequestObserver } from "./entry.ts";

/** How often an idle check runs while there has been traffic since the last collection. */
export const IDLE_CHECK_MS = 5_000;
/** Heap growth since the last collection that makes a quiet gateway collect. */
export const IDLE_GC_GROWTH_BYTES = 16 * 1024 * 1024;

/** V8's `gc()` as `--v8-flags=--expose-gc` installs it (its options are V8's). */
export type GcFunction = (options?: { type?: "major"; flavor?: "last-resort" }) => void;

/** Options for `IdleCollector`; the defaults are the runtime's. */
export interface IdleCollectorOptions {
  /** V8's `gc` (see `exposedGc`). */
  gc: GcFunction;
  /** V8 heap size now, bytes. */
  heapBytes?: () => number;
  checkMs?: number;
  growthBytes?: number;
  /** Told about each collection (for a debug log line). */
  onCollect?: (report: { beforeBytes: number; afterBytes: number; ms: number }) => void;
}

/**
 * Gives memory back after a busy period. V8 grows its young generation under load and shrinks it
 * only in a collection made to reduce memory, which its memory reducer starts after old-generation
 * collections. A gateway that promotes almost nothing under load has few of those, so after a
 * load its resident memory could stay at the loaded size indefinitely (measured: 98 MB before a
 * 60 s load, 143 MB 30 s after it). Once nothing has been in flight and no request has arrived for
 * a whole check (5-10 s), and the heap has grown by 16 MB since the last collection, this runs
 * V8's last-resort collection: a pause of a few tens of ms, taken only when no request waits.
 *
 * It has a second cost: any full collection made while the gateway is quiet throws away V8's
 * optimised code for the request path (V8's own memory reducer does too), and the next burst runs
 * slower until it is compiled again. With no request in flight, the hidden classes of per-request
 * objects die in the collection, and V8 deoptimises the code that refers to them ("embedded weak
 * objects cleared" under `--trace-deopt`). Measured after 12 s of quiet: 100-170 functions recompiled,
 * and 3,500-4,800 requests/s in the first second against 5,000-9,100 with no collection. Keeping
 * a load's working set instead (no collection under 128 MB of growth, `--no-memory-reducer`) was
 * tried at 0b295be: faster after every lull, but memory no longer came back after a load (soak
 * 1 of its bench run: 98 -> 146 MB), so it was reverted.
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
    this.#heapBytes = options.heapBytes ?? (() => Deno.memoryUsage().heapTotal);
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
