/**
 * The store's virtual keys as authentication reads them: an in-memory copy, looked up by the
 * presented key's hash without a store call. A background poll of `keysVersion()` reloads it when
 * any instance sharing the store changed a key, so a key revoked on one instance is refused by
 * every other within a poll interval or two.
 */

import type { Store, VirtualKey } from "../store/store.ts";
import type { Caller } from "./caller.ts";

/** Where the cache reports a store it cannot reach, and its return. */
export interface KeyCacheLog {
  info(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/** A virtual key found by its hash, with the caller it authenticates as. */
export interface KnownKey {
  key: VirtualKey;
  caller: Caller;
}

/** What a lookup finds: a usable key, one that is revoked or expired, or nothing. */
export type KeyLookup =
  | { state: "active"; caller: Caller }
  | { state: "revoked" | "expired" }
  | undefined;

/** Options for `VirtualKeyCache`. */
export interface KeyCacheOptions {
  /** How often `keysVersion()` is polled (default 1 s). */
  intervalMs?: number;
  log?: KeyCacheLog;
  /** Epoch milliseconds, for expiry (default `Date.now`). */
  now?: () => number;
}

/** The store's keys by hash, kept fresh by polling the store's key version. */
export class VirtualKeyCache {
  readonly #store: Pick<Store, "keysVersion" | "listKeys">;
  readonly #intervalMs: number;
  readonly #log: KeyCacheLog | undefined;
  readonly #now: () => number;
  #byHash = new Map<string, KnownKey>();
  /** The key version the map was loaded at; -1 before the first load. */
  #version = -1;
  #timer: ReturnType<typeof setInterval> | undefined;
  #refreshing: Promise<void> | null = null;
  #failing = false;

  constructor(store: Pick<Store, "keysVersion" | "listKeys">, options: KeyCacheOptions = {}) {
    this.#store = store;
    this.#intervalMs = options.intervalMs ?? 1_000;
    this.#log = options.log;
    this.#now = options.now ?? Date.now;
  }

  /** Loads the keys (a failure is logged, and the next poll tries again), then starts polling. */
  async start(): Promise<void> {
    await this.refresh();
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => void this.refresh(), this.#intervalMs);
    // The poll never keeps the process alive on its own.
    Deno.unrefTimer(this.#timer);
  }

  /** Stops polling. */
  close(): void {
    if (this.#timer !== undefined) clearInterval(this.#timer);
    this.#timer = undefined;
  }

  /** Number of keys held, revoked and expired ones included. */
  get size(): number {
    return this.#byHash.size;
  }

  /** The key whose SHA-256 is `hashHex` (lowercase), and whether it may be used now. */
  lookup(hashHex: string): KeyLookup {
    const known = this.#byHash.get(hashHex);
    if (known === undefined) return undefined;
    if (known.key.revoked_at !== null) return { state: "revoked" };
    if (known.key.expires_at !== null && known.key.expires_at <= this.#now()) {
      return { state: "expired" };
    }
    return { state: "active", caller: known.caller };
  }

  /**
   * Reloads the keys when the store's key version moved (one call at a time; a call during a
   * reload waits for it). Never rejects: a store that cannot be reached keeps the last keys.
   */
  refresh(): Promise<void> {
    this.#refreshing ??= this.#reload().finally(() => {
      this.#refreshing = null;
    });
    return this.#refreshing;
  }

  async #reload(): Promise<void> {
    try {
      const version = await this.#store.keysVersion();
      if (version !== this.#version) {
        const keys = await this.#store.listKeys();
        this.#byHash = new Map(keys.map((key) => [key.key_hash, { key, caller: callerOf(key) }]));
        this.#version = version;
      }
      if (this.#failing) {
        this.#failing = false;
        this.#log?.info("virtual keys are read from the store again", {
          "gateway.keys.count": this.#byHash.size,
        });
      }
    } catch (error) {
      if (!this.#failing) {
        this.#failing = true;
        this.#log?.error(
          "cannot read virtual keys from the store; the last ones read stay in use",
          {
            "error.message": error instanceof Error ? error.message : String(error),
            "gateway.keys.count": this.#byHash.size,
          },
        );
      }
    }
  }
}

/** The caller a virtual key authenticates as. */
export function callerOf(key: VirtualKey): Caller {
  return {
    name: key.name,
    kind: "key",
    groups: key.groups,
    models: key.models,
    keyId: key.id,
    rateLimit: key.rate_limit,
    budget: key.budget,
  };
}
