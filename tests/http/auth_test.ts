import assert from "node:assert/strict";
import { OpenAI } from "../support/openai.ts";
import { providerYaml } from "../support/gateway.ts";
import { chat, FAST_ROUTING, post, posts, readError, withGateway } from "./harness.ts";
import { sdkClient } from "../support/sdk.ts";

const ALICE = "gw-alice-key-0123456789";
const BOB = "gw-bob-key-0123456789ab";
const CAROL = "gw-carol-key-0123456789";

const yaml = ({ a, b }: { a: { url: string }; b: { url: string } }) =>
  FAST_ROUTING + `auth:
  enabled: true
  keys:
    - name: alice
      key: "${ALICE}"
      groups: [testgroup]
    - name: bob
      key: "${BOB}"
      groups: [basic]
    - name: carol
      key: "${CAROL}"
      groups: [testgroup]
      models: ["b/*", "smart"]
strategies:
  - name: chain
    providers: [a, b]
  - name: smart
    targets: ["a/gpt-4", "b/llama-3"]
providers:
${providerYaml("a", a.url, { max_retries: 0 })}
    models:
      - name: gpt-4
        allowed_groups: [testgroup, premium-users]
      - name: gpt-4o-mini
${providerYaml("b", b.url, { max_retries: 0 })}
    models:
      - name: secret-model
        allowed_groups: [premium-users]
`;

function client(url: string, apiKey: string): OpenAI {
  return sdkClient(url, apiKey);
}

Deno.test("with auth on, the SDK works with a valid key and gets a 401 AuthenticationError with a wrong one", async () => {
  await withGateway(yaml, async ({ gw, a }) => {
    const ok = await client(gw.url, ALICE).chat.completions.create({
      model: "a/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(ok.choices[0]!.message.content, "Hello from a");
    assert.equal(a.requests[0]!.headers.get("authorization"), "Bearer sk-a-secret");

    const err = await client(gw.url, "gw-wrong-key-000000000").chat.completions.create({
      model: "a/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    }).catch((e) => e);
    assert.ok(err instanceof OpenAI.AuthenticationError);
    assert.equal(err.status, 401);
    assert.equal(posts(a), 1, "a refused caller reaches no provider");
    assert.doesNotMatch(err.message, /gw-wrong-key/);
    const logs = await gw.logText();
    assert.doesNotMatch(logs, /gw-wrong-key|gw-alice-key/);
    assert.match(logs, /"user.name":"alice"/);
  });
});

Deno.test("missing credentials get 401; x-api-key works; /v1/info, probes and metrics stay open", async () => {
  await withGateway(yaml, async ({ gw }) => {
    const none = await post(gw, "/v1/chat/completions", chat("a/gpt-4o-mini"));
    assert.equal(none.status, 401);
    const err = await readError(none);
    assert.equal(err.code, "invalid_api_key");
    assert.match(err.message, /missing credentials/);
    const models = await fetch(gw.url + "/v1/models");
    assert.equal(models.status, 401);
    await models.body?.cancel();
    const viaHeader = await post(gw, "/v1/chat/completions", chat("a/gpt-4o-mini"), {
      headers: { "x-api-key": BOB },
    });
    assert.equal(viaHeader.status, 200);
    await viaHeader.body?.cancel();
    const info = await fetch(gw.url + "/v1/info");
    assert.equal(info.status, 200);
    assert.equal((await info.json()).status, "ok");
    for (const path of ["/health", "/ready", "/metrics"]) {
      const open = await fetch(gw.url + path);
      assert.equal(open.status, 200, `${path} needs no credentials`);
      await open.body?.cancel();
    }
    const model = await fetch(gw.url + "/v1/models/a/gpt-4o-mini");
    assert.equal(model.status, 401, "a model's details need credentials");
    await model.body?.cancel();
  });
});

Deno.test("a model outside the caller's groups is a 403 and absent from its model list", async () => {
  await withGateway(yaml, async ({ gw, a }) => {
    await gw.server.engine.catalog.refresh();
    const bob = client(gw.url, BOB);
    const err = await bob.chat.completions.create({
      model: "a/gpt-4",
      messages: [{ role: "user", content: "hi" }],
    }).catch((e) => e);
    assert.ok(err instanceof OpenAI.PermissionDeniedError);
    assert.equal(err.status, 403);
    assert.match(err.message, /"a\/gpt-4" is not available to caller "bob"/);
    assert.equal(posts(a), 0);
    const bobIds = (await bob.models.list()).data.map((m) => m.id);
    assert.ok(!bobIds.includes("a/gpt-4"));
    assert.ok(bobIds.includes("a/gpt-4o-mini"));
    assert.ok(!bobIds.includes("b/secret-model"));
    const direct = await fetch(gw.url + "/v1/models/a/gpt-4", {
      headers: { authorization: `Bearer ${BOB}` },
    });
    assert.equal(direct.status, 404);
    await direct.body?.cancel();

    const alice = client(gw.url, ALICE);
    const ok = await alice.chat.completions.create({
      model: "a/gpt-4",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(ok.choices[0]!.message.content, "Hello from a");
    assert.ok((await alice.models.list()).data.some((m) => m.id === "a/gpt-4"));
  });
});

Deno.test("a fallback never reaches a model the caller may not use", async () => {
  await withGateway(yaml, async ({ gw, a, b }) => {
    // a/secret-model is open, but its chain fallback b/secret-model is premium-users only:
    // when a fails, the chain has nowhere alice may go.
    a.enqueue({ type: "error", status: 503 });
    const res = await post(gw, "/v1/chat/completions", chat("a/secret-model"), {
      headers: { authorization: `Bearer ${ALICE}` },
    });
    assert.equal(res.status, 502);
    await res.body?.cancel();
    assert.equal(posts(b), 0, "the denied fallback target was never called");

    // A request-level fallback list is checked target by target too.
    a.enqueue({ type: "error", status: 503 });
    b.enqueue({ type: "error", status: 503 });
    const listed = await post(
      gw,
      "/v1/chat/completions",
      chat("a/gpt-4o-mini", { models: ["b/secret-model"] }),
      { headers: { authorization: `Bearer ${ALICE}` } },
    );
    assert.equal(listed.status, 502);
    await listed.body?.cancel();
    assert.equal(posts(b), 1, "only the chain's allowed b/gpt-4o-mini was tried");
    assert.equal((b.requests[0]!.body as { model: string }).model, "gpt-4o-mini");
  });
});

Deno.test("a key's model list narrows further, and a listed strategy grants its targets", async () => {
  await withGateway(yaml, async ({ gw, a, b }) => {
    await gw.server.engine.catalog.refresh();
    const carol = client(gw.url, CAROL);
    const denied = await carol.chat.completions.create({
      model: "a/gpt-4o-mini",
      messages: [{ role: "user", content: "hi" }],
    }).catch((e) => e);
    assert.ok(denied instanceof OpenAI.PermissionDeniedError);
    const viaStrategy = await carol.chat.completions.create({
      model: "smart",
      messages: [{ role: "user", content: "hi" }],
    });
    assert.equal(viaStrategy.choices[0]!.message.content, "Hello from a");
    const ids = (await carol.models.list()).data.map((m) => m.id).sort();
    assert.deepEqual(ids, ["b/llama-3", "smart"]);
    assert.equal(posts(a), 1);
    assert.equal(posts(b), 0);
  });
});
