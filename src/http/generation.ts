import type { OidcVerifier } from "../auth/oidc.ts";
import type { GatewayConfig, ProviderConfig } from "../config/types.ts";
import { createEngine, type Engine } from "../core/engine.ts";
import { type ExecutionEvents, NO_EVENTS } from "../core/events.ts";
import type { ExecutorDeps } from "../core/executor.ts";
import { accessLog } from "../middleware/access_log.ts";
import { authenticate, createVerifier } from "../middleware/auth.ts";
import { createLimiter, rateLimit } from "../middleware/rate_limit.ts";
import { attemptLogEvents } from "../observability/attempt_log.ts";
import type { GatewayMetrics } from "../observability/gateway_metrics.ts";
import type { Logger } from "../observability/logger.ts";
import { tracingEvents } from "../observability/tracing.ts";
import type { Provider } from "../core/provider.ts";
import { createProvider as registryProvider } from "../providers/registry.ts";
import type { RateLimiter } from "../ratelimit/limiter.ts";
import type { Handler, Middleware } from "./context.ts";
import { entry, type RequestObserver } from "./entry.ts";
import { compose } from "./middleware.ts";
import type { ResponseMiddleware } from "./response_middleware.ts";
import { pathsOf, router, routes } from "./routes.ts";

/** Everything that outlives a configuration: logger, metrics, process facts. */
export interface SharedServerState {
  logger: Logger;
  version: string;
  /** Unix ms when the process started. */
  startedAt: number;
  metrics: GatewayMetrics;
  metricsHandler: Handler;
  createProvider?: (config: ProviderConfig) => Provider;
  executor?: ExecutorDeps;
  /** Hooks run on every proxied response (see `ResponseMiddleware`). */
  responseMiddleware?: readonly ResponseMiddleware[];
  /** Fires when the shutdown grace period ends: in-flight upstream work stops. */
  shutdown: AbortSignal;
  /** Sees every request, across generations (absent when V8's gc is not exposed). */
  idle?: RequestObserver;
}

/**
 * One configuration being served: its engine, middleware and stores. A reload builds the next
 * generation; the old one is released once its last in-flight request ends.
 */
export interface Generation {
  id: number;
  config: GatewayConfig;
  engine: Engine;
  /** Serves one request (it counts as in flight until its response has been fully sent). */
  handler: Handler;
  /** No new requests; resources are released when the last one leaves. */
  retire(): Promise<void>;
  /** Stores a reload may take over. */
  readonly stores: Stores;
}

/** Stores that survive a reload when their settings did not change (counts, JWKS cache). */
export interface Stores {
  limiter: RateLimiter | null;
  limiterKey: string;
  verifier: OidcVerifier | null;
  verifierKey: string;
  /** The next generation took the limiter over: retiring this one must not close it. */
  limiterHandedOn: boolean;
}

/** Builds a generation, reusing the previous one's stores where their settings are unchanged. */
export function buildGeneration(
  config: GatewayConfig,
  id: number,
  shared: SharedServerState,
  previous: Generation | null,
): Generation {
  const { logger, metrics } = shared;
  const stores = buildStores(config, previous?.stores ?? null);
  const events = combineEvents(
    metrics.events,
    tracingEvents(),
    // Left out above debug: an observer costs a closure per attempt even when it writes nothing.
    config.logging.level === "debug" ? attemptLogEvents(logger) : NO_EVENTS,
  );
  const engine = createEngine(config, shared.createProvider ?? registryProvider, {
    ...shared.executor,
    events: shared.executor?.events ?? events,
    shutdown: shared.shutdown,
  });
  const table = routes(engine, {
    info: { version: shared.version, startedAt: shared.startedAt, generation: id },
    metrics: shared.metricsHandler,
    proxy: {
      responseMiddleware: shared.responseMiddleware ?? [],
      onHookError: (name, err) =>
        logger.error("response middleware failed", {
          "gateway.middleware": name,
          "error.message": String(err),
        }),
    },
  });
  const open = pathsOf(table, (r) => r.open === true);
  const middleware: Middleware[] = [];
  // A middleware that would only call next() is left out: each layer costs a promise per request.
  if (config.auth.enabled) {
    middleware.push(authenticate(config.auth, { verifier: stores.verifier, open }));
  }
  if (stores.limiter !== null) {
    middleware.push(
      rateLimit(config.ratelimit, { limiter: stores.limiter, logger, open }),
    );
  }
  let inflight = 0;
  let retired = false;
  let releasing = false;
  const released = Promise.withResolvers<void>();

  function releaseWhenDrained(): void {
    if (!retired || inflight > 0 || releasing) return;
    releasing = true;
    (async () => {
      engine.close();
      if (stores.limiter !== null && !stores.limiterHandedOn) await stores.limiter.close();
    })().then(released.resolve, released.resolve);
  }

  // The generation counts its requests like any observer: one in flight until its last byte.
  const drain = {
    start: () => {
      inflight++;
    },
    end: () => {
      inflight--;
      releaseWhenDrained();
    },
  };
  const handler = entry(compose(middleware, router(table)), {
    observers: [
      accessLog(logger, pathsOf(table, (r) => r.quiet === true)),
      metricsObserver(metrics, pathsOf(table)),
      drain,
      ...(shared.idle ? [shared.idle] : []),
    ],
    logger,
  });

  return {
    id,
    config,
    engine,
    handler,
    stores,
    retire() {
      if (!retired) {
        retired = true;
        engine.catalog.stop();
        releaseWhenDrained();
      }
      return released.promise;
    },
  };
}

function buildStores(config: GatewayConfig, old: Stores | null): Stores {
  const limiterKey = config.ratelimit.enabled ? JSON.stringify(config.ratelimit) : "";
  const verifierKey = config.auth.enabled && config.auth.oidc !== null
    ? JSON.stringify(config.auth.oidc)
    : "";
  const reuseLimiter = limiterKey !== "" && old?.limiterKey === limiterKey;
  if (reuseLimiter) old!.limiterHandedOn = true;
  return {
    limiterKey,
    verifierKey,
    limiterHandedOn: false,
    limiter: limiterKey === ""
      ? null
      : reuseLimiter
      ? old!.limiter
      : createLimiter(config.ratelimit),
    verifier: verifierKey === ""
      ? null
      : old?.verifierKey === verifierKey
      ? old.verifier
      : createVerifier(config.auth.oidc!),
  };
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

/** Fans executor events out to several observers (a no-op observer is left out). */
function combineEvents(...given: ExecutionEvents[]): ExecutionEvents {
  const all = given.filter((e) => e !== NO_EVENTS);
  if (all.length <= 1) return all[0] ?? NO_EVENTS;
  return {
    attempt(info) {
      const ends = all.map((e) => e.attempt(info));
      return (result) => {
        for (const end of ends) end(result);
      };
    },
    retry: (provider) => all.forEach((e) => e.retry(provider)),
    fallback: (from, to) => all.forEach((e) => e.fallback(from, to)),
  };
}
