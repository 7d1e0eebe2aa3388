/**
 * The validated, normalised configuration the rest of the gateway reads.
 * Durations are milliseconds, defaults are filled in, `${VAR}` references are resolved.
 */

import type { Budget } from "../store/store.ts";

/** Log levels, least to most severe. */
export type LogLevel = "debug" | "info" | "warn" | "error";

/** `server:` section. */
export interface ServerConfig {
  host: string;
  port: number;
  /** Largest accepted request body; larger bodies get 413. */
  max_body_bytes: number;
  /** Largest non-streamed upstream answer the gateway buffers; beyond it the attempt fails (502). */
  max_response_bytes: number;
  /** Deepest nesting of arrays and objects accepted in a JSON request body (400 beyond). */
  max_json_depth: number;
  /** How long in-flight requests get to finish on SIGINT/SIGTERM. */
  shutdown_timeout_ms: number;
  /** Time a client gets to send a complete request head. */
  header_timeout_ms: number;
  /** Longest wait between two bytes of a request body. */
  body_timeout_ms: number;
  /** How long a keep-alive connection may sit idle between requests. */
  idle_timeout_ms: number;
  /** Concurrent client connections served; beyond it new ones are refused. */
  max_connections: number;
  /** PEM certificate chain and key paths: serve HTTPS (HTTP/2 by ALPN) instead of HTTP. */
  tls: { cert: string; key: string } | null;
}

/** `logging:` section. */
export interface LoggingConfig {
  level: LogLevel;
  /** `json`: ECS JSON lines; `pretty`: one readable line per event. */
  format: "json" | "pretty";
}

/** Circuit breaker settings (shared by all providers unless overridden). */
export interface CircuitBreakerConfig {
  /** Consecutive failures that open the breaker. */
  failure_threshold: number;
  /** How long an open breaker skips the provider before letting one probe through. */
  cooldown_ms: number;
}

/** `routing:` section: retry/backoff/timeouts shared by every provider. */
export interface RoutingConfig {
  /** First backoff delay; doubles per retry, with full jitter. */
  backoff_base_ms: number;
  /** Upper bound for one backoff delay. */
  backoff_max_ms: number;
  /** Longest `Retry-After` the gateway honours; longer ones move on to the next target. */
  retry_after_cap_ms: number;
  /** Longest silence allowed between two chunks of a stream. */
  stream_idle_timeout_ms: number;
  /** An idle pooled upstream connection older than this is closed, not reused. */
  pool_idle_timeout_ms: number;
  circuit_breaker: CircuitBreakerConfig;
}

/** `models:` section: background model-list refresh. */
export interface ModelsConfig {
  refresh_interval_ms: number;
  fetch_timeout_ms: number;
}

/** A model's prices in USD per million tokens. */
export interface ModelPrice {
  input: number;
  output: number;
  /** Input tokens read from the provider's prompt cache; null: they cost `input`. */
  cached_input: number | null;
}

/** One entry of a provider's static `models:` list. */
export interface StaticModelConfig {
  name: string;
  /** When set, only callers in one of these groups may use this model. */
  allowed_groups: string[] | null;
  /** The model's output limit: a translated Messages request's `max_tokens` is lowered to it. */
  max_output_tokens: number | null;
  /** Overrides the built-in price of this model at this provider (`src/core/pricing.ts`). */
  price: ModelPrice | null;
}

/** One `providers[]` entry. */
export interface ProviderConfig {
  name: string;
  /** Adapter kind; `openai` means any OpenAI-compatible server. */
  type: string;
  enabled: boolean;
  /** Base URL, without trailing slash. May or may not end in `/v1`. */
  target_url: string;
  /** Resolved key, or null when the provider needs none. */
  api_key: string | null;
  /** Bound on one attempt (for a stream: until the first byte). */
  timeout_ms: number;
  max_retries: number;
  /** Extra static headers sent upstream. */
  headers: Record<string, string>;
  models: StaticModelConfig[];
  /**
   * Provider API version: Anthropic's `anthropic-version` header, Azure's `api-version` query,
   * Gemini's path version. Null means the adapter's default.
   */
  api_version: string | null;
  /** Anthropic: `max_tokens` sent when the request sets none (Anthropic requires it). */
  default_max_tokens: number;
  /** Azure: model name -> deployment name (a model not listed is used as the deployment name). */
  deployments: Record<string, string>;
  /**
   * How `/v1/responses` reaches this provider: `native` (it speaks the Responses API), `translate`
   * (through Chat Completions), or `auto` (native until it answers 404/405, then translated).
   */
  responses_api: ResponsesApiMode;
}

/** See `ProviderConfig.responses_api`. */
export type ResponsesApiMode = "auto" | "native" | "translate";

/** One target of a virtual-model strategy. */
export interface StrategyTarget {
  /** "provider/model" */
  model: string;
  /** Load-balancing weight (> 0); default 1. */
  weight: number;
}

/** Seed-form strategy: `providers: [a, b, c]` is a fallback chain between providers. */
export interface ChainStrategyConfig {
  kind: "chain";
  name: string;
  providers: string[];
}

/** Virtual model: `targets: [...]`, requested as `"model": name`. */
export interface VirtualStrategyConfig {
  kind: "virtual";
  name: string;
  mode: "fallback" | "loadbalance";
  targets: StrategyTarget[];
}

/** A `strategies[]` entry. */
export type StrategyConfig = ChainStrategyConfig | VirtualStrategyConfig;

/**
 * One `aliases:` entry: a bare model name, or a pattern with one `*` (one or more characters),
 * and the name it stands for.
 */
export interface AliasConfig {
  /** A name without "/"; `claude-*` matches `claude-haiku-4-5`. */
  pattern: string;
  /**
   * "provider/model" or the name of a strategy with targets. With a wildcard pattern, a `*` in
   * the model part stands for the requested name: `anthropic/*` gets `claude-haiku-4-5` as it is.
   */
  target: string;
}

/** One static gateway key (`auth.keys[]`). */
export interface GatewayKeyConfig {
  /** Caller name: used for rate limits and logs (never the key itself). */
  name: string;
  /** SHA-256 of the key, lowercase hex (from `key` or `key_sha256`). */
  sha256: string;
  groups: string[];
  /** When set, the only models (`provider/model`, `provider/*`, or a strategy) this key may use. */
  models: string[] | null;
  /** What this key may spend per period; null for no limit. */
  budget: Budget | null;
}

/** One key of the admin API (`auth.admin_keys[]`). */
export interface AdminKeyConfig {
  /** Who holds it, for the access log. */
  name: string;
  /** SHA-256 of the key, lowercase hex (from `key` or `key_sha256`). */
  sha256: string;
}

/** OIDC/JWT verification settings (`auth.issuer` and friends). */
export interface OidcConfig {
  /** Expected `iss`; also where discovery starts (`/.well-known/openid-configuration`). */
  issuer: string;
  /** Accepted `aud` values; null means `aud` is not checked. */
  audience: string[] | null;
  /** JWKS URL; null means discovered from the issuer. */
  jwks_url: string | null;
  /** How long discovered metadata and keys are cached. */
  cache_ttl_ms: number;
  /** Tolerance for `exp`/`nbf`/`iat`. */
  clock_skew_ms: number;
  /** Claims holding groups, dotted paths (default `groups`, `realm_access.roles`). */
  groups_claims: string[];
  /** Accepted signature algorithms. */
  algorithms: string[];
}

/** `auth:` section. */
export interface AuthConfig {
  enabled: boolean;
  keys: GatewayKeyConfig[];
  /** Keys of the admin API (`/admin/*`); none (and no `admin_groups`) leaves it off. */
  admin_keys: AdminKeyConfig[];
  /** Token groups whose members may use the admin API (OIDC callers only). */
  admin_groups: string[];
  /** Null when no issuer is configured (static keys only). */
  oidc: OidcConfig | null;
}

/** A limit: requests (and optionally tokens) per window. */
export interface LimitRule {
  requests: number;
  /** Tokens per window (prompt + completion, as providers report); null for no token limit. */
  tokens: number | null;
  window_ms: number;
}

/** `ratelimit:` section. */
export interface RateLimitConfig {
  enabled: boolean;
  backend: "memory" | "redis";
  /** `host:port` of the Redis server. */
  redis_address: string;
  redis_password: string | null;
  redis_db: number;
  /** What to do when the backend cannot be reached. */
  on_backend_error: "allow" | "deny";
  default: LimitRule;
  /** Group name -> rule; a caller in several groups gets one rule, chosen by `group_policy`. */
  groups: Record<string, LimitRule>;
  /** Which group rule applies to a caller in several: the most restrictive (default) or generous. */
  group_policy: "strictest" | "most_generous";
}

/** `budgets:` section: spend limits that are not a key's own (those are on `auth.keys[]`). */
export interface BudgetsConfig {
  /** Group name -> the budget all its members share. */
  groups: Record<string, Budget>;
  /** The budget of each token subject (a JWT caller), each counted apart; null for none. */
  per_user: Budget | null;
}

/** `storage:` section: where virtual keys, usage and spend are kept. */
export interface StorageConfig {
  /** SQLite file; null means the default (`./data/gateway.db`) unless `url` is set. */
  path: string | null;
  /** Postgres URL (`postgres://user:password@host:5432/db`); null for SQLite. */
  url: string | null;
}

/**
 * `responses:` section: the Responses API's responses the gateway keeps itself (those it answers
 * by translation, when the request does not say `store: false`).
 */
export interface ResponsesConfig {
  /** How long a response is kept from its creation; then it is gone for reads and purged. */
  retention_ms: number;
  /** Largest response kept (its input items and response object as JSON); larger ones are not. */
  max_stored_bytes: number;
}

/** `ui:` section: the dashboard at `/ui`. */
export interface UiConfig {
  /** Serve the dashboard (default true); false leaves `/ui` out (404). */
  enabled: boolean;
  /**
   * With auth off entirely (no `auth.enabled`, no admin keys or groups) the dashboard is served
   * to clients on the gateway's own host only, unless this is true.
   */
  public: boolean;
}

/** The whole validated configuration. */
export interface GatewayConfig {
  auth: AuthConfig;
  ratelimit: RateLimitConfig;
  budgets: BudgetsConfig;
  /**
   * Null without a `storage:` block: the default SQLite file, if it can be written. `"off"` for
   * `storage: false`: no store, and none of the features that need one.
   */
  storage: StorageConfig | "off" | null;
  responses: ResponsesConfig;
  ui: UiConfig;
  server: ServerConfig;
  logging: LoggingConfig;
  routing: RoutingConfig;
  models: ModelsConfig;
  strategies: StrategyConfig[];
  /** In the order written; precedence among them is the alias table's (core/aliases.ts). */
  aliases: AliasConfig[];
  providers: ProviderConfig[];
}
