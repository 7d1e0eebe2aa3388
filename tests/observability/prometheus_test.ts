import assert from "node:assert/strict";
import {
  DEFAULT_BUCKETS,
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
  plain.inc(3);
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
  const circuit = registry.gauge("circuit_state", "0 closed, 1 half-open, 2 open.", {
    labelNames: ["provider"],
  });
  inFlight.inc();
  inFlight.inc(5);
  inFlight.dec(2);
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
  const latency = registry.histogram("latency_seconds", "Latency.", {
    labelNames: ["route"],
    buckets: [0.1, 1],
  });
  latency.observe({ route: "chat" }, 0.05);
  latency.observe({ route: "chat" }, 0.5);
  latency.observe({ route: "chat" }, 3);
  latency.labels("embed").observe(1);
  assert.equal(
    registry.expose(),
    [
      "# HELP latency_seconds Latency.",
      "# TYPE latency_seconds histogram",
      'latency_seconds_bucket{route="chat",le="0.1"} 1',
      'latency_seconds_bucket{route="chat",le="1"} 2',
      'latency_seconds_bucket{route="chat",le="+Inf"} 3',
      'latency_seconds_sum{route="chat"} 3.55',
      'latency_seconds_count{route="chat"} 3',
      'latency_seconds_bucket{route="embed",le="0.1"} 0',
      'latency_seconds_bucket{route="embed",le="1"} 1',
      'latency_seconds_bucket{route="embed",le="+Inf"} 1',
      'latency_seconds_sum{route="embed"} 1',
      'latency_seconds_count{route="embed"} 1',
      "",
    ].join("\n"),
  );
});

Deno.test("an unlabelled histogram uses the default LLM latency buckets", () => {
  const registry = new Registry();
  const ttfb = registry.histogram("ttfb_seconds", "Time to first byte.");
  ttfb.observe(0.3);
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
  const h = registry.histogram("h", "H.", { buckets: [1, 2, 5] });
  for (const value of [0, 1, 1.0000001, 2, 5, 5.5]) h.observe(value);
  const buckets = registry.expose().split("\n").filter((line) => line.startsWith("h_bucket"));
  assert.deepEqual(buckets, [
    'h_bucket{le="1"} 2',
    'h_bucket{le="2"} 4',
    'h_bucket{le="5"} 5',
    'h_bucket{le="+Inf"} 6',
  ]);
});

Deno.test("histogram buckets are sorted, a spelled-out +Inf is accepted, duplicates throw", () => {
  const registry = new Registry();
  const h = registry.histogram("h", "H.", { buckets: [5, 0.5, Infinity] });
  h.observe(0.5);
  assert.match(
    registry.expose(),
    /h_bucket\{le="0.5"\} 1\nh_bucket\{le="5"\} 1\nh_bucket\{le="\+Inf"\} 1\n/,
  );
  assert.throws(() => registry.histogram("dup", "D.", { buckets: [1, 1] }), RangeError);
  assert.throws(() => registry.histogram("nan", "N.", { buckets: [NaN] }), RangeError);
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

Deno.test("labels() returns the same cached child, sharing the series with record calls", () => {
  const registry = new Registry();
  const c = registry.counter("c_total", "C.", ["provider", "model"]);
  const child = c.labels("openai", "gpt-4o");
  assert.equal(c.labels("openai", "gpt-4o"), child);
  assert.notEqual(c.labels("openai", "gpt-4o-mini"), child);
  child.inc();
  child.inc(2);
  c.inc({ model: "gpt-4o", provider: "openai" });
  assert.match(registry.expose(), /c_total\{provider="openai",model="gpt-4o"\} 4\n/);

  const h = registry.histogram("h", "H.", { labelNames: ["route"] });
  assert.equal(h.labels("chat"), h.labels("chat"));
  const g = registry.gauge("g", "G.", ["p"]);
  assert.equal(g.labels("x"), g.labels("x"));
});

Deno.test("label combinations past maxSeries fold into one __overflow__ series", () => {
  const registry = new Registry();
  const c = registry.counter("c_total", "C.", { labelNames: ["user", "route"], maxSeries: 2 });
  c.inc({ user: "a", route: "chat" });
  c.inc({ user: "b", route: "chat" });
  c.inc({ user: "c", route: "chat" });
  c.labels("d", "embed").inc(5);
  c.inc({ user: "a", route: "chat" }); // an existing series keeps counting
  const h = registry.histogram("h", "H.", { labelNames: ["user"], buckets: [1], maxSeries: 1 });
  h.observe({ user: "a" }, 0.5);
  h.labels("b").observe(2);
  h.observe({ user: "c" }, 3);
  assert.equal(
    registry.expose(),
    [
      "# HELP c_total C.",
      "# TYPE c_total counter",
      'c_total{user="a",route="chat"} 2',
      'c_total{user="b",route="chat"} 1',
      'c_total{user="__overflow__",route="__overflow__"} 6',
      "# HELP h H.",
      "# TYPE h histogram",
      'h_bucket{user="a",le="1"} 1',
      'h_bucket{user="a",le="+Inf"} 1',
      'h_sum{user="a"} 0.5',
      'h_count{user="a"} 1',
      'h_bucket{user="__overflow__",le="1"} 0',
      'h_bucket{user="__overflow__",le="+Inf"} 2',
      'h_sum{user="__overflow__"} 5',
      'h_count{user="__overflow__"} 2',
      "",
    ].join("\n"),
  );
});

Deno.test("a series labelled __overflow__ by hand merges with the overflow series", () => {
  const registry = new Registry();
  const c = registry.counter("c_total", "C.", { labelNames: ["u"], maxSeries: 1 });
  c.inc({ u: "__overflow__" });
  c.inc({ u: "a" });
  c.inc({ u: "b" });
  assert.deepEqual(registry.expose().split("\n").slice(2), [
    'c_total{u="a"} 1',
    'c_total{u="__overflow__"} 2',
    "",
  ]);
});

Deno.test("the default cap keeps 1000 series plus the overflow one", () => {
  const registry = new Registry();
  const c = registry.counter("c_total", "C.", ["id"]);
  for (let i = 0; i < 5_000; i++) c.inc({ id: String(i) });
  const series = registry.expose().split("\n").filter((line) => line.startsWith("c_total{"));
  assert.equal(series.length, 1001);
  assert.equal(series.at(-1), 'c_total{id="__overflow__"} 4000');
});

Deno.test("invalid metric and label names throw at creation", () => {
  const registry = new Registry();
  for (const name of ["", "1abc", "a-b", "a b", "é"]) {
    assert.throws(() => registry.counter(name, "x"), TypeError, name);
  }
  for (const label of ["__reserved", "a:b", "1a", "a-b", ""]) {
    assert.throws(() => registry.gauge("g", "x", [label]), TypeError, label);
  }
  assert.throws(() => registry.gauge("g", "x", ["a", "a"]), TypeError);
  assert.throws(() => registry.histogram("h", "x", { labelNames: ["le"] }), TypeError);
  assert.throws(() => registry.counter("c", "x", { maxSeries: 0 }), RangeError);
  // Colons are legal in metric names; none of the failures above registered anything.
  registry.counter("ns:c_total", "x");
  registry.gauge("g", "x", ["_ok"]);
  registry.histogram("h", "x");
});

Deno.test("a duplicate metric name, or one clashing with histogram samples, throws", () => {
  const registry = new Registry();
  registry.counter("c_total", "C.");
  assert.throws(() => registry.gauge("c_total", "again"), /duplicate metric name "c_total"/);
  registry.histogram("latency", "L.");
  assert.throws(() => registry.counter("latency_count", "x"), /already used by metric "latency"/);
  registry.gauge("size_sum", "S.");
  assert.throws(() => registry.histogram("size", "x"), /already used by metric "size_sum"/);
});

Deno.test("a negative or NaN counter increment throws RangeError and changes nothing", () => {
  const registry = new Registry();
  const c = registry.counter("c_total", "C.", ["k"]);
  const plain = registry.counter("p_total", "P.");
  assert.throws(() => c.inc({ k: "a" }, -1), RangeError);
  assert.throws(() => c.labels("a").inc(-0.5), RangeError);
  assert.throws(() => plain.inc(-1), RangeError);
  assert.throws(() => plain.inc(NaN), RangeError);
  c.inc({ k: "a" }, 0);
  assert.ok(registry.expose().includes('c_total{k="a"} 0\n'));
  assert.ok(registry.expose().includes("p_total 0\n"));
});

Deno.test("missing, unexpected or miscounted labels throw TypeError", () => {
  const registry = new Registry();
  const c = registry.counter("c_total", "C.", ["a", "b"]);
  c.inc({ a: "1", b: "2" });
  assert.throws(() => c.inc({ a: "1" }), /missing label "b"/);
  assert.throws(() => c.inc(), /missing label "a"/);
  assert.throws(() => c.inc({ a: "1", b: "2", c: "3" }), /unexpected label "c"/);
  assert.throws(() => c.labels("1"), /expected 2 label values/);
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

Deno.test("gauge reset drops every series and detaches old children", () => {
  const registry = new Registry();
  const g = registry.gauge("g", "G.", ["k"]);
  const plain = registry.gauge("p", "P.");
  const old = g.labels("a");
  old.set(7);
  g.set({ k: "b" }, 1);
  plain.set(3);
  g.reset();
  plain.reset();
  assert.equal(registry.expose(), "# HELP g G.\n# TYPE g gauge\n# HELP p P.\n# TYPE p gauge\n");
  old.set(9); // detached: not exposed
  assert.notEqual(g.labels("a"), old);
  g.labels("a").inc();
  plain.set(2);
  assert.equal(
    registry.expose(),
    '# HELP g G.\n# TYPE g gauge\ng{k="a"} 1\n# HELP p P.\n# TYPE p gauge\np 2\n',
  );
});
