import type { RoutingConfig } from "../config/types.ts";
import { type AttemptRecord, describeAttempt, GatewayError, type ProviderError } from "./errors.ts";

/** The routing settings the retry policy reads. */
export type RetrySettings = Pick<
  RoutingConfig,
  "backoff_base_ms" | "backoff_max_ms" | "retry_after_cap_ms"
>;

/**
 * How long to wait before retry number `retry + 1` of a target, or undefined to move on to the
 * next target instead. An upstream's `Retry-After` is honoured up to the cap; otherwise the delay
 * doubles per retry up to `backoff_max_ms`, jittered over its upper half.
 */
export function retryDelay(
  settings: RetrySettings,
  retry: number,
  err: ProviderError,
  random: () => number,
): number | undefined {
  if (err.retryAfterMs !== undefined) {
    return err.retryAfterMs > settings.retry_after_cap_ms ? undefined : err.retryAfterMs;
  }
  const ceiling = Math.min(settings.backoff_max_ms, settings.backoff_base_ms * 2 ** retry);
  return Math.round(ceiling / 2 + (random() * ceiling) / 2);
}

/** Provider-side failures open the circuit; refusals (401/403/404/429) do not. */
export function countsAgainstCircuit(err: ProviderError): boolean {
  if (!err.countsAgainstBreaker) return false;
  if (err.kind !== "http") return true;
  return (err.status ?? 0) >= 500;
}

/** The error for a plan whose every target failed: a timeout if each one timed out. */
export function exhausted(attempts: AttemptRecord[]): GatewayError {
  const tried = attempts.filter((a) => a.kind !== "circuit_open");
  const allTimedOut = tried.length > 0 &&
    tried.every((a) => a.kind === "timeout" || a.kind === "idle_timeout");
  const list = attempts.map(describeAttempt).join("; ");
  return new GatewayError(
    allTimedOut ? "upstream_timeout" : "all_providers_failed",
    `${allTimedOut ? "every provider timed out" : "every provider failed"} (${list})`,
    { attempts },
  );
}
