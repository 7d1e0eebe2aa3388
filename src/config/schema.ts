/**
 * Zod schemas for the YAML document (after `${VAR}` interpolation), transforming the raw
 * snake_case form into the normalised `GatewayConfig`. Objects are strict: unknown keys are errors.
 */

import { z } from "zod";
import {
  absentIfNull,
  boolean,
  describeValue,
  duration,
  httpUrl,
  integer,
  name,
  nonNegativeNumber,
  positiveNumber,
  size,
} from "./fields.ts";
import { authSchema, budgetsSchema, rateLimitSchema } from "./access_schema.ts";
import { PROVIDER_PRESETS, PROVIDER_TYPES } from "./presets.ts";
import type {
  AliasConfig,
  LoggingConfig,
  ModelPrice,
  ModelsConfig,
  ProviderConfig,
  ResponsesApiMode,
  ResponsesConfig,
  RoutingConfig,
  ServerConfig,
  StorageConfig,
  StrategyConfig,
  UiConfig,
} from "./types.ts";

export { PROVIDER_TYPES } from "./presets.ts";

const LOG_LEVELS = ["debug", "info", "warn", "error"] as const;
const STRATEGY_MODES = ["fallback", "loadbalance"] as const;
const MAX_INT = Number.MAX_SAFE_INTEGER;
// RFC 9110 token: anything else would make fetch() throw at request time instead of at startup.
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

const tlsSchema = z.preprocess(
  absentIfNull,
  z.strictObject({
    cert: z.string().min(1, "expected the path of a PEM certificate chain"),
    key: z.string().min(1, "expected the path of a PEM private key"),
  }).nullable().prefault(null),
);

const serverSchema = z.preprocess(
  absentIfNull,
  z.strictObject({
    host: z.string().min(1).prefault("127.0.0.1"),
    port: integer(0, 65535, "expected a port number between 0 and 65535 (0 picks a free port)")
      .prefault(8080),
    max_body_size: size().prefault("10MB"),
    max_response_size: size().prefault("64MB"),
    max_json_depth: integer(1, 10_000, "must be between 1 and 10000").prefault(128),
    shutdown_timeout: duration().prefault("10s"),
    header_timeout: duration().prefault("30s"),
    body_timeout: duration().prefault("30s"),
    idle_timeout: duration().prefault("60s"),
    max_connections: integer(1, MAX_INT, "must be at least 1").prefault(10_000),
    tls: tlsSchema,
  }).transform((raw): ServerConfig => ({
    host: raw.host,
    port: raw.port,
    max_body_bytes: raw.max_body_size,
    max_response_bytes: raw.max_response_size,
    max_json_depth: raw.max_json_depth,
    shutdown_timeout_ms: raw.shutdown_timeout,
    header_timeout_ms: raw.header_timeout,
    body_timeout_ms: raw.body_timeout,
    idle_timeout_ms: raw.idle_timeout,
    max_connections: raw.max_connections,
    tls: raw.tls,
  })).prefault({}),
);

/** `postgres://` or `postgresql://` with a host; never echoed back, as it may hold a password. */
function isPostgresUrl(text: string): boolean {
  if (!URL.canParse(text)) return false;
  const url = new URL(text);
  return (url.protocol === "postgres:" || url.protocol === "postgresql:") && url.hostname !== "";
}

/** An empty value (what an unset `${VAR:-}` leaves) means "not given". */
const optionalText = z.string().transform((text) => text.trim() === "" ? null : text.trim())
  .optional();

const storageSchema = z.preprocess(
  // `storage: false` is `storage: {enabled: false}`.
  (value) => value === false ? { enabled: false } : absentIfNull(value),
  z.strictObject({
    enabled: z.boolean().default(true),
    path: optionalText,
    url: optionalText,
  }).superRefine((raw, ctx) => {
    if ((raw.url ?? null) !== null && !isPostgresUrl(raw.url!)) {
      ctx.addIssue({
        code: "custom",
        path: ["url"],
        message: 'expected a Postgres URL such as "postgres://user:password@host:5432/gateway"',
      });
    }
    if ((raw.url ?? null) !== null && (raw.path ?? null) !== null) {
      ctx.addIssue({
        code: "custom",
        message: "give path (an SQLite file) or url (a Postgres server), not both",
      });
    }
  }).transform((raw): StorageConfig | "off" =>
    raw.enabled ? { path: raw.path ?? null, url: raw.url ?? null } : "off"
  )
    .nullable().prefault(null),
);

const responsesSchema = z.preprocess(
  absentIfNull,
  z.strictObject({
    retention: duration().prefault("30d"),
    max_stored_size: size().prefault("1MB"),
  }).superRefine((raw, ctx) => {
    if (raw.retention <= 0) {
      ctx.addIssue({ code: "custom", path: ["retention"], message: "must be more than 0" });
    }
  }).transform((raw): ResponsesConfig => ({
    retention_ms: raw.retention,
    max_stored_bytes: raw.max_stored_size,
  })).prefault({}),
);

const uiSchema = z.preprocess(
  absentIfNull,
  z.strictObject({
    enabled: boolean().prefault(true),
    public: boolean().prefault(false),
  }).transform((raw): UiConfig => ({ enabled: raw.enabled, public: raw.public })).prefault({}),
);

const loggingSchema = z.preprocess(
  absentIfNull,
  z.strictObject({
    // "warning" is what Python and many ops people type; accept it rather than nag.
    level: z.preprocess((v) => v === "warning" ? "warn" : v, z.enum(LOG_LEVELS)).prefault("info"),
    format: z.enum(["json", "pretty"]).prefault("json"),
  }).transform((raw): LoggingConfig => raw).prefault({}),
);

const circuitBreakerSchema = z.preprocess(
  absentIfNull,
  z.strictObject({
    failure_threshold: integer(1, MAX_INT, "must be at least 1").prefault(5),
    cooldown: duration().prefault("30s"),
  }).prefault({}),
);

const routingSchema = z.preprocess(
  absentIfNull,
  z.strictObject({
    backoff_base: duration().prefault("200ms"),
    backoff_max: duration().prefault("5s"),
    retry_after_cap: duration().prefault("30s"),
    stream_idle_timeout: duration().prefault("60s"),
    pool_idle_timeout: duration().prefault("4s"),
    circuit_breaker: circuitBreakerSchema,
  }).superRefine((raw, ctx) => {
    if (raw.backoff_base > raw.backoff_max) {
      ctx.addIssue({ code: "custom", path: ["backoff_max"], message: "must be >= backoff_base" });
    }
  }).transform((raw): RoutingConfig => ({
    backoff_base_ms: raw.backoff_base,
    backoff_max_ms: raw.backoff_max,
    retry_after_cap_ms: raw.retry_after_cap,
    stream_idle_timeout_ms: raw.stream_idle_timeout,
    pool_idle_timeout_ms: raw.pool_idle_timeout,
    circuit_breaker: {
      failure_threshold: raw.circuit_breaker.failure_threshold,
      cooldown_ms: raw.circuit_breaker.cooldown,
    },
  })).prefault({}),
);

const modelsSchema = z.preprocess(
  absentIfNull,
  z.strictObject({
    refresh_interval: duration().prefault("5m"),
    fetch_timeout: duration().prefault("10s"),
  }).transform((raw): ModelsConfig => ({
    refresh_interval_ms: raw.refresh_interval,
    fetch_timeout_ms: raw.fetch_timeout,
  })).prefault({}),
);

/** "provider/model"; the model part may itself contain "/" (OpenRouter ids do). */
const providerModel = z.string().refine((text) => {
  const slash = text.indexOf("/");
  return slash > 0 && slash < text.length - 1;
}, { error: (issue) => `expected "provider/model", got ${JSON.stringify(issue.input)}` });

const targetSchema = z.preprocess(
  (v) => typeof v === "string" ? { model: v } : v,
  z.strictObject({
    model: providerModel,
    weight: positiveNumber().prefault(1),
  }, { error: targetShapeError }),
);

function targetShapeError(issue: z.core.$ZodRawIssue): string | undefined {
  return issue.code === "invalid_type" && issue.input !== undefined
    ? `expected "provider/model" or {model: "provider/model", weight: n}`
    : undefined;
}

const strategySchema = z.strictObject({
  name: name(),
  providers: z.array(z.string().min(1)).min(1).optional(),
  mode: z.enum(STRATEGY_MODES).optional(),
  targets: z.array(targetSchema).min(1).optional(),
}).superRefine((raw, ctx) => {
  const label = JSON.stringify(raw.name);
  if (raw.providers !== undefined && raw.targets !== undefined) {
    ctx.addIssue({
      code: "custom",
      message: `strategy ${label} has both providers and targets; use one`,
    });
  } else if (raw.providers === undefined && raw.targets === undefined) {
    ctx.addIssue({
      code: "custom",
      message: `strategy ${label} needs providers (a fallback chain) or targets (a virtual model)`,
    });
  } else if (raw.providers !== undefined && raw.mode !== undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["mode"],
      message: "mode applies only to a strategy with targets",
    });
  }
}).transform((raw): StrategyConfig =>
  raw.targets === undefined
    ? { kind: "chain", name: raw.name, providers: raw.providers ?? [] }
    : { kind: "virtual", name: raw.name, mode: raw.mode ?? "fallback", targets: raw.targets }
);

/**
 * `aliases:`, a mapping from a bare model name (or a pattern with one `*`) to "provider/model" or
 * a strategy. Only the spelling is checked here; `checks.ts` looks the targets up.
 */
const aliasesSchema = z.preprocess(
  absentIfNull,
  // Values are checked here rather than by a string schema, which would hide the other issues.
  z.record(z.string(), z.unknown()).superRefine((aliases, ctx) => {
    for (const [pattern, target] of Object.entries(aliases)) {
      const badPattern = aliasPatternProblem(pattern);
      if (badPattern !== undefined) {
        ctx.addIssue({
          code: "custom",
          path: [pattern],
          message: badPattern,
          params: { atKey: true },
        });
      }
      const badTarget = aliasTargetProblem(pattern, target);
      if (badTarget !== undefined) {
        ctx.addIssue({ code: "custom", path: [pattern], message: badTarget });
      }
    }
  }).transform((aliases): AliasConfig[] =>
    Object.entries(aliases).map(([pattern, target]) => ({ pattern, target: String(target) }))
  ).prefault({}),
);

function aliasPatternProblem(pattern: string): string | undefined {
  if (pattern.trim() === "") return "an alias pattern must not be empty";
  if (pattern.includes("/")) {
    return `an alias pattern is a bare model name and must not contain "/" ` +
      `("provider/model" names are routed as they are)`;
  }
  if (stars(pattern) > 1) return `an alias pattern may hold at most one "*"`;
  return undefined;
}

function aliasTargetProblem(pattern: string, target: unknown): string | undefined {
  if (typeof target !== "string") {
    return `expected "provider/model" or a strategy name, got ${describeValue(target)}`;
  }
  const slash = target.indexOf("/");
  const star = target.indexOf("*");
  if (target.trim() === "" || slash === 0 || slash === target.length - 1) {
    return `expected "provider/model" or a strategy name, got ${JSON.stringify(target)}`;
  }
  if (star === -1) return undefined;
  if (stars(target) > 1) return `an alias target may hold at most one "*"`;
  if (!pattern.includes("*")) {
    return `a "*" in the target (the requested name) needs a "*" in the pattern; name the model`;
  }
  // A "*" in the provider part would make the provider depend on the request: unverifiable here.
  if (slash === -1 || star < slash) {
    return `a "*" may stand only in the model part of "provider/model"`;
  }
  return undefined;
}

function stars(text: string): number {
  return text.split("*").length - 1;
}

/** `price:` of a static model, in USD per million tokens; `cached_input` defaults to `input`. */
const priceSchema = z.preprocess(
  absentIfNull,
  z.strictObject({
    input: nonNegativeNumber(),
    output: nonNegativeNumber(),
    cached_input: z.preprocess(absentIfNull, nonNegativeNumber().optional())
      .transform((v) => v ?? null),
  }).transform((raw): ModelPrice => raw).nullable().prefault(null),
);

const staticModelSchema = z.preprocess(
  (v) => typeof v === "string" ? { name: v } : v,
  z.strictObject({
    name: z.string().min(1),
    allowed_groups: z.array(z.string().min(1)).nullable().prefault(null),
    max_output_tokens: integer(1, MAX_INT, "must be at least 1").nullable().prefault(null),
    price: priceSchema,
  }),
);

const headersSchema = z.preprocess(
  absentIfNull,
  z.record(z.string(), z.string()).superRefine((headers, ctx) => {
    for (const key of Object.keys(headers)) {
      if (!HEADER_NAME.test(key)) {
        ctx.addIssue({
          code: "custom",
          path: [key],
          message: "not a valid HTTP header name",
          params: { atKey: true },
        });
      }
    }
  }).prefault({}),
);

const providerSchema = z.strictObject({
  name: name(),
  type: z.string().refine((type) => PROVIDER_TYPES.includes(type), {
    error: (issue) =>
      `unknown provider type ${JSON.stringify(issue.input)}; valid types: ${
        PROVIDER_TYPES.join(", ")
      }`,
  }).prefault("openai"),
  enabled: boolean().prefault(true),
  target_url: httpUrl().optional(),
  // An empty key (e.g. `${KEY:-}`) means "no key", the same as null.
  api_key: z.string().nullable().transform((key) => key === "" ? null : key).prefault(null),
  timeout: duration().prefault("30s"),
  max_retries: integer(0, MAX_INT, "must not be negative").prefault(2),
  headers: headersSchema,
  models: z.preprocess(absentIfNull, z.array(staticModelSchema).prefault([])),
  api_version: z.string().min(1).nullable().prefault(null),
  default_max_tokens: integer(1, MAX_INT, "must be at least 1").prefault(4096),
  deployments: z.preprocess(absentIfNull, z.record(z.string(), z.string().min(1)).prefault({})),
  responses_api: z.enum(["auto", "native", "translate"]).optional(),
}).superRefine((raw, ctx) => {
  const adapter = PROVIDER_PRESETS[raw.type]?.adapter;
  if (
    raw.responses_api !== undefined && raw.responses_api !== "translate" && adapter !== "openai"
  ) {
    ctx.addIssue({
      code: "custom",
      path: ["responses_api"],
      message: `type "${raw.type}" does not speak the Responses API; only "translate" applies`,
    });
  }
  // A disabled provider is never contacted, so an unresolved (empty) URL is tolerated there.
  if (!raw.enabled) return;
  const preset = PROVIDER_PRESETS[raw.type];
  if ((raw.target_url ?? "") === "" && preset?.base_url === undefined) {
    ctx.addIssue({
      code: "custom",
      path: ["target_url"],
      // Same wording as zod's missing key, so a did-you-mean on a typo supersedes it.
      message: raw.target_url === undefined ? "missing required key" : "expected an http(s) URL",
    });
  }
  if (preset?.needs_key && raw.api_key === null) {
    const hint = preset.key_env ? ` (e.g. api_key: "\${${preset.key_env}}")` : "";
    ctx.addIssue({
      code: "custom",
      path: ["api_key"],
      message: `type "${raw.type}" needs an API key${hint}`,
    });
  }
}).transform((raw): ProviderConfig => ({
  name: raw.name,
  type: raw.type,
  enabled: raw.enabled,
  target_url: raw.target_url || (PROVIDER_PRESETS[raw.type]?.base_url ?? ""),
  api_key: raw.api_key,
  timeout_ms: raw.timeout,
  max_retries: raw.max_retries,
  headers: raw.headers,
  models: raw.models,
  api_version: raw.api_version,
  default_max_tokens: raw.default_max_tokens,
  deployments: raw.deployments,
  responses_api: responsesApiOf(raw.type, raw.target_url, raw.responses_api),
}));

/** Whether a `type: openai` provider is OpenAI itself (no `target_url`, or OpenAI's). */
function isOpenAI(targetUrl: string | undefined): boolean {
  if ((targetUrl ?? "") === "") return true;
  try {
    return new URL(targetUrl!).hostname === "api.openai.com";
  } catch {
    return false;
  }
}

/**
 * A provider's `responses_api` when the config sets none: OpenAI itself (no `target_url`) and the
 * presets known to speak it are native, other OpenAI-compatible servers are tried (`auto`), and
 * other adapters translated.
 */
function responsesApiOf(
  type: string,
  targetUrl: string | undefined,
  configured: ResponsesApiMode | undefined,
): ResponsesApiMode {
  if (configured !== undefined) return configured;
  const preset = PROVIDER_PRESETS[type];
  if (preset?.adapter !== "openai") return "translate";
  if (type === "openai") return isOpenAI(targetUrl) ? "native" : "auto";
  return preset.responses_api ?? "auto";
}

/** The whole document: raw YAML value in, `GatewayConfig` out. */
export const gatewayConfigSchema = z.strictObject({
  auth: authSchema,
  ratelimit: rateLimitSchema,
  budgets: budgetsSchema,
  storage: storageSchema,
  responses: responsesSchema,
  ui: uiSchema,
  server: serverSchema,
  logging: loggingSchema,
  routing: routingSchema,
  models: modelsSchema,
  strategies: z.preprocess(absentIfNull, z.array(strategySchema).prefault([])),
  aliases: aliasesSchema,
  providers: z.preprocess(absentIfNull, z.array(providerSchema).prefault([])),
}, {
  error: (issue) =>
    issue.code === "invalid_type" ? "expected a mapping at the top level" : undefined,
});
