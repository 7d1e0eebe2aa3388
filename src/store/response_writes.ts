/**
 * The writes of stored responses (`ResponseState`, responses.ts), off the request path: each
 * waits in memory, where reads find it, until it lands in the store. A failed write is retried a
 * few times, then given up: logged once per run of failures, and counted.
 */

import { LinkedList, ListNode } from "../core/linked_list.ts";
import type { Store, StoredResponse } from "./store.ts";
import { beforeDeadline, type WriterLog } from "./writer.ts";

/** Options for `ResponseWrites`. */
export interface ResponseWritesOptions {
  /** Writes held in memory at most (default 1,000); beyond it a save is dropped. */
  maxPending?: number;
  /** Bytes (`size`) held in memory at most (default 64 MiB); beyond it a save is dropped. */
  maxPendingSize?: number;
  /** The waits before each retry of a failed write (default 100 ms, 1 s, 5 s: three retries). */
  retryDelaysMs?: readonly number[];
  /** A write that has not settled by then counts as failed (default 30 s). */
  writeTimeoutMs?: number;
  /** Where lost writes, failing purges and their recovery are reported. */
  log?: WriterLog;
}

const DEFAULTS = {
  maxPending: 1_000,
  maxPendingSize: 64 * 1024 * 1024,
  retryDelaysMs: [100, 1_000, 5_000] as readonly number[],
  writeTimeoutMs: 30_000,
};

/** One response waiting for its write (in a list, not a Map: see `src/core/linked_list.ts`). */
class PendingWrite extends ListNode {
  /** Replaced by a later save of its id, or deleted: not written (again). */
  cancelled = false;
  /** Ends a retry's wait early. */
  wake: (() => void) | null = null;
  readonly done = Promise.withResolvers<void>();

  constructor(
    readonly record: StoredResponse,
    /** Bytes it holds in memory. */
    readonly bytes: number,
    /** Counted among the saved responses once written (a note of one too large is not). */
    readonly counted: boolean,
  ) {
    super();
  }
}

/** Pending writes of stored responses; see the module comment. */
export class ResponseWrites {
  readonly #store: Pick<Store, "putResponse">;
  readonly #settings: typeof DEFAULTS;
  readonly #log: WriterLog | undefined;
  readonly #pending = new LinkedList<PendingWrite>();
  #pendingBytes = 0;
  #waiters: (() => void)[] = [];
  #saved = 0;
  #failed = 0;
  /** Writes are failing: the first loss was logged, the next ones are only counted. */
  #failing = false;
  /** Saves are dropped for want of room: logged once until there is room again. */
  #dropping = false;
  #closed = false;
  /** Past the close deadline: failed writes are not retried. */
  #stopped = false;

  constructor(store: Pick<Store, "putResponse">, options: ResponseWritesOptions = {}) {
    this.#store = store;
    this.#settings = {
      maxPending: options.maxPending ?? DEFAULTS.maxPending,
      maxPendingSize: options.maxPendingSize ?? DEFAULTS.maxPendingSize,
      retryDelaysMs: options.retryDelaysMs ?? DEFAULTS.retryDelaysMs,
      writeTimeoutMs: options.writeTimeoutMs ?? DEFAULTS.writeTimeoutMs,
    };
    this.#log = options.log;
  }

  /** Responses written since start. */
  get saved(): number {
    return this.#saved;
  }

  /** Responses lost since start: given up after retries, or dropped for want of room. */
  get failed(): number {
    return this.#failed;
  }

  /** Writes pending now. */
  get pending(): number {
    return this.#pending.size;
  }

  /**
   * Queues a write and returns at once; false when it is dropped (too many pending, or closed).
   * A `note` (of a response too large to keep) holds no items in memory and is not counted as
   * saved. An earlier write of the same id still pending is cancelled, or lands first.
   */
  enqueue(record: StoredResponse, options: { note?: boolean } = {}): boolean {
    const note = options.note ?? false;
    const write = new PendingWrite(record, note ? 0 : record.size, !note);
    const { maxPending, maxPendingSize } = this.#settings;
    if (
      this.#closed || this.#pending.size >= maxPending ||
      this.#pendingBytes + write.bytes > maxPendingSize
    ) {
      this.#drop();
      return false;
    }
    const earlier = this.#writesOf(record.id);
    for (const before of earlier) cancel(before);
    this.#pending.push(write);
    this.#pendingBytes += write.bytes;
    void this.#write(write, earlier);
    return true;
  }

  /** The latest response of this id still waiting for its write, if any. */
  latest(id: string): StoredResponse | undefined {
    return this.#writesOf(id).at(-1)?.record;
  }

  /** Cancels the pending writes of an id; resolves once none of them can land any more. */
  async cancel(id: string): Promise<void> {
    for (const write of this.#writesOf(id)) {
      cancel(write);
      await write.done.promise;
    }
  }

  /** Resolves once every write queued so far has landed or been given up. */
  settled(): Promise<void> {
    if (this.#pending.size === 0) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push(resolve));
  }

  /**
   * Takes no more writes and waits for the pending ones until `deadline` (epoch ms); those left
   * then get no more retries. Resolves with how many were left (and logs it when not zero).
   */
  async close(deadline: number): Promise<number> {
    this.#closed = true;
    await beforeDeadline(this.settled(), deadline);
    const left = this.#pending.size;
    if (left > 0) {
      this.#stopped = true;
      this.#pending.forEach((write) => write.wake?.());
      this.#log?.error("stored responses not written at shutdown", {
        "gateway.responses.unwritten": left,
      });
    }
    return left;
  }

  /** The pending writes of an id not cancelled, oldest first. */
  #writesOf(id: string): PendingWrite[] {
    const writes: PendingWrite[] = [];
    this.#pending.forEach((write) => {
      if (!write.cancelled && write.record.id === id) writes.push(write);
    });
    return writes;
  }

  async #write(write: PendingWrite, earlier: readonly PendingWrite[]): Promise<void> {
    for (const before of earlier) await before.done.promise;
    const { retryDelaysMs, writeTimeoutMs } = this.#settings;
    try {
      for (let attempt = 0; !write.cancelled; attempt++) {
        try {
          const landed = this.#store.putResponse(write.record).then(() => true);
          if (await beforeDeadline(landed, Date.now() + writeTimeoutMs) !== true) {
            throw new Error(`no answer within ${writeTimeoutMs} ms`);
          }
          return this.#written(write);
        } catch (error) {
          const delay = retryDelaysMs[attempt];
          if (delay === undefined || this.#stopped) return this.#lost(write, error);
          await sleep(write, delay);
          if (this.#stopped && !write.cancelled) return this.#lost(write, error);
        }
      }
    } finally {
      this.#pending.remove(write);
      this.#pendingBytes -= write.bytes;
      write.done.resolve();
      if (this.#dropping && this.#pending.size < this.#settings.maxPending / 2) {
        this.#dropping = false;
      }
      if (this.#pending.size === 0) {
        const waiters = this.#waiters;
        this.#waiters = [];
        for (const resolve of waiters) resolve();
      }
    }
  }

  #written(write: PendingWrite): void {
    if (write.counted) this.#saved++;
    if (!this.#failing) return;
    this.#failing = false;
    this.#log?.info("stored responses are written again", {
      "gateway.responses.failed": this.#failed,
    });
  }

  #lost(write: PendingWrite, error: unknown): void {
    this.#failed++;
    if (this.#failing) return;
    this.#failing = true;
    this.#log?.error(
      "a stored response could not be written and is lost; until writes succeed again, " +
        "further losses are only counted",
      {
        "error.message": error instanceof Error ? error.message : String(error),
        "gateway.response.id": write.record.id,
      },
    );
  }

  #drop(): void {
    this.#failed++;
    if (this.#dropping) return;
    this.#dropping = true;
    const message = this.#closed
      ? "stored responses are closed: later responses are not kept"
      : "too many stored responses wait for the store: new ones are not kept until it catches up";
    this.#log?.warn(message, { "gateway.responses.pending": this.#pending.size });
  }
}

function cancel(write: PendingWrite): void {
  write.cancelled = true;
  write.wake?.();
}

/** Waits `ms`, or less when the write is cancelled or the writes stop. */
function sleep(write: PendingWrite, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(wake, ms);
    function wake() {
      clearTimeout(timer);
      write.wake = null;
      resolve();
    }
    write.wake = wake;
  });
}
