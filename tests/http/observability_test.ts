import assert from "node:assert/strict";
import type { Completion, ResponseMiddleware } from "../../src/http/response_middleware.ts";
import { providerYaml } from "../support/gateway.ts";
import { waitFor } from "../support/wait_for.ts";
import { chat, FAST_ROUTING, post, withGateway } from "./harness.ts";

const KEY = "gw-observer-key-012345";

const yaml = ({ a, b }: { a: { url: string }; b: { url: string } }) =>
  FAST_ROUTING + `auth:
  enabled: true
  keys:
    - name: observer
      key: "${KEY}"
strategies:
  - name: chain
    providers: [a, b]
providers:
${providerYaml("a", a.url, { max_retries: 1 })}
${providerYaml("b", b.url)}
`;

const auth = { headers: { authorization: `Bearer ${KEY}` } };

function metric(text: string, line: RegExp): number {
  const found = text.split("\n").find((l) => line.test(l));
  assert.ok(found, `no metric line matching ${line}`);
  return Number(found.slice(found.lastIndexOf(" ") + 1));
}

Deno.test("access log lines and /metrics describe real requests, a fallback and a stream", async () => {
  await withGateway(yaml, async ({ gw, a }) => {
    await gw.server.engine.catalog.refresh();
    a.enqueue({ type: "error", status: 500 }, { type: "error", status: 503 });
    const fallback = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"), auth);
    assert.equal(fallback.headers.get("x-gateway-provider"), "b");
    await fallback.body?.cancel();

    const stream = await post(
      gw,
      "/v1/chat/completions",
      chat("a/gpt-4o", { stream: true, stream_options: { include_usage: true } }),
      auth,
    );
    const streamId = stream.headers.get("x-request-id");
    await stream.text();
    await (await fetch(gw.url + "/health")).body?.cancel();

    const scrape = await (await fetch(gw.url + "/metrics")).text();
    const logText = await gw.logText();
    const events = logText.trim().split("\n").map((l) => JSON.parse(l));
    const requests = events.filter((e) => e.message === "request");

    const fell = requests.find((e) => e["gateway.attempts"] === 3)!;
    assert.ok(fell, "the fallback request was logged");
    assert.equal(fell["ecs.version"], "8.11.0");
    assert.equal(fell["log.level"], "info");
    assert.equal(fell["http.request.method"], "POST");
    assert.equal(fell["url.path"], "/v1/chat/completions");
    assert.equal(fell["http.response.status_code"], 200);
    assert.equal(typeof fell["event.duration"], "number");
    assert.equal(fell["user.name"], "observer");
    assert.equal(fell["gateway.requested_model"], "a/gpt-4o");
    assert.equal(fell["gateway.provider"], "b");
    assert.deepEqual(fell["gateway.fallback_path"], [
      "a/gpt-4o: HTTP 500",
      "a/gpt-4o: HTTP 503",
      "b/gpt-4o: served",
    ]);
    assert.equal(fell["gateway.stream"], false);

    const streamed = requests.find((e) => e["trace.id"] === streamId)!;
    assert.ok(streamed, "the stream was logged with its request id");
    assert.equal(streamed["gateway.stream"], true);
    assert.equal(streamed["gateway.outcome"], "complete");
    assert.equal(typeof streamed["gateway.ttfb_ms"], "number");
    assert.ok(streamed["gateway.usage.total_tokens"] > 0, "stream usage logged");
    assert.ok(!requests.some((e) => e["url.path"] === "/health"), "probes are not logged at info");
    assert.ok(!logText.includes(KEY), "no key in the logs");

    const chatRoute = 'route="/v1/chat/completions"';
    assert.equal(
      metric(
        scrape,
        new RegExp(
          `^llm_gateway_requests_total\\{${chatRoute},provider="b",model="other",status="200"\\}`,
        ),
      ),
      1,
    );
    assert.equal(
      metric(
        scrape,
        new RegExp(
          `^llm_gateway_requests_total\\{${chatRoute},provider="a",model="gpt-4o",status="200"\\}`,
        ),
      ),
      1,
    );
    assert.equal(metric(scrape, /^llm_gateway_fallbacks_total\{from="a",to="b"\}/), 1);
    assert.equal(metric(scrape, /^llm_gateway_retries_total\{provider="a"\}/), 1);
    assert.equal(
      metric(scrape, /^llm_gateway_upstream_attempts_total\{provider="a",outcome="http"\}/),
      2,
    );
    assert.equal(
      metric(scrape, /^llm_gateway_upstream_attempts_total\{provider="a",outcome="success"\}/),
      1,
    );
    assert.equal(
      metric(
        scrape,
        /^llm_gateway_time_to_first_token_seconds_count\{provider="a",model="gpt-4o"\}/,
      ),
      1,
    );
    assert.ok(
      metric(scrape, /^llm_gateway_tokens_total\{provider="a",model="gpt-4o",kind="completion"\}/) >
        0,
    );
    assert.equal(metric(scrape, /^llm_gateway_circuit_state\{provider="a"\}/), 0);
    assert.equal(metric(scrape, /^llm_gateway_open_streams /), 0);
    assert.equal(metric(scrape, /^llm_gateway_inflight_requests /), 1, "the scrape itself");
    assert.match(scrape, /# TYPE llm_gateway_request_duration_seconds histogram/);
  });
});

Deno.test("unknown model names are counted as one bounded series", async () => {
  await withGateway(yaml, async ({ gw }) => {
    await gw.server.engine.catalog.refresh();
    for (let i = 0; i < 5; i++) {
      const res = await post(gw, "/v1/chat/completions", chat(`b/random-${i}`), auth);
      await res.body?.cancel();
    }
    const scrape = await (await fetch(gw.url + "/metrics")).text();
    assert.doesNotMatch(scrape, /random-/);
    assert.equal(
      metric(
        scrape,
        /^llm_gateway_requests_total\{route="\/v1\/chat\/completions",provider="b",model="other",status="200"\}/,
      ),
      5,
    );
  });
});

Deno.test("/health is always ok and /ready needs an enabled provider", async () => {
  await withGateway(yaml, async ({ gw }) => {
    const health = await fetch(gw.url + "/health");
    assert.deepEqual(await health.json(), { status: "ok" });
    const ready = await fetch(gw.url + "/ready");
    assert.equal(ready.status, 200);
    assert.equal((await ready.json()).status, "ready");
  });
  await withGateway(() => "providers: []\n", async ({ gw }) => {
    const ready = await fetch(gw.url + "/ready");
    assert.equal(ready.status, 503);
    assert.equal((await ready.json()).status, "not_ready");
  });
});

Deno.test("response middleware sets headers before the body and sees each whole exchange after it", async () => {
  const seen: Completion[] = [];
  const audit: ResponseMiddleware = {
    name: "audit",
    wantsBody: true,
    onResponse: (_ctx, res) => res.headers.set("x-audited", "1"),
    onComplete: (_ctx, done) => seen.push(done),
  };
  const failing: ResponseMiddleware = {
    name: "failing",
    onComplete: () => {
      throw new Error("hook bug");
    },
  };
  const plain = ({ a }: { a: { url: string } }) => `providers:\n${providerYaml("a", a.url)}\n`;
  await withGateway(plain, async ({ gw }) => {
    const answer = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"));
    assert.equal(answer.headers.get("x-audited"), "1");
    const answerText = await answer.text();
    const stream = await post(gw, "/v1/chat/completions", chat("a/gpt-4o", { stream: true }));
    assert.equal(stream.headers.get("x-audited"), "1");
    const streamText = await stream.text();
    await waitFor(() => seen.length === 2, { message: "both completions reached the hook" });

    const [whole, streamed] = seen;
    assert.equal(whole!.stream, false);
    assert.equal(new TextDecoder().decode(whole!.body), answerText);
    assert.equal(whole!.usage?.total_tokens, JSON.parse(answerText).usage.total_tokens);
    assert.equal(streamed!.stream, true);
    assert.equal(streamed!.outcome, "complete");
    assert.equal(new TextDecoder().decode(streamed!.body), streamText);
    assert.equal(streamed!.bytes, new TextEncoder().encode(streamText).byteLength);
    assert.equal(streamed!.provider, "a");
    assert.equal(streamed!.model, "gpt-4o");

    const log = await gw.logText();
    assert.match(log, /"response middleware failed".*"gateway.middleware":"failing"/);
  }, { responseMiddleware: [audit, failing] });
});
