import { explainAttempt } from "../core/errors.ts";
import type { Context } from "../http/context.ts";
import type { RequestObserver } from "../http/entry.ts";
import type { Completion } from "../http/response_middleware.ts";
import type { LogFields, Logger } from "../observability/logger.ts";

/**
 * One access-log line per request, written when the response is done (for a stream: when it
 * ends, so the line carries its duration, outcome and token usage). Probes (`quiet` paths) are
 * logged at debug only.
 */
export function accessLog(logger: Logger, quiet: ReadonlySet<string>): RequestObserver {
  return {
    end(ctx, status, durationMs, done) {
      const level = quiet.has(ctx.path) ? "debug" : "info";
      if (logger.enabled(level)) logger[level]("request", fields(ctx, status, durationMs, done));
    },
  };
}

/** The line's fields, built in one object (no spreads: this runs on every request). */
function fields(
  ctx: Context,
  status: number,
  durationMs: number,
  done: Completion | undefined,
): LogFields {
  const out: LogFields = {
    "http.request.method": ctx.request.method,
    "url.path": ctx.path,
    "http.response.status_code": status,
    "event.duration": Math.round(durationMs * 1e6),
    "client.address": ctx.remoteAddr,
    "trace.id": ctx.requestId,
  };
  for (const key in ctx.state) out[key] = ctx.state[key];
  if (done === undefined) return out;
  out["gateway.outcome"] = done.outcome;
  out["gateway.ttfb_ms"] = Math.round(done.ttfb_ms * 10) / 10;
  out["http.response.body.bytes"] = done.bytes;
  if (done.attempts.length > 0) out["gateway.fallback_path"] = fallbackPath(done);
  if (done.usage !== null) {
    out["gateway.usage.prompt_tokens"] = done.usage.prompt_tokens;
    out["gateway.usage.completion_tokens"] = done.usage.completion_tokens;
    out["gateway.usage.total_tokens"] = done.usage.total_tokens;
    if (done.usage.cached_tokens !== undefined) {
      out["gateway.usage.cached_tokens"] = done.usage.cached_tokens;
    }
  }
  if (done.cost_usd !== null) out["gateway.cost_usd"] = done.cost_usd;
  return out;
}

/** A served request's failed attempts, then the one that served (`gateway.fallback_path`). */
export function fallbackPath(done: Completion): string[] {
  return [...done.attempts.map(explainAttempt), `${done.provider}/${done.model}: served`];
}
