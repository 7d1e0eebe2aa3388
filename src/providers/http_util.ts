import type { ProviderConfig } from "../config/types.ts";
import { failureOf, ProviderError } from "../core/errors.ts";
import { concatBytes } from "../core/json.ts";
import { openAIErrorBody } from "./openai_wire.ts";
import { chunkReader, type ChunkSource } from "../core/chunk_reader.ts";
import { type Endpoint, type ProviderResult, unservedMessage } from "../core/provider.ts";
import type { UpstreamClient, UpstreamResponse } from "./upstream_client.ts";

const encoder = new TextEncoder();

/** Longest upstream error body kept for the client; the rest is dropped. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** Joins a base URL and an API path, dropping the path's `/v1` when the base already ends in a version. */
export function joinUrl(base: string, path: string): string {
  const trimmed = base.endsWith("/") ? base.slice(0, -1) : base;
  if (/\/v\d+(?:alpha|beta)?\d*$/.test(trimmed) && /^\/v\d+\//.test(path)) {
    return trimmed + path.slice(path.indexOf("/", 1));
  }
  return trimmed + path;
}

/** Parses `Retry-After` (seconds or an HTTP date) and `retry-after-ms` into milliseconds. */
export function parseRetryAfter(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get("retry-after-ms");
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const value = headers.get("retry-after");
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Rewrites a provider's error body into the OpenAI shape (status may be remapped too). */
export type ErrorTranslator = (status: number, body: string) => { status: number; body: string };

/** Reads a non-2xx upstream response into a classified `ProviderError`. */
export async function errorFromResponse(
  provider: string,
  res: UpstreamResponse,
  translate?: ErrorTranslator,
): Promise<ProviderError> {
  let body = "";
  try {
    body = await readLimitedText(res, MAX_ERROR_BODY_BYTES);
  } catch {
    // The error body is a courtesy; the status alone classifies the failure.
  }
  const translated = translate?.(res.status, body);
  return new ProviderError("http", `${provider} answered HTTP ${res.status}`, {
    status: translated?.status ?? res.status,
    upstreamBody: translated?.body ?? body,
    upstreamContentType: translated
      ? "application/json"
      : res.headers.get("content-type") ?? "application/json",
    retryAfterMs: parseRetryAfter(res.headers),
  });
}

/** One HTTP exchange with an upstream. */
export interface UpstreamRequest {
  url: string;
  method?: "GET" | "POST";
  /** Lowercase header names; see `headerRecord`. */
  headers: Record<string, string>;
  body?: string;
  signal: AbortSignal;
  client: UpstreamClient;
  /** Maps the provider's error bodies to the OpenAI shape. */
  translateError?: ErrorTranslator;
  /** Sent as `x-request-id`, so a request can be followed into the provider's logs. */
  requestId?: string;
}

/** A Headers object as a plain record with lowercase names, built once per provider. */
export function headerRecord(headers: Headers): Record<string, string> {
  const record: Record<string, string> = {};
  headers.forEach((value, name) => record[name] = value);
  return record;
}

/** Sends a request; resolves with a 2xx response, throws a classified `ProviderError` otherwise. */
export async function callUpstream(
  provider: string,
  req: UpstreamRequest,
): Promise<UpstreamResponse> {
  let res: UpstreamResponse;
  try {
    res = await req.client.request(req.url, {
      method: req.method ?? (req.body === undefined ? "GET" : "POST"),
      headers: req.headers,
      requestId: req.requestId,
      body: req.body,
      signal: req.signal,
    });
  } catch (err) {
    throw failureOf(err, req.signal, `${provider} unreachable`);
  }
  if (!res.ok) {
    if (res.status < 200 || res.status === 304 || res.status > 599) {
      throw uncarriable(provider, res);
    }
    throw await errorFromResponse(provider, res, req.translateError);
  }
  // A 2xx without content (the status says so; the body is not touched, so it stays readable).
  if (res.status === 204 || res.status === 205) {
    throw new ProviderError("protocol", `${provider} answered with an empty body`);
  }
  return res;
}

/**
 * A status no relayed answer can have (1xx, a 101 switch, 304 Not Modified, beyond 599): the
 * upstream's fault, so the attempt fails and the chain moves on.
 */
function uncarriable(provider: string, res: UpstreamResponse): ProviderError {
  // Whatever the connection carries after such an answer is not ours to read.
  res.body?.cancel().catch(() => {});
  const what = `answered HTTP ${res.status}, which the gateway cannot relay`;
  return new ProviderError("protocol", `${provider} ${what}`, { detail: `upstream ${what}` });
}

/** Reads a 2xx JSON body; a body that is not JSON is the provider's fault, a cut one the link's. */
export async function readJson(
  provider: string,
  res: UpstreamResponse,
  signal: AbortSignal,
): Promise<unknown> {
  let text: string;
  try {
    text = await res.text();
  } catch (err) {
    // A body cut short is the connection's fault (or the attempt's timeout), not a protocol one.
    throw failureOf(err, signal, `${provider} answer cut short`);
  }
  try {
    return JSON.parse(text);
  } catch {
    throw new ProviderError("protocol", `${provider} answered with a body that is not JSON`);
  }
}

/*
 * Provider results are classes, not object literals with a `get body()`. V8 allocates the
 * accessor of such a literal in its old generation, and that accessor, though dead with its
 * object, keeps the getter's closure (and the whole upstream response it reaches) alive through
 * every young-generation collection until a full one. Made per request, the literal in
 * `UpstreamResult`'s place had each young collection copy about 1 MB more, and promote it.
 */

/** A 2xx upstream answer in the OpenAI wire format, relayed as it is. */
export class UpstreamResult implements ProviderResult {
  readonly status: number;
  readonly contentType: string;
  readonly #res: UpstreamResponse;

  constructor(res: UpstreamResponse, defaultType: string) {
    this.#res = res;
    this.status = res.status;
    this.contentType = res.header("content-type") ?? defaultType;
  }

  /** Read either as a stream or whole, never both: the stream is made only when asked for. */
  get body(): ReadableStream<Uint8Array> {
    return this.#res.body!;
  }

  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return this.#res.bytes();
  }

  chunks(): ChunkSource {
    return this.#res.chunks();
  }
}

/** A translated JSON answer as a provider result. */
export class JsonResult implements ProviderResult {
  readonly status = 200;
  readonly contentType = "application/json";
  readonly #bytes: Uint8Array<ArrayBuffer>;
  #body: ReadableStream<Uint8Array> | undefined;

  constructor(value: unknown) {
    this.#bytes = encoder.encode(JSON.stringify(value));
  }

  /**
   * Built only when asked for: the executor reads a buffered answer through `bytes()`, and a
   * Response and stream per answer cost about as much as the serialisation itself.
   */
  get body(): ReadableStream<Uint8Array> {
    return this.#body ??= new Response(this.#bytes).body!;
  }

  bytes(): Promise<Uint8Array<ArrayBuffer>> {
    return Promise.resolve(this.#bytes);
  }

  chunks(): ChunkSource {
    return chunkReader(this.body);
  }
}

/** A translated SSE stream as a provider result. */
export function sseResult(body: ReadableStream<Uint8Array>): ProviderResult {
  return {
    status: 200,
    contentType: "text/event-stream",
    body,
    bytes: () => new Response(body).bytes(),
    chunks: () => chunkReader(body),
  };
}

/** A 400 for an OpenAI field this provider cannot honour: refused rather than silently misread. */
export function unsupportedField(provider: string, field: string, why: string): ProviderError {
  return new ProviderError("http", `${provider} cannot honour ${field}`, {
    status: 400,
    upstreamBody: openAIErrorBody(`${field}: ${why}`, {
      param: field,
      code: "unsupported_parameter",
    }),
    upstreamContentType: "application/json",
  });
}

/** A 404 for an endpoint this provider lacks: fallbackable, so a chain moves on to one that has it. */
export function unsupportedEndpoint(config: ProviderConfig, endpoint: Endpoint): ProviderError {
  const message = unservedMessage(config, endpoint);
  return new ProviderError("http", message, {
    status: 404,
    upstreamBody: openAIErrorBody(message, {
      type: "invalid_request_error",
      code: "unsupported_endpoint",
    }),
    upstreamContentType: "application/json",
  });
}

async function readLimitedText(res: UpstreamResponse, limit: number): Promise<string> {
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => {});
  return new TextDecoder().decode(concatBytes(parts).subarray(0, limit));
}
