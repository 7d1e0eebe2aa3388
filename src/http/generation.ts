import type { GatewayConfig, ProviderConfig } from "../config/types.ts";
import { createEngine, type Engine } from "../core/engine.ts";
import { type ExecutionEvents, NO_EVENTS } from "../core/events.ts";
import { ENDPOINT_PATHS } from "../core/provider.ts";
import type { ExecutorDeps } from "../core/executor.ts";
import { budgetFields, requireStoreForBudgets } from "../middleware/budget.ts";
import { attemptLogEvents } from "../observability/attempt_log.ts";
import type { GatewayMetrics } from "../observability/gateway_metrics.ts";
import type { LiveStats } from "../observability/live_stats.ts";
import type { Logger } from "../observability/logger.ts";
import { tracingEvents } from "../observability/tracing.ts";
import type { Provider } from "../core/provider.ts";
import { createProvider as registryProvider } from "../providers/registry.ts";
import type { SpendCache } from "../store/spend_cache.ts";
import { buildApp } from "./app.ts";
import type { Handler } from "./context.ts";
import type { LastReload } from "./handlers/admin_live.ts";
import type { ResponseMiddleware } from "./response_middleware.ts";
import type { Stores } from "./stores.ts";
import type { StoreService } from "./store_service.ts";

/** Everything that outlives a configuration: logger, metrics, process facts. */
export interface SharedServerState {
  logger: Logger;
  version: string;
  /** Unix ms when the process started. */
  startedAt: number;
  metrics: GatewayMetrics;
  metricsHandler: Handler;
  /** The dashboard's live stats (`GET /admin/stats`, `GET /admin/requests`). */
  live: LiveStats;
  /** How the last configuration reload went; null before any. */
  lastReload: () => LastReload | null;
  createProvider?: (config: ProviderConfig) => Provider;
  executor?: ExecutorDeps;
  /** Hooks run on every proxied response (see `ResponseMiddleware`). */
  responseMiddleware?: readonly ResponseMiddleware[];
  /** Fires when the shutdown grace period ends: in-flight upstream work stops. */
  shutdown: AbortSignal;
  /** The rate limiter and OIDC verifier, handed from generation to generation. */
  stores: Stores;
  /** The spend budgets are checked against; null without a store. */
  spend: SpendCache | null;
  /** The store's usage writer and virtual keys; null without a store. */
  store: StoreService | null;
}

/**
 * One configuration being served: its engine and handler, and the stores it took. A reload
 * builds the next generation; the old one is released once its last in-flight request ends.
 */
export interface Generation {
  id: number;
  config: GatewayConfig;
  engine: Engine;
  /** Serves one request (it counts as in flight until its response has been fully sent). */
  handler: Handler;
  /** No new requests; resources are released when the last one leaves. */
  retire(): Promise<void>;
}

/** Builds generation `id`: its engine and handler, with the stores its configuration needs. */
export function buildGeneration(
  config: GatewayConfig,
  options: { id: number; shared: SharedServerState },
): Generation {
  const { id, shared } = options;
  const { logger, metrics } = shared;
  requireStoreForBudgets(config, shared.spend !== null);
  if (!config.auth.enabled && budgetFields(config).length > 0) {
    logger.warn("budgets are configured but auth is disabled: with no caller, none applies");
  }
  const events = combineEvents(
    metrics.events,
    shared.live.events,
    tracingEvents(),
    // Left out above debug: an observer costs a closure per attempt even when it writes nothing.
    config.logging.level === "debug" ? attemptLogEvents(logger) : NO_EVENTS,
  );
  const engine = createEngine(config, shared.createProvider ?? registryProvider, {
    ...shared.executor,
    events: shared.executor?.events ?? events,
    shutdown: shared.shutdown,
    onUnlearned: (provider, endpoint) =>
      logger.info(
        `provider "${provider}" does not serve ${
          ENDPOINT_PATHS[endpoint]
        }: translating from now on`,
        { "gateway.provider": provider },
      ),
  });
  // Taken once the engine is built: a configuration the engine refuses takes no store.
  const stores = shared.stores.take(config);
  let inflight = 0;
  let retired = false;
  let releasing = false;
  const released = Promise.withResolvers<void>();

  function releaseWhenDrained(): void {
    if (!retired || inflight > 0 || releasing) return;
    releasing = true;
    (async () => {
      engine.close();
      await stores.release();
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
  const handler = buildApp(engine, {
    logger,
    metrics,
    metricsHandler: shared.metricsHandler,
    info: { version: shared.version, startedAt: shared.startedAt, generation: id },
    responseMiddleware: shared.responseMiddleware ?? [],
    stores,
    spend: shared.spend,
    store: shared.store,
    live: {
      stats: shared.live,
      generation: { id, loadedAt: Date.now(), lastReload: shared.lastReload },
    },
    observers: [drain],
  });
  shared.live.track(config.providers.filter((p) => p.enabled).map((p) => p.name));

  return {
    id,
    config,
    engine,
    handler,
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
