import type { Logger } from "../observability/logger.ts";

/** Connection limits enforced by the gateway's own accept loop. */
export interface ConnectionLimits {
  /** Time from accept to a first complete request head. */
  header_timeout_ms: number;
  /** Time a keep-alive connection may wait, with nothing in flight, for its next request head. */
  idle_timeout_ms: number;
  /** Connections served at once; beyond it the longest-idle one makes room, or the new one is refused. */
  max_connections: number;
}

/** Where and how to listen. */
export interface ListenOptions {
  hostname: string;
  port: number;
  /** PEM contents (not paths): serve HTTPS, with HTTP/2 offered by ALPN. */
  tls?: { cert: string; key: string };
  logger: Logger;
  limits: ConnectionLimits;
  onError: (err: unknown) => Response | Promise<Response>;
  /** Told of each connection the gateway closes or refuses, and of each failed accept. */
  onEvent?: (event: ConnectionEvent) => void;
}

/** Why the listener closed or refused a connection, or that accepting one failed. */
export type ConnectionEvent =
  | "header_timeout"
  | "idle_timeout"
  | "evicted"
  | "refused"
  | "accept_failed";

/** Connection information given to the handler. */
export interface ConnInfo {
  remoteAddr: Deno.NetAddr;
  /**
   * Ends one request's busy time, once its answer is ready (or failed); with `until` (a stream's
   * end), once that settles. A connection with work in flight is never closed as idle. The
   * handler calls it exactly once per request it does not throw from synchronously.
   */
  settle(until?: Promise<unknown>): void;
}

/** The handler the accept loop calls for each request; see `ConnInfo.settle`. */
export type ConnHandler = (request: Request, info: ConnInfo) => Promise<Response> | Response;

/** A running listener. */
export interface GatewayListener {
  readonly addr: Deno.NetAddr;
  /** Connections open now. */
  readonly connections: number;
  /** Stops accepting, closes idle connections, lets in-flight requests finish, then resolves. */
  shutdown(): Promise<void>;
  /** Resolves once the accept loop has ended and the address is free again (after `shutdown`). */
  readonly unbound: Promise<void>;
  /** Closes every connection at once. */
  abort(): void;
  /** Resolves once the listener and its last connection are closed. */
  readonly finished: Promise<void>;
  /** Applies new limits to open and future connections. */
  setLimits(limits: ConnectionLimits): void;
}

/** The per-connection server Deno.serve itself is built on; absent if a Deno release drops it. */
type ServeOnConnection = (
  conn: Deno.Conn,
  signal: AbortSignal,
  handler: (request: Request) => Promise<Response> | Response,
  onError: (err: unknown) => Response | Promise<Response>,
  onListen: () => void,
) => { finished: Promise<void>; shutdown(): Promise<void> };

/** Deno's per-connection HTTP server, when this runtime has it. */
export function serveOnConnection(): ServeOnConnection | undefined {
  // Deno.serve exposes no per-connection hooks (no idle or head timeout, no connection count),
  // so the gateway accepts connections itself and hands each to the server Deno.serve uses.
  const internal = (Deno as unknown as Record<symbol, unknown>)[
    (Deno as unknown as { internal: symbol }).internal
  ] as { serveHttpOnConnection?: unknown } | undefined;
  const fn = internal?.serveHttpOnConnection;
  return typeof fn === "function" ? fn as ServeOnConnection : undefined;
}

/** A connection that has been idle this long may be closed to make room for a new one. */
export const EVICTABLE_IDLE_MS = 1_000;
/** Longest pause of the accept loop after it failed (descriptors exhausted, say). */
const MAX_ACCEPT_BACKOFF_MS = 1_000;
/** Connections closed at once to give descriptors back when accept fails. */
const EVICT_ON_ACCEPT_ERROR = 32;
const REFUSAL = new TextEncoder().encode(
  "HTTP/1.1 503 Service Unavailable\r\ncontent-type: application/json\r\nretry-after: 1\r\n" +
    "connection: close\r\ncontent-length: 137\r\n\r\n" +
    '{"error":{"message":"the gateway is serving its maximum number of connections ' +
    '(server.max_connections)","type":"server_error","code":"overloaded"}}',
);

class Tracked {
  readonly controller = new AbortController();
  /** Requests under way (from their head until their response is sent). */
  active = 0;
  requests = 0;
  /** performance.now() when the connection last had nothing in flight. */
  idleSince: number;
  server: { finished: Promise<void>; shutdown(): Promise<void> } | null = null;

  constructor(now: number) {
    this.idleSince = now;
  }

  close(): void {
    this.controller.abort();
  }
}

/**
 * Listens and serves each accepted connection with Deno's HTTP server, enforcing the head and
 * idle timeouts and the connection cap, and surviving accept failures such as running out of
 * file descriptors (logged once per burst, retried with backoff, idle connections closed first).
 */
export function listen(
  options: ListenOptions,
  handler: ConnHandler,
): GatewayListener {
  const found = serveOnConnection();
  if (found === undefined) throw new Error("this Deno has no per-connection HTTP server");
  const serveOn = found;
  const { logger } = options;
  const onEvent = options.onEvent ?? (() => {});
  let limits = options.limits;
  const listener: Deno.Listener = options.tls === undefined
    ? Deno.listen({ hostname: options.hostname, port: options.port })
    : Deno.listenTls({
      hostname: options.hostname,
      port: options.port,
      cert: options.tls.cert,
      key: options.tls.key,
      alpnProtocols: ["h2", "http/1.1"],
    });
  const open = new Set<Tracked>();
  let accepting = true;
  let settle: () => void;
  const finished = new Promise<void>((resolve) => settle = resolve);
  let acceptLoopDone = false;
  const unbound = Promise.withResolvers<void>();
  const maybeFinish = () => {
    if (acceptLoopDone && open.size === 0) settle();
  };

  const closeExpired = () => {
    const now = performance.now();
    for (const conn of open) {
      if (conn.active > 0) continue;
      const fresh = conn.requests === 0;
      if (now - conn.idleSince < (fresh ? limits.header_timeout_ms : limits.idle_timeout_ms)) {
        continue;
      }
      conn.close();
      onEvent(fresh ? "header_timeout" : "idle_timeout");
    }
  };
  let sweep = setInterval(closeExpired, sweepInterval(limits));
  Deno.unrefTimer(sweep);

  function serve(conn: Deno.Conn): void {
    const tracked = new Tracked(performance.now());
    open.add(tracked);
    const remoteAddr = conn.remoteAddr as Deno.NetAddr;
    const release = () => {
      if (--tracked.active === 0) tracked.idleSince = performance.now();
    };
    const info: ConnInfo = {
      remoteAddr,
      settle(until) {
        if (until === undefined) release();
        else until.then(release, release);
      },
    };
    const server = serveOn(
      conn,
      tracked.controller.signal,
      (request) => {
        tracked.requests++;
        tracked.active++;
        try {
          return handler(request, info);
        } catch (err) {
          release();
          throw err;
        }
      },
      options.onError,
      () => {},
    );
    tracked.server = server;
    server.finished.then(
      () => forget(tracked),
      // A connection reset by its client ends its server with an error: nothing to report.
      () => forget(tracked),
    );
  }

  function forget(tracked: Tracked): void {
    open.delete(tracked);
    maybeFinish();
  }

  /** Closes up to `count` connections that have sat idle longest (at least EVICTABLE_IDLE_MS). */
  function evictIdle(count: number): number {
    let evicted = 0;
    for (; evicted < count; evicted++) {
      // One linear pass per eviction: at the cap this runs once per accepted connection.
      const now = performance.now();
      let oldest: Tracked | undefined;
      for (const conn of open) {
        if (conn.active > 0 || now - conn.idleSince < EVICTABLE_IDLE_MS) continue;
        if (oldest === undefined || conn.idleSince < oldest.idleSince) oldest = conn;
      }
      if (oldest === undefined) break;
      open.delete(oldest);
      oldest.close();
      onEvent("evicted");
    }
    return evicted;
  }

  async function refuse(conn: Deno.Conn): Promise<void> {
    try {
      if (options.tls === undefined) await conn.write(REFUSAL);
    } catch {
      // The client may already be gone.
    } finally {
      try {
        conn.close();
      } catch {
        // Already closed.
      }
    }
  }

  (async () => {
    let failures = 0;
    let firstFailure = 0;
    let backoff = 0;
    while (accepting) {
      let conn: Deno.Conn;
      try {
        conn = await listener.accept();
      } catch (err) {
        if (!accepting || err instanceof Deno.errors.BadResource) break;
        onEvent("accept_failed");
        if (failures++ === 0) {
          firstFailure = performance.now();
          logger.error("accepting a connection failed; retrying with backoff", {
            "error.message": String((err as Error)?.message ?? err),
            "gateway.connections": open.size,
          });
        }
        const evicted = evictIdle(EVICT_ON_ACCEPT_ERROR);
        backoff = Math.min(MAX_ACCEPT_BACKOFF_MS, backoff === 0 ? 5 : backoff * 2);
        if (evicted === 0) await new Promise((resolve) => setTimeout(resolve, backoff));
        continue;
      }
      if (failures > 0) {
        logger.warn("accepting connections again", {
          "gateway.accept.failures": failures,
          "event.duration": Math.round((performance.now() - firstFailure) * 1e6),
        });
        failures = 0;
        backoff = 0;
      }
      if (open.size >= limits.max_connections && evictIdle(1) === 0) {
        onEvent("refused");
        refuse(conn);
        continue;
      }
      serve(conn);
    }
    acceptLoopDone = true;
    unbound.resolve();
    maybeFinish();
  })();

  async function shutdown(): Promise<void> {
    if (accepting) {
      accepting = false;
      clearInterval(sweep);
      try {
        listener.close();
      } catch {
        // Already closed.
      }
    }
    // Deno's graceful shutdown closes idle connections and finishes in-flight requests.
    await Promise.all([...open].map((conn) => conn.server?.shutdown().catch(() => {})));
    await finished;
  }

  return {
    addr: listener.addr as Deno.NetAddr,
    get connections() {
      return open.size;
    },
    shutdown,
    unbound: unbound.promise,
    abort() {
      for (const conn of open) conn.close();
    },
    finished,
    setLimits(next) {
      limits = next;
      if (!accepting) return;
      clearInterval(sweep);
      sweep = setInterval(closeExpired, sweepInterval(limits));
      Deno.unrefTimer(sweep);
    },
  };
}

function sweepInterval(limits: ConnectionLimits): number {
  const shortest = Math.min(limits.header_timeout_ms, limits.idle_timeout_ms);
  return Math.max(50, Math.min(1_000, Math.floor(shortest / 4)));
}

/**
 * The process's open-file limits, where the platform shows them (Linux's /proc, which Deno opens
 * only to a process run with --allow-all). Deno raises the soft limit to the hard one when it
 * starts, so the soft figure is what the gateway runs with.
 */
export function openFileLimit(): { soft: number; hard: number } | null {
  let text: string;
  try {
    text = Deno.readTextFileSync("/proc/self/limits");
  } catch {
    return null;
  }
  const line = text.split("\n").find((l) => l.startsWith("Max open files"));
  const match = line === undefined ? null : /(\d+|unlimited)\s+(\d+|unlimited)/.exec(line);
  if (match === null) return null;
  const value = (v: string) => v === "unlimited" ? Infinity : Number(v);
  return { soft: value(match[1]!), hard: value(match[2]!) };
}
