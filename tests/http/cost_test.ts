import assert from "node:assert/strict";
import { providerYaml, type TestGateway } from "../support/gateway.ts";
import { chat, FAST_ROUTING, post, withGateway } from "./harness.ts";

const yaml = ({ a, b }: { a: { url: string }; b: { url: string } }) =>
  FAST_ROUTING + `providers:
${providerYaml("a", a.url)}
    models:
      - gpt-4o-mini
      - name: gpt-4o
        price: {input: 2, output: 10, cached_input: 0.5}
${providerYaml("b", b.url)}
`;

/** The access-log line of a request, once the gateway has written it (streams: at their end). */
async function logLine(gw: TestGateway, requestId: string): Promise<Record<string, unknown>> {
  for (let i = 0; i < 200; i++) {
    const line = (await gw.logText()).trim().split("\n").map((l) => JSON.parse(l))
      .find((e) => e.message === "request" && e["trace.id"] === requestId);
    if (line !== undefined) return line;
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  throw new Error(`no access-log line for ${requestId}`);
}

function metric(scrape: string, line: RegExp): number {
  const found = scrape.split("\n").find((l) => line.test(l));
  assert.ok(found, `no metric line matching ${line}`);
  return Number(found.slice(found.lastIndexOf(" ") + 1));
}

Deno.test("cost: header, access log and metric for a buffered answer and a stream", async () => {
  await withGateway(yaml, async ({ gw, a }) => {
    await gw.server.engine.catalog.refresh();
    // 400 fresh prompt tokens x $2 + 600 cached x $0.5 + 200 completion x $10, per million.
    a.enqueue({ type: "ok", usage: { prompt: 1000, completion: 200, cached: 600 } });
    const whole = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"));
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get("x-gateway-cost-usd"), "0.0031");
    await whole.body?.cancel();

    // 2,000 x $2 + 500 x $10 per million, known only once the stream has ended.
    a.enqueue({ type: "stream", usage: { prompt: 2000, completion: 500 } });
    const stream = await post(
      gw,
      "/v1/chat/completions",
      chat("a/gpt-4o", { stream: true, stream_options: { include_usage: true } }),
    );
    assert.equal(stream.headers.get("x-gateway-cost-usd"), null, "no cost header on a stream");
    await stream.text();

    const wholeLine = await logLine(gw, whole.headers.get("x-request-id")!);
    assert.equal(wholeLine["gateway.cost_usd"], 0.0031);
    assert.equal(wholeLine["gateway.usage.cached_tokens"], 600);
    const streamLine = await logLine(gw, stream.headers.get("x-request-id")!);
    assert.equal(streamLine["gateway.cost_usd"], 0.009);

    const scrape = await (await fetch(gw.url + "/metrics")).text();
    assert.match(scrape, /# TYPE llm_gateway_cost_usd_total counter/);
    const total = metric(scrape, /^llm_gateway_cost_usd_total\{provider="a",model="gpt-4o"\} /);
    assert.ok(Math.abs(total - 0.0121) < 1e-12, `cost total ${total}`);
  });
});

Deno.test("cost: a model priced by the built-in table, a dated id included", async () => {
  await withGateway(yaml, async ({ gw, a }) => {
    // gpt-4o-mini: $0.15 input, $0.60 output per million.
    a.enqueue(
      { type: "ok", usage: { prompt: 10_000, completion: 1000 } },
      { type: "ok", usage: { prompt: 10_000, completion: 1000 } },
    );
    for (const model of ["a/gpt-4o-mini", "a/gpt-4o-mini-2024-07-18"]) {
      const res = await post(gw, "/v1/chat/completions", chat(model));
      assert.equal(res.headers.get("x-gateway-cost-usd"), "0.0021", model);
      await res.body?.cancel();
    }
  });
});

Deno.test("cost: a model without a price has no cost, and one warning", async () => {
  await withGateway(yaml, async ({ gw }) => {
    const ids: string[] = [];
    for (let i = 0; i < 2; i++) {
      const res = await post(gw, "/v1/chat/completions", chat("b/cost-test-unpriced-model"));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-gateway-cost-usd"), null);
      ids.push(res.headers.get("x-request-id")!);
      await res.body?.cancel();
    }
    const line = await logLine(gw, ids[1]!);
    assert.ok(typeof line["gateway.usage.total_tokens"] === "number", "usage is still logged");
    assert.equal("gateway.cost_usd" in line, false);
    const events = (await gw.logText()).trim().split("\n").map((l) => JSON.parse(l));
    const warnings = events.filter((e) =>
      e["log.level"] === "warn" && e["gateway.model"] === "cost-test-unpriced-model"
    );
    assert.equal(warnings.length, 1);
    assert.equal(warnings[0]["gateway.provider"], "b");
    const scrape = await (await fetch(gw.url + "/metrics")).text();
    assert.doesNotMatch(scrape, /llm_gateway_cost_usd_total\{provider="b"/);
  });
});
