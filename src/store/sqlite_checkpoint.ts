/**
 * WAL checkpoints of the SQLite store, run by the store instead of by SQLite's commits. SQLite
 * checkpoints in the commit that crosses its threshold, and on the event loop a checkpoint waits
 * for two fsyncs: the WAL's, before its pages are copied into the database file, and the database
 * file's, after. Here the WAL's fsync is done first on one of Deno's I/O threads, so SQLite's own
 * finds nothing left to write; and checkpoints come often enough to stay small.
 */

import type { DatabaseSync } from "node:sqlite";

/**
 * WAL pages that start a checkpoint (SQLite's default threshold too). Most of a checkpoint's time
 * is the database file's fsync, whose cost is mostly fixed: 1,000 pages hold the event loop about
 * 11 ms, 250 pages about 4.4 ms, so larger checkpoints cost less per record (docs/performance.md).
 */
export const CHECKPOINT_PAGES = 1_000;

/** Pages a commit adds to the WAL besides its rows: the index leaf, the tree above, the spend. */
const PAGES_PER_COMMIT = 3;
/** Usage rows per WAL page (a row and its index entry take about 100 bytes of a 4 KB page). */
const ROWS_PER_PAGE = 40;
const PAGE_BYTES = 4_096;

/** Runs the checkpoints of one connection; `committed` is told of every write transaction. */
export class WalCheckpoints {
  readonly #db: DatabaseSync;
  readonly #walPath: string | null;
  readonly #threshold: number;
  /** WAL pages written since the last checkpoint started, estimated from the commits. */
  #pages = 0;
  #running: Promise<void> | null = null;

  /**
   * Turns SQLite's own checkpoints off on `db`. `path` is the database file (`:memory:` has no
   * WAL); `thresholdPages` is for tests.
   */
  constructor(db: DatabaseSync, path: string, thresholdPages = CHECKPOINT_PAGES) {
    this.#db = db;
    this.#walPath = path === ":memory:" ? null : `${path}-wal`;
    this.#threshold = thresholdPages;
    db.exec("PRAGMA wal_autocheckpoint = 0");
  }

  /**
   * Counts a commit of `rows` usage rows and `bytes` of other data (a stored response); may start
   * a checkpoint.
   */
  committed(rows = 0, bytes = 0): void {
    this.#pages += PAGES_PER_COMMIT + rows / ROWS_PER_PAGE + bytes / PAGE_BYTES;
    if (this.#pages < this.#threshold || this.#running !== null || this.#walPath === null) return;
    this.#pages = 0;
    this.#running = this.#checkpoint(this.#walPath).finally(() => {
      this.#running = null;
    });
  }

  /** Resolves once no checkpoint is running (the store waits for it before closing). */
  async idle(): Promise<void> {
    await this.#running;
  }

  async #checkpoint(walPath: string): Promise<void> {
    await syncFile(walPath);
    if (!this.#db.isOpen) return;
    try {
      // PASSIVE never waits for readers or writers: what it cannot copy now, the next one will.
      this.#db.exec("PRAGMA wal_checkpoint(PASSIVE)");
    } catch {
      // An I/O error here shows in the next write too, which reports it; the WAL just grows.
    }
  }
}

/**
 * Flushes a file to disk on an I/O thread, best effort: SQLite flushes it again itself, so a
 * failure (no file yet, a platform that refuses it) only costs the time saved.
 *
 * Only the WAL is flushed this way. Deno runs the flush on a duplicate of the descriptor and closes
 * it after, and closing any descriptor of a file drops the process's POSIX locks on it: SQLite
 * keeps such locks on the database file (and the `-shm` file), never on the WAL.
 */
async function syncFile(path: string): Promise<void> {
  let file: Deno.FsFile | undefined;
  try {
    file = await Deno.open(path, { read: true });
    await file.syncData();
  } catch {
    // See above: SQLite's own flush still runs.
  } finally {
    file?.close();
  }
}
