import { BodyReader } from "./body.ts";
import { Connection, MAX_HEAD_BYTES } from "./connection.ts";
import { compressionOf, DecodedBody, withoutCoding } from "./decode.ts";
import { type Framing, headEnd, HttpProtocolError, parseHead, type ResponseHead } from "./head.ts";
import { type RequestBytes, requestBytes, type RequestTarget } from "./request.ts";
import { type BodyLimit, Http1Response } from "./response.ts";

/**
 * One request: lowercase header names, a text body (sent with its length) or none. A header with
 * an invalid name or value throws a `TypeError` before anything is sent.
 */
export interface Http1Init {
  method: string;
  headers: Record<string, string>;
  /** Sent as `x-request-id`: the one per-request header, kept apart so `headers` is never copied. */
  requestId?: string;
  body?: string;
  /** Aborting closes the connection: a pending connect, write or read rejects with the reason. */
  signal: AbortSignal;
}

/** Idle connections kept per origin; beyond that the oldest is closed. */
export const MAX_IDLE_PER_ORIGIN = 256;
/**
 * How long an idle connection is kept for reuse unless told otherwise: below the 5 s after which
 * Node and uvicorn close idle connections, so the client lets go first.
 */
export const DEFAULT_IDLE_TIMEOUT_MS = 4_000;
/** Largest body `bytes()` and `text()` read whole unless told otherwise. */
export const DEFAULT_MAX_BODY_BYTES = 64 * 1024 * 1024;

/** Settings of an `Http1Client`; every one has a default. */
export interface Http1ClientOptions {
  /** An idle pooled connection older than this is closed rather than reused. */
  idleTimeoutMs?: number;
  /** Largest body `bytes()` and `text()` read (after decoding); beyond it they reject. */
  maxBodyBytes?: number;
  /** The error a body beyond `maxBodyBytes` rejects with (default: an `HttpProtocolError`). */
  tooLarge?: (limit: number) => Error;
  /** The error for a content-encoding the client cannot decode (default: an `HttpProtocolError`). */
  undecodable?: (coding: string) => Error;
}

/** `#exchange`'s answer when a pooled connection died before answering. */
const STALE = Symbol("stale");

interface Target extends RequestTarget {
  origin: string;
  hostname: string;
  port: number;
  tls: boolean;
}

/**
 * An HTTP/1.1 client on `Deno.connect` / `Deno.startTls` with a keep-alive pool per origin. Per
 * request it costs a fraction of `fetch` (one write, usually one read, no Request/Response objects
 * unless a body stream is asked for). README.md beside this file states what it does and does not.
 */
export class Http1Client {
  #idle = new Map<string, Connection[]>();
  #targets = new Map<string, Target>();
  #closed = false;
  #idleTimeoutMs: number;
  #limit: BodyLimit;
  #undecodable: (coding: string) => Error;
  /** The last `Keep-Alive` value seen, and the idle limit it sets. */
  #keepAlive = "";
  #keepAliveMs = Infinity;

  constructor(options: Http1ClientOptions = {}) {
    this.#idleTimeoutMs = options.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    this.#limit = {
      bytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      error: options.tooLarge ??
        ((limit) => new HttpProtocolError(`response body larger than ${limit} bytes`)),
    };
    this.#undecodable = options.undecodable ??
      ((coding) => new HttpProtocolError(`answered with content-encoding ${coding}`));
  }

  async request(url: string, init: Http1Init): Promise<Http1Response> {
    init.signal.throwIfAborted();
    const target = this.#target(url);
    let request = requestBytes(target, init);
    try {
      const pooled = this.#checkout(target.origin);
      if (pooled !== undefined) {
        const response = await this.#exchange(target, init, request, pooled, true);
        if (response !== STALE) return response;
        // Nothing came back, so the server most likely closed the connection idle as the request
        // went out (Go's Transport resends in the same case). The resend takes a fresh connection:
        // the rest of the pool may have gone stale too.
        request = requestBytes(target, init);
      }
      const conn = await connect(target, init.signal);
      return await this.#exchange(target, init, request, conn, false) as Http1Response;
    } finally {
      // Already done once the request is written, unless sending failed before that.
      request.release();
    }
  }

  /**
   * Sends `request` on `conn` and reads the answer's head. STALE when `conn` came from the pool
   * and failed before a single byte of an answer arrived.
   */
  async #exchange(
    target: Target,
    init: Http1Init,
    request: RequestBytes,
    conn: Connection,
    pooled: boolean,
  ): Promise<Http1Response | typeof STALE> {
    const { signal } = init;
    const onAbort = () => conn.close();
    signal.addEventListener("abort", onAbort);
    const received = conn.received;
    let head: ResponseHead;
    try {
      await conn.write(request.bytes);
      request.release();
      head = await readHead(conn, init.method);
    } catch (err) {
      signal.removeEventListener("abort", onAbort);
      conn.close();
      if (signal.aborted) throw signal.reason;
      if (pooled && conn.received === received) {
        request.release();
        return STALE;
      }
      throw err;
    }
    let format: CompressionFormat | null | undefined = null;
    const coding = head.get("content-encoding");
    if (coding !== null && hasBody(head.framing)) {
      format = compressionOf(coding);
      if (format === undefined) {
        signal.removeEventListener("abort", onAbort);
        conn.close();
        throw this.#undecodable(coding);
      }
    }
    const reader = new BodyReader(conn, head.framing, {
      signal,
      onEnd: (reusable) => {
        signal.removeEventListener("abort", onAbort);
        this.#release(target.origin, conn, reusable && head.keepAlive, head);
      },
    });
    if (format != null) {
      return new Http1Response(withoutCoding(head), new DecodedBody(reader, format), this.#limit);
    }
    return new Http1Response(head, reader, this.#limit);
  }

  /**
   * How long `head`'s connection may idle in the pool: the pool's timeout, or less when the server
   * announced its own with `Keep-Alive: timeout=N`; 0 or less means "do not pool".
   */
  #idleLimit(head: ResponseHead): number {
    const keepAlive = head.get("keep-alive");
    if (keepAlive === null) return this.#idleTimeoutMs;
    // An upstream sends the same value every time: it is parsed once.
    if (keepAlive !== this.#keepAlive) {
      this.#keepAlive = keepAlive;
      const match = /(?:^|[,;\s])timeout\s*=\s*"?(\d+)/i.exec(keepAlive);
      // Half a second short of the server's own limit, so a request does not race its close.
      this.#keepAliveMs = match === null ? Infinity : Number(match[1]) * 1000 - 500;
    }
    return Math.min(this.#idleTimeoutMs, this.#keepAliveMs);
  }

  close(): void {
    this.#closed = true;
    for (const idle of this.#idle.values()) for (const conn of idle) conn.close();
    this.#idle.clear();
  }

  #target(url: string): Target {
    let target = this.#targets.get(url);
    if (target === undefined) {
      target = targetOf(url);
      // Upstream URLs are per provider and endpoint: a handful, parsed once each.
      if (this.#targets.size < 1024) this.#targets.set(url, target);
    }
    return target;
  }

  #checkout(origin: string): Connection | undefined {
    const idle = this.#idle.get(origin);
    if (idle === undefined) return undefined;
    const now = performance.now();
    for (let conn = idle.pop(); conn !== undefined; conn = idle.pop()) {
      if (now < conn.idleUntil && conn.unpark()) return conn;
      conn.close();
    }
    return undefined;
  }

  #release(origin: string, conn: Connection, reusable: boolean, head: ResponseHead): void {
    const idleMs = reusable ? this.#idleLimit(head) : 0;
    if (idleMs <= 0 || this.#closed || conn.closed || conn.available > 0) {
      conn.close();
      return;
    }
    let idle = this.#idle.get(origin);
    if (idle === undefined) this.#idle.set(origin, idle = []);
    conn.idleUntil = performance.now() + idleMs;
    conn.park();
    idle.push(conn);
    if (idle.length > MAX_IDLE_PER_ORIGIN) idle.shift()!.close();
  }
}

function targetOf(url: string): Target {
  const parsed = new URL(url);
  const tls = parsed.protocol === "https:";
  if (!tls && parsed.protocol !== "http:") throw new TypeError(`not an http(s) URL: ${url}`);
  const port = parsed.port === "" ? (tls ? 443 : 80) : Number(parsed.port);
  return {
    origin: `${parsed.protocol}//${parsed.host}`,
    // IPv6 literals come bracketed in URLs, bare to connect().
    hostname: parsed.hostname.replace(/^\[(.*)\]$/, "$1"),
    port,
    tls,
    host: parsed.host,
    path: (parsed.pathname || "/") + parsed.search,
  };
}

async function connect(target: Target, signal: AbortSignal): Promise<Connection> {
  const tcp = await Deno.connect({ hostname: target.hostname, port: target.port, signal });
  tcp.setNoDelay(true);
  if (!target.tls) return new Connection(tcp);
  // Aborting during the handshake closes the socket under it.
  const onAbort = () => tcp.close();
  signal.addEventListener("abort", onAbort);
  try {
    // Deno's trusted roots, as `fetch` has them (DENO_CERT included).
    const tls = await Deno.startTls(tcp, {
      hostname: target.hostname,
      alpnProtocols: ["http/1.1"],
    });
    return new Connection(tls);
  } catch (err) {
    throw signal.aborted ? signal.reason : err;
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

async function readHead(conn: Connection, method: string): Promise<ResponseHead> {
  for (;;) {
    let scanned = 0;
    let end = headEnd(conn.peek(), 0);
    while (end === -1) {
      scanned = conn.available;
      if (!(await conn.fill(MAX_HEAD_BYTES))) {
        throw new HttpProtocolError("connection closed before the response head");
      }
      end = headEnd(conn.peek(), scanned);
    }
    const head = parseHead(conn.peek().subarray(0, end), method);
    conn.consume(end + 4);
    // Interim answers (100 Continue, 103 Early Hints) precede the real one.
    if (head.status < 200 && head.status !== 101) continue;
    if (head.status === 101) head.keepAlive = false;
    return head;
  }
}

/** Whether a response with this framing carries body bytes. */
function hasBody(framing: Framing): boolean {
  return framing.kind !== "none" && (framing.kind !== "length" || framing.length > 0);
}
