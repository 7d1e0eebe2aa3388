/**
 * What the live dashboard shows: per provider and per minute, attempts, errors and latencies;
 * the gateway's traffic per minute; the last requests. Kept in memory for the last 60 minutes in
 * fixed rings (`time_buckets.ts`, `recent_requests.ts`), fed by the executor's events and by one
 * call per finished API request, and read by the admin API (`GET /admin/stats`,
 * `GET /admin/requests`).
 */

import type { CircuitState } from "../core/circuit_breaker.ts";
import type { AttemptResult, ExecutionEvents } from "../core/events.ts";
import { type RecentRequest, RecentRequests } from "./recent_requests.ts";
import { LATENCY_BINS, latencyBin, latencyQuantile, TimeBuckets } from "./time_buckets.ts";

/** Minutes the stats keep, and the widest window `snapshot` reports. */
export const MAX_WINDOW_MINUTES = 60;
const MINUTE_MS = 60_000;
/** Seconds in "the last minute" that health and the request rate look at. */
const RECENT_SECONDS = 60;
/** Error rate over the last minute above which a provider is `degraded`. */
export const DEGRADED_ERROR_RATE = 0.2;
/** Upstream refusals that are about the provider or its account, not about the request. */
const PROVIDER_REFUSALS = new Set([401, 403, 408, 429]);

/** A provider's health, as `snapshot` judges it (see docs/configuration.md). */
export type Health = "healthy" | "degraded" | "down";

/** A configured provider as the caller of `snapshot` knows it. */
export interface ProviderView {
  name: string;
  type: string;
  circuit: CircuitState;
}

/** One provider in a snapshot. */
export interface ProviderStats {
  name: string;
  type: string;
  health: Health;
  circuit: CircuitState;
  last_error: { at: number; message: string } | null;
  requests: number;
  errors: number;
  error_rate: number;
  p50_ms: number | null;
  p95_ms: number | null;
  ttft_p50_ms: number | null;
  series: {
    t: number;
    requests: number;
    errors: number;
    p50_ms: number | null;
    ttft_p50_ms: number | null;
  }[];
}

/** The gateway's traffic in a snapshot. */
export interface TrafficStats {
  requests_per_second: number;
  streams_open: number;
  series: TrafficMinute[];
  fallbacks: { from: string; to: string; count: number }[];
}

/** One minute of traffic. */
export interface TrafficMinute {
  t: number;
  requests: number;
  "2xx": number;
  "4xx": number;
  "5xx": number;
  fallbacks: number;
  retries: number;
  rate_limited: number;
  budget_refused: number;
}

/** Traffic counters per minute, in `TrafficMinute`'s order after `t`. */
const REQUESTS = 0;
const S2XX = 1;
const S4XX = 2;
const S5XX = 3;
const FALLBACKS = 4;
const RETRIES = 5;
const RATE_LIMITED = 6;
const BUDGET_REFUSED = 7;
const TRAFFIC_FIELDS = 8;

/** Attempt counters per period of a provider. */
const ATTEMPTS = 0;
const ERRORS = 1;

/** One configured provider's rings. */
class ProviderTally {
  /** Attempts and errors per minute. */
  readonly minutes = new TimeBuckets(MAX_WINDOW_MINUTES, MINUTE_MS, 2);
  /** Attempts and errors per second, for health over the last minute. */
  readonly seconds = new TimeBuckets(RECENT_SECONDS, 1_000, 2);
  /** Served attempts' durations per minute. */
  readonly latency = new TimeBuckets(MAX_WINDOW_MINUTES, MINUTE_MS, LATENCY_BINS);
  /** Streams' times to first byte per minute. */
  readonly ttft = new TimeBuckets(MAX_WINDOW_MINUTES, MINUTE_MS, LATENCY_BINS);
  /** Fallbacks from this provider per minute, by the provider moved to. */
  readonly fallbacks = new Map<string, TimeBuckets>();
  lastErrorAt = 0;
  /** The last error's result, described only when asked. */
  lastError: AttemptResult | null = null;

  attempted(now: number, ms: number, result: AttemptResult): void {
    const minute = this.minutes.at(now);
    const second = this.seconds.at(now);
    this.minutes.counts[minute + ATTEMPTS]!++;
    this.seconds.counts[second + ATTEMPTS]!++;
    if (result.outcome === "success") {
      this.latency.counts[this.latency.at(now) + latencyBin(ms)]!++;
      return;
    }
    if (!isProviderError(result)) return;
    this.minutes.counts[minute + ERRORS]!++;
    this.seconds.counts[second + ERRORS]!++;
    this.lastErrorAt = now;
    this.lastError = result;
  }
}

/** Stands in for a provider `track` was not told of: no stats. */
let untracked: ProviderTally | undefined;

/**
 * A failed attempt that says something about the provider: not one the client ended, nor an
 * upstream 4xx that answers the request itself (400, 404, 422: the client's to fix).
 */
function isProviderError(result: AttemptResult): boolean {
  if (result.outcome === "client_closed") return false;
  if (result.outcome !== "http" || result.status === undefined) return true;
  return result.status >= 500 || result.status < 400 || PROVIDER_REFUSALS.has(result.status);
}

/** A failed attempt in words: `HTTP 500`, `timeout`, `network (connection refused)`. */
function describe(result: AttemptResult): string {
  const what = result.outcome === "http"
    ? `HTTP ${result.status ?? "error"}`
    : result.outcome.replace("_", " ");
  return result.cause === undefined ? what : `${what} (${result.cause})`;
}

/** Epoch milliseconds from the monotonic clock, as the usage records' times are. */
function monotonicNow(): number {
  return performance.timeOrigin + performance.now();
}

/** Options for `LiveStats`. */
export interface LiveStatsOptions {
  /**
   * Epoch milliseconds, for the minutes and for attempts' durations (default: the monotonic
   * clock, so one reading per attempt end serves both).
   */
  now?: () => number;
  /** Requests the ring of recent ones holds (default 1,000). */
  recentCapacity?: number;
}

/**
 * The live stats of one gateway process, across configuration reloads. Everything a request adds
 * is a few counter increments and one slot of the recent-requests ring; everything bounded:
 * 60 minutes, the configured providers (`track`), 1,000 recent requests.
 */
export class LiveStats {
  /** The last API requests. */
  readonly recent: RecentRequests;
  /** Executor observers: attempts, retries and fallbacks per provider. */
  readonly events: ExecutionEvents;
  readonly #now: () => number;
  readonly #providers = new Map<string, ProviderTally>();
  readonly #traffic = new TimeBuckets(MAX_WINDOW_MINUTES, MINUTE_MS, TRAFFIC_FIELDS);
  readonly #requestSeconds = new TimeBuckets(RECENT_SECONDS, 1_000);

  constructor(options: LiveStatsOptions = {}) {
    const now = this.#now = options.now ?? monotonicNow;
    this.recent = new RecentRequests(options.recentCapacity);
    const providers = this.#providers;
    const traffic = this.#traffic;
    const ignore = () => {};
    this.events = {
      attempt(info) {
        const tally = providers.get(info.provider);
        // A provider a reload removed, still finishing a request of the old configuration.
        if (tally === undefined) return ignore;
        const started = now();
        return (result) => {
          const ended = now();
          tally.attempted(ended, ended - started, result);
        };
      },
      retry() {
        traffic.counts[traffic.at(now()) + RETRIES]!++;
      },
      fallback(from, to) {
        const at = now();
        traffic.counts[traffic.at(at) + FALLBACKS]!++;
        // Labels are "provider/model", and provider names have no "/".
        const source = providers.get(from.slice(0, from.indexOf("/")));
        const target = to.slice(0, to.indexOf("/"));
        if (source === undefined || !providers.has(target)) return;
        let buckets = source.fallbacks.get(target);
        if (buckets === undefined) {
          buckets = new TimeBuckets(MAX_WINDOW_MINUTES, MINUTE_MS);
          source.fallbacks.set(target, buckets);
        }
        buckets.counts[buckets.at(at)]!++;
      },
    };
  }

  /**
   * The providers to keep stats for: those of the configuration being loaded. Stats of a provider
   * that stays are kept; those of one it drops are forgotten.
   */
  track(names: readonly string[]): void {
    const keep = new Set(names);
    for (const name of keep) {
      if (!this.#providers.has(name)) this.#providers.set(name, new ProviderTally());
    }
    for (const [name, tally] of this.#providers) {
      if (!keep.has(name)) this.#providers.delete(name);
      for (const target of tally.fallbacks.keys()) {
        if (!keep.has(target)) tally.fallbacks.delete(target);
      }
    }
  }

  /**
   * An API request's response is done: it is counted in the minute it ended (`time` plus
   * `latency_ms`, so no clock is read). `errorCode` is the gateway's own error code, if it
   * refused the request (`rate_limit_exceeded`, `budget_exceeded`, ...).
   */
  requestEnded(request: RecentRequest, errorCode: unknown): void {
    const now = request.time + request.latency_ms;
    const traffic = this.#traffic;
    const offset = traffic.at(now);
    const counts = traffic.counts;
    counts[offset + REQUESTS]!++;
    const status = request.status;
    if (status >= 200 && status < 300) counts[offset + S2XX]!++;
    else if (status >= 400 && status < 500) counts[offset + S4XX]!++;
    else if (status >= 500) counts[offset + S5XX]!++;
    if (errorCode === "rate_limit_exceeded") counts[offset + RATE_LIMITED]!++;
    else if (errorCode === "budget_exceeded") counts[offset + BUDGET_REFUSED]!++;
    this.#requestSeconds.counts[this.#requestSeconds.at(now)]!++;
    if (request.stream && request.ttfb_ms !== null && request.provider !== null) {
      const ttft = this.#providers.get(request.provider)?.ttft;
      if (ttft !== undefined) ttft.counts[ttft.at(now) + latencyBin(request.ttfb_ms)]!++;
    }
    this.recent.add(request);
  }

  /**
   * The providers' and the traffic's stats over the last `minutes` minutes: the current minute
   * and the `minutes - 1` before it. `providers` are the configured ones with their circuits.
   */
  snapshot(
    minutes: number,
    providers: readonly ProviderView[],
    streamsOpen: number,
  ): { now: number; providers: ProviderStats[]; traffic: TrafficStats } {
    const now = this.#now();
    const last = Math.floor(now / MINUTE_MS);
    const first = last - Math.min(Math.max(1, minutes), MAX_WINDOW_MINUTES) + 1;
    const second = Math.floor(now / 1_000);
    const requests = this.#requestSeconds.sum(second - RECENT_SECONDS + 1, second);
    return {
      now,
      providers: providers.map((view) =>
        providerStats(view, this.#providers.get(view.name) ?? (untracked ??= new ProviderTally()), {
          first,
          last,
          second,
        })
      ),
      traffic: {
        requests_per_second: Math.round((requests / RECENT_SECONDS) * 100) / 100,
        streams_open: streamsOpen,
        series: trafficSeries(this.#traffic, first, last),
        fallbacks: this.#fallbacks(first, last),
      },
    };
  }

  /** Fallbacks between providers over the window, most frequent first. */
  #fallbacks(first: number, last: number): TrafficStats["fallbacks"] {
    const out: TrafficStats["fallbacks"] = [];
    for (const [from, tally] of this.#providers) {
      for (const [to, buckets] of tally.fallbacks) {
        const count = buckets.sum(first, last);
        if (count > 0) out.push({ from, to, count });
      }
    }
    return out.sort((a, b) => b.count - a.count);
  }
}

/** One provider over minutes `first` to `last`, its health from the seconds up to `second`. */
function providerStats(
  view: ProviderView,
  tally: ProviderTally,
  window: { first: number; last: number; second: number },
): ProviderStats {
  const { first, last, second } = window;
  const requests = tally.minutes.sum(first, last, ATTEMPTS);
  const errors = tally.minutes.sum(first, last, ERRORS);
  const latencies = offsetsOf(tally.latency, first, last);
  const ttfts = offsetsOf(tally.ttft, first, last);
  const series: ProviderStats["series"] = [];
  for (let minute = first; minute <= last; minute++) {
    const offset = tally.minutes.find(minute);
    series.push({
      t: minute * MINUTE_MS,
      requests: offset < 0 ? 0 : tally.minutes.counts[offset + ATTEMPTS]!,
      errors: offset < 0 ? 0 : tally.minutes.counts[offset + ERRORS]!,
      p50_ms: latencyQuantile(tally.latency.counts, offsetsOf(tally.latency, minute, minute), 0.5),
      ttft_p50_ms: latencyQuantile(tally.ttft.counts, offsetsOf(tally.ttft, minute, minute), 0.5),
    });
  }
  const recentFirst = second - RECENT_SECONDS + 1;
  const recentAttempts = tally.seconds.sum(recentFirst, second, ATTEMPTS);
  const recentErrors = tally.seconds.sum(recentFirst, second, ERRORS);
  return {
    name: view.name,
    type: view.type,
    health: healthOf(view.circuit, recentAttempts, recentErrors),
    circuit: view.circuit,
    last_error: tally.lastError === null
      ? null
      : { at: tally.lastErrorAt, message: describe(tally.lastError) },
    requests,
    errors,
    error_rate: requests === 0 ? 0 : Math.round((errors / requests) * 1e4) / 1e4,
    p50_ms: latencyQuantile(tally.latency.counts, latencies, 0.5),
    p95_ms: latencyQuantile(tally.latency.counts, latencies, 0.95),
    ttft_p50_ms: latencyQuantile(tally.ttft.counts, ttfts, 0.5),
    series,
  };
}

/**
 * `down`: the circuit is open, or the last minute saw attempts and every one failed; `degraded`:
 * the circuit is half open (its cooldown is over, no attempt has proven it since), or more than
 * DEGRADED_ERROR_RATE of the last minute's attempts failed; else `healthy`.
 */
export function healthOf(circuit: CircuitState, attempts: number, errors: number): Health {
  if (circuit === "open" || (attempts > 0 && errors >= attempts)) return "down";
  if (circuit === "half_open" || (attempts > 0 && errors / attempts > DEGRADED_ERROR_RATE)) {
    return "degraded";
  }
  return "healthy";
}

function offsetsOf(buckets: TimeBuckets, first: number, last: number): number[] {
  const offsets: number[] = [];
  for (let period = first; period <= last; period++) {
    const offset = buckets.find(period);
    if (offset >= 0) offsets.push(offset);
  }
  return offsets;
}

function trafficSeries(traffic: TimeBuckets, first: number, last: number): TrafficMinute[] {
  const series: TrafficMinute[] = [];
  for (let minute = first; minute <= last; minute++) {
    const offset = traffic.find(minute);
    const count = (field: number) => offset < 0 ? 0 : traffic.counts[offset + field]!;
    series.push({
      t: minute * MINUTE_MS,
      requests: count(REQUESTS),
      "2xx": count(S2XX),
      "4xx": count(S4XX),
      "5xx": count(S5XX),
      fallbacks: count(FALLBACKS),
      retries: count(RETRIES),
      rate_limited: count(RATE_LIMITED),
      budget_refused: count(BUDGET_REFUSED),
    });
  }
  return series;
}
