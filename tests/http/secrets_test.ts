import assert from "node:assert/strict";
import { providerYaml } from "../support/gateway.ts";
import { chat, post, withGateway } from "./harness.ts";

const KEY = "gw-alice-key-0123456789";

const yaml = ({ a, b }: { a: { url: string }; b: { url: string } }) =>
  `auth:
  enabled: true
  keys:
    - name: alice
      key: "${KEY}"
providers:
${providerYaml("a", a.url, { max_retries: 0 })}
${providerYaml("b", b.url)}
`;

Deno.test("an upstream refusal that quotes provider keys reaches the client with the keys redacted", async () => {
  await withGateway(yaml, async ({ gw, a }) => {
    a.enqueue({
      type: "error",
      status: 400,
      rawBody: JSON.stringify({
        error: {
          message: "bad request; you sent Authorization: Bearer sk-a-secret (also saw sk-b-secret)",
          type: "invalid_request_error",
        },
      }),
    });
    const res = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"), {
      headers: { authorization: `Bearer ${KEY}` },
    });
    assert.equal(res.status, 400);
    const text = await res.text();
    assert.ok(!text.includes("sk-a-secret") && !text.includes("sk-b-secret"), text);
    assert.equal(
      JSON.parse(text).error.message,
      "bad request; you sent Authorization: Bearer [redacted] (also saw [redacted])",
    );
  });
});

Deno.test("/v1/info shows provider error texts only to authenticated or local callers", async () => {
  await withGateway(yaml, async ({ gw, a }) => {
    a.modelsScenario = { type: "error", status: 500 };
    await gw.server.engine.catalog.refresh();
    const modelsError = async (headers: Record<string, string>) => {
      const res = await fetch(gw.url + "/v1/info", { headers });
      assert.equal(res.status, 200);
      const info = await res.json();
      const health = info.providers.find((p: { name: string }) => p.name === "a");
      assert.equal(health.circuit, "closed", "the state is shown to everyone");
      return health.models_error as string;
    };
    const relayed = { "x-forwarded-for": "203.0.113.7" };
    assert.match(await modelsError({}), /HTTP 500/, "a caller on the gateway's host");
    assert.match(
      await modelsError({ ...relayed, authorization: `Bearer ${KEY}` }),
      /HTTP 500/,
      "an authenticated caller",
    );
    for (const headers of [relayed, { ...relayed, authorization: "Bearer wrong-key-123" }]) {
      const text = await modelsError(headers);
      assert.doesNotMatch(text, /500/);
      assert.match(text, /refresh failed/);
    }
  });
});
