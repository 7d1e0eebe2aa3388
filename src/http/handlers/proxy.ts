import type { Engine } from "../../core/engine.ts";
import type { ExecuteRequest, Outcome } from "../../core/executor.ts";
import type { JsonObject } from "../../core/json.ts";
import {
  messagesStreamEnd,
  messagesTranslation,
  refusalAsMessages,
} from "../../dialects/messages/dialect.ts";
import { messagesStreamErrorEvent } from "../../dialects/messages/errors.ts";
import { chatStreamEnd } from "../../dialects/chat/stream_end.ts";
import { IdleWatch } from "../../core/idle_watch.ts";
import { servingTargets } from "../../core/router.ts";
import { type Endpoint, servesNatively } from "../../core/provider.ts";
import { type CostOptions, formatUsd } from "../../core/pricing.ts";
import { estimateInputTokens } from "../../dialects/messages/count_tokens.ts";
import { readJsonBody } from "../body.ts";
import type { ResponseState } from "../../store/responses.ts";
import { prepareResponses } from "./responses.ts";
import { REQUEST_ID_HEADER } from "../entry.ts";
import type { Context, Handler } from "../context.ts";
import {
  bufferedCompletion,
  completionOf,
  type ResponseMiddleware,
  runResponseMiddleware,
} from "../response_middleware.ts";
import { validateRequest } from "../validate.ts";

/** Response headers naming who served a request (documented in the README). */
export const SERVED_BY_PROVIDER = "x-gateway-provider";
/** The model name at the provider that served the request. */
export const SERVED_BY_MODEL = "x-gateway-model";
/** How many attempts the request took, the serving one included. */
export const ATTEMPTS = "x-gateway-attempts";
/** What a non-streamed answer cost in USD (absent when its usage or its model's price is unknown). */
export const COST_USD = "x-gateway-cost-usd";

/** Options for `proxyHandler`. */
export interface ProxyOptions {
  /** Hooks run on every proxied response. */
  responseMiddleware: readonly ResponseMiddleware[];
  /** Where a failing response middleware is reported. */
  onHookError: (name: string, err: unknown) => void;
  /** Where a served model without a price is reported (once per provider and model). */
  onUnknownPrice: (provider: string, model: string) => void;
  /** Stored Responses API responses; null without a store. */
  responses: ResponseState | null;
}

/** One handler for chat, completions and embeddings: parse once, plan, execute, relay. */
export function proxyHandler(engine: Engine, endpoint: Endpoint, options: ProxyOptions): Handler {
  const limit = engine.config.server.max_body_bytes;
  const bodyOptions = {
    timeoutMs: engine.config.server.body_timeout_ms,
    watch: new IdleWatch(Math.max(10, Math.min(1_000, engine.config.server.body_timeout_ms / 4))),
    maxDepth: engine.config.server.max_json_depth,
  };
  const keepBody = options.responseMiddleware.some((mw) => mw.wantsBody === true);
  const costs: CostOptions = { onUnknownPrice: options.onUnknownPrice };
  const messages = endpoint === "messages";
  const responses = endpoint === "responses";
  return async function proxy(ctx: Context): Promise<Response> {
    const body = await readJsonBody(ctx.request, limit, bodyOptions);
    const routed = validateRequest(endpoint, body);
    ctx.state["gateway.requested_model"] = routed.model;
    ctx.state["gateway.stream"] = routed.stream;
    // Access is judged on the plan as requested, before targets are dropped for the endpoint.
    const planned = engine.access.filterPlan(
      ctx.caller,
      routed.model,
      engine.router.plan(routed.model, routed.fallbacks),
    );
    // Only Anthropic counts tokens; for any other plan an estimate beats an error, because
    // clients ask before every long turn.
    if (endpoint === "count_tokens" && !planned.some((t) => servesNatively(t.provider, endpoint))) {
      return estimatedCount(ctx, body);
    }
    let plan = servingTargets(planned, endpoint);
    let dialect: Partial<ExecuteRequest>;
    let finish: ((outcome: Outcome) => void) | undefined;
    if (messages) {
      dialect = messagesOptions(ctx, routed.model, body);
    } else if (responses) {
      const prepared = await prepareResponses(
        ctx,
        options.responses,
        engine.config.responses.retention_ms,
        body,
        routed.model,
        plan,
      );
      ({ plan, finish } = prepared);
      dialect = prepared.options;
    } else {
      // A token budget needs a stream's usage: it may ask for it (and then hides it from the
      // client). Messages and Responses streams always carry theirs.
      ctx.tokenBudget?.askUsage(body, routed.stream);
      dialect = { streamEnd: chatStreamEnd };
    }
    const outcome = await engine.executor.execute(plan, {
      endpoint,
      body,
      stream: routed.stream,
      // The client leaving ends the upstream call (the gateway stopping too, via the engine).
      signal: ctx.request.signal,
      requestId: ctx.requestId,
      keepBody,
      ...dialect,
    });
    finish?.(outcome);
    if (outcome.kind === "rejected") {
      // An upstream's refusal may quote the request it got, key included; answers are not scanned.
      outcome.body = engine.redact(outcome.body);
      if (messages && outcome.translated) {
        outcome.body = refusalAsMessages(outcome.status, outcome.body);
        outcome.contentType = "application/json";
      }
    }
    const cost = complete(ctx, outcome, costs);
    const completion = ctx.completion!;
    ctx.tokenBudget?.settle(outcome, completion);
    const res = respond(ctx, outcome, cost);
    if (options.responseMiddleware.length > 0) {
      runResponseMiddleware(ctx, res, completion, options.responseMiddleware, options.onHookError);
    }
    return res;
  };
}

/**
 * Sets `ctx.completion` and returns a buffered answer's cost, which is known before its response
 * is built; a stream's is known at its end (null here).
 */
function complete(ctx: Context, outcome: Outcome, costs: CostOptions): number | null {
  const ttfbMs = performance.now() - ctx.startedAt;
  if (outcome.kind === "stream") {
    ctx.completion = completionOf(ctx, outcome, ttfbMs, costs);
    return null;
  }
  const done = bufferedCompletion(ctx, outcome, ttfbMs, costs);
  ctx.completion = Promise.resolve(done);
  return done.cost_usd;
}

/** Header on a token count the gateway estimated rather than asked a provider for. */
export const TOKEN_ESTIMATE = "x-gateway-token-estimate";

function estimatedCount(ctx: Context, body: JsonObject): Response {
  ctx.requestIdSent = true;
  return new Response(JSON.stringify({ input_tokens: estimateInputTokens(body) }), {
    headers: {
      "content-type": "application/json",
      [TOKEN_ESTIMATE]: "true",
      [REQUEST_ID_HEADER]: ctx.requestId,
    },
  });
}

/** Client headers of the Messages API a native call forwards. */
const MESSAGES_HEADERS = ["anthropic-version", "anthropic-beta"];

/** What a Messages request adds: translation for hub providers, its error event, its headers. */
function messagesOptions(
  ctx: Context,
  model: string,
  body: JsonObject,
): Partial<ExecuteRequest> {
  let headers: Record<string, string> | undefined;
  for (const name of MESSAGES_HEADERS) {
    const value = ctx.request.headers.get(name);
    if (value !== null) (headers ??= {})[name] = value;
  }
  return {
    translation: messagesTranslation(model, body),
    streamError: messagesStreamErrorEvent,
    headUsage: true,
    streamEnd: messagesStreamEnd,
    headers,
  };
}

const STREAM_NO_CACHE: [string, string] = ["cache-control", "no-cache"];
const STREAM_NO_BUFFERING: [string, string] = ["x-accel-buffering", "no"];

/** A header value of printable ASCII; anything else (a Unicode model name) is percent-encoded. */
const PLAIN_HEADER = /^[\x20-\x7e]*$/;

function respond(ctx: Context, outcome: Outcome, cost: number | null): Response {
  const headers = servedHeaders(
    ctx,
    outcome.contentType,
    outcome.target.provider.name,
    outcome.target.model,
    outcome.attempts.length + 1,
    outcome.kind === "stream",
  );
  if (cost !== null) headers.push([COST_USD, formatUsd(cost)]);
  return served(ctx, outcome, new Response(outcome.body, { status: outcome.status, headers }));
}

/** Records who served the request, for the access log and the request id's header. */
function served(ctx: Context, outcome: Outcome, res: Response): Response {
  ctx.state["gateway.provider"] = outcome.target.provider.name;
  ctx.state["gateway.model"] = outcome.target.model;
  ctx.state["gateway.attempts"] = outcome.attempts.length + 1;
  ctx.requestIdSent = true;
  return res;
}

/**
 * A proxied answer's headers. Name/value pairs: the Response constructor copies them once, with
 * no Headers object in between, and reads them faster than a record's keys.
 */
function servedHeaders(
  ctx: Context,
  contentType: string,
  provider: string,
  model: string,
  attempts: number,
  stream: boolean,
): [string, string][] {
  const headers: [string, string][] = [
    ["content-type", contentType],
    [SERVED_BY_PROVIDER, provider],
    [SERVED_BY_MODEL, PLAIN_HEADER.test(model) ? model : encodeURI(model)],
    [ATTEMPTS, String(attempts)],
    [REQUEST_ID_HEADER, ctx.requestId],
  ];
  if (stream) headers.push(STREAM_NO_CACHE, STREAM_NO_BUFFERING);
  return headers;
}
