/**
 * The rate-limit store contract shared by the in-memory and Redis backends.
 * The middleware picks a backend from `ratelimit.backend` and only ever sees this interface.
 */
import type { LimitRule } from "../config/types.ts";

/** Outcome of one check. */
export interface LimitDecision {
  allowed: boolean;
  /** The rule's request limit (for x-ratelimit-limit). */
  limit: number;
  /** Requests left in the window after this one (>= 0). */
  remaining: number;
  /** Milliseconds until the window frees capacity (x-ratelimit-reset, Retry-After when refused). */
  reset_ms: number;
  /** Which budget refused it, when refused. */
  exceeded?: "requests" | "tokens";
}

/** A rate-limit store. Methods reject with RateLimitBackendError when the store is unreachable. */
export interface RateLimiter {
  /** Atomically checks the request budget (and the token budget, if the rule has one) and, when allowed, counts this request. */
  check(key: string, rule: LimitRule): Promise<LimitDecision>;
  /** Adds tokens consumed by a finished request to the caller's current window. */
  addTokens(key: string, rule: LimitRule, tokens: number): Promise<void>;
  /** Releases the store's connections and timers; further calls are not expected. */
  close(): Promise<void>;
}

/** The store could not be reached or failed; `ratelimit.on_backend_error` decides what happens. */
export class RateLimitBackendError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "RateLimitBackendError";
  }
}
