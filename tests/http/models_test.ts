import assert from "node:assert/strict";
import { providerYaml } from "../support/gateway.ts";
import { readError, withGateway } from "./harness.ts";

const yaml = ({ a, b }: { a: { url: string }; b: { url: string } }) =>
  `models:
  fetch_timeout: "300ms"
strategies:
  - name: smart
    targets: ["a/gpt-4o", "b/llama-3"]
providers:
${providerYaml("a", a.url)}
    models:
      - name: "static-model"
${providerYaml("b", b.url)}
`;

async function ids(url: string): Promise<string[]> {
  const res = await fetch(url + "/v1/models");
  assert.equal(res.status, 200);
  const json = await res.json();
  assert.equal(json.object, "list");
  return json.data.map((m: { id: string }) => m.id).sort();
}

Deno.test("the model list merges prefixed upstream models, static models and strategies", async () => {
  await withGateway(yaml, async ({ gw }) => {
    assert.deepEqual(await ids(gw.url), ["a/static-model", "smart"], "before any refresh");
    await gw.server.engine.catalog.refresh();
    assert.deepEqual(await ids(gw.url), [
      "a/gpt-4o",
      "a/gpt-4o-mini",
      "a/static-model",
      "b/llama-3",
      "smart",
    ]);
    const one = await fetch(gw.url + "/v1/models/a/gpt-4o");
    const model = await one.json();
    assert.equal(model.id, "a/gpt-4o");
    assert.equal(model.object, "model");
    assert.equal(model.owned_by, "a");
    assert.equal(typeof model.created, "number");
    const missing = await fetch(gw.url + "/v1/models/a/none");
    assert.equal(missing.status, 404);
    assert.equal((await readError(missing)).code, "model_not_found");
  });
});

Deno.test("a provider whose model list fails keeps its last good list", async () => {
  await withGateway(yaml, async ({ gw, a, b }) => {
    await gw.server.engine.catalog.refresh();
    a.modelsScenario = { type: "error", status: 500 };
    b.models.push("llama-3-70b");
    await gw.server.engine.catalog.refresh();
    const list = await ids(gw.url);
    assert.ok(list.includes("a/gpt-4o"), "a's last good list is kept");
    assert.ok(list.includes("b/llama-3-70b"), "b's new model appears");
    const info = await (await fetch(gw.url + "/v1/info")).json();
    const health = info.providers.find((p: { name: string }) => p.name === "a");
    assert.match(health.models_error, /500/);
  });
});

Deno.test("the model list answers from memory while an upstream listing hangs", async () => {
  await withGateway(yaml, async ({ gw, a }) => {
    await gw.server.engine.catalog.refresh();
    a.modelsScenario = { type: "hang" };
    const refreshing = gw.server.engine.catalog.refresh();
    assert.ok((await ids(gw.url)).includes("a/gpt-4o"), "served while the refresh is pending");
    await refreshing;
    const info = await (await fetch(gw.url + "/v1/info")).json();
    const health = info.providers.find((p: { name: string }) => p.name === "a");
    assert.match(health.models_error, /timed out/);
  });
});

Deno.test("the gateway refreshes model lists in the background at start-up", async () => {
  await withGateway(yaml, async ({ gw }) => {
    for (let i = 0; i < 200; i++) {
      if ((await ids(gw.url)).includes("b/llama-3")) return;
      await new Promise((r) => setTimeout(r, 10));
    }
    assert.fail("the start-up refresh never filled the list");
  }, { refreshModels: true });
});

Deno.test("/v1/info answers status, version and provider health", async () => {
  await withGateway(yaml, async ({ gw }) => {
    const res = await fetch(gw.url + "/v1/info");
    const info = await res.json();
    assert.equal(info.status, "ok");
    assert.equal(info.version, "test");
    assert.deepEqual(
      info.providers.map((p: { name: string; circuit: string }) => [p.name, p.circuit]),
      [
        ["a", "closed"],
        ["b", "closed"],
      ],
    );
  });
});
