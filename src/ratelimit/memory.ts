/**
 * In-process rate-limit store: right for a single gateway instance, and the default backend.
 * Several instances each keep their own counts, so use the Redis backend to share one limit.
 */
import type { LimitRule } from "../config/types.ts";
import type { LimitDecision, RateLimiter } from "./limiter.ts";
import { decide, windowPosition } from "./sliding_window.ts";

/** Options for `createMemoryLimiter`. */
export interface MemoryLimiterOptions {
  /** Clock in epoch milliseconds; tests inject one. */
  now?: () => number;
  /** Most keys kept (default 100,000); past it the least recently used key is dropped. */
  maxKeys?: number;
  /** How often, at most, a call scans for expired keys (default 10 s). */
  sweepIntervalMs?: number;
}

/** The in-memory limiter; `size` lets tests and metrics see how many keys it holds. */
export interface MemoryLimiter extends RateLimiter {
  /** Keys currently stored. */
  readonly size: number;
}

interface Entry {
  window_ms: number;
  /** Fixed-window index the `cur_*` counters belong to. */
  index: number;
  prev_requests: number;
  cur_requests: number;
  prev_tokens: number;
  cur_tokens: number;
}

const DEFAULT_MAX_KEYS = 100_000;
const DEFAULT_SWEEP_INTERVAL_MS = 10_000;

/** Creates an in-memory sliding-window limiter whose memory stays bounded under a flood of keys. */
export function createMemoryLimiter(options: MemoryLimiterOptions = {}): MemoryLimiter {
  const now = options.now ?? Date.now;
  const maxKeys = Math.max(1, options.maxKeys ?? DEFAULT_MAX_KEYS);
  const sweepInterval = options.sweepIntervalMs ?? DEFAULT_SWEEP_INTERVAL_MS;
  // Insertion order doubles as recency order: every access moves the key to the end.
  const entries = new Map<string, Entry>();
  let nextSweepAt = now() + sweepInterval;

  // Sweeping is driven by calls rather than a timer: no timer to leak or unref, and an idle
  // limiter does not grow, so there is nothing to reclaim until traffic comes back.
  const sweepIfDue = (t: number): void => {
    if (t < nextSweepAt) return;
    nextSweepAt = t + sweepInterval;
    for (const [k, entry] of entries) {
      // Two windows on, both stored counts have left the sliding window.
      if (t >= (entry.index + 2) * entry.window_ms) entries.delete(k);
    }
  };

  const touch = (key: string, rule: LimitRule, t: number): Entry => {
    sweepIfDue(t);
    const mapKey = `${rule.window_ms}:${key}`;
    const { index } = windowPosition(t, rule.window_ms);
    let entry = entries.get(mapKey);
    if (entry === undefined) {
      entry = {
        window_ms: rule.window_ms,
        index,
        prev_requests: 0,
        cur_requests: 0,
        prev_tokens: 0,
        cur_tokens: 0,
      };
    } else {
      entries.delete(mapKey);
      roll(entry, index);
    }
    entries.set(mapKey, entry);
    // Under a flood of distinct keys, dropping the stalest live key forgets its count (it
    // fails open for that caller); the alternative is unbounded memory.
    while (entries.size > maxKeys) {
      const oldest = entries.keys().next().value;
      if (oldest === undefined) break;
      entries.delete(oldest);
    }
    return entry;
  };

  return {
    get size() {
      return entries.size;
    },
    check(key: string, rule: LimitRule): Promise<LimitDecision> {
      const t = now();
      const entry = touch(key, rule, t);
      const decision = decide(entry, rule, windowPosition(t, rule.window_ms).elapsed_ms);
      if (decision.allowed) entry.cur_requests += 1;
      return Promise.resolve(decision);
    },
    addTokens(key: string, rule: LimitRule, tokens: number): Promise<void> {
      // Without a token budget nobody reads the count, so don't store it.
      if (rule.tokens === null || !(tokens > 0)) return Promise.resolve();
      touch(key, rule, now()).cur_tokens += Math.round(tokens);
      return Promise.resolve();
    },
    close(): Promise<void> {
      entries.clear();
      return Promise.resolve();
    },
  };
}

/** Moves an entry's counters forward to fixed window `index`. */
function roll(entry: Entry, index: number): void {
  // A clock stepped backwards keeps the counts rather than wiping them (which would fail open).
  if (index <= entry.index) return;
  const adjacent = entry.index === index - 1;
  entry.prev_requests = adjacent ? entry.cur_requests : 0;
  entry.prev_tokens = adjacent ? entry.cur_tokens : 0;
  entry.cur_requests = 0;
  entry.cur_tokens = 0;
  entry.index = index;
}
