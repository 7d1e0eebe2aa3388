/**
 * The Responses API's conversation state: the responses the gateway keeps (`StoredResponse`), as
 * the `/v1/responses` handler saves, reads, deletes and continues them.
 *
 * A save is never awaited by the request. The response stays in memory until its write lands, so
 * a follow-up that reaches this instance at once finds it; a failed write is retried a few times,
 * then given up, logged and counted. Reads check the owner, so one caller never sees another's
 * responses, and a background purge deletes the expired ones.
 */

import { isRecord, type JsonObject } from "../core/json.ts";
import {
  ConversationLimitError,
  NativeResponseError,
  ResponseNotFoundError,
} from "./response_errors.ts";
import { ResponseWrites, type ResponseWritesOptions } from "./response_writes.ts";
import type { WriterLog } from "./writer.ts";
import type { Store, StoredResponse } from "./store.ts";

/** Options for `ResponseState`; the write options are `ResponseWrites`'s. */
export interface ResponseStateOptions extends ResponseWritesOptions {
  /** Largest `size` of a response the gateway holds (default 1 MiB); a larger one is not kept. */
  maxSize?: number;
  /** Most responses `history` follows back (default 1,000). */
  maxDepth?: number;
  /** Most bytes (the responses' `size`, summed) `history` gathers (default 16 MiB). */
  maxHistorySize?: number;
  /** How often expired responses are purged (default 5 minutes). */
  purgeIntervalMs?: number;
  /** Epoch milliseconds, for expiry (default `Date.now`). */
  now?: () => number;
}

/** What `save` did: queued the write, kept only a note that it was too large, or dropped it. */
export type SaveOutcome = "queued" | "too_large" | "dropped";

/** Counters for /metrics. */
export interface ResponseStateStats {
  /** Responses written to the store since start. */
  saved: number;
  /** Responses lost since start: writes given up, or dropped with too many pending. */
  failed: number;
  /** Responses not kept since start for their size. */
  too_large: number;
  /** Expired responses deleted since start. */
  purged: number;
  /** Writes pending now. */
  pending: number;
}

/** `StoredResponse.size`: bytes of the input items and the response object as JSON text. */
export function storedResponseSize(input: unknown[] | null, response: JsonObject | null): number {
  const encoder = new TextEncoder();
  const bytes = (value: unknown) =>
    value === null ? 0 : encoder.encode(JSON.stringify(value)).byteLength;
  return bytes(input) + bytes(response);
}

const MIB = 1024 * 1024;
const DEFAULT_MAX_SIZE = MIB;
const DEFAULTS = {
  maxDepth: 1_000,
  maxHistorySize: 16 * MIB,
  purgeIntervalMs: 5 * 60_000,
};

/** The stored responses as the Responses handler uses them; see the module comment. */
export class ResponseState {
  /** Largest `size` kept; a configuration reload may change it. */
  maxSize: number;
  readonly #store: Pick<Store, "getResponse" | "deleteResponse" | "purgeResponses">;
  readonly #writes: ResponseWrites;
  readonly #settings: typeof DEFAULTS;
  readonly #log: WriterLog | undefined;
  readonly #now: () => number;
  #tooLarge = 0;
  #purged = 0;
  #purgeFailing = false;
  #purging: Promise<number> | null = null;
  #timer: ReturnType<typeof setInterval> | undefined;
  #closed = false;

  constructor(
    store: Pick<Store, "putResponse" | "getResponse" | "deleteResponse" | "purgeResponses">,
    options: ResponseStateOptions = {},
  ) {
    this.#store = store;
    this.#writes = new ResponseWrites(store, options);
    this.maxSize = options.maxSize ?? DEFAULT_MAX_SIZE;
    this.#settings = {
      maxDepth: options.maxDepth ?? DEFAULTS.maxDepth,
      maxHistorySize: options.maxHistorySize ?? DEFAULTS.maxHistorySize,
      purgeIntervalMs: options.purgeIntervalMs ?? DEFAULTS.purgeIntervalMs,
    };
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
  }

  /** Purges the expired responses now, then every `purgeIntervalMs`. */
  start(): void {
    if (this.#timer !== undefined || this.#closed) return;
    void this.purge();
    this.#timer = setInterval(() => void this.purge(), this.#settings.purgeIntervalMs);
    // The purge never keeps the process alive on its own.
    Deno.unrefTimer(this.#timer);
  }

  /**
   * Queues a response's write and returns at once. A response the gateway holds whose `size`
   * exceeds `maxSize` is not kept: only a note of it is, so that a later read says why it is
   * missing (`too_large`). `dropped`: too many writes are pending, or the state is closed.
   */
  save(record: StoredResponse): SaveOutcome {
    if (record.provider === null && record.size > this.maxSize) {
      this.#tooLarge++;
      this.#writes.enqueue({ ...record, input: null, response: null }, { note: true });
      return "too_large";
    }
    return this.#writes.enqueue(record) ? "queued" : "dropped";
  }

  /**
   * The response with this id, as its owner may see it: null when there is none, it expired or
   * it is another owner's. A `ResponseNotFoundError` for the owner's response that was too large
   * to keep. A response a provider holds comes with its `provider` and no items.
   */
  async get(id: string, owner: string): Promise<StoredResponse | null> {
    const record = await this.#read(id, owner);
    if (record !== null && isTooLarge(record)) {
      throw new ResponseNotFoundError(id, "too_large", tooLargeMessage(record));
    }
    return record;
  }

  /** Deletes the owner's response; false when `get` would not have found it. */
  async delete(id: string, owner: string): Promise<boolean> {
    const record = await this.#read(id, owner);
    if (record === null || isTooLarge(record)) return false;
    // A write still pending or in flight must not land after the delete.
    await this.#writes.cancel(id);
    await this.#store.deleteResponse(id);
    return true;
  }

  /**
   * The conversation a follow-up continues: from `previousId` back to its first response, oldest
   * first, each response's input items followed by its output items. Throws a
   * `ResponseNotFoundError` (a response absent, expired, another owner's or too large to have
   * been kept), a `NativeResponseError` (one held by a provider), or a `ConversationLimitError`
   * (more than `maxDepth` responses or `maxHistorySize` bytes).
   */
  async history(previousId: string, owner: string): Promise<unknown[]> {
    const { maxDepth, maxHistorySize } = this.#settings;
    const chain: StoredResponse[] = [];
    let bytes = 0;
    for (let id: string | null = previousId; id !== null;) {
      if (chain.length >= maxDepth) throw new ConversationLimitError("depth", maxDepth);
      const record: StoredResponse | null = await this.#read(id, owner);
      const first = chain.length === 0;
      if (record === null) {
        throw new ResponseNotFoundError(
          id,
          "absent",
          first
            ? `previous_response_id: response "${id}" not found`
            : `previous_response_id: response "${id}", earlier in this conversation, ` +
              `is no longer stored`,
        );
      }
      if (record.provider !== null) throw new NativeResponseError(id, record.provider, first);
      if (isTooLarge(record)) {
        throw new ResponseNotFoundError(
          id,
          "too_large",
          `previous_response_id: ${tooLargeMessage(record)}`,
        );
      }
      bytes += record.size;
      if (bytes > maxHistorySize) throw new ConversationLimitError("size", maxHistorySize);
      chain.push(record);
      id = record.previous_response_id;
    }
    return chain.reverse().flatMap((r) => [...(r.input ?? []), ...outputOf(r.response)]);
  }

  /**
   * Deletes the expired responses; resolves with how many (0 when the store fails, which is
   * logged once until a purge succeeds again). One purge runs at a time.
   */
  purge(): Promise<number> {
    this.#purging ??= this.#purge().finally(() => {
      this.#purging = null;
    });
    return this.#purging;
  }

  /** Resolves once every save so far has been written or given up. */
  settled(): Promise<void> {
    return this.#writes.settled();
  }

  /** Counters for /metrics. */
  stats(): ResponseStateStats {
    return {
      saved: this.#writes.saved,
      failed: this.#writes.failed,
      too_large: this.#tooLarge,
      purged: this.#purged,
      pending: this.#writes.pending,
    };
  }

  /**
   * Stops the purge and waits for the pending writes, for at most `timeoutMs` (default 5 s);
   * later saves are dropped. Resolves with the number of writes not settled by then.
   */
  close(options: { timeoutMs?: number } = {}): Promise<number> {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
    this.#closed = true;
    return this.#writes.close(Date.now() + (options.timeoutMs ?? 5_000));
  }

  /** The owner's unexpired response (or its note), from the pending writes or the store. */
  async #read(id: string, owner: string): Promise<StoredResponse | null> {
    const now = this.#now();
    const record = this.#writes.latest(id) ?? await this.#store.getResponse(id, now);
    if (record === null || record.owner !== owner || record.expires_at <= now) return null;
    return record;
  }

  async #purge(): Promise<number> {
    try {
      const purged = await this.#store.purgeResponses(this.#now());
      this.#purged += purged;
      if (this.#purgeFailing) {
        this.#purgeFailing = false;
        this.#log?.info("expired stored responses are purged again");
      }
      return purged;
    } catch (error) {
      if (!this.#purgeFailing) {
        this.#purgeFailing = true;
        this.#log?.error("cannot purge expired stored responses; the next purge tries again", {
          "error.message": error instanceof Error ? error.message : String(error),
        });
      }
      return 0;
    }
  }
}

/** The note kept of a response too large to keep: the gateway's, without its items. */
function isTooLarge(record: StoredResponse): boolean {
  return record.provider === null && record.response === null;
}

function tooLargeMessage(record: StoredResponse): string {
  return `response "${record.id}" was not kept: at ${record.size} bytes it was too large ` +
    `to store`;
}

function outputOf(response: JsonObject | null): unknown[] {
  const output = isRecord(response) ? response.output : undefined;
  return Array.isArray(output) ? output : [];
}
