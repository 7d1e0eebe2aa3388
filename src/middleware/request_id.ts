import type { Context, Middleware } from "../http/context.ts";

/** Longest client-supplied request id kept; longer ones are replaced. */
const MAX_ID_LENGTH = 128;

/** Echoes `x-request-id` (the client's, when sane, or a new UUID) on every response. */
export function requestId(): Middleware {
  return async function requestIdMiddleware(ctx: Context, next) {
    const given = ctx.request.headers.get("x-request-id");
    ctx.requestId = given !== null && given.length > 0 && given.length <= MAX_ID_LENGTH &&
        /^[\w.:-]+$/.test(given)
      ? given
      : crypto.randomUUID();
    const res = await next();
    res.headers.set("x-request-id", ctx.requestId);
    return res;
  };
}
