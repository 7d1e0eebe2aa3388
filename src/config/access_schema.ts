/**
 * Schemas for the access-control sections: `auth:` (gateway keys, OIDC), `ratelimit:` and
 * `budgets:`.
 */

import { z } from "zod";
import { loadKeyHasher } from "../auth/key_hash.ts";
import { type Budget, BUDGET_PERIODS } from "../store/store.ts";
import { absentIfNull, boolean, duration, httpUrl, integer, nonNegativeNumber } from "./fields.ts";
import type {
  AdminKeyConfig,
  AuthConfig,
  BudgetsConfig,
  GatewayKeyConfig,
  LimitRule,
  RateLimitConfig,
} from "./types.ts";

const MAX_INT = Number.MAX_SAFE_INTEGER;
const SHA256_HEX = /^[0-9a-fA-F]{64}$/;

/** Signature algorithms accepted by default: asymmetric only, so a public key can't forge. */
export const DEFAULT_JWT_ALGORITHMS = [
  "RS256",
  "RS384",
  "RS512",
  "PS256",
  "PS384",
  "PS512",
  "ES256",
  "ES384",
  "EdDSA",
];

const stringList = z.preprocess(
  (v) => typeof v === "string" ? [v] : absentIfNull(v),
  z.array(z.string().min(1)),
);

/** `{usd: 25, period: month}`: US dollars per rolling 1, 7 or 30 days or per calendar month. */
const budgetSchema = z.strictObject({
  usd: nonNegativeNumber(),
  period: z.enum(BUDGET_PERIODS),
}).transform((raw): Budget => ({ usd: raw.usd, period: raw.period }));

/** The checks of a key given as itself (`key`) or as its hash (`key_sha256`). */
function checkSecret(
  raw: { key?: string; key_sha256?: string },
  ctx: z.RefinementCtx,
): void {
  const given = (raw.key !== undefined ? 1 : 0) + (raw.key_sha256 !== undefined ? 1 : 0);
  if (given !== 1) {
    ctx.addIssue({ code: "custom", message: "needs exactly one of key or key_sha256" });
  }
  if (raw.key !== undefined && raw.key.length < 16) {
    ctx.addIssue({
      code: "custom",
      path: ["key"],
      message: "must be at least 16 characters (a short key can be guessed)",
    });
  }
  if (raw.key_sha256 !== undefined && !SHA256_HEX.test(raw.key_sha256)) {
    ctx.addIssue({
      code: "custom",
      path: ["key_sha256"],
      message: "expected 64 hex characters (sha256sum of the key)",
    });
  }
}

/** The key's SHA-256, lowercase hex: only the hash stays in memory, so a heap dump shows no key. */
async function sha256Of(raw: { key?: string; key_sha256?: string }): Promise<string> {
  return raw.key_sha256?.toLowerCase() ?? (await loadKeyHasher())(raw.key ?? "").toHex();
}

const keySchema = z.strictObject({
  name: z.string().min(1),
  key: z.string().optional(),
  key_sha256: z.string().optional(),
  groups: stringList.prefault([]),
  models: stringList.optional(),
  budget: z.preprocess(absentIfNull, budgetSchema.optional()),
}).superRefine(checkSecret).transform(async (raw): Promise<GatewayKeyConfig> => ({
  name: raw.name,
  sha256: await sha256Of(raw),
  groups: raw.groups,
  models: raw.models ?? null,
  budget: raw.budget ?? null,
}));

const adminKeySchema = z.strictObject({
  name: z.string().min(1),
  key: z.string().optional(),
  key_sha256: z.string().optional(),
}).superRefine(checkSecret).transform(async (raw): Promise<AdminKeyConfig> => ({
  name: raw.name,
  sha256: await sha256Of(raw),
}));

/** Reports names used twice in one list, and hashes used twice across both lists. */
function checkDuplicates(
  raw: {
    keys: { name: string; sha256: unknown }[];
    admin_keys: { name: string; sha256: unknown }[];
  },
  ctx: z.RefinementCtx,
): void {
  const hashes = new Map<string, string>();
  for (const list of ["keys", "admin_keys"] as const) {
    const names = new Map<string, number>();
    raw[list].forEach((key, i) => {
      const sameName = names.get(key.name);
      // A key whose own checks failed has no hash; don't report it again as a duplicate.
      const sameKey = typeof key.sha256 === "string" ? hashes.get(key.sha256) : undefined;
      if (sameName !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [list, i, "name"],
          message: `duplicate key name "${key.name}" (first at ${list}[${sameName}])`,
        });
      }
      if (sameKey !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [list, i],
          message: `same key as ${sameKey}; each caller needs its own key`,
        });
      }
      names.set(key.name, names.get(key.name) ?? i);
      if (typeof key.sha256 === "string" && !hashes.has(key.sha256)) {
        hashes.set(key.sha256, `${list}[${i}]`);
      }
    });
  }
}

/** `auth:` */
export const authSchema = z.preprocess(
  absentIfNull,
  z.strictObject({
    enabled: boolean().prefault(false),
    issuer: httpUrl().optional(),
    audience: stringList.optional(),
    jwks_url: httpUrl().optional(),
    cache_ttl: duration().prefault("10m"),
    clock_skew: duration().prefault("30s"),
    groups_claims: stringList.prefault(["groups", "realm_access.roles"]),
    algorithms: stringList.prefault(DEFAULT_JWT_ALGORITHMS),
    keys: z.preprocess(absentIfNull, z.array(keySchema).prefault([])),
    admin_keys: z.preprocess(absentIfNull, z.array(adminKeySchema).prefault([])),
    admin_groups: stringList.prefault([]),
  }).superRefine((raw, ctx) => {
    if (raw.admin_groups.length > 0 && (raw.issuer ?? "") === "") {
      ctx.addIssue({
        code: "custom",
        path: ["admin_groups"],
        message: "needs an issuer: admin groups are read from the identity provider's tokens",
      });
    }
    // With admin keys, the admin API can issue keys: nobody else may be in yet.
    if (
      raw.enabled && (raw.issuer ?? "") === "" && raw.keys.length === 0 &&
      raw.admin_keys.length === 0
    ) {
      ctx.addIssue({
        code: "custom",
        message:
          "auth is enabled but has neither keys, admin_keys nor an issuer: nobody could get in",
      });
    }
    checkDuplicates(raw, ctx);
    if (raw.algorithms.length === 0) {
      ctx.addIssue({ code: "custom", path: ["algorithms"], message: "must list at least one" });
    }
    for (const [i, alg] of raw.algorithms.entries()) {
      if (alg === "none" || alg.startsWith("HS")) {
        ctx.addIssue({
          code: "custom",
          path: ["algorithms", i],
          message: `"${alg}" is not accepted: tokens must be signed with the issuer's private key`,
        });
      }
    }
  }).transform((raw): AuthConfig => ({
    enabled: raw.enabled,
    keys: raw.keys,
    admin_keys: raw.admin_keys,
    admin_groups: raw.admin_groups,
    oidc: (raw.issuer ?? "") === "" ? null : {
      issuer: raw.issuer!,
      audience: raw.audience ?? null,
      jwks_url: raw.jwks_url || null,
      cache_ttl_ms: raw.cache_ttl,
      clock_skew_ms: raw.clock_skew,
      groups_claims: raw.groups_claims,
      algorithms: raw.algorithms,
    },
  })).prefault({}),
);

const ruleSchema = z.strictObject({
  name: z.string().optional(),
  requests: integer(1, MAX_INT, "must be at least 1"),
  tokens: integer(1, MAX_INT, "must be at least 1").optional(),
  window: duration(),
}).transform((raw): LimitRule & { name?: string } => ({
  name: raw.name,
  requests: raw.requests,
  tokens: raw.tokens ?? null,
  window_ms: raw.window,
}));

/** `ratelimit:` */
export const rateLimitSchema = z.preprocess(
  absentIfNull,
  z.strictObject({
    enabled: boolean().prefault(false),
    backend: z.enum(["memory", "redis"]).prefault("memory"),
    redis_address: z.string().regex(/^[^:\s]+:\d{1,5}$/, 'expected "host:port"').prefault(
      "localhost:6379",
    ),
    redis_password: z.string().nullable().transform((v) => v === "" ? null : v).prefault(null),
    redis_db: integer(0, 15, "expected a database number 0-15").prefault(0),
    on_backend_error: z.enum(["allow", "deny"]).prefault("allow"),
    default: ruleSchema.prefault({ requests: 100, window: "1m" }),
    groups: z.preprocess(absentIfNull, z.record(z.string(), ruleSchema).prefault({})),
    group_policy: z.enum(["strictest", "most_generous"]).prefault("strictest"),
  }).superRefine((raw, ctx) => {
    for (const [group, rule] of Object.entries(raw.groups)) {
      if (rule.name !== undefined && rule.name !== group) {
        ctx.addIssue({
          code: "custom",
          path: ["groups", group, "name"],
          message: `"${rule.name}" differs from its key "${group}"; the key names the group`,
        });
      }
    }
  }).transform((raw): RateLimitConfig => ({
    enabled: raw.enabled,
    backend: raw.backend,
    redis_address: raw.redis_address,
    redis_password: raw.redis_password,
    redis_db: raw.redis_db,
    on_backend_error: raw.on_backend_error,
    default: stripName(raw.default),
    groups: Object.fromEntries(Object.entries(raw.groups).map(([k, v]) => [k, stripName(v)])),
    group_policy: raw.group_policy,
  })).prefault({}),
);

function stripName(rule: LimitRule & { name?: string }): LimitRule {
  return { requests: rule.requests, tokens: rule.tokens, window_ms: rule.window_ms };
}

/** `budgets:` */
export const budgetsSchema = z.preprocess(
  absentIfNull,
  z.strictObject({
    groups: z.preprocess(absentIfNull, z.record(z.string(), budgetSchema).prefault({})),
    per_user: z.preprocess(absentIfNull, budgetSchema.optional()),
  }).transform((raw): BudgetsConfig => ({
    groups: raw.groups,
    per_user: raw.per_user ?? null,
  })).prefault({}),
);
