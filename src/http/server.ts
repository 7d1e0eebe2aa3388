import { ConfigError } from "../config/errors.ts";
import type { GatewayConfig, ProviderConfig } from "../config/types.ts";
import type { Engine } from "../core/engine.ts";
import type { ExecutorDeps } from "../core/executor.ts";
import { createGatewayMetrics } from "../observability/gateway_metrics.ts";
import { LiveStats } from "../observability/live_stats.ts";
import type { Logger } from "../observability/logger.ts";
import { PROMETHEUS_CONTENT_TYPE } from "../observability/prometheus.ts";
import type { Provider } from "../core/provider.ts";
import { SpendCache } from "../store/spend_cache.ts";
import type { Store } from "../store/store.ts";
import type { UsageWriter } from "../store/writer.ts";
import type { Context } from "./context.ts";
import { buildGeneration, type Generation } from "./generation.ts";
import type { LastReload } from "./handlers/admin_live.ts";
import { Stores } from "./stores.ts";
import { startStoreService, type StoreServiceOptions } from "./store_service.ts";
import type { ResponseMiddleware } from "./response_middleware.ts";
import {
  type ConnectionEvent,
  type ConnectionLimits,
  type ConnInfo,
  listen,
  serveOnConnection,
} from "./listener.ts";

/** A running gateway. */
export interface RunningServer {
  /** Base URL, e.g. `http://127.0.0.1:8080`. */
  url: string;
  hostname: string;
  port: number;
  /** The engine serving new requests (it changes on reload). */
  readonly engine: Engine;
  /** The usage writer (its counts), null without a store. */
  readonly usageWriter: UsageWriter | null;
  /**
   * What budget checks read; null without a store. The usage writer reports its records to it
   * (`createUsageWriter(store, { track: server.spend })`), so this instance's unwritten spend counts.
   */
  spend: SpendCache | null;
  /** 1 at start, +1 per successful reload. */
  readonly generation: number;
  /**
   * Swaps in a new configuration: new requests use it at once, requests in flight finish on the
   * old one, whose resources are released when its last request ends. A configuration the server
   * cannot take (unreadable certificates, budgets without a store) rejects, is counted as a
   * rejected reload, and the running one stays.
   */
  reload(config: GatewayConfig): Promise<void>;
  /** Records a reload whose configuration could not be read or parsed, and why. */
  rejectReload(error: string): void;
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
  /**
   * The store (`openGatewayStore`) for usage records, virtual keys and the admin API; none
   * without. Opened and closed by the caller: the server writes its queued records at shutdown.
   */
  store?: Store | null;
  /** Store tuning: the usage writer's batching and retries, the key poll (tests shorten them). */
  storeService?: Omit<StoreServiceOptions, "logger">;
}

/** Builds the engine and serves it on the configured host and port. */
export async function startServer(
  config: GatewayConfig,
  options: ServerOptions,
): Promise<RunningServer> {
  const { logger } = options;
  const startedAt = Date.now();
  const shutdownController = new AbortController();
  let current: Generation;
  const metrics = createGatewayMetrics(() => current.engine, { version: options.version });
  const live = new LiveStats();
  let lastReload: LastReload | null = null;
  const spend = options.store ? new SpendCache(options.store, { log: logger }) : null;
  // The writer tells the spend cache what it queued, so budgets count answers not yet written.
  const store = options.store == null ? null : await startStoreService(options.store, {
    ...options.storeService,
    logger,
    track: spend ?? undefined,
    maxStoredResponse: config.responses.max_stored_bytes,
  });
  metrics.usageWriter = () => store?.writer.stats() ?? null;
  metrics.storedResponses = () => store?.responses.stats() ?? null;
  if (store !== null && !config.auth.enabled && config.auth.admin_keys.length > 0) {
    logger.warn("auth is disabled: virtual keys are not checked and every caller is served");
  }
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
    live,
    lastReload: () => lastReload,
    shutdown: shutdownController.signal,
    stores: new Stores(),
    spend,
    store,
  };
  try {
    current = buildGeneration(config, { id: 1, shared });
  } catch (err) {
    await store?.close();
    throw err;
  }

  let tls: TlsPem | undefined;
  try {
    tls = config.server.tls === null ? undefined : await readTls(config.server.tls);
  } catch (err) {
    current.retire();
    await store?.close();
    throw err;
  }
  const onError = (err: unknown) => {
    logger.error("unhandled error", { "error.message": String(err) });
    return new Response(null, { status: 500 });
  };
  const handle: Handle = (request, remoteAddr, info) => {
    const ctx: Context = {
      request,
      path: pathOf(request.url),
      requestId: "",
      caller: null,
      remoteAddr,
      params: {},
      startedAt: performance.now(),
      state: {},
    };
    // A request stays on the generation it started on, even if a reload swaps meanwhile.
    const answer = current.handler(ctx);
    if (info === undefined) return answer;
    if (!(answer instanceof Promise)) {
      info.settle(ctx.completion);
      return answer;
    }
    // The connection counts as busy until a streamed answer has been sent.
    return answer.then((res) => {
      info.settle(ctx.completion);
      return res;
    }, (err) => {
      info.settle();
      throw err;
    });
  };
  let server: Served;
  try {
    server = serveOnConnection() === undefined
      ? serveWithDeno(config, { tls, onError, handle, logger })
      : serveWithLimits(config, { tls, onError, handle, logger, onEvent: metrics.connection });
  } catch (err) {
    current.retire();
    await store?.close();
    throw tls === undefined ? err : tlsError(err);
  }
  metrics.openConnections = () => server.connections;

  function rejected(error: unknown): void {
    const message = error instanceof Error ? error.message : String(error);
    lastReload = { at: Date.now(), result: "rejected", error: message };
    metrics.reload("rejected");
  }

  async function reload(next: GatewayConfig): Promise<void> {
    try {
      await swap(next);
    } catch (error) {
      rejected(error);
      throw error;
    }
  }

  async function swap(next: GatewayConfig): Promise<void> {
    const old = current;
    // Certificates are read again on every reload (a renewed file keeps its path); unreadable
    // ones reject the reload before anything changes.
    const nextTls = next.server.tls === null ? undefined : await readTls(next.server.tls);
    server.setLimits?.(limitsOf(next));
    if (nextTls?.cert !== tls?.cert || nextTls?.key !== tls?.key) {
      // New certificates apply to new connections; open ones keep the session they negotiated.
      if (nextTls !== undefined) checkTls(nextTls);
      server = await server.relisten(nextTls);
      watch(server);
      tls = nextTls;
    }
    if (
      next.server.host !== old.config.server.host || next.server.port !== old.config.server.port
    ) {
      logger.warn("server.host and server.port changes take effect after a restart", {
        "gateway.config.generation": old.id + 1,
      });
    }
    if (JSON.stringify(next.storage) !== JSON.stringify(old.config.storage)) {
      logger.warn("storage changes take effect after a restart", {
        "gateway.config.generation": old.id + 1,
      });
    }
    if (store !== null) store.responses.maxSize = next.responses.max_stored_bytes;
    const gen = buildGeneration(next, { id: old.id + 1, shared });
    if (options.refreshModels !== false) gen.engine.catalog.start();
    current = gen;
    logger.configure(next.logging.level, next.logging.format);
    lastReload = { at: Date.now(), result: "success", error: null };
    metrics.reload("success");
    // Not awaited: the old generation drains while the new one serves.
    old.retire();
    await Promise.resolve();
  }

  // A listener replaced on reload is not the end of the server: its shutdown or failure is.
  const ended = Promise.withResolvers<void>();
  const watch = (served: Served) => served.finished.catch((err) => ended.reject(err));
  watch(server);
  let stopping: Promise<void> | undefined;
  function shutdown(): Promise<void> {
    stopping ??= (async () => {
      const graceful = server.shutdown();
      // Past the grace period, in-flight upstream calls are aborted so streams end now, and a
      // moment later any connection still open (a client still sending its body) is closed.
      const timer = setTimeout(() => {
        shutdownController.abort(new Error("gateway shutting down"));
        const last = setTimeout(() => server.abort(), 1_000);
        Deno.unrefTimer(last);
      }, current.config.server.shutdown_timeout_ms);
      await graceful;
      clearTimeout(timer);
      await current.retire();
      // Every request has ended, so every usage record is queued: written now, or logged as lost.
      await store?.close();
      await logger.flush();
      ended.resolve();
    })();
    return stopping;
  }

  if (options.refreshModels !== false) current.engine.catalog.start();
  const addr = server.addr;
  const host = addr.hostname.includes(":") ? `[${addr.hostname}]` : addr.hostname;
  return {
    url: `${tls === undefined ? "http" : "https"}://${host}:${addr.port}`,
    hostname: addr.hostname,
    port: addr.port,
    get engine() {
      return current.engine;
    },
    get generation() {
      return current.id;
    },
    spend: shared.spend,
    usageWriter: store?.writer ?? null,
    reload,
    rejectReload: (error) => rejected(error),
    shutdown,
    finished: ended.promise,
  };
}

/** What serves the connections: the gateway's own accept loop, or Deno.serve where it must. */
interface Served {
  addr: Deno.NetAddr;
  /** Settles when serving stopped (rejects if it failed, as Deno.serve does). */
  finished: Promise<void>;
  shutdown(): Promise<void>;
  /** Closes every connection now. */
  abort(): void;
  /** Client connections open (0 where Deno.serve does not tell). */
  readonly connections: number;
  setLimits?(limits: ConnectionLimits): void;
  /** Stops this listener (its connections drain) and listens anew, with new certificates. */
  relisten(tls: TlsPem | undefined): Promise<Served>;
}

type TlsPem = { cert: string; key: string };
type Handle = (
  request: Request,
  remoteAddr: string,
  info?: ConnInfo,
) => Promise<Response> | Response;
type OnError = (err: unknown) => Response;

/** How to serve: certificates, the request handler, where errors and connection events go. */
interface ServeParts {
  tls: TlsPem | undefined;
  onError: OnError;
  handle: Handle;
  logger: Logger;
  onEvent?: (event: ConnectionEvent) => void;
}

function serveWithLimits(config: GatewayConfig, parts: ServeParts): Served {
  const { tls, onError, handle, logger, onEvent } = parts;
  const listener = listen({
    hostname: config.server.host,
    port: config.server.port,
    tls,
    logger,
    limits: limitsOf(config),
    onError,
    onEvent,
  }, (request, info) => handle(request, info.remoteAddr.hostname, info));
  return {
    addr: listener.addr,
    finished: listener.finished,
    shutdown: () => listener.shutdown(),
    abort: () => listener.abort(),
    get connections() {
      return listener.connections;
    },
    setLimits: (limits) => listener.setLimits(limits),
    async relisten(next) {
      const draining = listener.shutdown();
      await listener.unbound;
      // The same address, even where the first listener was given a free port (port 0).
      const same = { ...config, server: { ...config.server, port: listener.addr.port } };
      const fresh = serveWithLimits(same, { ...parts, tls: next });
      fresh.finished = Promise.all([fresh.finished, draining]).then(() => {});
      return await Promise.resolve(fresh);
    },
  };
}

/** Deno.serve, where the runtime lacks the per-connection server: limits are not enforced. */
function serveWithDeno(config: GatewayConfig, parts: ServeParts): Served {
  const { tls, onError, handle, logger } = parts;
  logger.warn(
    "this Deno has no per-connection HTTP server: server.header_timeout, idle_timeout and " +
      "max_connections are not enforced (put a proxy in front)",
  );
  const server = Deno.serve({
    hostname: config.server.host,
    port: config.server.port,
    ...(tls ?? {}),
    onListen: () => {},
    onError,
  }, (request, info) => handle(request, info.remoteAddr.hostname));
  return {
    addr: server.addr,
    finished: server.finished,
    shutdown: () => server.shutdown(),
    abort: () => {},
    connections: 0,
    async relisten(next) {
      await server.shutdown();
      const same = { ...config, server: { ...config.server, port: server.addr.port } };
      return serveWithDeno(same, { ...parts, tls: next });
    },
  };
}

/** The connection limits of a configuration. */
function limitsOf(config: GatewayConfig): ConnectionLimits {
  const { header_timeout_ms, idle_timeout_ms, max_connections } = config.server;
  return { header_timeout_ms, idle_timeout_ms, max_connections };
}

/** A listener that could not start on the configured certificates is a configuration error. */
function tlsError(err: unknown): unknown {
  if (err instanceof Deno.errors.AddrInUse || err instanceof Deno.errors.PermissionDenied) {
    return err;
  }
  return new ConfigError([{
    path: "server.tls",
    message: `cannot serve HTTPS with these files: ${(err as Error)?.message ?? err}`,
  }]);
}

/** Throws a configuration error unless a listener can start on these certificates. */
function checkTls(pem: TlsPem): void {
  try {
    // A throwaway listener on a free loopback port: the one way to have Deno load the pair.
    Deno.listenTls({ hostname: "127.0.0.1", port: 0, ...pem }).close();
  } catch (err) {
    throw tlsError(err);
  }
}

/** Reads the PEM files of `server.tls`; a missing or unreadable one is a configuration error. */
async function readTls(files: { cert: string; key: string }): Promise<TlsPem> {
  const read = async (field: "cert" | "key") => {
    try {
      const text = await Deno.readTextFile(files[field]);
      if (!text.includes("-----BEGIN ")) throw new Error("not a PEM file");
      return text;
    } catch (err) {
      throw new ConfigError([{
        path: `server.tls.${field}`,
        message: `cannot read ${JSON.stringify(files[field])}: ${(err as Error).message}`,
      }]);
    }
  };
  const [cert, key] = await Promise.all([read("cert"), read("key")]);
  return { cert, key };
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
