import type { GatewayConfig, ProviderConfig } from "../config/types.ts";
import type { Provider, UpstreamSettings } from "./provider.ts";
import { type AccessPolicy, createAccessPolicy } from "./access.ts";
import { type Catalog, createCatalog } from "./catalog.ts";
import { createExecutor, type Executor, type ExecutorDeps } from "./executor.ts";
import { createRedactor, type Redactor } from "./redact.ts";
import { createRouter, type Router } from "./router.ts";

/** The engine: everything that serves a request, built from one configuration. */
export interface Engine {
  config: GatewayConfig;
  providers: ReadonlyMap<string, Provider>;
  router: Router;
  executor: Executor;
  catalog: Catalog;
  /** Which caller may use which model. */
  access: AccessPolicy;
  /** Replaces the providers' keys in an upstream's words before a client or a log sees them. */
  redact: Redactor;
  /** Stops background work and closes connection pools. */
  close(): void;
}

/** Builds the engine; `createProvider` comes from the provider registry (core knows no adapter). */
export function createEngine(
  config: GatewayConfig,
  createProvider: (config: ProviderConfig, settings: UpstreamSettings) => Provider,
  deps: ExecutorDeps = {},
): Engine {
  const providers = new Map<string, Provider>();
  const settings: UpstreamSettings = {
    poolIdleTimeoutMs: config.routing.pool_idle_timeout_ms,
    maxResponseBytes: config.server.max_response_bytes,
  };
  for (const p of config.providers) {
    if (p.enabled) providers.set(p.name, createProvider(p, settings));
  }
  const router = createRouter(config, providers, { random: deps.random });
  const timeouts = config.providers.filter((p) => p.enabled).map((p) => p.timeout_ms);
  const redact = createRedactor(config.providers);
  const executor = createExecutor(config.routing, deps, {
    shortestTimeoutMs: timeouts.length > 0 ? Math.min(...timeouts) : undefined,
    redact,
  });
  const catalog = createCatalog([...providers.values()], router, config.models);
  return {
    config,
    providers,
    router,
    executor,
    catalog,
    access: createAccessPolicy(config, router.aliases),
    redact,
    close() {
      catalog.stop();
      executor.close();
      for (const p of providers.values()) p.close();
    },
  };
}
