import type { AttemptRecord } from "../core/errors.ts";
import type { Outcome } from "../core/executor.ts";
import { concatBytes } from "../core/json.ts";
import { costOf, type CostOptions } from "../core/pricing.ts";
import { mergeUsage, type Usage, usageFromTail } from "../core/usage.ts";
import type { Context } from "./context.ts";

/** Bytes of a buffered answer searched for its usage. */
const TAIL_BYTES = 4096;

/** A proxied response once its body has been sent in full (or cut short). */
export interface Completion {
  status: number;
  stream: boolean;
  /** `failed`: a stream ended with an error event; `cancelled`: the client left mid-stream. */
  outcome: "complete" | "failed" | "cancelled";
  /** Milliseconds from the request's arrival to the answer's first byte. */
  ttfb_ms: number;
  /** Milliseconds from the request's arrival to the end of the body. */
  duration_ms: number;
  bytes: number;
  usage: Usage | null;
  /** What the usage cost at the serving model's price, in USD; null without usage or price. */
  cost_usd: number | null;
  provider: string;
  model: string;
  /** Failed attempts before the answer (the fallback path). */
  attempts: readonly AttemptRecord[];
  /** The whole body, only when a response middleware declared `wantsBody`. */
  body?: Uint8Array;
}

/**
 * Runs after a provider answered, and is streaming-aware: `onResponse` sees the status and
 * headers before the body flows; `onComplete` sees the whole exchange once the last byte is sent,
 * while the bytes themselves reach the client without delay.
 */
export interface ResponseMiddleware {
  /** Name for logs. */
  name: string;
  /** `onComplete` receives the body (a copy of every streamed chunk is kept until the end). */
  wantsBody?: boolean;
  /** Headers known, body not yet sent; may set headers. */
  onResponse?(ctx: Context, res: Response): void;
  /** The body has been sent. Must not throw; runs off the response path. */
  onComplete?(ctx: Context, completion: Completion): void;
}

/** Builds the completion of an outcome: at once for buffered answers, at the end for streams. */
export function completionOf(
  ctx: Context,
  outcome: Outcome,
  ttfbMs: number,
  options: CostOptions = {},
): Promise<Completion> {
  if (outcome.kind !== "stream") {
    return Promise.resolve(bufferedCompletion(ctx, outcome, ttfbMs, options));
  }
  return outcome.summary.then((s) => {
    const usage = mergeUsage(s.headUsage, usageFromTail(s.tail));
    return {
      status: outcome.status,
      stream: true,
      outcome: s.end.kind === "done" ? "complete" : s.end.kind,
      ttfb_ms: ttfbMs,
      duration_ms: performance.now() - ctx.startedAt,
      bytes: s.bytes,
      usage,
      cost_usd: costOfUsage(outcome, usage, options),
      provider: outcome.target.provider.name,
      model: outcome.target.model,
      attempts: outcome.attempts,
      body: s.body === undefined ? undefined : concatBytes(s.body),
    };
  });
}

/**
 * The completion of a buffered answer (complete or rejected), known before its response is built:
 * its body is all there.
 */
export function bufferedCompletion(
  ctx: Context,
  outcome: Exclude<Outcome, { kind: "stream" }>,
  ttfbMs: number,
  options: CostOptions = {},
): Completion {
  const bytes = outcome.kind === "complete" ? outcome.body : new TextEncoder().encode(outcome.body);
  const usage = outcome.kind === "complete"
    ? usageFromTail(bytes.subarray(Math.max(0, bytes.byteLength - TAIL_BYTES)))
    : null;
  return {
    status: outcome.status,
    stream: false,
    outcome: "complete",
    ttfb_ms: ttfbMs,
    duration_ms: performance.now() - ctx.startedAt,
    bytes: bytes.byteLength,
    usage,
    cost_usd: costOfUsage(outcome, usage, options),
    provider: outcome.target.provider.name,
    model: outcome.target.model,
    attempts: outcome.attempts,
    body: bytes,
  };
}

function costOfUsage(outcome: Outcome, usage: Usage | null, options: CostOptions): number | null {
  return usage === null
    ? null
    : costOf(outcome.target.provider.config, outcome.target.model, usage, options);
}

/** Calls every middleware's hooks for one response; a throwing hook is reported, not propagated. */
export function runResponseMiddleware(
  ctx: Context,
  res: Response,
  completion: Promise<Completion>,
  middleware: readonly ResponseMiddleware[],
  onHookError: (name: string, err: unknown) => void,
): void {
  for (const mw of middleware) {
    try {
      mw.onResponse?.(ctx, res);
    } catch (err) {
      onHookError(mw.name, err);
    }
  }
  completion.then((done) => {
    // Built once, and only when some middleware must not see the body.
    let bodiless: Completion | undefined;
    for (const mw of middleware) {
      try {
        if (mw.wantsBody) mw.onComplete?.(ctx, done);
        else mw.onComplete?.(ctx, bodiless ??= { ...done, body: undefined });
      } catch (err) {
        onHookError(mw.name, err);
      }
    }
  });
}
