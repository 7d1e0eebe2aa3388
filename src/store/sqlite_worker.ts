/**
 * The SQLite store on a thread of its own. `node:sqlite` is synchronous, and a batch of usage
 * records, or the WAL checkpoint a commit sometimes runs, would hold the gateway's event loop (and
 * every request on it) for its duration; in a worker it holds only the worker. The calls are the
 * `Store` interface's, posted to the worker and answered there (`sqlite_worker_entry.ts`).
 */

import {
  type NewVirtualKey,
  type SpendQuery,
  type Store,
  StoreConflictError,
  type StoredResponse,
  type UsageQuery,
  type UsageRecord,
  type UsageRow,
  type UsageSeriesQuery,
  type UsageSeriesRow,
  type VirtualKey,
  type VirtualKeyPatch,
} from "./store.ts";

/** A call posted to the worker: a `Store` method, or `open` with the file's path. */
export interface WorkerCall {
  id: number;
  method: "open" | Exclude<keyof Store, "engine">;
  args: unknown[];
}

/** The worker's answer to a call. */
export type WorkerAnswer =
  | { id: number; value: unknown; error?: undefined }
  | { id: number; error: { message: string; conflict?: "name" | "key_hash" } };

/**
 * Opens (creating it and its folder when missing) the SQLite store at `path` in a worker and
 * brings its schema up to date. Rejects when the file cannot be opened or written.
 */
export async function openSqliteWorkerStore(path: string): Promise<Store> {
  const worker = new Worker(new URL("./sqlite_worker_entry.ts", import.meta.url), {
    type: "module",
  });
  const store = new SqliteWorkerStore(worker);
  try {
    await store.call("open", [path]);
  } catch (error) {
    worker.terminate();
    throw error;
  }
  return store;
}

class SqliteWorkerStore implements Store {
  readonly engine = "sqlite";
  readonly #worker: Worker;
  readonly #pending = new Map<number, PromiseWithResolvers<unknown>>();
  #nextId = 1;
  /** Why calls fail from now on: the worker was closed or died. */
  #stopped: Error | null = null;

  constructor(worker: Worker) {
    this.#worker = worker;
    worker.onmessage = (event: MessageEvent<WorkerAnswer>) => this.#answer(event.data);
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      this.#stop(new Error(`the SQLite store's worker failed: ${event.message}`));
    };
  }

  /** Posts a call; resolves with the worker's answer. */
  call(method: WorkerCall["method"], args: unknown[]): Promise<unknown> {
    if (this.#stopped !== null) return Promise.reject(this.#stopped);
    const id = this.#nextId++;
    const answer = Promise.withResolvers<unknown>();
    this.#pending.set(id, answer);
    this.#worker.postMessage({ id, method, args } satisfies WorkerCall);
    return answer.promise;
  }

  #answer(data: WorkerAnswer): void {
    const waiting = this.#pending.get(data.id);
    if (waiting === undefined) return;
    this.#pending.delete(data.id);
    if (data.error === undefined) return waiting.resolve(data.value);
    const { message, conflict } = data.error;
    waiting.reject(conflict === undefined ? new Error(message) : new StoreConflictError(conflict));
  }

  #stop(reason: Error): void {
    this.#stopped ??= reason;
    for (const waiting of this.#pending.values()) waiting.reject(reason);
    this.#pending.clear();
    this.#worker.terminate();
  }

  createKey(key: NewVirtualKey): Promise<VirtualKey> {
    return this.call("createKey", [key]) as Promise<VirtualKey>;
  }

  listKeys(): Promise<VirtualKey[]> {
    return this.call("listKeys", []) as Promise<VirtualKey[]>;
  }

  getKeyByHash(hash: string): Promise<VirtualKey | null> {
    return this.call("getKeyByHash", [hash]) as Promise<VirtualKey | null>;
  }

  updateKey(id: string, patch: VirtualKeyPatch): Promise<VirtualKey | null> {
    return this.call("updateKey", [id, patch]) as Promise<VirtualKey | null>;
  }

  revokeKey(id: string): Promise<VirtualKey | null> {
    return this.call("revokeKey", [id]) as Promise<VirtualKey | null>;
  }

  keysVersion(): Promise<number> {
    return this.call("keysVersion", []) as Promise<number>;
  }

  insertUsage(records: readonly UsageRecord[]): Promise<void> {
    return this.call("insertUsage", [records]) as Promise<void>;
  }

  usageSummary(query: UsageQuery): Promise<UsageRow[]> {
    return this.call("usageSummary", [query]) as Promise<UsageRow[]>;
  }

  usageSeries(query: UsageSeriesQuery): Promise<UsageSeriesRow[]> {
    return this.call("usageSeries", [query]) as Promise<UsageSeriesRow[]>;
  }

  spend(query: SpendQuery): Promise<number> {
    return this.call("spend", [query]) as Promise<number>;
  }

  putResponse(response: StoredResponse): Promise<void> {
    return this.call("putResponse", [response]) as Promise<void>;
  }

  getResponse(id: string, now: number): Promise<StoredResponse | null> {
    return this.call("getResponse", [id, now]) as Promise<StoredResponse | null>;
  }

  deleteResponse(id: string): Promise<boolean> {
    return this.call("deleteResponse", [id]) as Promise<boolean>;
  }

  purgeResponses(now: number): Promise<number> {
    return this.call("purgeResponses", [now]) as Promise<number>;
  }

  async close(): Promise<void> {
    if (this.#stopped !== null) return;
    try {
      await this.call("close", []);
    } finally {
      this.#stop(new Error("the SQLite store is closed"));
    }
  }
}
