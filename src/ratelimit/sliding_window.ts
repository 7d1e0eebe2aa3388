/**
 * Sliding-window counter math, shared by both backends. The Redis backend runs the same formulas
 * in Lua (redis_scripts.ts); keep the two in step, the contract tests compare them.
 *
 * Only two fixed windows are stored per key. The sliding window's usage is estimated as the
 * current window's count plus the previous window's count weighted by the part of the previous
 * window still inside the sliding window. That bounds memory to two counters per key while
 * avoiding the burst of twice the limit that plain fixed windows allow at a window boundary.
 */
import type { LimitRule } from "../config/types.ts";
import type { LimitDecision } from "./limiter.ts";

/** Request and token counters of one key in the current and the previous fixed window. */
export interface WindowCounts {
  prev_requests: number;
  cur_requests: number;
  prev_tokens: number;
  cur_tokens: number;
}

/** Where an instant falls: the fixed window's index and the milliseconds already spent in it. */
export interface WindowPosition {
  index: number;
  elapsed_ms: number;
}

/** Locates `now` among fixed windows of `window_ms` aligned on the epoch. */
export function windowPosition(now: number, window_ms: number): WindowPosition {
  const index = Math.floor(now / window_ms);
  return { index, elapsed_ms: now - index * window_ms };
}

/** Estimated usage of the sliding window ending `elapsed` ms into the current fixed window. */
export function slidingUsage(
  prev: number,
  cur: number,
  window_ms: number,
  elapsed: number,
): number {
  return prev * (window_ms - elapsed) / window_ms + cur;
}

/**
 * Milliseconds until the usage estimate drops below `limit`, given it is at or above it now.
 * The estimate only falls as the previous window's weight fades, so this is exact, not a guess.
 */
export function msUntilBelow(
  prev: number,
  cur: number,
  limit: number,
  window_ms: number,
  elapsed: number,
): number {
  if (cur < limit) {
    // Only the fading previous window is over the limit: wait inside the current window.
    return Math.floor(window_ms - window_ms * (limit - cur) / prev) + 1 - elapsed;
  }
  // A limit of 0 never frees up; report the window end rather than dividing by zero.
  if (cur === 0) return window_ms - elapsed;
  // The current window alone is over: it becomes the previous one and has to fade enough.
  return window_ms - elapsed + Math.floor(window_ms - window_ms * limit / cur) + 1;
}

/**
 * Decides one request. When allowed, the caller adds 1 to `cur_requests`; `remaining` already
 * accounts for it. `reset_ms` is the wait until a retry succeeds when refused, and the time until
 * the current fixed window ends (its count starts fading) when allowed.
 */
export function decide(counts: WindowCounts, rule: LimitRule, elapsed: number): LimitDecision {
  const w = rule.window_ms;
  let used = slidingUsage(counts.prev_requests, counts.cur_requests, w, elapsed);
  let exceeded: "requests" | "tokens" | undefined;
  let reset_ms = w - elapsed;
  if (used >= rule.requests) {
    exceeded = "requests";
    reset_ms = msUntilBelow(counts.prev_requests, counts.cur_requests, rule.requests, w, elapsed);
  }
  if (rule.tokens !== null) {
    const tokens = slidingUsage(counts.prev_tokens, counts.cur_tokens, w, elapsed);
    if (tokens >= rule.tokens) {
      const wait = msUntilBelow(counts.prev_tokens, counts.cur_tokens, rule.tokens, w, elapsed);
      // Both budgets must have room before a retry can pass.
      reset_ms = exceeded === undefined ? wait : Math.max(reset_ms, wait);
      exceeded ??= "tokens";
    }
  }
  if (exceeded === undefined) used += 1;
  // A fractional estimate of 9.5 under a limit of 10 still lets one more through, hence ceil.
  const remaining = Math.max(0, Math.ceil(rule.requests - used));
  return exceeded === undefined
    ? { allowed: true, limit: rule.requests, remaining, reset_ms }
    : { allowed: false, limit: rule.requests, remaining, reset_ms, exceeded };
}
