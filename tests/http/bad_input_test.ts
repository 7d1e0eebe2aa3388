import assert from "node:assert/strict";
import { providerYaml } from "../support/gateway.ts";
import { chat, content, post, posts, readError, withGateway } from "./harness.ts";

const yaml = ({ a, b }: { a: { url: string }; b: { url: string } }) =>
  `server:
  max_body_size: "1KB"
strategies:
  - name: smart
    targets: ["a/gpt-4o"]
providers:
${providerYaml("a", a.url)}
${providerYaml("b", b.url, { enabled: "false" }).replace('enabled: "false"', "enabled: false")}
`;

/** Each case: body, expected status, expected code, a fragment of the message, the param. */
const CASES: [string, string | unknown, number, string, RegExp, string | null][] = [
  ["malformed JSON", "{not json", 400, "invalid_json", /not valid JSON/, null],
  ["an empty body", "", 400, "invalid_json", /empty/, null],
  ["a JSON array", "[1,2]", 400, "invalid_json", /JSON object/, null],
  [
    "a missing model",
    { messages: [{ role: "user", content: "x" }] },
    400,
    "invalid_request",
    /model/,
    "model",
  ],
  ["a numeric model", chat("x", { model: 42 }), 400, "invalid_request", /model/, "model"],
  [
    "messages that are not a list",
    { model: "a/gpt-4o", messages: "hi" },
    400,
    "invalid_request",
    /messages/,
    "messages",
  ],
  [
    "a non-boolean stream",
    chat("a/gpt-4o", { stream: "yes" }),
    400,
    "invalid_request",
    /stream/,
    "stream",
  ],
  [
    "a bare model",
    chat("gpt-4o"),
    404,
    "model_not_found",
    /"provider\/model".*providers: a.*smart/,
    "model",
  ],
  [
    "an unknown provider",
    chat("nope/gpt-4o"),
    404,
    "model_not_found",
    /provider "nope" is not configured/,
    "model",
  ],
  [
    "a disabled provider",
    chat("b/llama-3"),
    404,
    "model_not_found",
    /provider "b" is disabled/,
    "model",
  ],
  [
    "an oversized body",
    chat("a/gpt-4o", { pad: "x".repeat(4096) }),
    413,
    "body_too_large",
    /max_body_size/,
    null,
  ],
];

Deno.test("bad requests get the OpenAI error shape with the right status, and serving goes on", async () => {
  await withGateway(yaml, async ({ gw, a }) => {
    for (const [what, body, status, code, message, param] of CASES) {
      const res = await post(gw, "/v1/chat/completions", body);
      assert.equal(res.status, status, what);
      const err = await readError(res);
      assert.equal(err.code, code, what);
      assert.match(err.message, message, what);
      assert.equal(err.param, param, what);
      assert.equal(err.type, "invalid_request_error", what);
    }
    assert.equal(posts(a), 0, "no bad request reached a provider");
    const ok = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"));
    assert.equal(await content(ok), "Hello from a");
  });
});

Deno.test("an oversized body without Content-Length is cut off at the limit with 413", async () => {
  await withGateway(yaml, async ({ gw, a }) => {
    const big = new TextEncoder().encode(
      JSON.stringify(chat("a/gpt-4o", { pad: "y".repeat(8192) })),
    );
    const body = new ReadableStream<Uint8Array>({
      start(controller) {
        for (let i = 0; i < big.length; i += 512) controller.enqueue(big.slice(i, i + 512));
        controller.close();
      },
    });
    const res = await fetch(gw.url + "/v1/chat/completions", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body,
    });
    assert.equal(res.status, 413);
    assert.equal((await readError(res)).code, "body_too_large");
    assert.equal(posts(a), 0);
  });
});

Deno.test("embeddings without input and streamed embeddings are refused", async () => {
  await withGateway(yaml, async ({ gw }) => {
    const missing = await post(gw, "/v1/embeddings", { model: "a/text-embedding-3-small" });
    assert.equal(missing.status, 400);
    assert.equal((await readError(missing)).param, "input");
    const streamed = await post(gw, "/v1/embeddings", { model: "a/e", input: "x", stream: true });
    assert.equal(streamed.status, 400);
    assert.equal((await readError(streamed)).param, "stream");
  });
});

Deno.test("an unknown path is a JSON 404 and a wrong method a JSON 405 with Allow", async () => {
  await withGateway(yaml, async ({ gw }) => {
    const missing = await fetch(gw.url + "/v1/nothing");
    assert.equal(missing.status, 404);
    assert.equal((await readError(missing)).code, "not_found");
    const wrong = await fetch(gw.url + "/v1/chat/completions");
    assert.equal(wrong.status, 405);
    assert.equal(wrong.headers.get("allow"), "POST");
    assert.equal((await readError(wrong)).code, "method_not_allowed");
    const put = await fetch(gw.url + "/v1/models", { method: "PUT" });
    assert.equal(put.status, 405);
    await put.body?.cancel();
  });
});

Deno.test("requests echo a sane x-request-id and get one otherwise", async () => {
  await withGateway(yaml, async ({ gw }) => {
    const given = await fetch(gw.url + "/v1/info", { headers: { "x-request-id": "abc-123" } });
    assert.equal(given.headers.get("x-request-id"), "abc-123");
    await given.body?.cancel();
    const fresh = await fetch(gw.url + "/v1/info", { headers: { "x-request-id": "bad id\u00e9" } });
    assert.match(fresh.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    await fresh.body?.cancel();
  });
});
