import type { GatewayConfig, ProviderConfig } from "../config/types.ts";
import type { Engine } from "../core/engine.ts";
import type { ExecutorDeps } from "../core/executor.ts";
import { createGatewayMetrics } from "../observability/gateway_metrics.ts";
import type { Logger } from "../observability/logger.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../observability/prometheus.ts";
import type { Provider } from "../providers/provider.ts";
import { buildGeneration, type Generation } from "./generation.ts";
import { exposedGc, IdleCollector } from "./idle_gc.ts";
import type { ResponseMiddleware } from "./response_middleware.ts";
import { ROUTE_PATHS } from "./routes.ts";

/** A running gateway. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  hostname: string;
  port: number;
  /** The engine serving new requests (it changes on reload). */
  readonly engine: Engine;
  /** 1 at start, +1 per successful reload. */
  readonly generation: number;
  /**
   * Swaps in a new configuration: new requests use it at once, requests in flight finish on the
   * old one, whose resources are released when its last request ends.
   */
  reload(config: GatewayConfig): Promise<void>;
  /** Counts a reload whose configuration was invalid (the running one stays). */
  rejectReload(): void;
  /** Stops accepting, lets in-flight requests finish (up to the shutdown timeout), then aborts them. */
  shutdown(): Promise<void>;
  /** Resolves once the server has stopped. */
  finished: Promise<void>;
}

/** Options for `startServer`. */
export interface ServerOptions {
  logger: Logger;
  version: string;
  /** Provider factory; defaults to the registry. Tests may inject one. */
  createProvider?: (config: ProviderConfig) => Provider;
  executor?: ExecutorDeps;
  /** Hooks run on every proxied response (see `ResponseMiddleware`). */
  responseMiddleware?: readonly ResponseMiddleware[];
  /** Start the background model refresh (default true). */
  refreshModels?: boolean;
}

/** Builds the engine and serves it on the configured host and port. */
export function startServer(config: GatewayConfig, options: ServerOptions): Promise<RunningServer> {
  const { logger } = options;
  const startedAt = Date.now();
  const shutdownController = new AbortController();
  let current: Generation;
  const metrics = createGatewayMetrics(() => current.engine, {
    version: options.version,
    routes: ROUTE_PATHS,
  });
  const gc = exposedGc();
  const idle = gc === undefined ? undefined : new IdleCollector({
    gc,
    onCollect: ({ beforeBytes, afterBytes, ms }) =>
      logger.debug("idle: heap collected", {
        "gateway.heap.before_bytes": beforeBytes,
        "gateway.heap.after_bytes": afterBytes,
        "event.duration": Math.round(ms * 1e6),
      }),
  });
  const shared = {
    logger,
    version: options.version,
    startedAt,
    metrics,
    metricsHandler: () =>
      new Response(metrics.registry.expose(), {
        headers: { "content-type": PROMETHEUS_CONTENT_TYPE },
      }),
    createProvider: options.createProvider,
    executor: options.executor,
    responseMiddleware: options.responseMiddleware,
    shutdown: shutdownController.signal,
    idle,
  };
  current = buildGeneration(config, 1, shared, null);

  let server: Deno.HttpServer<Deno.NetAddr>;
  try {
    server = Deno.serve({
      hostname: config.server.host,
      port: config.server.port,
      onListen: () => {},
      onError: (err) => {
        logger.error("unhandled error", { "error.message": String(err) });
        return new Response(null, { status: 500 });
      },
    }, (request, info) => {
      // A request stays on the generation it started on, even if a reload swaps meanwhile.
      return current.handler({
        request,
        path: pathOf(request.url),
        requestId: "",
        caller: null,
        remoteAddr: info.remoteAddr.hostname,
        params: {},
        startedAt: performance.now(),
        state: {},
      });
    });
  } catch (err) {
    current.retire();
    return Promise.reject(err);
  }

  async function reload(next: GatewayConfig): Promise<void> {
    const old = current;
    if (
      next.server.host !== old.config.server.host || next.server.port !== old.config.server.port
    ) {
      logger.warn("server.host and server.port changes take effect after a restart", {
        "gateway.config.generation": old.id + 1,
      });
    }
    const gen = buildGeneration(next, old.id + 1, shared, old);
    if (options.refreshModels !== false) gen.engine.catalog.start();
    current = gen;
    logger.configure(next.logging.level, next.logging.format);
    metrics.reload("success");
    // Not awaited: the old generation drains while the new one serves.
    old.retire();
    await Promise.resolve();
  }

  let stopping: Promise<void> | undefined;
  function shutdown(): Promise<void> {
    stopping ??= (async () => {
      const graceful = server.shutdown();
      // Past the grace period, in-flight upstream calls are aborted so streams end now.
      const timer = setTimeout(
        () => shutdownController.abort(new Error("gateway shutting down")),
        current.config.server.shutdown_timeout_ms,
      );
      await graceful;
      clearTimeout(timer);
      idle?.close();
      await current.retire();
      await logger.flush();
    })();
    return stopping;
  }

  if (options.refreshModels !== false) current.engine.catalog.start();
  const addr = server.addr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return Promise.resolve({
    url: `http://${host}:${addr.port}`,
    hostname: addr.hostname,
    port: addr.port,
    get engine() {
      return current.engine;
    },
    get generation() {
      return current.id;
    },
    reload,
    rejectReload: () => metrics.reload("rejected"),
    shutdown,
    finished: server.finished,
  });
}

/** The path of an absolute URL, without parsing the whole URL (it is needed on every request). */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  if (start < 0) return "/";
  const query = url.indexOf("?", start);
  const hash = url.indexOf("#", start);
  const end = query < 0 ? (hash < 0 ? url.length : hash) : query;
  return url.slice(start, end);
}
