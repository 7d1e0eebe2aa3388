/**
 * The usage writer: requests hand it records and move on; it writes them to the store in batches,
 * off the request path. While the store is down, records wait in a bounded queue and the batch is
 * retried with backoff; once the queue is full, new records are dropped and counted.
 */

import type { Store, UsageRecord } from "./store.ts";

/** Where the writer reports an outage, its end and dropped records (the gateway's logger fits). */
export interface WriterLog {
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Told which records are waiting and which have reached the store: budget checks add the cost of
 * the former to the spend they read (`SpendCache`).
 */
export interface UsageTracker {
  /** A record was queued. */
  queued(record: UsageRecord): void;
  /** These records (the objects given to `enqueue`) are in the store now. */
  written(records: readonly UsageRecord[]): void;
}

/** Options for `createUsageWriter`. */
export interface UsageWriterOptions {
  /** Records held at most, waiting and in flight together (default 10,000). */
  maxQueue?: number;
  /**
   * Records per insert (default 100); a full batch is written at once. The SQLite store writes a
   * batch on the event loop, about 0.3 ms for 100 records: batches of 250 cost no fewer
   * instructions per record and held the loop long enough to show in the p99 (docs/performance.md).
   */
  batchSize?: number;
  /** Longest a record waits for its batch to fill (default 1 s). */
  flushIntervalMs?: number;
  /** First retry delay after a failed write; doubles per failure (default 500 ms). */
  retryBaseMs?: number;
  /** Longest retry delay (default 30 s). */
  retryMaxMs?: number;
  /**
   * A write that has not settled by then counts as failed and its batch is retried (default
   * 30 s), so a connection that hangs cannot stop usage accounting for good.
   */
  writeTimeoutMs?: number;
  log?: WriterLog;
  track?: UsageTracker;
}

/** Counters for /metrics. */
export interface UsageWriterStats {
  /** Records written since start. */
  written: number;
  /** Records dropped since start: the queue was full, or the writer closed. */
  dropped: number;
  /** Records waiting or in flight. */
  pending: number;
  /** Failed writes since the last success. */
  failures: number;
}

/** A batching usage writer. */
export interface UsageWriter {
  /** Queues a record; never waits, never throws. A full queue drops the record and counts it. */
  enqueue(record: UsageRecord): void;
  /** Records dropped since start. */
  readonly dropped: number;
  /** Counters for /metrics. */
  stats(): UsageWriterStats;
  /**
   * Writes what is queued, retrying until the deadline (default 5 s); later records are dropped.
   * Resolves with the number of records left unwritten (and logs it when not zero).
   */
  close(options?: { timeoutMs?: number }): Promise<number>;
}

const DEFAULTS = {
  maxQueue: 10_000,
  batchSize: 100,
  flushIntervalMs: 1_000,
  retryBaseMs: 500,
  retryMaxMs: 30_000,
  writeTimeoutMs: 30_000,
};

/** Creates a writer that batches records into `store.insertUsage`. */
export function createUsageWriter(
  store: Pick<Store, "insertUsage">,
  options: UsageWriterOptions = {},
): UsageWriter {
  const settings = { ...DEFAULTS, ...definedOnly(options) };
  const { maxQueue, batchSize, flushIntervalMs, retryBaseMs, retryMaxMs, writeTimeoutMs } =
    settings;
  if (!(batchSize >= 1 && maxQueue >= batchSize)) {
    throw new RangeError("usage writer: needs 1 <= batchSize <= maxQueue");
  }
  const { log, track } = options;
  let queue: UsageRecord[] = [];
  /** The batch being written, kept whole across retries. */
  let batch: UsageRecord[] = [];
  let written = 0;
  let dropped = 0;
  let failures = 0;
  /** Dropping since the queue last had room; one warning per burst. */
  let dropping = false;
  let closed = false;
  let timer: ReturnType<typeof setTimeout> | undefined;
  let timerDue = 0;
  let writing: Promise<boolean> | null = null;

  const pending = () => queue.length + batch.length;

  /** Sets the next write `delayMs` from now, unless one is due sooner. */
  function schedule(delayMs: number): void {
    const due = Date.now() + delayMs;
    if (timer !== undefined) {
      if (timerDue <= due) return;
      clearTimeout(timer);
    }
    timerDue = due;
    timer = setTimeout(tick, delayMs);
  }

  function tick(): void {
    timer = undefined;
    if (closed || writing !== null) return;
    write().then(() => {
      if (closed) return;
      if (failures > 0) schedule(retryDelay(failures, retryBaseMs, retryMaxMs));
      else if (queue.length >= batchSize) schedule(0);
      else if (queue.length > 0) schedule(flushIntervalMs);
    });
  }

  /** One insert at a time: the one in progress, or a new one. Resolves true on success. */
  function write(): Promise<boolean> {
    writing ??= insertBatch().finally(() => {
      writing = null;
    });
    return writing;
  }

  /** Inserts the current batch (taking the next one when there is none). */
  async function insertBatch(): Promise<boolean> {
    if (batch.length === 0) batch = takeBatch();
    if (batch.length === 0) return true;
    try {
      const written = store.insertUsage(batch).then(() => true);
      if (!(await beforeDeadline(written, Date.now() + writeTimeoutMs))) {
        throw new Error(`no answer within ${writeTimeoutMs} ms`);
      }
    } catch (error) {
      failures++;
      if (failures === 1) {
        log?.error("usage store write failed; records wait in the queue and are retried", {
          "error.message": error instanceof Error ? error.message : String(error),
          "gateway.usage.pending": pending(),
        });
      }
      return false;
    }
    written += batch.length;
    track?.written(batch);
    batch = [];
    if (failures > 0) {
      log?.info("usage store writes again", {
        "gateway.usage.failures": failures,
        "gateway.usage.dropped": dropped,
      });
      failures = 0;
    }
    if (dropping && pending() < maxQueue / 2) dropping = false;
    return true;
  }

  function takeBatch(): UsageRecord[] {
    if (queue.length <= batchSize) {
      const all = queue;
      queue = [];
      return all;
    }
    return queue.splice(0, batchSize);
  }

  function drop(): void {
    dropped++;
    if (dropping) return;
    dropping = true;
    const message = closed
      ? "usage writer is closed: later usage records are dropped"
      : "usage queue full: new usage records are dropped until the store catches up";
    log?.warn(message, { "gateway.usage.max_queue": maxQueue, "gateway.usage.dropped": dropped });
  }

  return {
    enqueue(record) {
      if (closed || pending() >= maxQueue) return drop();
      queue.push(record);
      track?.queued(record);
      // While writes fail the retry timer decides; a write in progress schedules what follows.
      if (failures > 0 || writing !== null) return;
      if (queue.length >= batchSize) schedule(0);
      else if (timer === undefined) schedule(flushIntervalMs);
    },
    get dropped() {
      return dropped;
    },
    stats: () => ({ written, dropped, pending: pending(), failures }),
    async close(closeOptions = {}) {
      if (closed) return pending();
      closed = true;
      dropping = false;
      if (timer !== undefined) clearTimeout(timer);
      const deadline = Date.now() + (closeOptions.timeoutMs ?? 5_000);
      while (pending() > 0 && Date.now() < deadline) {
        const ok = await beforeDeadline(writing ?? write(), deadline);
        if (ok === false) {
          const wait = Math.min(
            retryDelay(failures, retryBaseMs, retryMaxMs),
            deadline - Date.now(),
          );
          await beforeDeadline(sleep(wait), deadline);
        }
      }
      const left = pending();
      if (left > 0) {
        log?.error("usage records not written at shutdown", { "gateway.usage.unwritten": left });
      }
      return left;
    },
  };
}

/** Backoff with jitter: half the doubled delay, plus a random part of the other half. */
function retryDelay(failures: number, baseMs: number, maxMs: number): number {
  const delay = Math.min(maxMs, baseMs * 2 ** Math.max(0, failures - 1));
  return delay / 2 + Math.random() * (delay / 2);
}

/** What `pending` settles with, or undefined once `deadline` (epoch ms) has passed. */
export async function beforeDeadline<T>(
  pending: Promise<T>,
  deadline: number,
): Promise<T | undefined> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), Math.max(0, deadline - Date.now()));
  });
  try {
    return await Promise.race([pending, expired]);
  } finally {
    clearTimeout(timer);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

function definedOnly<T extends object>(options: T): Partial<T> {
  return Object.fromEntries(
    Object.entries(options).filter(([, value]) => value !== undefined),
  ) as Partial<T>;
}
