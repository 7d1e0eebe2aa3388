// The gateway on a real SQLite file: usage records as written, and keys, usage and spend that
// survive a restart (the server stopped, a new one started on the same file).
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { providerYaml, startGateway, type TestGateway } from "../support/gateway.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";
import { authYaml, chatWith, CONFIG_KEY, createKey, usageRows } from "../support/admin_api.ts";

/** $2 input, $10 output per million tokens: 1,000 + 200 tokens cost $0.004. */
function yaml(dir: string, a: MockUpstream): string {
  return `${authYaml()}
storage:
  path: "${dir}/gateway.db"
providers:
${providerYaml("a", a.url, { max_retries: 0 })}
    models:
      - name: gpt-4o
        price: {input: 2, output: 10}
`;
}

/** A gateway whose usage writer would wait a minute: only shutdown writes its records. */
function start(dir: string, a: MockUpstream): Promise<TestGateway> {
  return startGateway(yaml(dir, a), {
    openStorage: true,
    storeService: { writer: { flushIntervalMs: 60_000 } },
  });
}

function metric(scrape: string, name: string): number | undefined {
  const line = scrape.split("\n").find((l) => l.startsWith(`${name} `));
  return line === undefined ? undefined : Number(line.slice(name.length + 1));
}

Deno.test("sqlite store: keys, usage and spend survive a gateway restart", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gateway-sqlite-" });
  const a = await startMockUpstream({ name: "a", models: ["gpt-4o"] });
  a.setDefault((req) =>
    (req.body as { stream?: boolean }).stream === true
      ? { type: "stream", usage: { prompt: 1000, completion: 200 } }
      : { type: "ok", usage: { prompt: 1000, completion: 200 } }
  );
  let gw: TestGateway | undefined;
  try {
    gw = await start(dir, a);
    const { id, key } = await createKey(gw, {
      name: "alice",
      groups: ["research"],
      budget: { usd: 5, period: "30d" },
    });
    const whole = await chatWith(gw, key, "a/gpt-4o");
    assert.equal(whole.status, 200);
    assert.equal(whole.headers.get("x-gateway-cost-usd"), "0.004");
    await whole.body?.cancel();
    const stream = await chatWith(gw, key, "a/gpt-4o", {
      stream: true,
      stream_options: { include_usage: true },
    });
    await stream.text();
    a.enqueue({ type: "error", status: 500 });
    const failed = await chatWith(gw, CONFIG_KEY, "a/gpt-4o");
    assert.equal(failed.status, 502);
    await failed.body?.cancel();
    const refused = await chatWith(gw, "not-a-key-0123456789", "a/gpt-4o");
    assert.equal(refused.status, 401, "an unauthenticated request is not accounted");
    await refused.body?.cancel();

    const before = await (await fetch(gw.url + "/metrics")).text();
    assert.equal(metric(before, "llm_gateway_usage_records_pending"), 3);
    assert.equal(metric(before, "llm_gateway_usage_records_written_total"), 0);
    assert.equal(metric(before, "llm_gateway_usage_records_dropped_total"), 0);
    await gw.close();
    gw = undefined;

    // The records as stored: what was asked, what served it, tokens, cost, timings.
    const db = new DatabaseSync(`${dir}/gateway.db`, { readOnly: true });
    const rows = db.prepare("SELECT * FROM usage ORDER BY id").all();
    db.close();
    assert.equal(rows.length, 3);
    const [first, second, third] = rows as Record<string, unknown>[];
    assert.equal(first!.request_id, whole.headers.get("x-request-id"));
    assert.deepEqual(
      {
        key_id: first!.key_id,
        key_name: first!.key_name,
        user_name: first!.user_name,
        group_names: first!.group_names,
        endpoint: first!.endpoint,
        requested_model: first!.requested_model,
        provider: first!.provider,
        model: first!.model,
        status: first!.status,
        attempts: first!.attempts,
        input_tokens: first!.input_tokens,
        output_tokens: first!.output_tokens,
        cached_tokens: first!.cached_tokens,
        cost_usd: first!.cost_usd,
        stream: first!.stream,
      },
      {
        key_id: id,
        key_name: "alice",
        user_name: null,
        group_names: '["research"]',
        endpoint: "/v1/chat/completions",
        requested_model: "a/gpt-4o",
        provider: "a",
        model: "gpt-4o",
        status: 200,
        attempts: 1,
        input_tokens: 1000,
        output_tokens: 200,
        cached_tokens: 0,
        cost_usd: 0.004,
        stream: 0,
      },
    );
    assert.ok(Number(first!.latency_ms) > 0);
    assert.ok(Number(first!.ttfb_ms) > 0);
    assert.ok(Math.abs(Number(first!.time) - Date.now()) < 60_000);
    assert.equal(second!.stream, 1);
    assert.equal(second!.cost_usd, 0.004, "a stream is counted from its usage at its end");
    assert.ok(Number(second!.latency_ms) >= Number(second!.ttfb_ms));
    assert.deepEqual(
      [third!.key_id, third!.key_name, third!.status, third!.attempts, third!.cost_usd],
      [null, "app", 502, 1, null],
    );

    // A new gateway on the same file: the key, the usage and the spend are there.
    gw = await start(dir, a);
    const again = await chatWith(gw, key, "a/gpt-4o");
    assert.equal(again.status, 200, "the key works after the restart");
    await again.body?.cancel();
    assert.deepEqual(
      (await usageRows(gw, "key")).map((r) => [r.key, r.requests, r.cost_usd]),
      [["alice", 2, 0.008], ["app", 1, 0]],
    );
    const groups = await usageRows(gw, "group");
    assert.deepEqual(groups.map((r) => [r.group, r.requests, r.input_tokens, r.output_tokens]), [
      ["research", 2, 2000, 400],
    ]);
    await gw.close();
    gw = undefined;

    const store = openSqliteStore(`${dir}/gateway.db`);
    try {
      const spend = await store.spend({ scope: "key", id, since: 0 });
      assert.ok(Math.abs(spend - 0.012) < 1e-12, `spend ${spend}`);
      assert.equal((await store.listKeys())[0]!.budget?.usd, 5);
    } finally {
      await store.close();
    }
  } finally {
    await gw?.close();
    await a.close();
    await Deno.remove(dir, { recursive: true });
  }
});
