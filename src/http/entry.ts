import { explainAttempt, GatewayError } from "../core/errors.ts";
import type { Logger } from "../observability/logger.ts";
import type { Context, Handler } from "./context.ts";
import { errorShapeOf, responseForError } from "./errors.ts";
import type { Completion } from "./response_middleware.ts";

/** Response header carrying the request id (the client's, when sane, or a new UUID). */
export const REQUEST_ID_HEADER = "x-request-id";

/**
 * Sees every request from arrival to the end of its response: the access log, the metrics and
 * the generation's drain count. Observers are plain calls, not middleware layers: a layer costs a
 * promise per request, an observer a function call.
 */
export interface RequestObserver {
  /** The request arrived; its id is set. */
  start?(ctx: Context): void;
  /**
   * The response is done: at once for a plain answer, after its last byte for a proxied one
   * (`done` is then its completion). Must not throw.
   */
  end(ctx: Context, status: number, durationMs: number, done: Completion | undefined): void;
}

/**
 * Wraps the handler chain: sets the request id, turns a thrown error into an OpenAI-shaped
 * response, echoes `x-request-id`, and tells the observers when the request is over.
 */
export function entry(
  inner: Handler,
  options: { observers: readonly RequestObserver[]; logger: Logger },
): Handler {
  const { observers, logger } = options;
  const starts = observers.filter((o) => o.start !== undefined);

  function failed(ctx: Context, err: unknown): Response {
    if (err instanceof GatewayError) {
      ctx.state["error.code"] = err.code;
      ctx.state["error.message"] = err.message;
      // The client's message names each attempt's kind; the log also says why each one failed.
      if (err.attempts.length > 0) {
        ctx.state["gateway.fallback_path"] = err.attempts.map(explainAttempt);
      }
    } else {
      logger.error("unhandled error", {
        "error.message": err instanceof Error ? err.message : String(err),
        "error.stack_trace": err instanceof Error ? err.stack : undefined,
        "trace.id": ctx.requestId,
      });
    }
    return responseForError(err, undefined, errorShapeOf(ctx.path, ctx.request.headers));
  }

  function finish(ctx: Context, res: Response): Response {
    if (!ctx.requestIdSent) res.headers.set(REQUEST_ID_HEADER, ctx.requestId);
    const status = res.status;
    const completion = ctx.completion;
    if (completion === undefined) {
      const duration = performance.now() - ctx.startedAt;
      for (const o of observers) o.end(ctx, status, duration, undefined);
    } else {
      completion.then((done) => {
        for (const o of observers) o.end(ctx, status, done.duration_ms, done);
      });
    }
    return res;
  }

  return function handleRequest(ctx: Context): Promise<Response> {
    ctx.requestId = requestIdOf(ctx.request);
    for (const o of starts) o.start!(ctx);
    let answer: Promise<Response> | Response;
    try {
      answer = inner(ctx);
    } catch (err) {
      return Promise.resolve(finish(ctx, failed(ctx, err)));
    }
    if (answer instanceof Response) return Promise.resolve(finish(ctx, answer));
    return answer.then(
      (res) => finish(ctx, res),
      (err) => finish(ctx, failed(ctx, err)),
    );
  };
}

/** Longest client-supplied request id kept; longer ones are replaced. */
const MAX_ID_LENGTH = 128;
const SANE_ID = /^[\w.:-]+$/;

/** The client's `x-request-id` when it is short and plain, else a new UUID. */
export function requestIdOf(request: Request): string {
  const given = request.headers.get(REQUEST_ID_HEADER);
  return given !== null && given.length > 0 && given.length <= MAX_ID_LENGTH && SANE_ID.test(given)
    ? given
    : crypto.randomUUID();
}
