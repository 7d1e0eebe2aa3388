/**
 * The admin API's input and output: the schemas of its bodies and query (every field checked,
 * a bad one named in a 400), and the shape a virtual key is shown in (no secret, no hash).
 */

import { z } from "zod";
import { parseDuration } from "../../config/duration.ts";
import type { LimitRule } from "../../config/types.ts";
import { GatewayError } from "../../core/errors.ts";
import type { JsonObject } from "../../core/json.ts";
import {
  type Budget,
  BUDGET_PERIODS,
  USAGE_BUCKET_MS,
  type UsageBucket,
  type UsageDimension,
  type UsageQuery,
  type UsageSeriesQuery,
  type VirtualKey,
  type VirtualKeyPatch,
} from "../../store/store.ts";

/** Largest `metadata`, as JSON text. */
const MAX_METADATA_BYTES = 16 * 1024;
const DAY_MS = 86_400_000;
/** `from` when a usage query gives none: this long before `to`. */
export const DEFAULT_USAGE_RANGE_MS = 30 * DAY_MS;

/** RFC 3339 (`2026-12-01T00:00:00Z`, an offset, or fractions), or a bare date meaning 00:00 UTC. */
const RFC_3339 = /^\d{4}-\d{2}-\d{2}(?:[Tt ]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2}))?$/;
const EPOCH_MS = /^\d{1,15}$/;
const CONTROL = /\p{Cc}/u;

/** A time given as RFC 3339 text or epoch milliseconds; epoch ms, or undefined when neither. */
export function parseTime(value: unknown): number | undefined {
  if (typeof value === "number") {
    return Number.isSafeInteger(value) && value >= 0 ? value : undefined;
  }
  if (typeof value !== "string") return undefined;
  if (EPOCH_MS.test(value)) return Number(value);
  if (!RFC_3339.test(value)) return undefined;
  const ms = Date.parse(value.length === 10 ? `${value}T00:00:00Z` : value);
  return Number.isFinite(ms) ? ms : undefined;
}

const TIME_HINT = 'an RFC 3339 time such as "2026-12-01T00:00:00Z", or epoch milliseconds';

const time = z.unknown().transform((value, ctx) => {
  const ms = parseTime(value);
  if (ms !== undefined) return ms;
  ctx.addIssue({ code: "custom", message: `expected ${TIME_HINT}` });
  return z.NEVER;
});

const name = z.string({ error: "expected a string" }).trim()
  .min(1, "must not be empty")
  .max(128, "must be at most 128 characters")
  .refine((text) => !CONTROL.test(text), "must not contain control characters");

const label = z.string({ error: "expected a string" })
  .min(1, "must not be empty")
  .max(256, "must be at most 256 characters")
  .regex(/^[^\s\p{Cc}]+$/u, "must not contain spaces or control characters");

/** `provider/model`, `provider/*` or a strategy name, as in a config key's `models`. */
const models = z.array(label, { error: "expected a list of model names" })
  .max(1_000, "at most 1000 entries").nullable();

const groups = z.array(label, { error: "expected a list of group names" })
  .max(100, "at most 100 groups");

const budget = z.strictObject({
  usd: z.number({ error: "expected a number of US dollars" })
    .positive("must be more than 0").max(1e9, "must be at most 1e9"),
  period: z.enum(BUDGET_PERIODS as [string, ...string[]], {
    error: `expected one of ${BUDGET_PERIODS.map((p) => `"${p}"`).join(", ")}`,
  }),
}, { error: 'expected an object such as {"usd": 25, "period": "month"}' })
  .transform((raw): Budget => raw as Budget).nullable();

const count = (what: string) =>
  z.number({ error: `expected a whole number of ${what}` })
    .int(`expected a whole number of ${what}`).min(1, "must be at least 1")
    .max(Number.MAX_SAFE_INTEGER);

const rateLimit = z.strictObject({
  requests: count("requests"),
  tokens: count("tokens").nullable().optional(),
  window: z.string({ error: 'expected a duration such as "1m"' }).transform((text, ctx) => {
    const ms = parseDuration(text);
    if (ms !== undefined && ms > 0) return ms;
    ctx.addIssue({ code: "custom", message: 'expected a duration such as "30s", "1m" or "1h"' });
    return z.NEVER;
  }),
}, { error: 'expected an object such as {"requests": 60, "window": "1m"}' })
  .transform((raw): LimitRule => ({
    requests: raw.requests,
    tokens: raw.tokens ?? null,
    window_ms: raw.window,
  })).nullable();

const expiresAt = time.refine((ms) => ms > Date.now(), "must be in the future").nullable();

const metadata = z.record(z.string(), z.unknown(), { error: "expected a JSON object" })
  .refine(
    (value) => new TextEncoder().encode(JSON.stringify(value)).byteLength <= MAX_METADATA_BYTES,
    `must be at most ${MAX_METADATA_BYTES / 1024} KiB as JSON`,
  ).transform((value): JsonObject => value);

/** `POST /admin/keys` */
const createSchema = z.strictObject({
  name,
  models: models.optional(),
  groups: groups.optional(),
  budget: budget.optional(),
  rate_limit: rateLimit.optional(),
  expires_at: expiresAt.optional(),
  metadata: metadata.optional(),
});

/** `PATCH /admin/keys/{id}`: the same fields, each optional; null clears a nullable one. */
const patchSchema = createSchema.partial();

/** What `POST /admin/keys` asks for, validated. */
export type CreateKeyInput = z.output<typeof createSchema>;

/** The fields of a `POST /admin/keys` body; a 400 naming the first bad field otherwise. */
export function parseCreateKey(body: JsonObject): CreateKeyInput {
  return parse(createSchema, body);
}

/** The fields of a `PATCH /admin/keys/{id}` body; a 400 naming the first bad field otherwise. */
export function parsePatchKey(body: JsonObject): VirtualKeyPatch {
  const patch = parse(patchSchema, body);
  if (Object.keys(patch).length === 0) {
    throw new GatewayError(
      "invalid_request",
      "body: nothing to change; give at least one of name, models, groups, budget, rate_limit, " +
        "expires_at, metadata",
    );
  }
  return patch;
}

function parse<T>(schema: z.ZodType<T>, body: JsonObject): T {
  const result = schema.safeParse(body);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const path = issue.path.map(String);
  if (issue.code === "unrecognized_keys") {
    const param = [...path, issue.keys[0]!].join(".");
    throw new GatewayError("invalid_request", `${param}: unknown field`, { param });
  }
  const param = path.join(".") || null;
  throw new GatewayError("invalid_request", `${param ?? "body"}: ${issue.message}`, { param });
}

const DIMENSIONS: readonly UsageDimension[] = ["key", "user", "group", "model", "provider"];
const BUCKETS = Object.keys(USAGE_BUCKET_MS) as UsageBucket[];
/** Most buckets a series may span: a day of minutes, 60 days of hours, about 4 years of days. */
export const MAX_SERIES_BUCKETS = 1_440;
/** `from` of a series that gives none: this many buckets before `to`. */
const DEFAULT_SERIES_BUCKETS: Readonly<Record<UsageBucket, number>> = {
  minute: 60,
  hour: 24,
  day: 30,
};

/**
 * The query of `GET /admin/usage`: `group_by` (default `key`), `from` (default 30 days before
 * `to`) and `to` (default now), each checked.
 */
export function parseUsageQuery(search: URLSearchParams, now: number): UsageQuery {
  checkParams(search, ["group_by", "from", "to"]);
  const groupBy = dimensionOf(search);
  const to = timeParam(search, "to") ?? now;
  const from = timeParam(search, "from") ?? to - DEFAULT_USAGE_RANGE_MS;
  if (from >= to) throw badParam("from", "must be before to");
  return { groupBy, from, to };
}

/**
 * The query of `GET /admin/usage/series`: `group_by` (default `key`), `bucket` (`minute`, `hour`
 * or `day`; default `hour`), `to` (default now) and `from` (default 60 minutes, 24 hours or 30
 * days before `to`), spanning at most MAX_SERIES_BUCKETS buckets.
 */
export function parseUsageSeriesQuery(search: URLSearchParams, now: number): UsageSeriesQuery {
  checkParams(search, ["group_by", "bucket", "from", "to"]);
  const groupBy = dimensionOf(search);
  const bucket = (search.get("bucket") ?? "hour") as UsageBucket;
  if (!BUCKETS.includes(bucket)) throw badParam("bucket", `expected one of ${BUCKETS.join(", ")}`);
  const width = USAGE_BUCKET_MS[bucket];
  const to = timeParam(search, "to") ?? now;
  const from = timeParam(search, "from") ?? to - DEFAULT_SERIES_BUCKETS[bucket] * width;
  if (from >= to) throw badParam("from", "must be before to");
  const buckets = Math.floor((to - 1) / width) - Math.floor(from / width) + 1;
  if (buckets > MAX_SERIES_BUCKETS) {
    throw badParam(
      "from",
      `the range spans ${buckets} buckets of a ${bucket}; at most ${MAX_SERIES_BUCKETS}: ` +
        "narrow from and to, or take a wider bucket",
    );
  }
  return { groupBy, bucket, from, to };
}

/** Refuses a query parameter not in `known`, and one given twice. */
export function checkParams(search: URLSearchParams, known: readonly string[]): void {
  for (const param of new Set(search.keys())) {
    if (!known.includes(param)) {
      throw badParam(param, `unknown query parameter; expected ${listOf(known)}`);
    }
    if (search.getAll(param).length > 1) throw badParam(param, "given more than once");
  }
}

function dimensionOf(search: URLSearchParams): UsageDimension {
  const groupBy = search.get("group_by") ?? "key";
  if (!DIMENSIONS.includes(groupBy as UsageDimension)) {
    throw badParam("group_by", `expected one of ${DIMENSIONS.join(", ")}`);
  }
  return groupBy as UsageDimension;
}

function timeParam(search: URLSearchParams, param: "from" | "to"): number | undefined {
  const text = search.get(param);
  if (text === null) return undefined;
  const ms = parseTime(text);
  if (ms === undefined) throw badParam(param, `expected ${TIME_HINT}`);
  return ms;
}

/** `a, b or c` */
function listOf(names: readonly string[]): string {
  return names.length === 1
    ? names[0]!
    : `${names.slice(0, -1).join(", ")} or ${names[names.length - 1]}`;
}

/** A 400 naming the query parameter at fault. */
export function badParam(param: string, message: string): GatewayError {
  return new GatewayError("invalid_request", `${param}: ${message}`, { param });
}

/** A virtual key as the admin API shows it: never its secret or its hash. */
export function keyView(key: VirtualKey, now: number): JsonObject {
  return {
    id: key.id,
    name: key.name,
    status: key.revoked_at !== null
      ? "revoked"
      : key.expires_at !== null && key.expires_at <= now
      ? "expired"
      : "active",
    models: key.models,
    groups: key.groups,
    budget: key.budget,
    rate_limit: key.rate_limit === null ? null : {
      requests: key.rate_limit.requests,
      tokens: key.rate_limit.tokens,
      window: formatDuration(key.rate_limit.window_ms),
    },
    expires_at: isoOrNull(key.expires_at),
    metadata: key.metadata,
    created_at: new Date(key.created_at).toISOString(),
    revoked_at: isoOrNull(key.revoked_at),
  };
}

/** Milliseconds as the shortest duration text the config reads back (`60000` -> `1m`). */
export function formatDuration(ms: number): string {
  for (const [unit, size] of [["h", 3_600_000], ["m", 60_000], ["s", 1_000]] as const) {
    if (ms % size === 0) return `${ms / size}${unit}`;
  }
  return `${ms}ms`;
}

function isoOrNull(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString();
}
