import { describeAttempt, GatewayError } from "../core/errors.ts";
import type { Context, Middleware } from "../http/context.ts";
import { responseForError } from "../http/errors.ts";
import type { Completion } from "../http/response_middleware.ts";
import type { LogFields, Logger } from "../observability/logger.ts";

/**
 * One access-log line per request, written when the response is done (for a stream: when it
 * ends, so the line carries its duration, outcome and token usage). Probes (`quiet` paths) are
 * logged at debug only. Also turns thrown errors into OpenAI-shaped responses.
 */
export function accessLog(logger: Logger, quiet: ReadonlySet<string>): Middleware {
  return async function accessLogMiddleware(ctx: Context, next) {
    let res: Response;
    try {
      res = await next();
    } catch (err) {
      if (err instanceof GatewayError) {
        ctx.state["error.code"] = err.code;
        ctx.state["error.message"] = err.message;
      } else {
        logger.error("unhandled error", {
          "error.message": err instanceof Error ? err.message : String(err),
          "error.stack_trace": err instanceof Error ? err.stack : undefined,
          "trace.id": ctx.requestId,
        });
      }
      res = responseForError(err);
    }
    const level = quiet.has(ctx.path) ? "debug" : "info";
    if (!logger.enabled(level)) return res;
    const status = res.status;
    if (ctx.completion === undefined) {
      logger[level]("request", fields(ctx, status, performance.now() - ctx.startedAt));
    } else {
      ctx.completion.then((done) => {
        logger[level]("request", { ...fields(ctx, status, done.duration_ms), ...completed(done) });
      });
    }
    return res;
  };
}

function fields(ctx: Context, status: number, durationMs: number): LogFields {
  return {
    "http.request.method": ctx.request.method,
    "url.path": ctx.path,
    "http.response.status_code": status,
    "event.duration": Math.round(durationMs * 1e6),
    "client.address": ctx.remoteAddr,
    "trace.id": ctx.requestId,
    ...ctx.state,
  };
}

function completed(done: Completion): LogFields {
  const out: LogFields = {
    "gateway.outcome": done.outcome,
    "gateway.ttfb_ms": Math.round(done.ttfb_ms * 10) / 10,
    "http.response.body.bytes": done.bytes,
  };
  if (done.attempts.length > 0) {
    out["gateway.fallback_path"] = [
      ...done.attempts.map(describeAttempt),
      `${done.provider}/${done.model}: served`,
    ];
  }
  if (done.usage !== null) {
    out["gateway.usage.prompt_tokens"] = done.usage.prompt_tokens;
    out["gateway.usage.completion_tokens"] = done.usage.completion_tokens;
    out["gateway.usage.total_tokens"] = done.usage.total_tokens;
  }
  return out;
}
