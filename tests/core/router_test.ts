import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.ts";
import { GatewayError } from "../../src/core/errors.ts";
import { createRouter, servingTargets } from "../../src/core/router.ts";
import type { Provider } from "../../src/core/provider.ts";

const config = await parseConfig(
  `strategies:
  - name: main
    providers: [a, b, c]
  - name: smart
    targets: ["c/big", "a/small"]
  - name: lb
    mode: loadbalance
    targets:
      - model: "a/x"
        weight: 1
      - model: "b/y"
        weight: 3
providers:
  - name: a
    target_url: "http://127.0.0.1:1"
  - name: b
    target_url: "http://127.0.0.1:2"
  - name: c
    target_url: "http://127.0.0.1:3"
  - name: off
    enabled: false
    target_url: "http://127.0.0.1:4"
`,
  { filename: "router.yaml", env: {} },
);

function fakeProviders(): Map<string, Provider> {
  const map = new Map<string, Provider>();
  for (const p of config.providers.filter((p) => p.enabled)) {
    map.set(p.name, { name: p.name, config: p } as Provider);
  }
  return map;
}

function planOf(model: string, fallbacks?: string[], random = Math.random): string[] {
  const router = createRouter(config, fakeProviders(), { random });
  return router.plan(model, fallbacks).map((t) => `${t.provider.name}/${t.model}`);
}

Deno.test("router follows a seed chain from the requested provider onward", () => {
  assert.deepEqual(planOf("a/gpt-4o"), ["a/gpt-4o", "b/gpt-4o", "c/gpt-4o"]);
  assert.deepEqual(planOf("b/gpt-4o"), ["b/gpt-4o", "c/gpt-4o"]);
  assert.deepEqual(planOf("c/gpt-4o"), ["c/gpt-4o"]);
});

Deno.test("router resolves a virtual model to its targets in order", () => {
  assert.deepEqual(planOf("smart"), ["c/big", "a/small"]);
});

Deno.test("router orders load-balanced targets by weighted draw, keeping the others as fallback", () => {
  assert.deepEqual(planOf("lb", [], () => 0.1), ["a/x", "b/y"]);
  assert.deepEqual(planOf("lb", [], () => 0.5), ["b/y", "a/x"]);
});

Deno.test("router appends a request's fallback list and drops duplicates", () => {
  assert.deepEqual(planOf("c/m", ["smart", "c/m"]), ["c/m", "c/big", "a/small"]);
});

Deno.test("router refuses bare, unknown and disabled names with a hint", () => {
  const cases: [string, RegExp][] = [
    ["gpt-4o", /no provider prefix.*"provider\/model".*smart/],
    ["zz/gpt-4o", /provider "zz" is not configured/],
    ["off/gpt-4o", /provider "off" is disabled/],
    ["main", /provider chain, not a model/],
  ];
  for (const [model, message] of cases) {
    assert.throws(() => planOf(model), (err: unknown) => {
      assert.ok(err instanceof GatewayError);
      assert.equal(err.code, "model_not_found");
      assert.match(err.message, message);
      return true;
    });
  }
});

Deno.test("router keeps a plan whole when every provider serves the endpoint, else skips or refuses", () => {
  const providers = fakeProviders();
  const chatOnly = { ...providers.get("b")!, endpoints: new Set(["chat"] as const) };
  providers.set("b", chatOnly);
  const plan = createRouter(config, providers).plan("a/m");
  assert.equal(servingTargets(plan, "chat"), plan, "no copy when nothing is dropped");
  assert.deepEqual(servingTargets(plan, "embeddings").map((t) => t.provider.name), ["a", "c"]);
  const only = createRouter(config, providers).plan("b/m").slice(0, 1);
  assert.throws(
    () => servingTargets(only, "embeddings"),
    (err) =>
      err instanceof GatewayError && err.code === "invalid_request" &&
      err.message === 'provider "b" (openai) does not serve /v1/embeddings',
  );
});
