import type { Context } from "../http/context.ts";
import type { RequestObserver } from "../http/entry.ts";
import type { Completion } from "../http/response_middleware.ts";
import type { UsageRecord } from "../store/store.ts";
import type { UsageWriter } from "../store/writer.ts";

/** Options for `usageRecords`. */
export interface UsageRecordOptions {
  /** The API paths whose requests are accounted (the proxied endpoints). */
  paths: ReadonlySet<string>;
  /**
   * Whether requests need credentials: then a request refused for lack of them is not accounted,
   * so that anyone who can reach the port cannot fill the store.
   */
  authenticated: boolean;
}

/**
 * One usage record per API request, handed to the writer when the response is done (a stream:
 * when it ends) and never awaited. It holds who asked, what served it, tokens, cost and timings;
 * never a prompt or a completion.
 */
export function usageRecords(writer: UsageWriter, options: UsageRecordOptions): RequestObserver {
  return {
    end(ctx, status, durationMs, done) {
      const endpoint = endpointOf(ctx.path);
      if (!options.paths.has(endpoint)) return;
      if (options.authenticated && ctx.caller === null) return;
      writer.enqueue(usageRecord(ctx, { endpoint, status, durationMs, done }));
    },
  };
}

/** The record of one finished request. */
export function usageRecord(
  ctx: Context,
  facts: { endpoint: string; status: number; durationMs: number; done: Completion | undefined },
): UsageRecord {
  const { caller, state } = ctx;
  const { done } = facts;
  const usage = done?.usage ?? null;
  const failedAttempts = state["gateway.fallback_path"];
  return {
    time: Math.round(performance.timeOrigin + ctx.startedAt),
    request_id: ctx.requestId,
    key_id: caller?.keyId ?? null,
    key_name: caller?.kind === "key" ? caller.name : null,
    user: caller?.kind === "jwt" ? caller.name : null,
    groups: caller?.groups ?? [],
    endpoint: facts.endpoint,
    requested_model: textOf(state["gateway.requested_model"]),
    provider: done?.provider ?? textOf(state["gateway.provider"]),
    model: done?.model ?? textOf(state["gateway.model"]),
    status: facts.status,
    attempts: done !== undefined
      ? done.attempts.length + 1
      : Array.isArray(failedAttempts)
      ? failedAttempts.length
      : typeof state["gateway.attempts"] === "number"
      ? state["gateway.attempts"]
      : 0,
    input_tokens: usage?.prompt_tokens ?? 0,
    output_tokens: usage?.completion_tokens ?? 0,
    cached_tokens: usage?.cached_tokens ?? 0,
    cost_usd: done?.cost_usd ?? null,
    latency_ms: Math.round(facts.durationMs * 10) / 10,
    ttfb_ms: done === undefined ? null : Math.round(done.ttfb_ms * 10) / 10,
    stream: done?.stream ?? state["gateway.stream"] === true,
  };
}

/** The route path of a request path: the router accepts one trailing slash. */
function endpointOf(path: string): string {
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}

function textOf(value: unknown): string | null {
  return typeof value === "string" ? value : null;
}
