/**
 * The store as the server uses it, once per process: the usage writer requests hand their records
 * to, and the cache of virtual keys authentication reads. Both outlive configuration reloads, like
 * the logger; the store itself is opened and closed by whoever starts the server (`main.ts`).
 */

import { VirtualKeyCache } from "../auth/virtual_keys.ts";
import type { GatewayConfig } from "../config/types.ts";
import type { Logger } from "../observability/logger.ts";
import { openStore } from "../store/open.ts";
import { ResponseState } from "../store/responses.ts";
import type { Store } from "../store/store.ts";
import {
  createUsageWriter,
  type UsageTracker,
  type UsageWriter,
  type UsageWriterOptions,
} from "../store/writer.ts";

/** The store with its writer, key cache and the Responses API's stored responses. */
export interface StoreService {
  store: Store;
  writer: UsageWriter;
  keys: VirtualKeyCache;
  responses: ResponseState;
  /** Stops the key poll and writes the queued usage records, for at most `timeoutMs`. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

/** Options for `startStoreService`. */
export interface StoreServiceOptions {
  logger: Logger;
  /** Batching and retries of the usage writer (tests shorten them). */
  writer?: Omit<UsageWriterOptions, "log" | "track">;
  /** Told what the writer queues and writes (the spend budgets read). */
  track?: UsageTracker;
  /** How often the store's key version is polled (default 1 s). */
  keyPollMs?: number;
  /** Largest stored response (`responses.max_stored_size`); a reload sets it again. */
  maxStoredResponse?: number;
}

/** Starts the writer and loads the virtual keys; resolves once the first load was tried. */
export async function startStoreService(
  store: Store,
  options: StoreServiceOptions,
): Promise<StoreService> {
  const { logger } = options;
  const writer = createUsageWriter(store, { ...options.writer, log: logger, track: options.track });
  const keys = new VirtualKeyCache(store, { intervalMs: options.keyPollMs, log: logger });
  await keys.start();
  const responses = new ResponseState(store, {
    maxSize: options.maxStoredResponse,
    log: logger,
  });
  responses.start();
  return {
    store,
    writer,
    keys,
    responses,
    async close(closeOptions = {}) {
      keys.close();
      const timeoutMs = closeOptions.timeoutMs ?? 5_000;
      await Promise.all([writer.close({ timeoutMs }), responses.close({ timeoutMs })]);
    },
  };
}

/**
 * Opens the store `storage:` names (or the default SQLite file) and logs where it is, or why the
 * gateway runs without one. Rejects when a store the config names cannot be opened.
 */
export async function openGatewayStore(
  config: GatewayConfig,
  logger: Logger,
): Promise<Store | null> {
  const opened = await openStore(config.storage);
  if (opened.store === null) {
    (config.storage === "off" ? logger.info : logger.warn).call(
      logger,
      `no store (${opened.reason}): usage records, virtual keys and the admin API are off`,
      { "gateway.store.reason": opened.reason },
    );
    return null;
  }
  logger.info(`store: ${opened.store.engine} at ${opened.location}`, {
    "gateway.store.engine": opened.store.engine,
    "gateway.store.location": opened.location,
  });
  return opened.store;
}
