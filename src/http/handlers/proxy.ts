import type { Engine } from "../../core/engine.ts";
import type { Outcome } from "../../core/executor.ts";
import type { Endpoint } from "../../providers/provider.ts";
import { readJsonBody } from "../body.ts";
import type { Context, Handler } from "../context.ts";
import { validateRequest } from "../validate.ts";

/** Response headers naming who served a request (documented in the README). */
export const SERVED_BY_PROVIDER = "x-gateway-provider";
/** The model name at the provider that served the request. */
export const SERVED_BY_MODEL = "x-gateway-model";
/** How many attempts the request took, the serving one included. */
export const ATTEMPTS = "x-gateway-attempts";

/** One handler for chat, completions and embeddings: parse once, plan, execute, relay. */
export function proxyHandler(engine: Engine, endpoint: Endpoint): Handler {
  const limit = engine.config.server.max_body_bytes;
  return async function proxy(ctx: Context): Promise<Response> {
    const body = await readJsonBody(ctx.request, limit);
    const routed = validateRequest(endpoint, body);
    ctx.state["gateway.requested_model"] = routed.model;
    const plan = engine.router.plan(routed.model, routed.fallbacks);
    const outcome = await engine.executor.execute(plan, {
      endpoint,
      body,
      stream: routed.stream,
      // The client leaving or the gateway stopping both end the upstream call.
      signal: AbortSignal.any([ctx.request.signal, ctx.shutdown]),
    });
    return respond(ctx, outcome);
  };
}

function respond(ctx: Context, outcome: Outcome): Response {
  const provider = outcome.target.provider.name;
  const model = outcome.target.model;
  const attempts = outcome.attempts.length + 1;
  ctx.state["gateway.provider"] = provider;
  ctx.state["gateway.model"] = model;
  ctx.state["gateway.attempts"] = attempts;
  const headers = new Headers({
    "content-type": outcome.contentType,
    [SERVED_BY_PROVIDER]: provider,
    [SERVED_BY_MODEL]: model,
    [ATTEMPTS]: String(attempts),
  });
  if (outcome.kind === "stream") {
    headers.set("cache-control", "no-cache");
    headers.set("x-accel-buffering", "no");
  }
  return new Response(outcome.body, { status: outcome.status, headers });
}
