import { chunkReader, type ChunkSource } from "../core/chunk_reader.ts";
import { ProviderError } from "../core/errors.ts";
import { concatBytes } from "../core/json.ts";
import {
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_BODY_BYTES,
  Http1Client,
  type Http1Init,
} from "./http1/client.ts";
import type { UpstreamSettings } from "../core/provider.ts";

/** One upstream request, as both clients take it; see `Http1Init`. */
export type UpstreamInit = Http1Init;

/**
 * An upstream answer, whichever client carried the call: the HTTP/1.1 client's `Http1Response`
 * or a `fetch` response wrapped in `FetchResponse`. The body is read once, one way.
 */
export interface UpstreamResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: Headers;
  /** Null for a response without a body (204, 304, HEAD). */
  readonly body: ReadableStream<Uint8Array<ArrayBuffer>> | null;
  /** The whole body; beyond `server.max_response_size` it rejects. */
  bytes(): Promise<Uint8Array<ArrayBuffer>>;
  /** The whole body as UTF-8 text, within the same limit. */
  text(): Promise<string>;
  /** The body chunk by chunk, the way the stream relay reads it. */
  chunks(): ChunkSource;
  /** One field's value (`name` in lowercase); null when absent. */
  header(name: string): string | null;
}

/** Sends requests to one provider's upstream over a keep-alive pool. */
export interface UpstreamClient {
  request(url: string, init: UpstreamInit): Promise<UpstreamResponse>;
  /** Closes the idle connections; requests in flight finish on theirs. */
  close(): void;
}

const PROXY_VARIABLES = [
  "HTTPS_PROXY",
  "https_proxy",
  "HTTP_PROXY",
  "http_proxy",
  "ALL_PROXY",
  "all_proxy",
];

/** `routing.pool_idle_timeout` and `server.max_response_size` at their defaults. */
export const DEFAULT_UPSTREAM_SETTINGS: UpstreamSettings = {
  poolIdleTimeoutMs: DEFAULT_IDLE_TIMEOUT_MS,
  maxResponseBytes: DEFAULT_MAX_BODY_BYTES,
};

/** Codings `fetch` decodes itself (it asks for exactly these). */
const FETCH_DECODES = new Set(["gzip", "br", "identity"]);

const decoder = new TextDecoder();

/**
 * One provider's upstream client: its own keep-alive pool, so one slow provider cannot starve
 * another. The gateway's HTTP/1.1 client serves direct connections. `fetch` carries the calls
 * where a proxy is configured in the environment (it honours those variables and NO_PROXY) and
 * where Deno's OpenTelemetry is on (it records each call as a span and sends `traceparent`).
 */
export function createUpstreamClient(
  settings: UpstreamSettings = DEFAULT_UPSTREAM_SETTINGS,
): UpstreamClient {
  if (needsFetch()) return fetchClient(settings);
  return new Http1Client({
    idleTimeoutMs: settings.poolIdleTimeoutMs,
    maxBodyBytes: settings.maxResponseBytes,
    tooLarge: responseTooLarge,
    undecodable: undecodableAnswer,
  });
}

/** An answer larger than the gateway reads whole: the upstream's fault, named to the client. */
export function responseTooLarge(limit: number): ProviderError {
  const message =
    `upstream answer larger than the gateway's limit of ${limit} bytes (server.max_response_size)`;
  return new ProviderError("protocol", message, { detail: message });
}

/**
 * An answer in a content-encoding the gateway cannot decode. It says nothing about the
 * upstream's health, so it does not count against the breaker.
 */
export function undecodableAnswer(coding: string): ProviderError {
  const message = `upstream answered with content-encoding ${
    JSON.stringify(coding.slice(0, 40))
  }, which the gateway cannot decode`;
  return new ProviderError("protocol", message, { detail: message, countsAgainstBreaker: false });
}

function fetchClient(settings: UpstreamSettings): UpstreamClient {
  const client = Deno.createHttpClient({ poolIdleTimeout: settings.poolIdleTimeoutMs });
  return {
    async request(url, { requestId, ...init }) {
      const res = await fetch(url, {
        ...init,
        headers: requestId === undefined
          ? init.headers
          : { ...init.headers, "x-request-id": requestId },
        client,
      });
      const coding = res.headers.get("content-encoding");
      if (coding !== null && !FETCH_DECODES.has(coding.trim().toLowerCase())) {
        res.body?.cancel().catch(() => {});
        throw undecodableAnswer(coding);
      }
      return new FetchResponse(res, settings.maxResponseBytes);
    },
    close: () => client.close(),
  };
}

/** A `fetch` answer whose whole-body reads stop at the gateway's limit, as the HTTP/1.1 client's do. */
class FetchResponse implements UpstreamResponse {
  readonly status: number;
  readonly ok: boolean;
  readonly headers: Headers;
  #res: Response;
  #limit: number;

  constructor(res: Response, limit: number) {
    this.status = res.status;
    this.ok = res.ok;
    this.headers = res.headers;
    this.#res = res;
    this.#limit = limit;
  }

  get body(): ReadableStream<Uint8Array<ArrayBuffer>> | null {
    return this.#res.body;
  }

  async bytes(): Promise<Uint8Array<ArrayBuffer>> {
    const body = this.#res.body;
    if (body === null) return new Uint8Array(0);
    const limit = this.#limit;
    // A decoded body's content-length is the encoded size, which bounds nothing.
    const declared = this.headers.get("content-encoding") === null
      ? this.headers.get("content-length")
      : null;
    if (declared !== null && Number(declared) > limit) {
      body.cancel().catch(() => {});
      throw responseTooLarge(limit);
    }
    const reader = body.getReader();
    const parts: Uint8Array[] = [];
    let size = 0;
    for (let read = await reader.read(); !read.done; read = await reader.read()) {
      size += read.value.length;
      if (size > limit) {
        reader.cancel().catch(() => {});
        throw responseTooLarge(limit);
      }
      parts.push(read.value);
    }
    return concatBytes(parts) as Uint8Array<ArrayBuffer>;
  }

  async text(): Promise<string> {
    return decoder.decode(await this.bytes());
  }

  chunks(): ChunkSource {
    const body = this.#res.body;
    return body === null ? NO_CHUNKS : chunkReader(body);
  }

  header(name: string): string | null {
    return this.headers.get(name);
  }
}

/** The chunks of an answer without a body. */
const NO_CHUNKS: ChunkSource = {
  read: () => Promise.resolve({ done: true, value: undefined }),
  cancel: () => Promise.resolve(),
};

function needsFetch(): boolean {
  try {
    const otel = Deno.env.get("OTEL_DENO")?.toLowerCase();
    if (otel === "true" || otel === "1") return true;
    return PROXY_VARIABLES.some((name) => (Deno.env.get(name) ?? "") !== "");
  } catch {
    // Without env access, fetch could read neither the proxy nor the OpenTelemetry settings.
    return false;
  }
}
