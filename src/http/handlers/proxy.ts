import type { Engine } from "../../core/engine.ts";
import type { Outcome } from "../../core/executor.ts";
import type { Endpoint } from "../../providers/provider.ts";
import { isRecord, type JsonObject } from "../../core/json.ts";
import { observeUsage, usageFromBody } from "../../core/usage.ts";
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
    const plan = engine.access.filterPlan(
      ctx.caller,
      routed.model,
      engine.router.plan(routed.model, routed.fallbacks),
    );
    const stripUsage = ctx.onTokens !== undefined && routed.stream && !asksForUsage(body);
    if (stripUsage) {
      // A token budget needs the stream's usage: ask for it, and hide it from the client.
      body.stream_options = {
        ...(isRecord(body.stream_options) ? body.stream_options : {}),
        include_usage: true,
      };
    }
    const outcome = await engine.executor.execute(plan, {
      endpoint,
      body,
      stream: routed.stream,
      // The client leaving or the gateway stopping both end the upstream call.
      signal: AbortSignal.any([ctx.request.signal, ctx.shutdown]),
      requestId: ctx.requestId,
    });
    if (ctx.onTokens !== undefined) countTokens(outcome, ctx.onTokens, stripUsage);
    return respond(ctx, outcome);
  };
}

function asksForUsage(body: JsonObject): boolean {
  return isRecord(body.stream_options) && body.stream_options.include_usage === true;
}

/** Feeds the tokens an answer reports to the rate limiter (streams: once they end). */
function countTokens(outcome: Outcome, onTokens: (n: number) => void, strip: boolean): void {
  if (outcome.kind === "complete") {
    const tokens = usageFromBody(outcome.body);
    if (tokens !== null) onTokens(tokens);
  } else if (outcome.kind === "stream") {
    outcome.body = observeUsage(outcome.body, { strip, onTokens });
  }
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
