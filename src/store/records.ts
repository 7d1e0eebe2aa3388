/**
 * Engine-independent handling of store records: a new key's defaults, a patch applied to a key,
 * the order of summary rows, and reading stored values back into typed fields.
 */

import type { LimitRule } from "../config/types.ts";
import { isRecord, type JsonObject } from "../core/json.ts";
import { compareText } from "./spend.ts";
import {
  type Budget,
  BUDGET_PERIODS,
  type BudgetPeriod,
  type NewVirtualKey,
  type UsageRow,
  type UsageSeriesRow,
  type VirtualKey,
  type VirtualKeyPatch,
} from "./store.ts";

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** A complete key from `createKey`'s input; a TypeError for a hash that is not SHA-256 hex. */
export function newKey(input: NewVirtualKey, id: string, now: number): VirtualKey {
  return {
    id,
    name: input.name,
    key_hash: normalizeHash(input.key_hash),
    models: input.models ?? null,
    groups: input.groups ?? [],
    budget: input.budget ?? null,
    rate_limit: input.rate_limit ?? null,
    expires_at: input.expires_at ?? null,
    metadata: input.metadata ?? {},
    created_at: now,
    revoked_at: null,
  };
}

/** The key with the patch's fields replaced (an explicit null clears a nullable field). */
export function patchedKey(key: VirtualKey, patch: VirtualKeyPatch): VirtualKey {
  return {
    ...key,
    name: patch.name ?? key.name,
    models: patch.models !== undefined ? patch.models : key.models,
    groups: patch.groups ?? key.groups,
    budget: patch.budget !== undefined ? patch.budget : key.budget,
    rate_limit: patch.rate_limit !== undefined ? patch.rate_limit : key.rate_limit,
    expires_at: patch.expires_at !== undefined ? patch.expires_at : key.expires_at,
    metadata: patch.metadata ?? key.metadata,
  };
}

/** Lowercase SHA-256 hex; a TypeError for anything else (a caller passing the secret itself). */
export function normalizeHash(hash: string): string {
  const lower = hash.toLowerCase();
  if (!SHA256_HEX.test(lower)) throw new TypeError("key_hash: expected 64 hex characters");
  return lower;
}

/** Summary rows, highest cost first, then most requests, then by value (null last). */
export function sortRows(rows: UsageRow[]): UsageRow[] {
  return rows.sort(compareRows);
}

function compareRows(a: UsageRow, b: UsageRow): number {
  return b.cost_usd - a.cost_usd || b.requests - a.requests ||
    (a.value === null ? 1 : b.value === null ? -1 : compareText(a.value, b.value));
}

/** Series rows, oldest bucket first, each bucket's rows in `sortRows` order. */
export function sortSeries(rows: UsageSeriesRow[]): UsageSeriesRow[] {
  return rows.sort((a, b) => a.t - b.t || compareRows(a, b));
}

/** A stored budget: both columns set, or none. */
export function budgetOf(usd: unknown, period: unknown): Budget | null {
  if (usd === null || usd === undefined || typeof period !== "string") return null;
  if (!BUDGET_PERIODS.includes(period as BudgetPeriod)) return null;
  return { usd: Number(usd), period: period as BudgetPeriod };
}

/** A stored list of names. */
export function stringList(value: unknown): string[] {
  return Array.isArray(value) ? value.map(String) : [];
}

/** A stored rate limit. */
export function limitRule(value: unknown): LimitRule | null {
  if (!isRecord(value)) return null;
  return {
    requests: Number(value.requests),
    tokens: value.tokens === null || value.tokens === undefined ? null : Number(value.tokens),
    window_ms: Number(value.window_ms),
  };
}

/** A stored JSON object. */
export function jsonObject(value: unknown): JsonObject {
  return isRecord(value) ? value : {};
}

/** A stored response's input items or response object, null staying null. */
export function responseParts(
  input: unknown,
  response: unknown,
): { input: unknown[] | null; response: JsonObject | null } {
  return {
    input: input === null || input === undefined ? null : Array.isArray(input) ? input : [],
    response: response === null || response === undefined ? null : jsonObject(response),
  };
}
