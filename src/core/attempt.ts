import { chunkReader, type ChunkSource } from "./chunk_reader.ts";
import type { CircuitBreaker } from "./circuit_breaker.ts";
import { type AttemptRecord, failureOf, GatewayError, ProviderError } from "./errors.ts";
import type { IdleWatch } from "./idle_watch.ts";
import type { JsonObject } from "./json.ts";
import { LinkedList, ListNode } from "./linked_list.ts";
import type { Endpoint, ProviderResult } from "./provider.ts";
import type { Redactor } from "./redact.ts";
import type { Target } from "./router.ts";
import { type RelayOptions, relayStream, type RelaySummary } from "./stream_relay.ts";

/** One request for the executor: the parsed body is rewritten per target. */
export interface ExecuteRequest {
  endpoint: Endpoint;
  body: JsonObject;
  stream: boolean;
  /** The client's signal: the client leaving aborts the attempt in flight and every later one. */
  signal: AbortSignal;
  /** Sent upstream as `x-request-id` and given to observers. */
  requestId: string;
  /** Keep a stream's whole body for its summary (response middleware that reads bodies). */
  keepBody?: boolean;
  /** The event that ends a stream broken after its first byte, in the client's API. */
  streamError?: RelayOptions["errorEvent"];
  /** How the request reaches a provider that does not speak `endpoint` (through the hub). */
  translation?: Translation;
  /** Translate for every target, native ones too (the request refers to state only the gateway has). */
  throughHub?: boolean;
  /** Client headers forwarded on native calls (`anthropic-version`, `anthropic-beta`). */
  headers?: Readonly<Record<string, string>>;
  /** Also read usage from a stream's first chunk (Anthropic reports input tokens there). */
  headUsage?: boolean;
  /** For a stream relayed as the provider sent it: why its clean end is not its API's end. */
  streamEnd?: RelayOptions["checkEnd"];
}

/**
 * How a request in another API reaches a provider that speaks only the hub (Chat Completions),
 * and how the hub's answer is turned back into that API. Supplied by the inbound dialect.
 */
export interface Translation {
  /**
   * The hub request for one target. Throws a `GatewayError` naming a field the target cannot
   * honour (the client's fault: no fallback).
   */
  toHub(body: JsonObject, target: Target, stream: boolean): JsonObject;
  /** The client's whole answer from the hub's; a malformed answer throws a `ProviderError`. */
  complete(bytes: Uint8Array, target: Target): Uint8Array<ArrayBuffer>;
  /** The client's stream from the hub's, event by event as it arrives. */
  stream(body: ReadableStream<Uint8Array>, target: Target): ReadableStream<Uint8Array>;
  /** The content type of translated answers. */
  contentType(stream: boolean): string;
}

/** One target's call as the executor sends it: native, or through the hub. */
export interface TargetCall {
  endpoint: Endpoint;
  body: JsonObject;
  /** The body serialised, once however many retries send it. */
  json: () => string;
  /** Present when the call goes through the hub. */
  translation?: Translation;
}

/** Fields every outcome carries: who served (or refused) and what was tried first. */
interface OutcomeBase {
  target: Target;
  /** Whether the answer was translated from the hub (not the provider's own words). */
  translated: boolean;
  /** Failed attempts before this outcome. */
  attempts: AttemptRecord[];
  contentType: string;
}

/** What the executor produced for a request. */
export type Outcome =
  | OutcomeBase & { kind: "complete"; status: number; body: Uint8Array<ArrayBuffer> }
  | OutcomeBase & {
    kind: "stream";
    status: number;
    body: ReadableStream<Uint8Array>;
    /** Resolves when the stream has ended (cleanly, by failure, or by the client leaving). */
    summary: Promise<RelaySummary>;
  }
  /** The upstream refused the request itself (400, 413, 422, ...): passed back, no fallback. */
  | OutcomeBase & { kind: "rejected"; status: number; body: string };

/** The reason a client disconnect aborts upstream work with. */
export const CLIENT_CLOSED = new GatewayError("client_closed", "the client closed the connection");
/** The reason in-flight upstream work is aborted with when the shutdown grace period ends. */
export const SHUTTING_DOWN = new GatewayError("shutting_down", "the gateway is shutting down");

/**
 * The upstream work in flight (attempts and backoff waits), each tied to its client and to the
 * gateway's shutdown: one listener on the shutdown signal for all of them.
 */
export class InFlight {
  // A list, not a Set: entries come and go with every request (see LinkedList).
  readonly #calls = new LinkedList<Call>();
  readonly #shutdown: AbortSignal | undefined;
  readonly #onShutdown = () => {
    for (const call of this.#calls.toArray()) call.controller.abort(SHUTTING_DOWN);
  };

  constructor(shutdown?: AbortSignal) {
    this.#shutdown = shutdown;
    shutdown?.addEventListener("abort", this.#onShutdown);
  }

  /** Aborts `controller` when the client leaves or the gateway stops; returns the untie. */
  link(client: AbortSignal, controller: AbortController): () => void {
    if (client.aborted) throw CLIENT_CLOSED;
    if (this.#shutdown?.aborted) throw SHUTTING_DOWN;
    const call = new Call(controller);
    this.#calls.push(call);
    client.addEventListener("abort", call.onClient);
    return () => {
      this.#calls.remove(call);
      client.removeEventListener("abort", call.onClient);
    };
  }

  /** Stops listening for shutdown. */
  close(): void {
    this.#shutdown?.removeEventListener("abort", this.#onShutdown);
  }
}

class Call extends ListNode {
  readonly onClient = () => this.controller.abort(CLIENT_CLOSED);
  constructor(readonly controller: AbortController) {
    super();
  }
}

/** What every attempt of an executor shares. */
export interface AttemptScope {
  inFlight: InFlight;
  /** Attempt deadlines (`timeout` of each provider). */
  deadlines: IdleWatch;
  /** Silence between stream chunks (`routing.stream_idle_timeout`). */
  idle: IdleWatch;
  idleTimeoutMs: number;
  redact?: Redactor;
}

/**
 * One call to one target: sends, waits for the answer (and, for a stream, its first chunk), and
 * reports the breaker's success. Throws the attempt's failure; a stream that breaks later is
 * reported to the breaker when it ends.
 */
export async function runAttempt(
  scope: AttemptScope,
  target: Target,
  request: ExecuteRequest,
  options: { call: TargetCall; circuit: CircuitBreaker; attempts: AttemptRecord[] },
): Promise<Outcome> {
  const controller = new AbortController();
  const unlink = scope.inFlight.link(request.signal, controller);
  const { provider, model } = target;
  const timeoutMs = provider.config.timeout_ms;
  const deadline = scope.deadlines.add(timeoutMs, () => {
    controller.abort(new ProviderError("timeout", `no answer within ${timeoutMs}ms`));
  });
  const { call, circuit, attempts } = options;
  const translation = call.translation;
  let relaying = false;
  try {
    const result = await provider.send({
      endpoint: call.endpoint,
      model,
      body: call.body,
      json: call.json,
      stream: request.stream,
      requestId: request.requestId,
      signal: controller.signal,
      headers: translation === undefined ? request.headers : undefined,
    });
    const base = {
      target,
      attempts,
      translated: translation !== undefined,
      contentType: translation?.contentType(request.stream) ?? result.contentType,
      status: result.status,
    };
    if (!request.stream) {
      let bytes = await readAll(result, controller.signal);
      if (translation !== undefined) bytes = translation.complete(bytes, target);
      circuit.onSuccess();
      return { ...base, kind: "complete", body: bytes };
    }
    const reader = translation === undefined
      ? result.chunks()
      : chunkReader(translation.stream(result.body, target));
    const first = await readFirst(reader, controller.signal, provider.name);
    circuit.onSuccess();
    let summarize!: (summary: RelaySummary) => void;
    const summary = new Promise<RelaySummary>((resolve) => summarize = resolve);
    const body = relayStream(first, reader, {
      idle: scope.idle,
      idleTimeoutMs: scope.idleTimeoutMs,
      label: `${provider.name}/${model}`,
      redact: scope.redact,
      errorEvent: request.streamError,
      keepBody: request.keepBody,
      headUsage: request.headUsage,
      checkEnd: translation === undefined ? request.streamEnd : undefined,
      abort: (reason) => controller.abort(reason),
      onEnd: (ended) => {
        unlink();
        // Not when the client had left: its abort may fail the read before the body is cancelled.
        if (
          ended.end.kind === "failed" && ended.end.error instanceof ProviderError &&
          !request.signal.aborted
        ) {
          circuit.onFailure();
        }
        summarize(ended);
      },
    });
    relaying = true;
    return { ...base, kind: "stream", body, summary };
  } finally {
    scope.deadlines.remove(deadline);
    if (!relaying) unlink();
  }
}

/** Reads a whole non-streaming body; a failure mid-body is the provider's. */
async function readAll(
  result: ProviderResult,
  signal: AbortSignal,
): Promise<Uint8Array<ArrayBuffer>> {
  try {
    return await result.bytes();
  } catch (err) {
    throw failureOf(err, signal, "connection broke while reading");
  }
}

/** The first non-empty chunk of a stream: until it arrives the attempt may still fall back. */
async function readFirst(
  reader: ChunkSource,
  signal: AbortSignal,
  provider: string,
): Promise<Uint8Array> {
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) throw new ProviderError("protocol", `${provider} ended the stream before any data`);
      if (value.byteLength > 0) return value;
    }
  } catch (err) {
    reader.cancel().catch(() => {});
    throw failureOf(err, signal, "connection broke while reading");
  }
}
