import type { GatewayConfig, ProviderConfig } from "../config/types.ts";
import { createEngine, type Engine } from "../core/engine.ts";
import type { ExecutorDeps } from "../core/executor.ts";
import { createOidcVerifier } from "../auth/oidc.ts";
import type { RateLimitConfig } from "../config/types.ts";
import { accessLog } from "../middleware/access_log.ts";
import { authenticate } from "../middleware/auth.ts";
import { rateLimit } from "../middleware/rate_limit.ts";
import type { RateLimiter } from "../ratelimit/limiter.ts";
import { createMemoryLimiter } from "../ratelimit/memory.ts";
import { createRedisLimiter } from "../ratelimit/redis.ts";
import { requestId } from "../middleware/request_id.ts";
import type { Logger } from "../observability/logger.ts";
import type { Provider } from "../providers/provider.ts";
import { createProvider as registryProvider } from "../providers/registry.ts";
import type { Context, Middleware } from "./context.ts";
import { compose } from "./middleware.ts";
import { OPEN_PATHS, router, routes } from "./routes.ts";

/** A running gateway. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  hostname: string;
  port: number;
  engine: Engine;
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
  /** Start the background model refresh (default true). */
  refreshModels?: boolean;
}

/** Builds the engine and serves it on the configured host and port. */
export function startServer(config: GatewayConfig, options: ServerOptions): Promise<RunningServer> {
  const { logger } = options;
  const engine = createEngine(config, options.createProvider ?? registryProvider, options.executor);
  const shutdownController = new AbortController();
  const limiter = config.ratelimit.enabled ? createLimiter(config.ratelimit) : null;
  const verifier = config.auth.enabled && config.auth.oidc !== null
    ? createOidcVerifier(config.auth.oidc)
    : null;
  const middleware: Middleware[] = [
    requestId(),
    accessLog(logger),
    authenticate(config.auth, { verifier, open: OPEN_PATHS }),
  ];
  if (limiter !== null) {
    middleware.push(rateLimit(config.ratelimit, { limiter, logger, open: OPEN_PATHS }));
  }
  const handler = compose(middleware, router(routes(engine, options.version)));

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
      const ctx: Context = {
        request,
        shutdown: shutdownController.signal,
        url: new URL(request.url),
        requestId: "",
        caller: null,
        remoteAddr: info.remoteAddr.hostname,
        params: {},
        state: {},
      };
      return handler(ctx);
    });
  } catch (err) {
    engine.close();
    limiter?.close();
    return Promise.reject(err);
  }

  let stopping: Promise<void> | undefined;
  function shutdown(): Promise<void> {
    stopping ??= (async () => {
      engine.catalog.stop();
      const graceful = server.shutdown();
      // Past the grace period, in-flight upstream calls are aborted so streams end now.
      const timer = setTimeout(
        () => shutdownController.abort(new Error("gateway shutting down")),
        config.server.shutdown_timeout_ms,
      );
      await graceful;
      clearTimeout(timer);
      engine.close();
      await limiter?.close();
      await logger.flush();
    })();
    return stopping;
  }

  if (options.refreshModels !== false) engine.catalog.start();
  const addr = server.addr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return Promise.resolve({
    url: `http://${host}:${addr.port}`,
    hostname: addr.hostname,
    port: addr.port,
    engine,
    shutdown,
    finished: server.finished,
  });
}

function createLimiter(config: RateLimitConfig): RateLimiter {
  if (config.backend === "memory") return createMemoryLimiter();
  return createRedisLimiter({
    address: config.redis_address,
    password: config.redis_password,
    db: config.redis_db,
  });
}
