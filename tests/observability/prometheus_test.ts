import assert from "node:assert/strict";
import {
  DEFAULT_BUCKETS,
  MAX_SERIES,
  PROMETHEUS_CONTENT_TYPE,
  Registry,
} from "../../src/observability/prometheus.ts";

Deno.test("an empty registry exposes nothing", () => {
  assert.equal(new Registry().expose(), "");
  assert.equal(PROMETHEUS_CONTENT_TYPE, "text/plain; version=0.0.4; charset=utf-8");
});

Deno.test("counters expose HELP, TYPE and one line per series in insertion order", () => {
  const registry = new Registry();
  const plain = registry.counter("gateway_up_total", "Starts.");
  const requests = registry.counter("gateway_requests_total", "Requests handled.", [
    "provider",
    "status",
  ]);
  requests.inc({ provider: "openai", status: "200" });
  requests.inc({ status: "500", provider: "anthropic" }, 2);
  requests.inc({ provider: "openai", status: "200" }, 0.5);
  plain.inc();
  plain.inc({}, 3);
  assert.equal(
    registry.expose(),
    [
      "# HELP gateway_up_total Starts.",
      "# TYPE gateway_up_total counter",
      "gateway_up_total 4",
      "# HELP gateway_requests_total Requests handled.",
      "# TYPE gateway_requests_total counter",
      'gateway_requests_total{provider="openai",status="200"} 1.5',
      'gateway_requests_total{provider="anthropic",status="500"} 2',
      "",
    ].join("\n"),
  );
});

Deno.test("an unlabelled metric is exposed as 0 before its first event", () => {
  const registry = new Registry();
  registry.counter("errors_total", "Errors.");
  registry.gauge("in_flight", "In flight.");
  assert.equal(
    registry.expose(),
    [
      "# HELP errors_total Errors.",
      "# TYPE errors_total counter",
      "errors_total 0",
      "# HELP in_flight In flight.",
      "# TYPE in_flight gauge",
      "in_flight 0",
      "",
    ].join("\n"),
  );
});

Deno.test("gauges set, increment and decrement, with and without labels", () => {
  const registry = new Registry();
  const inFlight = registry.gauge("in_flight", "Requests in flight.");
  const circuit = registry.gauge("circuit_state", "0 closed, 1 half-open, 2 open.", ["provider"]);
  inFlight.inc();
  inFlight.inc({}, 5);
  inFlight.dec({}, 2);
  inFlight.dec();
  circuit.set({ provider: "openai" }, 2);
  circuit.inc({ provider: "groq" });
  circuit.dec({ provider: "groq" }, 0.25);
  assert.equal(
    registry.expose(),
    [
      "# HELP in_flight Requests in flight.",
      "# TYPE in_flight gauge",
      "in_flight 3",
      "# HELP circuit_state 0 closed, 1 half-open, 2 open.",
      "# TYPE circuit_state gauge",
      'circuit_state{provider="openai"} 2',
      'circuit_state{provider="groq"} 0.75',
      "",
    ].join("\n"),
  );
});

Deno.test("histograms expose cumulative buckets, +Inf, sum and count", () => {
  const registry = new Registry();
  const latency = registry.histogram("latency_seconds", "Latency.", ["route"]);
  latency.observe({ route: "chat" }, 0.05);
  latency.observe({ route: "chat" }, 0.5);
  latency.observe({ route: "chat" }, 300);
  latency.observe({ route: "embed" }, 1);
  const lines = registry.expose().split("\n");
  const chat = lines.filter((line) => line.includes('route="chat"'));
  assert.deepEqual(chat.slice(0, 8), [
    'latency_seconds_bucket{route="chat",le="0.005"} 0',
    'latency_seconds_bucket{route="chat",le="0.01"} 0',
    'latency_seconds_bucket{route="chat",le="0.025"} 0',
    'latency_seconds_bucket{route="chat",le="0.05"} 1',
    'latency_seconds_bucket{route="chat",le="0.1"} 1',
    'latency_seconds_bucket{route="chat",le="0.25"} 1',
    'latency_seconds_bucket{route="chat",le="0.5"} 2',
    'latency_seconds_bucket{route="chat",le="1"} 2',
  ]);
  assert.deepEqual(chat.slice(-4), [
    'latency_seconds_bucket{route="chat",le="120"} 2',
    'latency_seconds_bucket{route="chat",le="+Inf"} 3',
    'latency_seconds_sum{route="chat"} 300.55',
    'latency_seconds_count{route="chat"} 3',
  ]);
  assert.deepEqual(lines.slice(0, 2), [
    "# HELP latency_seconds Latency.",
    "# TYPE latency_seconds histogram",
  ]);
  assert.ok(lines.indexOf(chat.at(-1)!) < lines.indexOf('latency_seconds_count{route="embed"} 1'));
  assert.ok(lines.includes('latency_seconds_bucket{route="embed",le="0.5"} 0'));
  assert.ok(lines.includes('latency_seconds_bucket{route="embed",le="1"} 1'));
});

Deno.test("an unlabelled histogram uses the default LLM latency buckets", () => {
  const registry = new Registry();
  const ttfb = registry.histogram("ttfb_seconds", "Time to first byte.");
  ttfb.observe({}, 0.3);
  const lines = registry.expose().split("\n");
  const les = lines.filter((line) => line.startsWith("ttfb_seconds_bucket"))
    .map((line) => /le="([^"]+)"/.exec(line)![1]);
  assert.deepEqual(les, [...DEFAULT_BUCKETS.map(String), "+Inf"]);
  assert.deepEqual(DEFAULT_BUCKETS, [
    0.005,
    0.01,
    0.025,
    0.05,
    0.1,
    0.25,
    0.5,
    1,
    2.5,
    5,
    10,
    30,
    60,
    120,
  ]);
  assert.ok(lines.includes('ttfb_seconds_bucket{le="0.25"} 0'));
  assert.ok(lines.includes('ttfb_seconds_bucket{le="0.5"} 1'));
  assert.ok(lines.includes("ttfb_seconds_sum 0.3"));
  assert.ok(lines.includes("ttfb_seconds_count 1"));
});

Deno.test("a value equal to a bucket bound counts in that bucket (le is inclusive)", () => {
  const registry = new Registry();
  const h = registry.histogram("h", "H.");
  for (const value of [0, 1, 1.0000001, 2.5, 5, 5.5, NaN]) h.observe({}, value);
  const buckets = registry.expose().split("\n").filter((line) =>
    /^h_bucket\{le="(1|2.5|5|\+Inf)"\}/.test(line)
  );
  assert.deepEqual(buckets, [
    'h_bucket{le="1"} 2',
    'h_bucket{le="2.5"} 4',
    'h_bucket{le="5"} 5',
    'h_bucket{le="+Inf"} 7',
  ]);
});

Deno.test("label values and HELP text are escaped as the text format requires", () => {
  const registry = new Registry();
  const c = registry.counter("escaped_total", 'Back\\slash, "quotes" stay,\nnew line.', ["v"]);
  c.inc({ v: 'a\\b"c"\nd' });
  assert.equal(
    registry.expose(),
    [
      '# HELP escaped_total Back\\\\slash, "quotes" stay,\\nnew line.',
      "# TYPE escaped_total counter",
      'escaped_total{v="a\\\\b\\"c\\"\\nd"} 1',
      "",
    ].join("\n"),
  );
});

Deno.test("numbers print the Prometheus way: integers bare, +Inf, -Inf, NaN", () => {
  const registry = new Registry();
  const g = registry.gauge("g", "G.", ["k"]);
  g.set({ k: "int" }, 42);
  g.set({ k: "float" }, 0.1);
  g.set({ k: "pinf" }, Infinity);
  g.set({ k: "ninf" }, -Infinity);
  g.set({ k: "nan" }, NaN);
  g.set({ k: "negzero" }, -0);
  assert.deepEqual(registry.expose().split("\n").slice(2), [
    'g{k="int"} 42',
    'g{k="float"} 0.1',
    'g{k="pinf"} +Inf',
    'g{k="ninf"} -Inf',
    'g{k="nan"} NaN',
    'g{k="negzero"} 0',
    "",
  ]);
});

Deno.test("a series labelled __overflow__ by hand merges with the overflow series", () => {
  const registry = new Registry();
  const c = registry.counter("c_total", "C.", ["u"]);
  c.inc({ u: "__overflow__" });
  for (let i = 0; i <= MAX_SERIES; i++) c.inc({ u: String(i) });
  const series = registry.expose().split("\n").filter((line) => line.startsWith("c_total{"));
  assert.equal(series.length, MAX_SERIES + 1);
  assert.equal(series[0], 'c_total{u="0"} 1');
  assert.equal(series.at(-1), 'c_total{u="__overflow__"} 2');
});

Deno.test("the cap keeps 1000 label combinations plus one __overflow__ series", () => {
  const registry = new Registry();
  const c = registry.counter("c_total", "C.", ["id", "route"]);
  for (let i = 0; i < 5_000; i++) c.inc({ id: String(i), route: "chat" });
  c.inc({ id: "0", route: "chat" }); // an existing series keeps counting
  const h = registry.histogram("h", "H.", ["id"]);
  for (let i = 0; i < MAX_SERIES + 2; i++) h.observe({ id: String(i) }, 0.5);
  const lines = registry.expose().split("\n");
  const series = lines.filter((line) => line.startsWith("c_total{"));
  assert.equal(MAX_SERIES, 1000);
  assert.equal(series.length, 1001);
  assert.equal(series[0], 'c_total{id="0",route="chat"} 2');
  assert.equal(series.at(-1), 'c_total{id="__overflow__",route="__overflow__"} 4000');
  assert.deepEqual(
    lines.filter((line) => line.includes("__overflow__") && line.startsWith("h_")).slice(-4),
    [
      'h_bucket{id="__overflow__",le="120"} 2',
      'h_bucket{id="__overflow__",le="+Inf"} 2',
      'h_sum{id="__overflow__"} 1',
      'h_count{id="__overflow__"} 2',
    ],
  );
});

Deno.test("a negative or NaN counter increment throws RangeError and changes nothing", () => {
  const registry = new Registry();
  const c = registry.counter("c_total", "C.", ["k"]);
  const plain = registry.counter("p_total", "P.");
  assert.throws(() => c.inc({ k: "a" }, -1), RangeError);
  assert.throws(() => c.inc({ k: "a" }, -0.5), RangeError);
  assert.throws(() => plain.inc({}, -1), RangeError);
  assert.throws(() => plain.inc({}, NaN), RangeError);
  c.inc({ k: "a" }, 0);
  assert.ok(registry.expose().includes('c_total{k="a"} 0\n'));
  assert.ok(registry.expose().includes("p_total 0\n"));
});

Deno.test("missing or unexpected labels throw TypeError", () => {
  const registry = new Registry();
  const c = registry.counter("c_total", "C.", ["a", "b"]);
  c.inc({ a: "1", b: "2" });
  assert.throws(() => c.inc({ a: "1" }), /missing label "b"/);
  assert.throws(() => c.inc(), /missing label "a"/);
  assert.throws(() => c.inc({ a: "1", b: "2", c: "3" }), /unexpected label "c"/);
  const plain = registry.counter("p_total", "P.");
  assert.throws(() => plain.inc({ a: "1" }), /unexpected label "a"/);
});

Deno.test("beforeCollect hooks run on every expose, before metrics are rendered", () => {
  const registry = new Registry();
  const state = registry.gauge("circuit_open", "Open circuits.", ["provider"]);
  let open = ["openai"];
  let runs = 0;
  registry.beforeCollect(() => {
    runs++;
    state.reset();
    for (const provider of open) state.set({ provider }, 1);
  });
  assert.equal(runs, 0);
  assert.match(registry.expose(), /circuit_open\{provider="openai"\} 1\n$/);
  open = ["groq"];
  const text = registry.expose();
  assert.equal(runs, 2);
  assert.ok(!text.includes("openai"));
  assert.match(text, /circuit_open\{provider="groq"\} 1\n$/);
});

Deno.test("gauge reset drops every series, the unlabelled one included", () => {
  const registry = new Registry();
  const g = registry.gauge("g", "G.", ["k"]);
  const plain = registry.gauge("p", "P.");
  g.set({ k: "a" }, 7);
  g.set({ k: "b" }, 1);
  plain.set({}, 3);
  g.reset();
  plain.reset();
  assert.equal(registry.expose(), "# HELP g G.\n# TYPE g gauge\n# HELP p P.\n# TYPE p gauge\n");
  g.inc({ k: "a" });
  plain.set({}, 2);
  assert.equal(
    registry.expose(),
    '# HELP g G.\n# TYPE g gauge\ng{k="a"} 1\n# HELP p P.\n# TYPE p gauge\np 2\n',
  );
});
