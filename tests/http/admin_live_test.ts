// The dashboard's data on a real server: /admin/stats, /admin/requests and /admin/usage/series,
// moved by requests through mock upstreams.
import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.ts";
import { providerYaml, startGateway, type TestGateway } from "../support/gateway.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";
import {
  admin,
  ADMIN_KEY,
  authYaml,
  chatWith,
  CONFIG_KEY,
  createKey,
  eventually,
} from "../support/admin_api.ts";
import { FAST_ROUTING, readError } from "./harness.ts";

/** Mocks `a` and `b`, each serving gpt-4o; the chain `main` tries a, then b. */
function yamlFor(a: MockUpstream, b: MockUpstream, options: { dir?: string; extra?: string }) {
  return `${authYaml()}${FAST_ROUTING}  circuit_breaker:
    failure_threshold: 2
    cooldown: "1m"
${options.dir === undefined ? "storage: false" : `storage:\n  path: "${options.dir}/gateway.db"`}
${options.extra ?? ""}strategies:
  - name: main
    providers: [a, b]
providers:
${providerYaml("a", a.url, { max_retries: 0 })}
${providerYaml("b", b.url)}
`;
}

/** Runs `fn` with a gateway before mocks `a` and `b`, on a new SQLite file unless `store: false`. */
async function withDashboard(
  fn: (gw: TestGateway, a: MockUpstream, b: MockUpstream) => Promise<void>,
  options: { store?: boolean; extra?: string } = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gateway-admin-live-" });
  const a = await startMockUpstream({ name: "a", models: ["gpt-4o"] });
  const b = await startMockUpstream({ name: "b", models: ["gpt-4o"] });
  let gw: TestGateway | undefined;
  try {
    const store = options.store ?? true;
    gw = await startGateway(
      yamlFor(a, b, { dir: store ? dir : undefined, extra: options.extra }),
      { openStorage: store, storeService: { writer: { flushIntervalMs: 20 } } },
    );
    await fn(gw, a, b);
  } finally {
    await gw?.close();
    await Promise.all([a.close(), b.close()]);
    await Deno.remove(dir, { recursive: true });
  }
}

/** A finished chat call with the config key. */
async function chat(gw: TestGateway, model: string, extra: Record<string, unknown> = {}) {
  const res = await chatWith(gw, CONFIG_KEY, model, extra);
  const text = await res.text();
  return { status: res.status, text, headers: res.headers };
}

// deno-lint-ignore no-explicit-any
type Json = any;

async function getJson(gw: TestGateway, path: string): Promise<Json> {
  const res = await admin(gw, "GET", path);
  const body = await res.json();
  assert.equal(res.status, 200, `${path}: ${JSON.stringify(body)}`);
  return body;
}

const sum = (rows: Json[], field: string) => rows.reduce((n, r) => n + r[field], 0);

Deno.test("admin stats: requests through a mock move the provider's and the traffic's counters", () =>
  withDashboard(async (gw) => {
    const empty = await getJson(gw, "/admin/stats");
    assert.deepEqual(Object.keys(empty), [
      "now",
      "window_minutes",
      "generation",
      "providers",
      "traffic",
    ]);
    assert.equal(empty.window_minutes, 15);
    assert.deepEqual(empty.generation, {
      id: 1,
      loaded_at: empty.generation.loaded_at,
      last_reload: null,
    });
    assert.ok(Math.abs(empty.generation.loaded_at - Date.now()) < 60_000);
    assert.deepEqual(empty.providers.map((p: Json) => [p.name, p.type, p.health, p.requests]), [
      ["a", "openai", "healthy", 0],
      ["b", "openai", "healthy", 0],
    ]);

    for (let i = 0; i < 2; i++) assert.equal((await chat(gw, "a/gpt-4o")).status, 200);
    const streamed = await chat(gw, "a/gpt-4o", { stream: true });
    assert.equal(streamed.status, 200);
    assert.match(streamed.text, /data: \[DONE\]/);

    const stats = await getJson(gw, "/admin/stats?minutes=5");
    assert.equal(stats.window_minutes, 5);
    assert.ok(Math.abs(stats.now - Date.now()) < 5_000);
    const a = stats.providers[0];
    assert.deepEqual(Object.keys(a), [
      "name",
      "type",
      "health",
      "circuit",
      "last_error",
      "requests",
      "errors",
      "error_rate",
      "p50_ms",
      "p95_ms",
      "ttft_p50_ms",
      "series",
    ]);
    assert.deepEqual(
      [a.health, a.circuit, a.last_error, a.requests, a.errors, a.error_rate],
      ["healthy", "closed", null, 3, 0, 0],
    );
    assert.ok(a.p50_ms > 0 && a.p95_ms >= a.p50_ms, `p50 ${a.p50_ms}, p95 ${a.p95_ms}`);
    assert.ok(a.ttft_p50_ms > 0, "the stream's time to first token");
    assert.equal(a.series.length, 5);
    assert.deepEqual(Object.keys(a.series[0]), [
      "t",
      "requests",
      "errors",
      "p50_ms",
      "ttft_p50_ms",
    ]);
    assert.equal(a.series[4].t % 60_000, 0, "minutes start on the minute");
    assert.equal(a.series[4].t - a.series[0].t, 4 * 60_000);
    assert.equal(sum(a.series, "requests"), 3);
    assert.equal(stats.providers[1].requests, 0);

    const traffic = stats.traffic;
    assert.deepEqual(Object.keys(traffic), [
      "requests_per_second",
      "streams_open",
      "series",
      "fallbacks",
    ]);
    assert.equal(traffic.requests_per_second, 0.05);
    assert.equal(traffic.streams_open, 0);
    assert.deepEqual(traffic.fallbacks, []);
    assert.equal(traffic.series.length, 5);
    assert.deepEqual(Object.keys(traffic.series[0]), [
      "t",
      "requests",
      "2xx",
      "4xx",
      "5xx",
      "fallbacks",
      "retries",
      "rate_limited",
      "budget_refused",
    ]);
    assert.deepEqual(
      ["requests", "2xx", "4xx", "5xx"].map((f) => sum(traffic.series, f)),
      [3, 3, 0, 0],
    );
    // The admin API's own calls are not API traffic.
    const again = await getJson(gw, "/admin/stats");
    assert.equal(sum(again.traffic.series, "requests"), 3);
  }));

Deno.test("admin stats: an upstream answering 500 shows its errors, its last error, the fallback, then down", () =>
  withDashboard(async (gw, a) => {
    a.enqueue(
      { type: "ok" },
      { type: "ok" },
      { type: "ok" },
      { type: "error", status: 500, message: "upstream broke" },
    );
    for (let i = 0; i < 4; i++) {
      const res = await chat(gw, "a/gpt-4o");
      assert.equal(res.headers.get("x-gateway-provider"), i < 3 ? "a" : "b");
    }
    let stats = await getJson(gw, "/admin/stats");
    let pa = stats.providers[0];
    assert.deepEqual([pa.requests, pa.errors, pa.error_rate], [4, 1, 0.25]);
    assert.equal(pa.health, "degraded", "1 failure in 4 attempts, the circuit still closed");
    assert.equal(pa.circuit, "closed");
    assert.equal(pa.last_error.message, "HTTP 500");
    assert.ok(Math.abs(pa.last_error.at - Date.now()) < 5_000);
    assert.deepEqual(stats.traffic.fallbacks, [{ from: "a", to: "b", count: 1 }]);

    a.setDefault(() => ({ type: "error", status: 500 }));
    assert.equal((await chat(gw, "a/gpt-4o")).headers.get("x-gateway-provider"), "b");
    stats = await getJson(gw, "/admin/stats");
    pa = stats.providers[0];
    assert.deepEqual([pa.health, pa.circuit, pa.requests, pa.errors], ["down", "open", 5, 2]);
    assert.equal(stats.providers[1].health, "healthy");
    assert.equal(stats.providers[1].requests, 2);
    assert.deepEqual(stats.traffic.fallbacks, [{ from: "a", to: "b", count: 2 }]);
    assert.equal(sum(stats.traffic.series, "fallbacks"), 2);
    assert.equal(sum(stats.traffic.series, "2xx"), 5, "every request was answered");

    // The open circuit skips a: a fallback with no attempt at it.
    assert.equal((await chat(gw, "a/gpt-4o")).headers.get("x-gateway-provider"), "b");
    pa = (await getJson(gw, "/admin/stats")).providers[0];
    assert.deepEqual([pa.health, pa.requests], ["down", 5]);

    const [last] = (await getJson(gw, "/admin/requests?limit=1&provider=b")).data;
    assert.deepEqual(last.fallback_path, ["a/gpt-4o: circuit open", "b/gpt-4o: served"]);
    const failedOver = (await getJson(gw, "/admin/requests?limit=3")).data[2];
    assert.deepEqual(failedOver.fallback_path, ["a/gpt-4o: HTTP 500", "b/gpt-4o: served"]);
  }));

Deno.test("admin stats: retries, and requests refused by rate limits and budgets, counted apart", () =>
  withDashboard(async (gw, a, b) => {
    const limited = await createKey(gw, {
      name: "limited",
      rate_limit: { requests: 1, window: "1m" },
    });
    const thrifty = await createKey(gw, {
      name: "thrifty",
      budget: { usd: 0.000001, period: "1d" },
    });
    a.setDefault(() => ({ type: "ok", usage: { prompt: 1000, completion: 200 } }));
    for (const key of [limited.key, limited.key, thrifty.key, thrifty.key]) {
      await (await chatWith(gw, key, "a/gpt-4o")).body?.cancel();
    }
    b.enqueue({ type: "error", status: 503 });
    const retried = await chatWith(gw, CONFIG_KEY, "b/gpt-4o");
    assert.equal(retried.status, 200);
    await retried.body?.cancel();
    const traffic = (await getJson(gw, "/admin/stats")).traffic;
    assert.deepEqual(
      ["requests", "2xx", "4xx", "rate_limited", "budget_refused", "retries"].map((f) =>
        sum(traffic.series, f)
      ),
      [5, 3, 2, 1, 1, 1],
    );
  }, {
    extra: `ratelimit:
  enabled: true
  default: {requests: 1000, window: "1m"}
`,
  }));

Deno.test("admin stats: a reload that fails shows rejected with its error; one that works, a new generation", () =>
  withDashboard(async (gw, a, b) => {
    const broken = await parseConfig(
      yamlFor(a, b, {}).replace(
        "storage: false",
        'storage: false\nserver:\n  tls:\n    cert: "/nonexistent/cert.pem"\n' +
          '    key: "/nonexistent/key.pem"',
      ),
      { filename: "test.yaml", env: {} },
    );
    await assert.rejects(gw.server.reload(broken), /server\.tls\.cert: cannot read/);
    let generation = (await getJson(gw, "/admin/stats")).generation;
    assert.equal(generation.id, 1);
    assert.equal(generation.last_reload.result, "rejected");
    assert.match(generation.last_reload.error, /^server\.tls\.cert: cannot read "\/nonexistent/);
    assert.ok(Math.abs(generation.last_reload.at - Date.now()) < 5_000);
    const firstLoaded = generation.loaded_at;

    gw.server.rejectReload("providers[0].target_url: must be an http(s) URL (line 31)");
    generation = (await getJson(gw, "/admin/stats")).generation;
    assert.equal(
      generation.last_reload.error,
      "providers[0].target_url: must be an http(s) URL (line 31)",
    );

    await gw.server.reload(
      await parseConfig(yamlFor(a, b, {}), { filename: "test.yaml", env: {} }),
    );
    generation = (await getJson(gw, "/admin/stats")).generation;
    assert.equal(generation.id, 2);
    assert.deepEqual(
      { result: generation.last_reload.result, error: generation.last_reload.error },
      { result: "success", error: null },
    );
    assert.ok(generation.loaded_at >= firstLoaded);
    const scrape = await (await fetch(gw.url + "/metrics")).text();
    assert.match(scrape, /llm_gateway_config_reloads_total\{result="rejected"\} 2/);
  }, { store: false }));

Deno.test("admin requests: the last API requests, newest first, filtered; no keys or prompts", () =>
  withDashboard(async (gw, a) => {
    const virtual = await createKey(gw, { name: "team-b" });
    a.setDefault(() => ({ type: "ok", usage: { prompt: 100, completion: 20 } }));
    await chat(gw, "a/gpt-4o", { messages: [{ role: "user", content: "a secret prompt" }] });
    await (await chatWith(gw, virtual.key, "b/gpt-4o", { stream: true })).text();
    assert.equal((await chat(gw, "nowhere/gpt-4o")).status, 404);
    await (await fetch(gw.url + "/v1/models", {
      headers: { authorization: `Bearer ${CONFIG_KEY}` },
    })).body?.cancel();

    const res = await admin(gw, "GET", "/admin/requests");
    assert.equal(res.headers.get("cache-control"), "no-store");
    const text = await res.text();
    for (const secret of [CONFIG_KEY, virtual.key, ADMIN_KEY, "a secret prompt", "sk-a-secret"]) {
      assert.ok(!text.includes(secret), `the list shows ${secret}`);
    }
    const { data } = JSON.parse(text);
    assert.equal(data.length, 3, "only API requests: not /v1/models, not the admin API");
    assert.deepEqual(data.map((r: Json) => [r.caller, r.status, r.provider]), [
      ["app", 404, null],
      ["team-b", 200, "b"],
      ["app", 200, "a"],
    ]);
    const first = data[2];
    assert.deepEqual(Object.keys(first), [
      "time",
      "request_id",
      "caller",
      "endpoint",
      "model",
      "provider",
      "served_model",
      "status",
      "latency_ms",
      "ttfb_ms",
      "stream",
      "input_tokens",
      "output_tokens",
      "cost_usd",
      "fallback_path",
    ]);
    assert.equal(first.endpoint, "/v1/chat/completions");
    assert.deepEqual(
      [first.model, first.served_model, first.stream, first.input_tokens, first.output_tokens],
      ["a/gpt-4o", "gpt-4o", false, 100, 20],
    );
    assert.ok(first.cost_usd > 0);
    assert.ok(first.latency_ms >= first.ttfb_ms && first.ttfb_ms > 0);
    assert.ok(Math.abs(first.time - Date.now()) < 10_000);
    assert.match(first.request_id, /^[0-9a-f-]{36}$/);
    assert.deepEqual(first.fallback_path, []);
    assert.equal(data[1].stream, true);
    assert.deepEqual(
      [data[0].model, data[0].served_model, data[0].ttfb_ms, data[0].cost_usd],
      ["nowhere/gpt-4o", null, null, null],
    );

    const ids = async (query: string) =>
      (await getJson(gw, `/admin/requests?${query}`)).data.map((r: Json) => r.caller + r.status);
    assert.deepEqual(await ids("provider=b"), ["team-b200"]);
    assert.deepEqual(await ids("model=gpt-4o&status=200"), ["team-b200", "app200"]);
    assert.deepEqual(await ids("status=4xx"), ["app404"]);
    assert.deepEqual(await ids("caller=app&limit=1"), ["app404"]);
    assert.deepEqual(await ids("caller=nobody"), []);
  }));

Deno.test("admin usage series: the costs of the requests sent, per model and minute", () =>
  withDashboard(async (gw, a) => {
    a.setDefault(() => ({ type: "ok", usage: { prompt: 1000, completion: 200 } }));
    const costs: number[] = [];
    for (const model of ["a/gpt-4o", "a/gpt-4o", "b/gpt-4o"]) {
      const res = await chat(gw, model);
      costs.push(Number(res.headers.get("x-gateway-cost-usd")));
    }
    const rows = await eventually(async () => {
      const body = await getJson(gw, "/admin/usage/series?group_by=provider&bucket=minute");
      return sum(body.data, "requests") === 3 ? body.data : undefined;
    }, { what: "three requests in the series" });
    assert.deepEqual(Object.keys(rows[0]), [
      "t",
      "provider",
      "requests",
      "input_tokens",
      "output_tokens",
      "cost_usd",
    ]);
    for (const row of rows) assert.equal(row.t % 60_000, 0);
    const byProvider = (name: string) => rows.filter((r: Json) => r.provider === name);
    assert.ok(Math.abs(sum(byProvider("a"), "cost_usd") - costs[0]! - costs[1]!) < 1e-9);
    assert.ok(Math.abs(sum(byProvider("b"), "cost_usd") - costs[2]!) < 1e-9);
    assert.ok(costs.every((c) => c > 0));

    const daily = await getJson(gw, "/admin/usage/series?group_by=model&bucket=day");
    assert.deepEqual([daily.group_by, daily.bucket], ["model", "day"]);
    assert.equal(Date.parse(daily.to) - Date.parse(daily.from), 30 * 86_400_000);
    assert.deepEqual(daily.data.map((r: Json) => [r.model, r.requests]), [["gpt-4o", 3]]);
    assert.equal(daily.data[0].t, Date.UTC(...utcDay()));
    assert.ok(Math.abs(daily.data[0].cost_usd - costs.reduce((x, y) => x + y)) < 1e-9);

    const cases: [string, string, RegExp][] = [
      ["bucket=week", "bucket", /minute, hour, day/],
      ["group_by=team", "group_by", /key, user, group, model, provider/],
      ["bucket=minute&from=2026-01-01&to=2026-01-02T00:01:00Z", "from", /1441 buckets.*1440/],
      ["from=2026-12-02&to=2026-12-01", "from", /before to/],
      ["limit=5", "limit", /unknown query parameter/],
    ];
    for (const [query, param, message] of cases) {
      const res = await admin(gw, "GET", `/admin/usage/series?${query}`);
      assert.equal(res.status, 400, query);
      const error = await readError(res);
      assert.equal(error.param, param, query);
      assert.match(error.message, message, query);
    }
  }));

/** Today's date in UTC, as `Date.UTC` arguments. */
function utcDay(): [number, number, number] {
  const now = new Date();
  return [now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()];
}

Deno.test("admin live endpoints: 401 without an admin key, 403 for a gateway key, 400 naming the parameter", () =>
  withDashboard(async (gw) => {
    for (const path of ["/admin/stats", "/admin/requests", "/admin/usage/series"]) {
      const missing = await admin(gw, "GET", path, { key: null });
      assert.equal(missing.status, 401, path);
      assert.equal((await readError(missing)).code, "invalid_api_key");
      const gateway = await admin(gw, "GET", path, { key: CONFIG_KEY });
      assert.equal(gateway.status, 403, path);
      assert.equal((await readError(gateway)).code, "forbidden");
    }
    const cases: [string, string, RegExp][] = [
      ["/admin/stats?minutes=0", "minutes", /from 1 to 60/],
      ["/admin/stats?minutes=61", "minutes", /from 1 to 60/],
      ["/admin/stats?minutes=1.5", "minutes", /whole number/],
      ["/admin/stats?window=5", "window", /unknown query parameter; expected minutes/],
      ["/admin/requests?limit=1001", "limit", /from 1 to 1000/],
      ["/admin/requests?status=teapot", "status", /429.*"5xx"/],
      ["/admin/requests?provider=", "provider", /must not be empty/],
      ["/admin/requests?caller=a&caller=b", "caller", /more than once/],
    ];
    for (const [path, param, message] of cases) {
      const res = await admin(gw, "GET", path);
      assert.equal(res.status, 400, path);
      const error = await readError(res);
      assert.equal(error.param, param, path);
      assert.match(error.message, message, path);
    }
    // The live view is in memory: it needs no store, the usage series does.
    assert.equal((await admin(gw, "GET", "/admin/stats")).status, 200);
    assert.equal((await admin(gw, "GET", "/admin/requests")).status, 200);
    const series = await admin(gw, "GET", "/admin/usage/series");
    assert.equal(series.status, 503);
    assert.equal((await readError(series)).code, "store_unavailable");
  }, { store: false }));
