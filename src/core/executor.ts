import type { RoutingConfig } from "../config/types.ts";
import type { Endpoint, ProviderResult } from "./provider.ts";
import { chunkReader, type ChunkSource } from "./chunk_reader.ts";
import { CircuitBreaker } from "./circuit_breaker.ts";
import {
  attemptCause,
  type AttemptRecord,
  describeAttempt,
  failureOf,
  GatewayError,
  ProviderError,
} from "./errors.ts";
import { type ExecutionEvents, NO_EVENTS } from "./events.ts";
import { IdleWatch, type Watched } from "./idle_watch.ts";
import { LinkedList, ListNode } from "./linked_list.ts";
import type { JsonObject } from "./json.ts";
import type { Redactor } from "./redact.ts";
import type { Target } from "./router.ts";
import { type OpenRelay, openRelay, type RelayOptions, type RelaySummary } from "./stream_relay.ts";

/** One request for the executor: the parsed body is rewritten per target. */
export interface ExecuteRequest {
  endpoint: Endpoint;
  body: JsonObject;
  stream: boolean;
  /**
   * The client's signal (aborts everything when the client leaves), read lazily: reading
   * Deno.serve's `request.signal` starts an async op per request, so only work that outlasts
   * CLIENT_LINK_DELAY_MS reads it.
   */
  clientSignal: () => AbortSignal;
  /** Sent upstream as `x-request-id` and given to observers. */
  requestId: string;
  /** Keep a stream's whole body for its summary (response middleware that reads bodies). */
  keepBody?: boolean;
  /**
   * Called for each streaming attempt once its request is on its way, with the body the outcome
   * will have if this attempt serves it: the caller can build its response while the upstream
   * thinks, instead of after its first byte. Errors it throws are ignored.
   */
  prepare?: (target: Target, attempt: number, body: ReadableStream<Uint8Array>) => void;
}

/** Fields every outcome carries: who served (or refused) and what was tried first. */
interface OutcomeBase {
  target: Target;
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

/** Runs plans: one loop for streaming and non-streaming requests. */
export interface Executor {
  execute(plan: readonly Target[], request: ExecuteRequest): Promise<Outcome>;
  /** The breaker of a provider, for health reporting. */
  breaker(provider: string): CircuitBreaker;
  /** Streams currently relayed. */
  readonly activeStreams: number;
  /** Stops listening for shutdown and stops the watches' timers (the generation is released). */
  close(): void;
}

/** Injectable clock, randomness and observers. */
export interface ExecutorDeps {
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  random?: () => number;
  events?: ExecutionEvents;
  /** Fires when the gateway stops waiting for in-flight work (end of the shutdown grace). */
  shutdown?: AbortSignal;
}

/** The reason a client disconnect aborts upstream work with. */
export const CLIENT_CLOSED = new GatewayError("client_closed", "the client closed the connection");
/** The reason in-flight upstream work is aborted with when the shutdown grace period ends. */
export const SHUTTING_DOWN = new GatewayError("shutting_down", "the gateway is shutting down");

/**
 * Work shorter than this never reads the client's signal; longer work is tied to it within one
 * more sweep tick. A client that leaves is noticed within ~150 ms instead of at once, and a fast
 * answer saves the async op and listeners the signal costs.
 */
export const CLIENT_LINK_DELAY_MS = 100;

/** The client's side of one request: its signal, once something has read it. */
class ClientTie {
  readonly #read: () => AbortSignal;
  #signal: AbortSignal | undefined;

  constructor(read: () => AbortSignal) {
    this.#read = read;
  }

  /** Whether the client is known to have left. */
  get left(): boolean {
    return this.#signal?.aborted ?? false;
  }

  /** Whether the signal has been read (later attempts tie to it at once). */
  get read(): boolean {
    return this.#signal !== undefined;
  }

  /** Reads the signal (once). */
  signal(): AbortSignal {
    return this.#signal ??= this.#read();
  }
}

/** Builds the executor for the routing configuration. */
export function createExecutor(
  routing: RoutingConfig,
  deps: ExecutorDeps = {},
  options: { shortestTimeoutMs?: number; redact?: Redactor } = {},
): Executor {
  const sleep = deps.sleep ?? abortableSleep;
  const random = deps.random ?? Math.random;
  const events = deps.events ?? NO_EVENTS;
  const breakers = new Map<string, CircuitBreaker>();
  const idle = new IdleWatch(Math.min(1000, Math.max(25, routing.stream_idle_timeout_ms / 4)));
  const clientWatch = new IdleWatch(CLIENT_LINK_DELAY_MS / 2);
  // Every attempt or backoff wait in flight, for the end of the shutdown grace: one listener
  // on the shutdown signal instead of one per request. A list, not a Set (see LinkedList).
  const live = new LinkedList<LiveCall>();
  const shutdown = deps.shutdown;
  const onShutdown = () => {
    for (const call of live.toArray()) call.controller.abort(SHUTTING_DOWN);
  };
  shutdown?.addEventListener("abort", onShutdown);

  /** Ties a controller to the client (after CLIENT_LINK_DELAY_MS) and to shutdown; returns the untie. */
  function link(client: ClientTie, controller: AbortController): () => void {
    if (client.left) throw CLIENT_CLOSED;
    if (shutdown?.aborted) throw SHUTTING_DOWN;
    const call = new LiveCall(controller);
    live.push(call);
    let untieClient: (() => void) | undefined;
    const tie = () => {
      let signal: AbortSignal;
      try {
        signal = client.signal();
      } catch {
        // Runs in a shared sweep: a request whose signal cannot be read any more must not stop
        // the sweep for everyone else. Its attempt still ends by its own timeout.
        return;
      }
      if (signal.aborted) return controller.abort(CLIENT_CLOSED);
      const onClient = () => controller.abort(CLIENT_CLOSED);
      signal.addEventListener("abort", onClient);
      untieClient = () => signal.removeEventListener("abort", onClient);
    };
    // A later attempt of a request whose signal was already read ties at once.
    let pending: Watched | undefined;
    if (client.read) tie();
    else pending = clientWatch.add(CLIENT_LINK_DELAY_MS, tie);
    return () => {
      live.remove(call);
      if (pending !== undefined) clientWatch.remove(pending);
      untieClient?.();
    };
  }
  // Attempt timeouts share one sweep too: no timer is armed and cleared per request.
  const deadlines = new IdleWatch(
    Math.min(250, Math.max(10, (options.shortestTimeoutMs ?? 30_000) / 8)),
  );

  function breaker(name: string): CircuitBreaker {
    let b = breakers.get(name);
    if (b === undefined) {
      b = new CircuitBreaker(routing.circuit_breaker);
      breakers.set(name, b);
    }
    return b;
  }

  function backoff(retry: number, err: ProviderError): number | undefined {
    if (err.retryAfterMs !== undefined) {
      return err.retryAfterMs > routing.retry_after_cap_ms ? undefined : err.retryAfterMs;
    }
    const ceiling = Math.min(routing.backoff_max_ms, routing.backoff_base_ms * 2 ** retry);
    return Math.round(ceiling / 2 + (random() * ceiling) / 2);
  }

  async function execute(plan: readonly Target[], request: ExecuteRequest): Promise<Outcome> {
    const attempts: AttemptRecord[] = [];
    const client = new ClientTie(request.clientSignal);
    const bodies = new Map<string, string>();
    let previous: Target | undefined;
    for (const target of plan) {
      if (previous !== undefined) events.fallback(label(previous), label(target));
      previous = target;
      const json = () => {
        let text = bodies.get(target.model);
        if (text === undefined) {
          text = JSON.stringify(request.body);
          bodies.set(target.model, text);
        }
        return text;
      };
      const outcome = await tryTarget(target, json, request, client, attempts);
      if (outcome !== undefined) return outcome;
    }
    throw exhausted(attempts);
  }

  /** Tries one target with its retries; undefined means "move on to the next target". */
  async function tryTarget(
    target: Target,
    json: () => string,
    request: ExecuteRequest,
    client: ClientTie,
    attempts: AttemptRecord[],
  ): Promise<Outcome | undefined> {
    const circuit = breaker(target.provider.name);
    for (let retry = 0;; retry++) {
      if (!circuit.tryAcquire()) {
        attempts.push({
          provider: target.provider.name,
          model: target.model,
          kind: "circuit_open",
        });
        return undefined;
      }
      if (retry > 0) events.retry(target.provider.name);
      const end = events.attempt({
        provider: target.provider.name,
        model: target.model,
        attempt: attempts.length + 1,
        retry,
        stream: request.stream,
        requestId: request.requestId,
      });
      try {
        request.body.model = target.model;
        const outcome = await attempt(target, json, request, client, attempts, circuit);
        end({ outcome: "success", status: outcome.status });
        return outcome;
      } catch (err) {
        if (!(err instanceof ProviderError) || client.left) {
          // An attempt that ended after its client left (a timeout that won the race, say) says
          // nothing about the provider: no failure, no success.
          end({ outcome: "client_closed" });
          circuit.release();
          throw err instanceof ProviderError ? CLIENT_CLOSED : err;
        }
        const cause = attemptCause(err, target.provider.config.api_key);
        end({ outcome: err.kind, status: err.status, cause });
        attempts.push({
          provider: target.provider.name,
          model: target.model,
          kind: err.kind,
          status: err.status,
          detail: err.detail,
          cause,
        });
        if (!err.fallbackable) {
          circuit.release();
          return {
            kind: "rejected",
            status: err.status ?? 400,
            body: err.upstreamBody ?? "",
            contentType: err.upstreamContentType ?? "application/json",
            target,
            attempts: attempts.slice(0, -1),
          };
        }
        if (countsAgainstCircuit(err)) circuit.onFailure();
        else circuit.release();
        if (!err.retryable || retry >= target.provider.config.max_retries) return undefined;
        const delay = backoff(retry, err);
        if (delay === undefined) return undefined;
        // The wait ends early, like an attempt, when the client leaves or the gateway stops.
        const wait = new AbortController();
        const unlink = link(client, wait);
        try {
          await sleep(delay, wait.signal);
        } finally {
          unlink();
        }
      }
    }
  }

  async function attempt(
    target: Target,
    json: () => string,
    request: ExecuteRequest,
    client: ClientTie,
    attempts: AttemptRecord[],
    circuit: CircuitBreaker,
  ): Promise<Outcome> {
    const controller = new AbortController();
    const unlink = link(client, controller);
    const { provider, model } = target;
    const timeoutMs = provider.config.timeout_ms;
    const deadline = deadlines.add(timeoutMs, () => {
      controller.abort(new ProviderError("timeout", `no answer within ${timeoutMs}ms`));
    });
    let relaying = false;
    let summarize!: (summary: RelaySummary) => void;
    try {
      const sending = provider.send({
        endpoint: request.endpoint,
        model,
        body: request.body,
        json,
        stream: request.stream,
        requestId: request.requestId,
        signal: controller.signal,
      });
      // A pooled connection has the request written by now: the relay is made while the
      // upstream thinks (see openRelay).
      const relay = request.stream
        ? prepareRelay(target, attempts.length + 1, request, {
          idle,
          idleTimeoutMs: routing.stream_idle_timeout_ms,
          label: `${provider.name}/${model}`,
          redact: options.redact,
          abort: (reason) => controller.abort(reason),
          keepBody: request.keepBody,
          onEnd: (ended: RelaySummary) => {
            unlink();
            if (ended.end.kind === "failed" && countsAgainstStream(ended.end.error, client)) {
              circuit.onFailure();
            }
            summarize(ended);
          },
        })
        : undefined;
      const result = await sending;
      const base = { target, attempts, contentType: result.contentType };
      if (relay === undefined) {
        const bytes = await readAll(result, controller.signal);
        circuit.onSuccess();
        return { ...base, kind: "complete", status: result.status, body: bytes };
      }
      const reader = result.chunks?.() ?? chunkReader(result.body);
      const first = await readFirst(reader, controller.signal, provider.name);
      circuit.onSuccess();
      relaying = true;
      const summary = new Promise<RelaySummary>((resolve) => summarize = resolve);
      relay.begin(first, reader);
      return { ...base, kind: "stream", status: result.status, body: relay.stream, summary };
    } finally {
      deadlines.remove(deadline);
      if (!relaying) unlink();
    }
  }

  return {
    execute,
    breaker,
    get activeStreams() {
      return idle.size;
    },
    close: () => {
      shutdown?.removeEventListener("abort", onShutdown);
      idle.close();
      clientWatch.close();
      deadlines.close();
    },
  };
}

/** Opens a streaming attempt's relay and offers its body to `request.prepare`. */
function prepareRelay(
  target: Target,
  attempt: number,
  request: ExecuteRequest,
  options: RelayOptions,
): OpenRelay {
  const relay = openRelay(options);
  try {
    request.prepare?.(target, attempt, relay.stream);
  } catch {
    // Only a head start is lost: the caller builds its response from the outcome instead.
  }
  return relay;
}

/** An attempt or backoff wait in flight, listed for shutdown. */
class LiveCall extends ListNode {
  constructor(readonly controller: AbortController) {
    super();
  }
}

function label(t: Target): string {
  return `${t.provider.name}/${t.model}`;
}

/** Provider-side failures open the circuit; refusals (401/403/404/429) do not. */
function countsAgainstCircuit(err: ProviderError): boolean {
  if (!err.countsAgainstBreaker) return false;
  if (err.kind !== "http") return true;
  return (err.status ?? 0) >= 500;
}

/**
 * Whether a stream that broke after its first byte counts against its provider: not when the
 * client had left, whose signal may abort the upstream read before its body is cancelled.
 */
function countsAgainstStream(error: unknown, client: ClientTie): boolean {
  return error instanceof ProviderError && !client.left;
}

function exhausted(attempts: AttemptRecord[]): GatewayError {
  const tried = attempts.filter((a) => a.kind !== "circuit_open");
  const allTimedOut = tried.length > 0 &&
    tried.every((a) => a.kind === "timeout" || a.kind === "idle_timeout");
  const list = attempts.map(describeAttempt).join("; ");
  return new GatewayError(
    allTimedOut ? "upstream_timeout" : "all_providers_failed",
    `${allTimedOut ? "every provider timed out" : "every provider failed"} (${list})`,
    { attempts },
  );
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

function abortableSleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}
