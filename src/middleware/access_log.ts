import { GatewayError } from "../core/errors.ts";
import type { Context, Middleware } from "../http/context.ts";
import type { Logger } from "../observability/logger.ts";
import { responseForError } from "../http/errors.ts";

/** Logs one line per request at info; turns thrown errors into OpenAI-shaped responses. */
export function accessLog(logger: Logger): Middleware {
  return async function accessLogMiddleware(ctx: Context, next) {
    const start = performance.now();
    let res: Response;
    try {
      res = await next();
    } catch (err) {
      if (err instanceof GatewayError) {
        ctx.state["error.code"] = err.code;
      } else {
        logger.error("unhandled error", {
          "error.message": err instanceof Error ? err.message : String(err),
          "error.stack_trace": err instanceof Error ? err.stack : undefined,
          "trace.id": ctx.requestId,
        });
      }
      res = responseForError(err);
    }
    if (logger.enabled("info")) {
      logger.info("request", {
        "http.request.method": ctx.request.method,
        "url.path": ctx.url.pathname,
        "http.response.status_code": res.status,
        "event.duration": Math.round((performance.now() - start) * 1e6),
        "client.address": ctx.remoteAddr,
        "trace.id": ctx.requestId,
        ...ctx.state,
      });
    }
    return res;
  };
}
