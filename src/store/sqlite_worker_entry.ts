/**
 * The worker side of `sqlite_worker.ts`: opens the SQLite store on this thread and runs each call
 * the gateway's thread posts, answering with its value or its error.
 */

/// <reference lib="deno.worker" />

import { openSqliteStore } from "./sqlite.ts";
import { type Store, StoreConflictError } from "./store.ts";
import type { WorkerAnswer, WorkerCall } from "./sqlite_worker.ts";

let store: Store | null = null;

self.onmessage = async (event: MessageEvent<WorkerCall>) => {
  const { id, method, args } = event.data;
  try {
    let value: unknown;
    if (method === "open") {
      store = openSqliteStore(String(args[0]));
    } else {
      if (store === null) throw new Error("the SQLite store is not open");
      // deno-lint-ignore no-explicit-any
      value = await (store[method] as (...args: any[]) => Promise<unknown>).apply(store, args);
    }
    self.postMessage({ id, value } satisfies WorkerAnswer);
  } catch (error) {
    self.postMessage(
      {
        id,
        error: {
          message: error instanceof Error ? error.message : String(error),
          conflict: error instanceof StoreConflictError ? error.field : undefined,
        },
      } satisfies WorkerAnswer,
    );
  }
};
