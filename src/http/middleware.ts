import type { Context, Handler, Middleware } from "./context.ts";

/** Composes middleware around a handler, onion-style; `next()` twice in one middleware throws. */
export function compose(middleware: readonly Middleware[], handler: Handler): Handler {
  return function composed(ctx: Context): Promise<Response> {
    let last = -1;
    function dispatch(i: number): Promise<Response> {
      if (i <= last) return Promise.reject(new Error("next() called more than once"));
      last = i;
      const mw = middleware[i];
      if (mw === undefined) return Promise.resolve(handler(ctx));
      return mw(ctx, () => dispatch(i + 1));
    }
    return dispatch(0);
  };
}
