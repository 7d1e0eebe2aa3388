import type { OidcVerifier } from "../auth/oidc.ts";
import type { Engine } from "../core/engine.ts";
import { accessLog, fallbackPath as servedPath } from "../middleware/access_log.ts";
import { authenticate, createIdentifier } from "../middleware/auth.ts";
import { budgetCheck } from "../middleware/budget.ts";
import { usageRecords } from "../middleware/usage_records.ts";
import { rateLimit } from "../middleware/rate_limit.ts";
import type { GatewayMetrics } from "../observability/gateway_metrics.ts";
import type { LiveStats } from "../observability/live_stats.ts";
import type { Logger } from "../observability/logger.ts";
import type { RateLimiter } from "../ratelimit/limiter.ts";
import type { SpendCache } from "../store/spend_cache.ts";
import type { Context, Handler, Middleware } from "./context.ts";
import { adminHandlers } from "./handlers/admin.ts";
import type { GenerationFacts } from "./handlers/admin_live.ts";
import { uiHandlers } from "./handlers/ui.ts";
import { isLocalClient } from "./local.ts";
import type { StoreService } from "./store_service.ts";
import { entry, type RequestObserver } from "./entry.ts";
import type { InfoFacts } from "./handlers/info.ts";
import { compose } from "./middleware.ts";
import type { Completion, ResponseMiddleware } from "./response_middleware.ts";
import { ADMIN_PREFIX, pathsOf, router, routes } from "./routes.ts";

/** What the app is built from besides the engine. */
export interface AppOptions {
  logger: Logger;
  metrics: GatewayMetrics;
  /** `GET /metrics` */
  metricsHandler: Handler;
  /** What `/v1/info` tells about the process and the generation. */
  info: InfoFacts;
  /** Hooks run on every proxied response (see `ResponseMiddleware`). */
  responseMiddleware: readonly ResponseMiddleware[];
  /** The stores the middleware uses (see `Stores`). */
  stores: { limiter: RateLimiter | null; verifier: OidcVerifier | null };
  /** The spend budgets are checked against; null without a store (and then without budgets). */
  spend: SpendCache | null;
  /** The store's usage writer and virtual keys; null without a store. */
  store: StoreService | null;
  /** The dashboard's live stats (fed here by every API request) and the generation's facts. */
  live: { stats: LiveStats; generation: GenerationFacts };
  /** Observers after the access log and the metrics (the generation's drain count, say). */
  observers: readonly RequestObserver[];
}

/**
 * The handler for one configuration: the entry (request id, errors, observers), then the
 * middleware (authentication, rate limits, budgets), then the route table.
 */
export function buildApp(engine: Engine, options: AppOptions): Handler {
  const { config } = engine;
  const { logger, stores, store } = options;
  const virtualKeys = store?.keys ?? null;
  const noAdmins = config.auth.admin_keys.length === 0 && config.auth.admin_groups.length === 0;
  // Auth off entirely: the dashboard reads the admin API without a key, from where it is served.
  const authOff = noAdmins && !config.auth.enabled;
  const uiClients = config.ui.public ? () => true : isLocalClient;
  const openReads = authOff && config.ui.enabled ? uiClients : undefined;
  const admin = noAdmins && openReads === undefined ? null : adminHandlers({
    auth: config.auth,
    identify: createIdentifier(config.auth, { verifier: stores.verifier, virtualKeys }),
    store,
    logger,
    live: { stats: options.live.stats, engine, generation: options.live.generation },
    openReads,
  });
  const ui = config.ui.enabled
    ? uiHandlers({
      localOnly: authOff && !config.ui.public,
      admin: openReads !== undefined ? "open" : admin === null ? "off" : "key",
    })
    : null;
  const table = routes(engine, {
    admin,
    ui,
    info: options.info,
    metrics: options.metricsHandler,
    proxy: {
      responseMiddleware: options.responseMiddleware,
      onHookError: (name, err) =>
        logger.error("response middleware failed", {
          "gateway.middleware": name,
          "error.message": String(err),
        }),
      onUnknownPrice: (provider, model) =>
        logger.warn("no price for model; its answers have no cost", {
          "gateway.provider": provider,
          "gateway.model": model,
        }),
      responses: store?.responses ?? null,
    },
  });
  const open = pathsOf(table, (r) => r.open === true);
  const middleware: Middleware[] = [];
  // A middleware that would only call next() is left out: each layer costs a promise per request.
  if (config.auth.enabled) {
    middleware.push(
      authenticate(config.auth, { verifier: stores.verifier, virtualKeys, open }),
    );
  }
  if (stores.limiter !== null) {
    middleware.push(rateLimit(config.ratelimit, { limiter: stores.limiter, logger, open }));
  }
  // With a store, budgets can come with any virtual key, so the check stays in the chain; a
  // caller without budgets passes it without a read.
  if (config.auth.enabled && options.spend !== null) {
    const spending = pathsOf(table, (r) => r.spends === true);
    middleware.push(budgetCheck(config.budgets, { spend: options.spend, spending }));
  }
  const routed = router(table);
  const chain = compose(middleware, routed);
  // The admin API checks admin keys itself: gateway credentials and rate limits do not apply.
  const app = middleware.length === 0 ? chain : function dispatch(ctx: Context) {
    return ctx.path.startsWith(ADMIN_PREFIX) ? routed(ctx) : chain(ctx);
  };
  const apiPaths = pathsOf(table, (r) => r.usage === true);
  const usage = store === null ? [] : [
    usageRecords(store.writer, { paths: apiPaths, authenticated: config.auth.enabled }),
  ];
  return entry(app, {
    observers: [
      accessLog(logger, pathsOf(table, (r) => r.quiet === true)),
      metricsObserver(options.metrics, pathsOf(table)),
      liveObserver(options.live.stats, apiPaths),
      ...usage,
      ...options.observers,
    ],
    logger,
  });
}

/** Tells the metrics about each request, in their terms: a bounded route label, plain facts. */
function metricsObserver(metrics: GatewayMetrics, routes: ReadonlySet<string>): RequestObserver {
  return {
    start: () => metrics.requestStarted(),
    end(ctx, status, durationMs, done) {
      metrics.requestEnded({
        route: routes.has(ctx.path) ? ctx.path : "other",
        status,
        seconds: durationMs / 1000,
        provider: ctx.state["gateway.provider"] as string | undefined,
        model: ctx.state["gateway.model"] as string | undefined,
        answer: done,
      });
    },
  };
}

/**
 * Tells the live stats about each API request. The endpoint it hands over is the route table's
 * own string, which the stats may keep without keeping the request's.
 */
function liveObserver(stats: LiveStats, apiPaths: ReadonlySet<string>): RequestObserver {
  const endpoints = new Map([...apiPaths].map((path) => [path, path]));
  return {
    end(ctx, status, durationMs, done) {
      const path = ctx.path;
      const endpoint = endpoints.get(path) ??
        (path.endsWith("/") ? endpoints.get(path.slice(0, -1)) : undefined);
      if (endpoint === undefined) return;
      const state = ctx.state;
      const usage = done?.usage ?? null;
      stats.requestEnded({
        time: Math.round(performance.timeOrigin + ctx.startedAt),
        request_id: ctx.requestId,
        caller: ctx.caller?.name ?? null,
        endpoint,
        model: textOf(state["gateway.requested_model"]),
        provider: done?.provider ?? textOf(state["gateway.provider"]),
        served_model: done?.model ?? textOf(state["gateway.model"]),
        status,
        latency_ms: Math.round(durationMs * 10) / 10,
        ttfb_ms: done === undefined ? null : Math.round(done.ttfb_ms * 10) / 10,
        stream: done?.stream ?? state["gateway.stream"] === true,
        input_tokens: usage?.prompt_tokens ?? null,
        output_tokens: usage?.completion_tokens ?? null,
        cost_usd: done?.cost_usd ?? null,
        fallback_path: fallbackPath(ctx, done),
      }, state["error.code"]);
    },
  };
}

const NO_FALLBACKS: readonly string[] = [];

/** The access log's `gateway.fallback_path`: each failed attempt, then the one that served. */
function fallbackPath(ctx: Context, done: Completion | undefined): readonly string[] {
  if (done === undefined) {
    const failed = ctx.state["gateway.fallback_path"];
    return Array.isArray(failed) ? failed : NO_FALLBACKS;
  }
  return done.attempts.length === 0 ? NO_FALLBACKS : servedPath(done);
}

function textOf(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}
