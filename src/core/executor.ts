import type { RoutingConfig } from "../config/types.ts";
import {
  type AttemptScope,
  CLIENT_CLOSED,
  type ExecuteRequest,
  InFlight,
  type Outcome,
  runAttempt,
  type TargetCall,
} from "./attempt.ts";
import { CircuitBreaker } from "./circuit_breaker.ts";
import { attemptCause, type AttemptRecord, ProviderError } from "./errors.ts";
import { type ExecutionEvents, NO_EVENTS } from "./events.ts";
import { IdleWatch } from "./idle_watch.ts";
import { type Endpoint, HUB, servesNatively } from "./provider.ts";
import type { Redactor } from "./redact.ts";
import { countsAgainstCircuit, exhausted, retryDelay } from "./retry_policy.ts";
import type { Target } from "./router.ts";

export {
  CLIENT_CLOSED,
  type ExecuteRequest,
  type Outcome,
  SHUTTING_DOWN,
  type Translation,
} from "./attempt.ts";

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
  /** The breakers' clock (their cooldown). */
  now?: () => number;
  events?: ExecutionEvents;
  /** Fires when the gateway stops waiting for in-flight work (end of the shutdown grace). */
  shutdown?: AbortSignal;
  /** A provider turned out not to speak an endpoint natively: it is translated from now on. */
  onUnlearned?: (provider: string, endpoint: Endpoint) => void;
}

/**
 * Builds the executor for the routing configuration. The fallback loop (`execute`) walks the
 * plan's targets; the retry loop (`tryTarget`) retries one target by the retry policy
 * (`retry_policy.ts`) behind its circuit breaker; one attempt (`runAttempt`) is one upstream call.
 */
export function createExecutor(
  routing: RoutingConfig,
  deps: ExecutorDeps = {},
  options: { shortestTimeoutMs?: number; redact?: Redactor } = {},
): Executor {
  const sleep = deps.sleep ?? abortableSleep;
  const random = deps.random ?? Math.random;
  const events = deps.events ?? NO_EVENTS;
  const breakers = new Map<string, CircuitBreaker>();
  // Deadlines share one sweep per watch: no timer is armed and cleared per request or chunk.
  const scope: AttemptScope = {
    inFlight: new InFlight(deps.shutdown),
    deadlines: new IdleWatch(
      Math.min(250, Math.max(10, (options.shortestTimeoutMs ?? 30_000) / 8)),
    ),
    idle: new IdleWatch(Math.min(1000, Math.max(25, routing.stream_idle_timeout_ms / 4))),
    idleTimeoutMs: routing.stream_idle_timeout_ms,
    redact: options.redact,
  };

  function breaker(name: string): CircuitBreaker {
    let b = breakers.get(name);
    if (b === undefined) {
      b = new CircuitBreaker(routing.circuit_breaker, deps.now);
      breakers.set(name, b);
    }
    return b;
  }

  async function execute(plan: readonly Target[], request: ExecuteRequest): Promise<Outcome> {
    const attempts: AttemptRecord[] = [];
    // The body is serialised once per model name, however many targets and retries share it.
    const bodies = new Map<string, string>();
    let previous: Target | undefined;
    for (const target of plan) {
      if (previous !== undefined) events.fallback(label(previous), label(target));
      previous = target;
      let outcome = await tryTarget(target, request, callFor(target, request, bodies), attempts);
      // The provider lacks the API it was tried on: the same target again, through the hub.
      if (outcome === UNLEARNED) {
        outcome = await tryTarget(target, request, callFor(target, request, bodies), attempts);
      }
      if (outcome !== undefined && outcome !== UNLEARNED) return outcome;
    }
    throw exhausted(attempts);
  }

  /**
   * Tries one target with its retries; undefined means "move on to the next target", `UNLEARNED`
   * "the provider stopped serving the endpoint natively: call it again".
   */
  async function tryTarget(
    target: Target,
    request: ExecuteRequest,
    call: TargetCall,
    attempts: AttemptRecord[],
  ): Promise<Outcome | typeof UNLEARNED | undefined> {
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
        call.body.model = target.model;
        const outcome = await runAttempt(scope, target, request, { call, circuit, attempts });
        end({ outcome: "success", status: outcome.status });
        return outcome;
      } catch (err) {
        if (!(err instanceof ProviderError) || request.signal.aborted) {
          // An attempt that ended after its client left (a timeout that won the race, say) says
          // nothing about the provider: no failure, no success.
          end({ outcome: "client_closed" });
          circuit.release();
          throw err instanceof ProviderError ? CLIENT_CLOSED : err;
        }
        const cause = attemptCause(err, target.provider.config.api_key);
        end({ outcome: err.kind, status: err.status, cause });
        if (lacksEndpoint(target, request, call, err)) {
          circuit.release();
          deps.onUnlearned?.(target.provider.name, request.endpoint);
          return UNLEARNED;
        }
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
            translated: call.translation !== undefined,
            attempts: attempts.slice(0, -1),
          };
        }
        if (countsAgainstCircuit(err)) circuit.onFailure();
        else circuit.release();
        if (!err.retryable || retry >= target.provider.config.max_retries) return undefined;
        const delay = retryDelay(routing, retry, err, random);
        if (delay === undefined) return undefined;
        await wait(delay, request.signal);
      }
    }
  }

  /** A backoff wait, which ends early like an attempt when the client leaves or the gateway stops. */
  async function wait(ms: number, client: AbortSignal): Promise<void> {
    const controller = new AbortController();
    const unlink = scope.inFlight.link(client, controller);
    try {
      await sleep(ms, controller.signal);
    } finally {
      unlink();
    }
  }

  return {
    execute,
    breaker,
    get activeStreams() {
      return scope.idle.size;
    },
    close: () => {
      scope.inFlight.close();
      scope.idle.close();
      scope.deadlines.close();
    },
  };
}

/**
 * A target's call: the request as sent where the provider speaks its API, else the hub request
 * the dialect's translation makes (made before the circuit is asked: a field the target cannot
 * honour is the client's error, not the provider's).
 */
function callFor(target: Target, request: ExecuteRequest, bodies: Map<string, string>): TargetCall {
  const translation = request.translation;
  if (
    translation === undefined ||
    (request.throughHub !== true && servesNatively(target.provider, request.endpoint))
  ) {
    return {
      endpoint: request.endpoint,
      body: request.body,
      json: () => {
        let text = bodies.get(target.model);
        if (text === undefined) {
          text = JSON.stringify(request.body);
          bodies.set(target.model, text);
        }
        return text;
      },
    };
  }
  const body = translation.toHub(request.body, target, request.stream);
  body.model = target.model;
  let text: string | undefined;
  return { endpoint: HUB, body, json: () => text ??= JSON.stringify(body), translation };
}

/** `tryTarget`'s word for "the provider no longer serves the endpoint natively". */
const UNLEARNED = Symbol("unlearned");

/**
 * Whether a native call's failure says the upstream has no such API (404 or 405 on the path, not
 * an unknown model), and the provider, only trying it, stops serving it natively.
 */
function lacksEndpoint(
  target: Target,
  request: ExecuteRequest,
  call: TargetCall,
  err: ProviderError,
): boolean {
  if (call.translation !== undefined || request.translation === undefined) return false;
  if (err.status !== 404 && err.status !== 405) return false;
  // OpenAI answers an unknown model with 404 too; its words name the model.
  if (err.status === 404 && /model/i.test(err.upstreamBody ?? "")) return false;
  return target.provider.unlearn?.(request.endpoint) === true;
}

function label(t: Target): string {
  return `${t.provider.name}/${t.model}`;
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
