import type { ChunkSource } from "../../core/chunk_reader.ts";
import { BodyReader } from "./body.ts";
import { Connection, MAX_HEAD_BYTES } from "./connection.ts";
import { headEnd, HttpProtocolError, parseHead, type ResponseHead } from "./head.ts";
import { type RequestBytes, requestBytes, type RequestTarget } from "./request.ts";

/**
 * One upstream request: lowercase header names, a text body (sent with its length) or none. A
 * header record is checked the first time it is sent and must not change afterwards: providers
 * build theirs once and pass the same record on every call.
 */
export interface UpstreamInit {
  method: string;
  headers: Record<string, string>;
  /** Sent as `x-request-id`: the one per-request header, kept apart so `headers` is never copied. */
  requestId?: string;
  body?: string;
  /** Aborting closes the connection: a pending connect, write or read rejects with the reason. */
  signal: AbortSignal;
}

/** The part of a fetch `Response` the providers use; a fetch `Response` is one. */
export interface UpstreamResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: Headers;
  /** Null for a response without a body (204, 304, HEAD). */
  readonly body: ReadableStream<Uint8Array<ArrayBuffer>> | null;
  bytes(): Promise<Uint8Array<ArrayBuffer>>;
  text(): Promise<string>;
  /** Reads the body chunk by chunk, without a stream (the gateway's client only). */
  chunks?(): ChunkSource;
  /**
   * One field's value (lowercase `name`), without building `headers` (the gateway's client only;
   * see `headerOf`).
   */
  header?(name: string): string | null;
}

/** One field of an upstream answer, through `header` where the response has it. */
export function headerOf(res: UpstreamResponse, name: string): string | null {
  return res.header !== undefined ? res.header(name) : res.headers.get(name);
}

/** Sends requests to upstreams over a keep-alive pool. */
export interface UpstreamClient {
  request(url: string, init: UpstreamInit): Promise<UpstreamResponse>;
  /** Closes the idle connections; requests in flight finish on theirs. */
  close(): void;
}

/** Idle connections kept per origin; beyond that the oldest is closed. */
export const MAX_IDLE_PER_ORIGIN = 256;
/** An idle connection older than this is closed rather than reused (servers drop idle ones). */
export const IDLE_TIMEOUT_MS = 30_000;

const decoder = new TextDecoder();

interface Target extends RequestTarget {
  origin: string;
  hostname: string;
  port: number;
  tls: boolean;
}

/**
 * An HTTP/1.1 client on `Deno.connect` / `Deno.startTls`. Per request it costs a fraction of
 * `fetch` (one write, usually one read, no Request/Response objects unless a body stream is asked
 * for); see the README's performance section for the measurement.
 */
export class Http1Client implements UpstreamClient {
  #idle = new Map<string, Connection[]>();
  #targets = new Map<string, Target>();
  #closed = false;
  #caCerts: string[] | undefined;

  /** `caCerts` (PEM) replaces the trusted roots for HTTPS upstreams. */
  constructor(options: { caCerts?: string[] } = {}) {
    this.#caCerts = options.caCerts;
  }

  async request(url: string, init: UpstreamInit): Promise<UpstreamResponse> {
    init.signal.throwIfAborted();
    const target = this.#target(url);
    const request = requestBytes(target, init);
    try {
      return await this.#send(target, init, request);
    } finally {
      // Already done once the request is written, unless sending failed before that.
      request.release();
    }
  }

  async #send(target: Target, init: UpstreamInit, request: RequestBytes): Promise<Http1Response> {
    const { signal } = init;
    for (let attempt = 1;; attempt++) {
      // The retry opens a fresh connection: the rest of the pool may have gone stale too.
      const pooled = attempt === 1 ? this.#checkout(target.origin) : undefined;
      const conn = pooled ?? await connect(target, signal, this.#caCerts);
      const onAbort = () => conn.close();
      signal.addEventListener("abort", onAbort);
      let head: ResponseHead;
      try {
        try {
          await conn.write(request.bytes);
        } catch (err) {
          // A pooled connection that fails the write carried nothing of this request: it is
          // sent once more on a fresh connection. Once written, a request is never resent here
          // (it may have reached the server); the executor's retry policy decides.
          if (pooled !== undefined && !signal.aborted) {
            signal.removeEventListener("abort", onAbort);
            conn.close();
            continue;
          }
          throw err;
        }
        request.release();
        head = await readHead(conn, init.method);
      } catch (err) {
        signal.removeEventListener("abort", onAbort);
        conn.close();
        throw signal.aborted ? signal.reason : err;
      }
      const body = new BodyReader(conn, head.framing, {
        signal,
        onEnd: (reusable) => {
          signal.removeEventListener("abort", onAbort);
          this.#release(target.origin, conn, reusable && head.keepAlive);
        },
      });
      return new Http1Response(head, body);
    }
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
      if (now - conn.idleSince < IDLE_TIMEOUT_MS && conn.unpark()) return conn;
      conn.close();
    }
    return undefined;
  }

  #release(origin: string, conn: Connection, reusable: boolean): void {
    if (!reusable || this.#closed || conn.closed || conn.available > 0) {
      conn.close();
      return;
    }
    let idle = this.#idle.get(origin);
    if (idle === undefined) this.#idle.set(origin, idle = []);
    conn.idleSince = performance.now();
    conn.park();
    idle.push(conn);
    if (idle.length > MAX_IDLE_PER_ORIGIN) idle.shift()!.close();
  }
}

/** A response whose body is read off the connection as it is asked for. */
class Http1Response implements UpstreamResponse {
  readonly status: number;
  readonly ok: boolean;
  #head: ResponseHead;
  #reader: BodyReader;
  #hasBody: boolean;
  #stream: ReadableStream<Uint8Array<ArrayBuffer>> | null = null;
  /** Set by the first read, through the stream or whole. */
  #used = false;

  constructor(head: ResponseHead, reader: BodyReader) {
    this.status = head.status;
    this.ok = head.status >= 200 && head.status < 300;
    this.#head = head;
    this.#reader = reader;
    this.#hasBody = head.framing.kind !== "none";
  }

  /** Built when first asked for: a relayed answer seldom needs more than `header`. */
  get headers(): Headers {
    return this.#head.headers;
  }

  header(name: string): string | null {
    return this.#head.get(name);
  }

  get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    if (!this.#hasBody) return null;
    if (this.#stream === null) {
      const reader = this.#reader;
      let started = false;
      this.#stream = new ReadableStream<Uint8Array<ArrayBuffer>>({
        pull: async (controller) => {
          if (!started) {
            this.#claim();
            started = true;
          }
          const chunk = await reader.next();
          if (chunk === null) controller.close();
          else controller.enqueue(chunk);
        },
        cancel: () => reader.cancel(),
      }, { highWaterMark: 0 });
    }
    return this.#stream;
  }

  async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    this.#claim();
    return await this.#reader.all();
  }

  async text(): Promise<string> {
    return decoder.decode(await this.bytes());
  }

  chunks(): ChunkSource {
    this.#claim();
    const reader = this.#reader;
    return {
      async read() {
        const value = await reader.next();
        return value === null ? { done: true, value: undefined } : { done: false, value };
      },
      cancel: () => Promise.resolve(reader.cancel()),
    };
  }

  #claim(): void {
    if (this.#used) throw new TypeError("response body already used");
    this.#used = true;
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

async function connect(
  target: Target,
  signal: AbortSignal,
  caCerts: string[] | undefined,
): Promise<Connection> {
  const tcp = await Deno.connect({ hostname: target.hostname, port: target.port, signal });
  tcp.setNoDelay(true);
  if (!target.tls) return new Connection(tcp);
  // Aborting during the handshake closes the socket under it.
  const onAbort = () => tcp.close();
  signal.addEventListener("abort", onAbort);
  try {
    const tls = await Deno.startTls(tcp, {
      hostname: target.hostname,
      alpnProtocols: ["http/1.1"],
      caCerts,
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
    const coding = head.get("content-encoding");
    if (coding !== null && coding.trim().toLowerCase() !== "identity") {
      throw new HttpProtocolError(`answered with content-encoding ${coding} although asked not to`);
    }
    // Interim answers (100 Continue, 103 Early Hints) precede the real one.
    if (head.status < 200 && head.status !== 101) continue;
    if (head.status === 101) head.keepAlive = false;
    return head;
  }
}
