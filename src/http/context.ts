import type { Caller } from "../auth/caller.ts";
import type { Outcome } from "../core/executor.ts";
import type { JsonObject } from "../core/json.ts";
import type { Completion } from "./response_middleware.ts";

/** Per-request state shared by middleware and handlers. */
export interface Context {
  request: Request;
  /** The request's path (no query string), undecoded. */
  path: string;
  /** `x-request-id` from the client, or a new one. */
  requestId: string;
  /** The handler already put `x-request-id` in its response's headers. */
  requestIdSent?: boolean;
  /** Client address, for logs. */
  remoteAddr: string;
  /** Route parameters, e.g. the model id of `/v1/models/{id}`. */
  params: Record<string, string>;
  /** The authenticated caller; null when auth is disabled. */
  caller: Caller | null;
  /** Set by the rate limiter when the caller has a token budget. */
  tokenBudget?: TokenBudget;
  /** `performance.now()` when the request arrived. */
  startedAt: number;
  /** For proxied answers: resolves once the body has been sent (streams: at their end). */
  completion?: Promise<Completion>;
  /** Facts the handler learned, for the access log (provider, model, attempts). */
  state: Record<string, string | number | boolean | readonly string[] | undefined>;
}

/**
 * A caller's token budget as a proxied request meets it (the rate limiter, `rate_limit.ts`, sets
 * one per request): the handler shows it the request body, then the outcome.
 */
export interface TokenBudget {
  /**
   * Before the upstream call: a stream that does not ask for usage is made to, since the budget
   * counts it (`settle` then hides the usage chunk from the client).
   */
  askUsage(body: JsonObject, stream: boolean): void;
  /** Counts the answer's tokens once it is complete; hides a usage chunk `askUsage` asked for. */
  settle(outcome: Outcome, completion: Promise<Completion>): void;
}

/** An endpoint handler. */
export type Handler = (ctx: Context) => Promise<Response> | Response;

/** Koa-style middleware: may act before and after `next()`. */
export type Middleware = (ctx: Context, next: () => Promise<Response>) => Promise<Response>;
