import assert from "node:assert/strict";
import { providerYaml } from "../support/gateway.ts";
import { post, posts, readError, withGateway } from "./harness.ts";

// claude (Anthropic: chat only) falls back to a (OpenAI: everything); claude2 has no fallback;
// gem (Gemini: chat and embeddings) neither.
const yaml = ({ a, b, c }: { a: { url: string }; b: { url: string }; c: { url: string } }) =>
  `strategies:
  - name: main
    providers: [claude, a]
providers:
${providerYaml("a", a.url)}
${providerYaml("claude", b.url, { type: "anthropic" })}
${providerYaml("claude2", b.url, { type: "anthropic" })}
${providerYaml("gem", c.url, { type: "gemini" })}
`;

/** Each case: path, body, a fragment of the message. */
const REFUSED: [string, Record<string, unknown>, RegExp][] = [
  [
    "/v1/embeddings",
    { model: "claude2/claude-sonnet-4", input: "hi" },
    /^provider "claude2" \(anthropic\) does not serve \/v1\/embeddings$/,
  ],
  [
    "/v1/completions",
    { model: "gem/gemini-2.5-flash", prompt: "hi" },
    /^provider "gem" \(gemini\) does not serve \/v1\/completions$/,
  ],
  [
    "/v1/completions",
    { models: ["claude2/claude-sonnet-4", "gem/gemini-2.5-flash"], prompt: "hi" },
    /claude2" \(anthropic\) does not serve \/v1\/completions; provider "gem" \(gemini\)/,
  ],
];

Deno.test("an endpoint no target's provider serves gets 400 with the adapter's reason, not 502", async () => {
  await withGateway(yaml, async ({ gw, a, b, c }) => {
    for (const [path, body, message] of REFUSED) {
      const res = await post(gw, path, body);
      assert.equal(res.status, 400, path);
      const err = await readError(res);
      assert.equal(err.code, "invalid_request");
      assert.equal(err.type, "invalid_request_error");
      assert.equal(err.param, "model");
      assert.match(err.message, message);
    }
    assert.equal(posts(a) + posts(b) + posts(c), 0, "no upstream was called");
  });
});

Deno.test("targets that do not serve the endpoint are skipped, not tried", async () => {
  await withGateway(yaml, async ({ gw, a, b, c }) => {
    const embedded = await post(gw, "/v1/embeddings", {
      model: "claude/text-embedding",
      input: "hi",
    });
    assert.equal(embedded.status, 200);
    assert.equal(embedded.headers.get("x-gateway-provider"), "a");
    assert.equal(embedded.headers.get("x-gateway-attempts"), "1");
    await embedded.body?.cancel();
    const completed = await post(gw, "/v1/completions", {
      models: ["gem/gemini-2.5-flash", "a/gpt-4o"],
      prompt: "hi",
    });
    assert.equal(completed.status, 200);
    assert.equal(completed.headers.get("x-gateway-provider"), "a");
    assert.equal(completed.headers.get("x-gateway-attempts"), "1");
    await completed.body?.cancel();
    assert.equal(posts(a), 2);
    assert.equal(posts(b) + posts(c), 0);
  });
});
