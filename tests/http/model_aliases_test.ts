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
const RFC_3339 = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

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

Deno.test("the model list takes Anthropic's shape when the request carries anthropic-version", async () => {
  await withGateway(yaml, async ({ gw }) => {
    await gw.server.engine.catalog.refresh();
    const res = await fetch(gw.url + "/v1/models", { headers: ANTHROPIC });
    assert.equal(res.status, 200);
    const page = await res.json();
    assert.deepEqual(Object.keys(page).sort(), ["data", "first_id", "has_more", "last_id"]);
    assert.equal(page.has_more, false);
    assert.equal(page.data.length, 6);
    assert.equal(page.first_id, page.data[0].id);
    assert.equal(page.last_id, page.data.at(-1).id);
    for (const model of page.data) {
      assert.deepEqual(Object.keys(model).sort(), ["created_at", "display_name", "id", "type"]);
      assert.equal(model.type, "model");
      assert.equal(model.display_name, model.id);
      assert.match(model.created_at, RFC_3339);
    }
    const ids = page.data.map((m: { id: string }) => m.id);
    assert.ok(ids.includes("gpt-5") && ids.includes("fast"));

    // Pages, for clients that ask for them.
    const first = await (await fetch(gw.url + "/v1/models?limit=4", { headers: ANTHROPIC })).json();
    assert.deepEqual(first.data.map((m: { id: string }) => m.id), ids.slice(0, 4));
    assert.equal(first.has_more, true);
    const rest = await (await fetch(
      gw.url + `/v1/models?limit=4&after_id=${encodeURIComponent(first.last_id)}`,
      { headers: ANTHROPIC },
    )).json();
    assert.deepEqual(rest.data.map((m: { id: string }) => m.id), ids.slice(4));
    assert.equal(rest.has_more, false);
    const back = await (await fetch(
      gw.url + `/v1/models?limit=2&before_id=${encodeURIComponent(rest.first_id)}`,
      { headers: ANTHROPIC },
    )).json();
    assert.deepEqual(back.data.map((m: { id: string }) => m.id), ids.slice(2, 4));
    assert.equal(back.has_more, true);

    const bad = await fetch(gw.url + "/v1/models?limit=0", { headers: ANTHROPIC });
    assert.equal(bad.status, 400);
    assert.deepEqual(await bad.json(), {
      type: "error",
      error: {
        type: "invalid_request_error",
        message: 'limit: expected an integer from 1 to 1000, got "0"',
      },
    });
  });
});

Deno.test("one model answers in either shape, a name a wildcard alias matches included", async () => {
  await withGateway(yaml, async ({ gw }) => {
    await gw.server.engine.catalog.refresh();
    const openai = await (await fetch(gw.url + "/v1/models/a/gpt-4o")).json();
    assert.equal(openai.object, "model");
    const anthropic = await (await fetch(gw.url + "/v1/models/a/gpt-4o", { headers: ANTHROPIC }))
      .json();
    assert.deepEqual(anthropic, {
      type: "model",
      id: "a/gpt-4o",
      display_name: "a/gpt-4o",
      created_at: new Date(openai.created * 1000).toISOString().replace(".000Z", "Z"),
    });

    const wildcard = await fetch(gw.url + "/v1/models/claude-haiku-4-5", { headers: ANTHROPIC });
    assert.equal(wildcard.status, 200);
    const haiku = await wildcard.json();
    assert.equal(haiku.id, "claude-haiku-4-5");
    assert.equal(haiku.type, "model");
    assert.equal((await (await fetch(gw.url + "/v1/models/fast")).json()).owned_by, "alias");

    const missing = await fetch(gw.url + "/v1/models/a/none", { headers: ANTHROPIC });
    assert.equal(missing.status, 404);
    assert.deepEqual(await missing.json(), {
      type: "error",
      error: { type: "not_found_error", message: 'model "a/none" is not in the model list' },
    });
    const missingOpenAI = await fetch(gw.url + "/v1/models/nothing-here");
    assert.equal(missingOpenAI.status, 404);
    assert.equal((await readError(missingOpenAI)).code, "model_not_found");
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
