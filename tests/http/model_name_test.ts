import assert from "node:assert/strict";
import { providerYaml } from "../support/gateway.ts";
import { chat, content, post, posts, readError, withGateway } from "./harness.ts";

// `az` is an Azure resource (deployment in the URL path) played by mock b; `smart` routes to a
// deployment the gateway must refuse to put in a path.
const yaml = ({ a, b }: { a: { url: string }; b: { url: string } }) =>
  `strategies:
  - name: smart
    targets: ["az/.."]
providers:
${providerYaml("a", a.url)}
  - name: az
    type: azure
    target_url: "${b.url}"
    api_key: "az-secret-key"
`;

/** Each case: what, the request's model fields, the param at fault, a fragment of the message. */
const CASES: [string, Record<string, unknown>, string, RegExp][] = [
  ["a header injection", { model: "a/gpt\r\nX-Evil: 1" }, "model", /U\+000D/],
  ["a line separator", { model: "az/\u2028x" }, "model", /U\+2028/],
  ["a paragraph separator", { model: "a/x\u2029" }, "model", /U\+2029/],
  ["a lone surrogate", { model: "a/\ud800" }, "model", /lone surrogate/],
  ["a NUL", { model: "a/gpt\u0000" }, "model", /U\+0000/],
  ["a DEL", { model: "a/gpt\u007f" }, "model", /U\+007F/],
  ["a C1 control", { model: "a/gpt\u0085" }, "model", /U\+0085/],
  ["a tab", { model: "a/gpt\t4" }, "model", /U\+0009/],
  ["an over-long name", { model: "a/" + "x".repeat(300) }, "model", /limit is 256/],
  ["a `..` deployment", { model: "az/.." }, "model", /"\.\." segment/],
  ["a `.` deployment", { model: "az/." }, "model", /segment/],
  ["a `..` segment inside", { model: "az/x/../y" }, "model", /segment/],
  ["a bad fallback", { model: "a/gpt-4o", models: ["a/ok", "a/x\n"] }, "models.1", /U\+000A/],
  ["a bad first fallback", { models: ["az/.."] }, "models.0", /segment/],
];

Deno.test("model names that cannot travel in a header or a URL path get 400 before anything is sent", async () => {
  await withGateway(yaml, async ({ gw, a, b }) => {
    for (const [what, fields, param, message] of CASES) {
      const body = { ...chat("unused"), model: undefined, ...fields };
      const res = await post(gw, "/v1/chat/completions", body);
      assert.equal(res.status, 400, what);
      const err = await readError(res);
      assert.equal(err.code, "invalid_request", what);
      assert.equal(err.param, param, what);
      assert.match(err.message, message, what);
    }
    assert.equal(posts(a) + posts(b), 0, "no upstream received a request");
    const ok = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"));
    assert.equal(await content(ok), "Hello from a");
  });
});

Deno.test("a strategy target that is a `..` Azure deployment is refused without calling Azure", async () => {
  await withGateway(yaml, async ({ gw, b }) => {
    const res = await post(gw, "/v1/chat/completions", chat("smart"));
    assert.equal(res.status, 400);
    assert.match((await readError(res)).message, /"\.\." cannot name a deployment/);
    assert.equal(b.requests.length, 0);
  });
});

Deno.test("a Unicode model name is served, its x-gateway-model header percent-encoded", async () => {
  await withGateway(yaml, async ({ gw, a }) => {
    const res = await post(gw, "/v1/chat/completions", chat("a/模型-v2 (beta)"));
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway-model"), encodeURI("模型-v2 (beta)"));
    assert.equal(await content(res), "Hello from a");
    assert.equal((a.requests.at(-1)?.body as { model: string }).model, "模型-v2 (beta)");
  });
});
