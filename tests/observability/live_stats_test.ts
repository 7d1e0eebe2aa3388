// The live stats on a settable clock: per-minute rings, health, latency quantiles, the ring of
// recent requests.
import assert from "node:assert/strict";
import type { AttemptResult } from "../../src/core/events.ts";
import { healthOf, LiveStats, type ProviderView } from "../../src/observability/live_stats.ts";
import { type RecentRequest, RecentRequests } from "../../src/observability/recent_requests.ts";
import {
  LATENCY_BINS,
  latencyBin,
  latencyQuantile,
  TimeBuckets,
} from "../../src/observability/time_buckets.ts";

const MIN = 60_000;
/** A minute boundary. */
const T0 = Date.UTC(2026, 11, 1, 12);

/** A settable clock. */
class Clock {
  t = T0;
  readonly now = (): number => this.t;
}

const VIEWS: ProviderView[] = [
  { name: "a", type: "openai", circuit: "closed" },
  { name: "b", type: "anthropic", circuit: "closed" },
];

function attempt(stats: LiveStats, provider: string, result: AttemptResult): void {
  stats.events.attempt({
    provider,
    model: "m",
    attempt: 1,
    retry: 0,
    stream: false,
    requestId: "r",
  })(result);
}

function request(fields: Partial<RecentRequest> = {}): RecentRequest {
  return {
    time: T0,
    request_id: crypto.randomUUID(),
    caller: "app",
    endpoint: "/v1/chat/completions",
    model: "a/gpt-4o",
    provider: "a",
    served_model: "gpt-4o",
    status: 200,
    latency_ms: 12.5,
    ttfb_ms: 10,
    stream: false,
    input_tokens: 10,
    output_tokens: 2,
    cost_usd: 0.0001,
    fallback_path: [],
    ...fields,
  };
}

Deno.test("live stats: attempts and errors per provider and minute, within the window asked", () => {
  const clock = new Clock();
  const stats = new LiveStats({ now: clock.now });
  stats.track(["a", "b"]);
  attempt(stats, "a", { outcome: "success", status: 200 });
  clock.t += MIN;
  attempt(stats, "a", { outcome: "http", status: 500 });
  attempt(stats, "a", { outcome: "success", status: 200 });
  // The client's own faults say nothing about the provider.
  attempt(stats, "a", { outcome: "client_closed" });
  attempt(stats, "a", { outcome: "http", status: 400 });
  attempt(stats, "ghost", { outcome: "http", status: 500 });
  clock.t += 30_000;

  const wide = stats.snapshot(15, VIEWS, 0);
  const a = wide.providers[0]!;
  assert.equal(a.requests, 5);
  assert.equal(a.errors, 1);
  assert.equal(a.error_rate, 0.2);
  assert.equal(a.series.length, 15);
  assert.deepEqual(a.series.slice(-2).map((m) => [m.t, m.requests, m.errors]), [
    [T0, 1, 0],
    [T0 + MIN, 4, 1],
  ]);
  assert.equal(a.series[0]!.t, T0 + MIN - 14 * MIN);
  assert.deepEqual(a.last_error, { at: T0 + MIN, message: "HTTP 500" });
  // The first success is 90 seconds old: 1 error in the last minute's 4 attempts is above 20%.
  assert.equal(a.health, "degraded");
  assert.equal(wide.providers[1]!.requests, 0);
  assert.equal(wide.providers[1]!.p50_ms, null);
  assert.deepEqual(wide.providers.map((p) => p.name), ["a", "b"]);

  const narrow = stats.snapshot(1, VIEWS, 0).providers[0]!;
  assert.deepEqual([narrow.requests, narrow.series.length], [4, 1]);
});

Deno.test("live stats: an hour later the minutes are gone, and the ring has not grown", () => {
  const clock = new Clock();
  const stats = new LiveStats({ now: clock.now });
  stats.track(["a"]);
  for (let minute = 0; minute < 120; minute++) {
    attempt(stats, "a", { outcome: "success" });
    clock.t += MIN;
  }
  const a = stats.snapshot(60, VIEWS, 0).providers[0]!;
  assert.equal(a.requests, 59, "the current minute has none yet");
  assert.equal(a.series.at(-1)!.requests, 0);
  clock.t += 61 * MIN;
  assert.equal(stats.snapshot(60, VIEWS, 0).providers[0]!.requests, 0);
});

Deno.test("live stats: health from the circuit and the last 60 seconds' attempts", () => {
  assert.equal(healthOf("open", 10, 0), "down");
  assert.equal(healthOf("closed", 3, 3), "down");
  assert.equal(healthOf("half_open", 0, 0), "degraded");
  assert.equal(healthOf("closed", 10, 3), "degraded");
  assert.equal(healthOf("closed", 10, 2), "healthy");
  assert.equal(healthOf("closed", 0, 0), "healthy");

  const clock = new Clock();
  const stats = new LiveStats({ now: clock.now });
  stats.track(["a"]);
  attempt(stats, "a", { outcome: "network", cause: "connection refused" });
  const failing = stats.snapshot(15, VIEWS, 0).providers[0]!;
  assert.equal(failing.health, "down");
  assert.deepEqual(failing.last_error, {
    at: T0,
    message: "network (connection refused)",
  });
  clock.t += 61_000;
  const later = stats.snapshot(15, VIEWS, 0).providers[0]!;
  assert.equal(later.health, "healthy", "a failure over a minute old no longer counts");
  assert.equal(later.errors, 1, "but stays in the window");
});

Deno.test("live stats: traffic per minute by status class, refusals, retries and fallbacks", () => {
  const clock = new Clock();
  const stats = new LiveStats({ now: clock.now });
  stats.track(["a", "b"]);
  stats.requestEnded(request(), undefined);
  stats.requestEnded(request({ status: 429, provider: null }), "rate_limit_exceeded");
  stats.requestEnded(request({ status: 429, provider: null }), "budget_exceeded");
  stats.requestEnded(request({ status: 502, provider: null }), "all_providers_failed");
  stats.events.retry("a");
  stats.events.fallback("a/gpt-4o", "b/llama-3");
  stats.events.fallback("a/gpt-4o", "b/llama-3");
  stats.events.fallback("a/gpt-4o", "gone/x");
  clock.t += 59_000;
  stats.requestEnded(request({ time: clock.t, stream: true, ttfb_ms: 40 }), undefined);

  const { traffic, providers } = stats.snapshot(2, VIEWS, 3);
  assert.deepEqual(traffic.series.at(-1), {
    t: T0,
    requests: 5,
    "2xx": 2,
    "4xx": 2,
    "5xx": 1,
    fallbacks: 3,
    retries: 1,
    rate_limited: 1,
    budget_refused: 1,
  });
  assert.equal(traffic.series[0]!.requests, 0);
  assert.equal(traffic.requests_per_second, Math.round((5 / 60) * 100) / 100);
  assert.equal(traffic.streams_open, 3);
  assert.deepEqual(traffic.fallbacks, [{ from: "a", to: "b", count: 2 }]);
  const ttft = providers[0]!.ttft_p50_ms!;
  assert.ok(ttft >= 40 / 1.2 && ttft <= 40 * 1.2, `ttft ${ttft}`);
  clock.t += 2_000;
  assert.equal(stats.snapshot(2, VIEWS, 0).traffic.requests_per_second, 0.02);
});

Deno.test("live stats: a provider a reload drops is forgotten, one it keeps is not", () => {
  const clock = new Clock();
  const stats = new LiveStats({ now: clock.now });
  stats.track(["a", "b"]);
  attempt(stats, "a", { outcome: "success" });
  attempt(stats, "b", { outcome: "success" });
  stats.events.fallback("a/x", "b/y");
  stats.track(["a"]);
  stats.track(["a", "b"]);
  const { providers, traffic } = stats.snapshot(15, VIEWS, 0);
  assert.deepEqual(providers.map((p) => p.requests), [1, 0]);
  assert.deepEqual(traffic.fallbacks, []);
});

Deno.test("latency quantiles come from log bins within 20% of the true value", () => {
  const buckets = new TimeBuckets(60, MIN, LATENCY_BINS);
  const offset = buckets.at(T0);
  const latencies = [0.4, 3, 12, 50, 120, 250, 800, 2_000, 9_000, 60_000];
  for (const ms of latencies) buckets.counts[offset + latencyBin(ms)]!++;
  const p50 = latencyQuantile(buckets.counts, [offset], 0.5)!;
  assert.ok(p50 > 120 / 1.2 && p50 <= 250 * 1.2, `p50 ${p50}`);
  const p95 = latencyQuantile(buckets.counts, [offset], 0.95)!;
  assert.ok(p95 > 9_000 && p95 <= 60_000 * 1.2, `p95 ${p95}`);
  assert.equal(latencyQuantile(buckets.counts, [], 0.5), null);
  assert.equal(latencyBin(10 * 3_600_000), LATENCY_BINS - 1, "an hour-long one fits");
});

Deno.test("recent requests: newest first, filtered, bounded, long names cut whole", () => {
  const ring = new RecentRequests(3);
  assert.deepEqual(ring.list({}, 10), []);
  const emoji = "x".repeat(127) + "😀";
  ring.add(request({ request_id: "r1", status: 200 }));
  ring.add(request({ request_id: "r2", status: 503, provider: null, served_model: null }));
  ring.add(request({ request_id: "r3", caller: null, model: emoji, cost_usd: null }));
  ring.add(request({
    request_id: "r4",
    model: "b/llama-3",
    provider: "b",
    served_model: "llama-3",
    ttfb_ms: null,
    input_tokens: null,
    fallback_path: ["a/llama-3: HTTP 500", "b/llama-3: served"],
  }));
  const all = ring.list({}, 10);
  assert.deepEqual(all.map((r) => r.request_id), ["r4", "r3", "r2"]);
  assert.deepEqual(
    all[0],
    request({
      request_id: "r4",
      model: "b/llama-3",
      provider: "b",
      served_model: "llama-3",
      ttfb_ms: null,
      input_tokens: null,
      fallback_path: ["a/llama-3: HTTP 500", "b/llama-3: served"],
    }),
  );
  assert.equal(all[1]!.model, "x".repeat(127), "half a surrogate pair is dropped");
  assert.equal(all[1]!.caller, null);
  assert.equal(all[1]!.cost_usd, null);
  assert.deepEqual(ring.list({}, 1).map((r) => r.request_id), ["r4"]);
  assert.deepEqual(ring.list({ provider: "a" }, 10).map((r) => r.request_id), ["r3"]);
  assert.deepEqual(ring.list({ status: "5xx" }, 10).map((r) => r.request_id), ["r2"]);
  assert.deepEqual(ring.list({ status: 200 }, 10).map((r) => r.request_id), ["r4", "r3"]);
  assert.deepEqual(ring.list({ model: "llama-3" }, 10).map((r) => r.request_id), ["r4"]);
  assert.deepEqual(ring.list({ model: "a/gpt-4o" }, 10).map((r) => r.request_id), ["r2"]);
  assert.deepEqual(ring.list({ caller: "app" }, 10).map((r) => r.request_id), ["r4", "r2"]);
});
