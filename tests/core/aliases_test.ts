import assert from "node:assert/strict";
import type { Caller } from "../../src/auth/caller.ts";
import { parseConfig } from "../../src/config/load.ts";
import { createAccessPolicy } from "../../src/core/access.ts";
import { createAliasTable } from "../../src/core/aliases.ts";
import { GatewayError } from "../../src/core/errors.ts";
import type { Provider } from "../../src/core/provider.ts";
import { createRouter } from "../../src/core/router.ts";

const config = await parseConfig(
  `strategies:
  - name: main
    providers: [b, c]
  - name: smart
    targets: ["c/big", "a/small"]
aliases:
  "claude-*": "b/*"
  "claude-3-*": "a/*"
  "claude-special": "c/special"
  "*-fast": "a/*"
  "*": "c/*"
  "gpt-5": smart
  fast: "a/mini"
  old: "off/m"
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
  { filename: "aliases.yaml", env: {} },
);

function fakeProviders(): Map<string, Provider> {
  const map = new Map<string, Provider>();
  for (const p of config.providers.filter((p) => p.enabled)) {
    map.set(p.name, { name: p.name, config: p } as Provider);
  }
  return map;
}

const router = createRouter(config, fakeProviders());

function planOf(model: string, fallbacks?: string[]): string[] {
  return router.plan(model, fallbacks).map((t) => `${t.provider.name}/${t.model}`);
}

Deno.test("router resolves an exact alias to its provider/model", () => {
  assert.deepEqual(planOf("fast"), ["a/mini"]);
  assert.deepEqual(planOf("claude-special"), ["c/special"]);
});

Deno.test("router puts the name a wildcard alias matches in place of the target's *", () => {
  // b is in the chain [b, c], so an alias to b continues at c as "b/..." would.
  assert.deepEqual(planOf("claude-haiku-4-5-20251001"), [
    "b/claude-haiku-4-5-20251001",
    "c/claude-haiku-4-5-20251001",
  ]);
  assert.deepEqual(planOf("claude-3-opus"), ["a/claude-3-opus"]);
  assert.deepEqual(planOf("mini-fast"), ["a/mini-fast"]);
  assert.deepEqual(planOf("llama"), ["c/llama"]);
});

Deno.test("router resolves an alias of a strategy to the strategy's targets", () => {
  assert.deepEqual(planOf("gpt-5"), ["c/big", "a/small"]);
  assert.deepEqual(router.plan("gpt-5").map((t) => t.via), ["smart", "smart"]);
});

Deno.test("router prefers a name the request spells out, then an exact alias, then the longest prefix", () => {
  // "provider/model" and a strategy name are never looked up among the aliases ("*" matches both).
  assert.deepEqual(planOf("a/claude-x"), ["a/claude-x"]);
  assert.deepEqual(planOf("smart"), ["c/big", "a/small"]);
  // An exact pattern beats "claude-*" and "*".
  assert.deepEqual(planOf("claude-special"), ["c/special"]);
  // "claude-3-*" has a longer literal prefix than "claude-*", which beats "*-fast" and "*".
  assert.deepEqual(planOf("claude-3-fast"), ["a/claude-3-fast"]);
  assert.deepEqual(planOf("claude-fast"), ["b/claude-fast", "c/claude-fast"]);
  // Equal prefixes (none): the longer literal suffix wins.
  assert.deepEqual(planOf("x-fast"), ["a/x-fast"]);
});

Deno.test("a wildcard stands for at least one character", () => {
  const table = createAliasTable([
    { pattern: "claude-*", target: "b/*" },
    { pattern: "*-mini", target: "openrouter/openai/*" },
  ]);
  assert.equal(table.resolve("claude-"), undefined);
  assert.equal(table.resolve("claude-x"), "b/claude-x");
  assert.equal(table.resolve("-mini"), undefined);
  assert.equal(table.resolve("gpt-4o-mini"), "openrouter/openai/gpt-4o-mini");
  assert.equal(table.resolve("b/claude-x"), undefined, "names with a provider are never aliased");
  assert.equal(table.resolve("claude-$&"), "b/claude-$&", "the name is carried over literally");
});

Deno.test("router resolves aliases in a request's fallback list and drops duplicates", () => {
  assert.deepEqual(planOf("c/m", ["fast", "gpt-5", "claude-special", "a/mini"]), [
    "c/m",
    "a/mini",
    "c/big",
    "a/small",
    "c/special",
  ]);
});

Deno.test("router names the alias and its target when the target's provider is disabled", () => {
  assert.throws(() => planOf("old"), (err: unknown) => {
    assert.ok(err instanceof GatewayError);
    assert.equal(err.code, "model_not_found");
    assert.equal(
      err.message,
      'model "old" (an alias of "off/m"): provider "off" is disabled (enabled providers: a, b, c)',
    );
    return true;
  });
});

Deno.test("router without a matching alias refuses a bare name as before", () => {
  const plain = createRouter({ ...config, aliases: [] }, fakeProviders());
  assert.throws(() => plain.plan("fast"), /no strategy or alias matches it/);
});

function caller(models: string[]): Caller {
  return { name: "k", kind: "key", groups: [], models };
}

Deno.test("access judges an alias by what it stands for", () => {
  const access = createAccessPolicy(config, router.aliases);
  const allowedPlan = (who: Caller, model: string) =>
    access.filterPlan(who, model, router.plan(model)).map((t) => `${t.provider.name}/${t.model}`);
  assert.deepEqual(allowedPlan(caller(["b/*"]), "claude-x"), ["b/claude-x"]);
  assert.deepEqual(allowedPlan(caller(["smart"]), "gpt-5"), ["c/big", "a/small"]);
  assert.throws(() => allowedPlan(caller(["a/*"]), "claude-x"), /not available to caller "k"/);
  assert.throws(() => allowedPlan(caller(["a/*"]), "gpt-5"), /not available/);
  assert.equal(access.listed(caller(["a/*"]), "fast"), true);
  assert.equal(access.listed(caller(["b/*"]), "fast"), false);
  assert.equal(access.listed(caller(["smart"]), "gpt-5"), true);
  assert.equal(access.listed(caller(["b/*"]), "claude-x"), true);
});
