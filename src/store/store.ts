/**
 * The store: virtual keys, usage records, the spend that budgets are checked against, and the
 * Responses API's stored responses. One
 * interface, one implementation per engine (`sqlite.ts`, `postgres.ts`); `open.ts` picks one from
 * the `storage:` config. Times are epoch milliseconds throughout.
 */

import type { LimitRule } from "../config/types.ts";
import type { JsonObject } from "../core/json.ts";

/** A budget's period: a rolling 1, 7 or 30 days, or the calendar month (UTC). */
export type BudgetPeriod = "1d" | "7d" | "30d" | "month";

/** The periods a budget may have, for validating input. */
export const BUDGET_PERIODS: readonly BudgetPeriod[] = ["1d", "7d", "30d", "month"];

/** Spend allowed per period, in US dollars. */
export interface Budget {
  usd: number;
  period: BudgetPeriod;
}

/** A key issued at run time (through the admin API), as the store keeps it. */
export interface VirtualKey {
  id: string;
  /** Unique among the store's keys, revoked ones included: usage is reported by it. */
  name: string;
  /** SHA-256 of the secret, lowercase hex: the hashing of config keys (`src/auth/key_hash.ts`). */
  key_hash: string;
  /** The only models the key may use, as in a config key; null for all. */
  models: string[] | null;
  groups: string[];
  budget: Budget | null;
  /** Requests (and tokens) per window for this key; null for the configured limits. */
  rate_limit: LimitRule | null;
  expires_at: number | null;
  metadata: JsonObject;
  created_at: number;
  revoked_at: number | null;
}

/** What `createKey` needs; the store assigns `id` and `created_at`. */
export interface NewVirtualKey {
  name: string;
  key_hash: string;
  models?: string[] | null;
  groups?: string[];
  budget?: Budget | null;
  rate_limit?: LimitRule | null;
  expires_at?: number | null;
  metadata?: JsonObject;
}

/** The fields `updateKey` may change; absent fields keep their value. */
export type VirtualKeyPatch = Partial<Omit<NewVirtualKey, "key_hash">>;

/** One finished request, as accounted. Never a prompt or a completion. */
export interface UsageRecord {
  /** When the request arrived. */
  time: number;
  request_id: string;
  /** The virtual key's id; null for a config key (known by `key_name`) or no key. */
  key_id: string | null;
  key_name: string | null;
  /** The caller when it is a person (a JWT's subject); null otherwise. */
  user: string | null;
  groups: readonly string[];
  /** The API called, e.g. `/v1/chat/completions`. */
  endpoint: string;
  requested_model: string | null;
  /** The provider and model that served it; null when none did. */
  provider: string | null;
  model: string | null;
  status: number;
  attempts: number;
  input_tokens: number;
  output_tokens: number;
  cached_tokens: number;
  /** Null when the price of the model is unknown. */
  cost_usd: number | null;
  latency_ms: number;
  /** Time to the first byte of the answer; null when none came. */
  ttfb_ms: number | null;
  stream: boolean;
}

/** What usage can be summed by. */
export type UsageDimension = "key" | "user" | "group" | "model" | "provider";

/** A `usageSummary` query: records with `from <= time < to`, one row per value of `groupBy`. */
export interface UsageQuery {
  /**
   * `key`: the key's name; `model`: the model that served the request. A record counts once
   * for each of its groups, and not at all under `group` when it has none.
   */
  groupBy: UsageDimension;
  from: number;
  to: number;
}

/** One row of a usage summary. */
export interface UsageRow {
  /** The key name, user, group, model or provider; null for records without one. */
  value: string | null;
  requests: number;
  input_tokens: number;
  output_tokens: number;
  /** Sum of the known costs. */
  cost_usd: number;
}

/** The width of a usage series' buckets. */
export type UsageBucket = "minute" | "hour" | "day";

/** Each bucket's width in milliseconds; buckets start at multiples of it since the epoch (UTC). */
export const USAGE_BUCKET_MS: Readonly<Record<UsageBucket, number>> = {
  minute: 60_000,
  hour: 3_600_000,
  day: 86_400_000,
};

/** A `usageSeries` query: a `usageSummary` per bucket, of records with `from <= time < to`. */
export interface UsageSeriesQuery extends UsageQuery {
  bucket: UsageBucket;
}

/** One row of a usage series: the sums of one value of the dimension within one bucket. */
export interface UsageSeriesRow extends UsageRow {
  /** The bucket's start, epoch ms. */
  t: number;
}

/** Whose spend: a key (a virtual key's id, a config key's name), a user, or a group. */
export type SpendScope = "key" | "user" | "group";

/** A `spend` query. */
export interface SpendQuery {
  scope: SpendScope;
  id: string;
  /** Spend is kept per UTC hour: `since` is rounded down to the start of its hour. */
  since: number;
}

/**
 * A response of the Responses API as the gateway keeps it. One the gateway answered by translation
 * holds this turn's input items and the response object; one a provider answered natively holds
 * neither (`provider` says where it is), only who owns it, so follow-ups and reads go there.
 */
export interface StoredResponse {
  /** The response's id, as the client sees it (`resp_...`). */
  id: string;
  /** Who created it (an opaque caller string): only the same owner may read or continue it. */
  owner: string;
  /** The provider that holds it natively; null when the gateway holds it. */
  provider: string | null;
  model: string;
  created_at: number;
  /** From this time on it is treated as gone, and a purge deletes it. */
  expires_at: number;
  /** The response this one continued, if any. */
  previous_response_id: string | null;
  /** The input items the client sent in this turn; null when a provider holds the response. */
  input: unknown[] | null;
  /** The response object the client was answered; null when a provider holds the response. */
  response: JsonObject | null;
  /** Bytes of `input` and `response` as JSON text, together. */
  size: number;
}

/** The store. Implementations: `openSqliteStore`, `openPostgresStore`; `openStore` picks one. */
export interface Store {
  /** Which engine holds the data. */
  readonly engine: "sqlite" | "postgres";
  /** Adds a key; a `StoreConflictError` when its name or hash is taken. */
  createKey(key: NewVirtualKey): Promise<VirtualKey>;
  /** Every key, revoked and expired ones included, oldest first. */
  listKeys(): Promise<VirtualKey[]>;
  /** The key with this hash, revoked or expired or not (the caller decides); else null. */
  getKeyByHash(hash: string): Promise<VirtualKey | null>;
  /** Changes a key; null when there is none with this id. `StoreConflictError` on a taken name. */
  updateKey(id: string, patch: VirtualKeyPatch): Promise<VirtualKey | null>;
  /** Marks a key revoked (a second call keeps the first time); null when there is none. */
  revokeKey(id: string): Promise<VirtualKey | null>;
  /**
   * A counter that every key change raises, in the same transaction: an instance that polls it
   * and reloads `listKeys()` when it moved sees other instances' changes.
   */
  keysVersion(): Promise<number>;
  /** Writes records and adds their costs to the spend of their key, user and groups, atomically. */
  insertUsage(records: readonly UsageRecord[]): Promise<void>;
  /** Requests, tokens and cost per key, user, group, model or provider over a time range. */
  usageSummary(query: UsageQuery): Promise<UsageRow[]>;
  /**
   * `usageSummary` per bucket: rows oldest bucket first and, within one, in `usageSummary`'s
   * order; buckets without records have no rows.
   */
  usageSeries(query: UsageSeriesQuery): Promise<UsageSeriesRow[]>;
  /** US dollars spent by a key, user or group since a time. */
  spend(query: SpendQuery): Promise<number>;
  /** Keeps a response; one already kept under its id is replaced. */
  putResponse(response: StoredResponse): Promise<void>;
  /** The response with this id, or null when there is none or it has expired by `now`. */
  getResponse(id: string, now: number): Promise<StoredResponse | null>;
  /** Deletes a response, expired or not; false when there was none. */
  deleteResponse(id: string): Promise<boolean>;
  /** Deletes the responses expired by `now`; resolves with how many. */
  purgeResponses(now: number): Promise<number>;
  /** Closes the store; pending calls finish first. */
  close(): Promise<void>;
}

/** A key's name or hash is already taken (the admin API answers 409). */
export class StoreConflictError extends Error {
  /** Which unique field clashed. */
  readonly field: "name" | "key_hash";

  constructor(field: "name" | "key_hash", options?: ErrorOptions) {
    super(
      field === "name" ? "a key with this name exists" : "a key with this secret exists",
      options,
    );
    this.name = "StoreConflictError";
    this.field = field;
  }
}

/** Clock options shared by the engines. */
export interface StoreOptions {
  /** Epoch milliseconds for `created_at` and `revoked_at` (default `Date.now`). */
  now?: () => number;
}
