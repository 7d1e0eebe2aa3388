import type { Caller } from "../auth/caller.ts";
import type { LimitRule, RateLimitConfig } from "../config/types.ts";
import { GatewayError } from "../core/errors.ts";
import type { Outcome } from "../core/executor.ts";
import { isRecord, type JsonObject } from "../core/json.ts";
import { stripUsageChunk } from "../core/usage.ts";
import type { Context, Middleware, TokenBudget } from "../http/context.ts";
import { errorResponse, errorShapeOf } from "../http/errors.ts";
import type { Completion } from "../http/response_middleware.ts";
import type { Logger } from "../observability/logger.ts";
import {
  type LimitDecision,
  RateLimitBackendError,
  type RateLimiter,
} from "../ratelimit/limiter.ts";
import { createMemoryLimiter } from "../ratelimit/memory.ts";

/**
 * The limit for a caller: a virtual key's own `rate_limit` when it has one; else, among the rules
 * of its groups, the most restrictive (`strictest`) or the most generous (`most_generous`) by
 * `compareRules`, the first listed group winning a tie; else default.
 */
export function ruleFor(config: RateLimitConfig, caller: Caller | null): LimitRule {
  if (caller?.rateLimit != null) return caller.rateLimit;
  const sign = config.group_policy === "strictest" ? -1 : 1;
  let chosen: LimitRule | undefined;
  for (const group of caller?.groups ?? []) {
    const rule = config.groups[group];
    if (rule === undefined) continue;
    if (chosen === undefined || Math.sign(compareRules(rule, chosen)) === sign) chosen = rule;
  }
  return chosen ?? config.default;
}

/**
 * Orders rules from most restrictive to most generous: by request rate (requests per window), then
 * by token rate (no token budget being unlimited). Negative when `a` is the more restrictive.
 */
function compareRules(a: LimitRule, b: LimitRule): number {
  // Cross-multiplied so that equal rates over different windows (10/1m, 600/1h) compare equal.
  const byRequests = a.requests * b.window_ms - b.requests * a.window_ms;
  if (byRequests !== 0) return byRequests;
  if (a.tokens === null || b.tokens === null) {
    return a.tokens === b.tokens ? 0 : a.tokens === null ? 1 : -1;
  }
  return a.tokens * b.window_ms - b.tokens * a.window_ms;
}

/**
 * Rate-limit identity: a virtual key's id (its name may be a config key's too), the caller's
 * name, or the client address when auth is off.
 */
function limitKey(ctx: Context): string {
  const caller = ctx.caller;
  if (caller === null) return `ip:${ctx.remoteAddr}`;
  return caller.keyId !== undefined ? `vkey:${caller.keyId}` : `${caller.kind}:${caller.name}`;
}

/**
 * Per-caller limits on requests (and tokens, counted from reported usage) per sliding window.
 * Over the limit: 429 with Retry-After and x-ratelimit-* headers. When the store is unreachable,
 * `on_backend_error` decides, and the outage is logged once, not per request. A caller with a
 * token budget gets `ctx.tokenBudget`, which the proxy shows its request and answer.
 */
export function rateLimit(
  config: RateLimitConfig,
  options: { limiter: RateLimiter; logger: Logger; open: ReadonlySet<string> },
): Middleware {
  const { limiter, logger } = options;
  let outage = false;

  async function decide(key: string, rule: LimitRule): Promise<LimitDecision | null> {
    try {
      const decision = await limiter.check(key, rule);
      if (outage) {
        outage = false;
        logger.info("rate limit backend is reachable again", {
          "gateway.ratelimit": config.backend,
        });
      }
      return decision;
    } catch (err) {
      if (!(err instanceof RateLimitBackendError)) throw err;
      if (!outage) {
        outage = true;
        logger.error("rate limit backend unreachable", {
          "gateway.ratelimit": config.backend,
          "gateway.ratelimit.on_backend_error": config.on_backend_error,
          "error.message": err.message,
        });
      }
      if (config.on_backend_error === "allow") return null;
      throw new GatewayError(
        "rate_limit_unavailable",
        "rate limiting is unavailable and the gateway is configured to refuse requests meanwhile",
      );
    }
  }

  return async function rateLimitMiddleware(ctx: Context, next) {
    if (!config.enabled || options.open.has(ctx.path)) return next();
    const key = limitKey(ctx);
    const rule = ruleFor(config, ctx.caller);
    const decision = await decide(key, rule);
    if (decision === null) return next();
    const headers = limitHeaders(decision);
    if (!decision.allowed) {
      headers["retry-after"] = String(Math.max(1, Math.ceil(decision.reset_ms / 1000)));
      const what = decision.exceeded === "tokens"
        ? `${rule.tokens} tokens`
        : `${rule.requests} requests`;
      // For the access log and the live stats, as the budget check's refusals are.
      ctx.state["error.code"] = "rate_limit_exceeded";
      return errorResponse(
        429,
        {
          message: `rate limit exceeded: ${what} per ${rule.window_ms / 1000}s; retry after ${
            headers["retry-after"]
          }s`,
          type: "rate_limit_error",
          code: "rate_limit_exceeded",
        },
        headers,
        errorShapeOf(ctx.path, ctx.request.headers),
      );
    }
    if (rule.tokens !== null) {
      ctx.tokenBudget = new RequestTokens((tokens) => {
        limiter.addTokens(key, rule, tokens).catch((err) => {
          logger.warn("could not record token usage", { "error.message": String(err) });
        });
      });
    }
    const res = await next();
    for (const [name, value] of Object.entries(headers)) res.headers.set(name, value);
    return res;
  };
}

/**
 * One request of a caller with a token budget: its answer's reported tokens are counted. Without
 * `count` it only makes a stream report its usage (a spend budget needs the stream's cost).
 */
export class RequestTokens implements TokenBudget {
  #count: ((tokens: number) => void) | undefined;
  #hideUsage = false;

  constructor(count?: (tokens: number) => void) {
    this.#count = count;
  }

  askUsage(body: JsonObject, stream: boolean): void {
    const options = isRecord(body.stream_options) ? body.stream_options : undefined;
    if (!stream || options?.include_usage === true) return;
    body.stream_options = { ...options, include_usage: true };
    this.#hideUsage = true;
  }

  settle(outcome: Outcome, completion: Promise<Completion>): void {
    const count = this.#count;
    if (count !== undefined) {
      completion.then((done) => {
        if (done.usage !== null) count(done.usage.total_tokens);
      });
    }
    // The client did not ask for the usage chunk: it gets the stream it would have got.
    if (this.#hideUsage && outcome.kind === "stream") outcome.body = stripUsageChunk(outcome.body);
  }
}

/** The store `ratelimit.backend` names; the Redis client is loaded only when it is used. */
export function createLimiter(config: RateLimitConfig): RateLimiter {
  if (config.backend === "memory") return createMemoryLimiter();
  // The Redis client is slow to load: only a gateway that uses it pays for it.
  const ready = import("../ratelimit/redis.ts").then((m) =>
    m.createRedisLimiter({
      address: config.redis_address,
      password: config.redis_password,
      db: config.redis_db,
    })
  );
  return {
    check: async (key, rule) => (await ready).check(key, rule),
    addTokens: async (key, rule, tokens) => (await ready).addTokens(key, rule, tokens),
    close: async () => (await ready).close(),
  };
}

function limitHeaders(d: LimitDecision): Record<string, string> {
  return {
    "x-ratelimit-limit": String(d.limit),
    "x-ratelimit-remaining": String(Math.max(0, d.remaining)),
    "x-ratelimit-reset": String(Math.ceil(d.reset_ms / 1000)),
  };
}
