import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.ts";
import type { MockUpstream } from "../support/mock_upstream.ts";
import { providerYaml } from "../support/gateway.ts";
import { chat, post, readError, withGateway } from "./harness.ts";

const yaml = ({ a, b }: { a: { url: string }; b: { url: string } }) =>
  `models:
  fetch_timeout: "300ms"
strategies:
  - name: smart
    targets: ["a/gpt-4o", "b/llama-3"]
aliases:
  "claude-*": "b/*"
  "gpt-5": smart
  fast: "a/gpt-4o-mini"
providers:
${providerYaml("a", a.url)}
${providerYaml("b", b.url)}
`;

const ANTHROPIC = { "anthropic-version": "2023-06-01" };

function modelsAsked(m: MockUpstream): unknown[] {
  return m.requests.filter((r) => r.method === "POST").map((r) =>
    (r.body as { model: string }).model
  );
}

Deno.test("the OpenAI model list shows exact aliases, owned by alias, and no wildcard", async () => {
  await withGateway(yaml, async ({ gw }) => {
    await gw.server.engine.catalog.refresh();
    const res = await fetch(gw.url + "/v1/models");
    const json = await res.json();
    assert.equal(json.object, "list");
    const byId = new Map(json.data.map((m: { id: string }) => [m.id, m]));
    assert.deepEqual([...byId.keys()].sort(), [
      "a/gpt-4o",
      "a/gpt-4o-mini",
      "b/llama-3",
      "fast",
      "gpt-5",
      "smart",
    ]);
    const fast = byId.get("fast") as Record<string, unknown>;
    const target = byId.get("a/gpt-4o-mini") as Record<string, unknown>;
    assert.deepEqual(fast, {
      id: "fast",
      object: "model",
      created: target.created,
      owned_by: "alias",
    });
    assert.equal((byId.get("gpt-5") as Record<string, unknown>).owned_by, "alias");
  });
});

Deno.test("a request naming an alias reaches the target's provider with the target's model", async () => {
  await withGateway(yaml, async ({ gw, a, b }) => {
    const haiku = await post(gw, "/v1/chat/completions", chat("claude-haiku-4-5-20251001"));
    assert.equal(haiku.status, 200);
    assert.equal(haiku.headers.get("x-gateway-provider"), "b");
    assert.equal(haiku.headers.get("x-gateway-model"), "claude-haiku-4-5-20251001");
    await haiku.body?.cancel();
    const fast = await post(gw, "/v1/chat/completions", chat("fast"));
    assert.equal(fast.headers.get("x-gateway-model"), "gpt-4o-mini");
    await fast.body?.cancel();
    assert.deepEqual(modelsAsked(b), ["claude-haiku-4-5-20251001"]);
    assert.deepEqual(modelsAsked(a), ["gpt-4o-mini"]);

    // A request's fallback list may name aliases too.
    a.enqueue({ type: "error", status: 404 });
    const fallback = await post(
      gw,
      "/v1/chat/completions",
      chat("a/gpt-4o", { models: ["claude-opus-4-5"] }),
    );
    assert.equal(fallback.status, 200);
    assert.equal(fallback.headers.get("x-gateway-provider"), "b");
    assert.equal(fallback.headers.get("x-gateway-model"), "claude-opus-4-5");
    await fallback.body?.cancel();
  });
});

Deno.test("a reload picks up changed aliases", async () => {
  await withGateway(yaml, async ({ gw, a, b }) => {
    const changed = yaml({ a, b }).replace('fast: "a/gpt-4o-mini"', 'quick: "b/llama-3"');
    await gw.server.reload(await parseConfig(changed, { filename: "test.yaml", env: {} }));
    const quick = await post(gw, "/v1/chat/completions", chat("quick"));
    assert.equal(quick.headers.get("x-gateway-provider"), "b");
    await quick.body?.cancel();
    const fast = await post(gw, "/v1/chat/completions", chat("fast"));
    assert.equal(fast.status, 404);
    assert.match((await readError(fast)).message, /no strategy or alias matches it/);
    const ids = (await (await fetch(gw.url + "/v1/models")).json()).data.map((m: { id: string }) =>
      m.id
    );
    assert.ok(ids.includes("quick") && !ids.includes("fast"));
  });
});

Deno.test("an Anthropic client's bare model name goes through an alias on /v1/messages", async () => {
  await withGateway(yaml, async ({ gw, b }) => {
    const res = await post(gw, "/v1/messages", {
      model: "claude-haiku-4-5-20251001",
      max_tokens: 64,
      messages: [{ role: "user", content: "hi" }],
    }, { headers: ANTHROPIC });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway-provider"), "b");
    const message = await res.json();
    assert.equal(message.type, "message");
    assert.deepEqual(modelsAsked(b), ["claude-haiku-4-5-20251001"]);
  });
});
