import assert from "node:assert/strict";
import type { ModelPrice, ProviderConfig, StaticModelConfig } from "../../src/config/types.ts";
import {
  builtinPrice,
  costAt,
  costOf,
  formatUsd,
  priceOf,
  PRICES_TAKEN_ON,
} from "../../src/core/pricing.ts";

function provider(name: string, models: Partial<StaticModelConfig>[] = []): ProviderConfig {
  return {
    name,
    type: "openai",
    enabled: true,
    target_url: "http://127.0.0.1:1",
    api_key: null,
    timeout_ms: 1000,
    max_retries: 0,
    headers: {},
    models: models.map((m) => ({
      name: "m",
      allowed_groups: null,
      max_output_tokens: null,
      price: null,
      ...m,
    })),
    api_version: null,
    default_max_tokens: 4096,
    responses_api: "auto",
    deployments: {},
  };
}

const usage = (prompt: number, completion: number, cached?: number) => ({
  prompt_tokens: prompt,
  completion_tokens: completion,
  total_tokens: prompt + completion,
  ...(cached === undefined ? {} : { cached_tokens: cached }),
});

Deno.test("the price table is dated and finds well-known models by their exact names", () => {
  assert.match(PRICES_TAKEN_ON, /^\d{4}-\d{2}-\d{2}$/);
  assert.deepEqual(builtinPrice("gpt-4o"), { input: 2.5, output: 10, cached_input: 1.25 });
  assert.deepEqual(builtinPrice("claude-haiku-4-5"), { input: 1, output: 5, cached_input: 0.1 });
  assert.deepEqual(builtinPrice("gemini-2.5-flash")?.output, 2.5);
  assert.deepEqual(builtinPrice("llama-3.3-70b-versatile"), {
    input: 0.59,
    output: 0.79,
    cached_input: null,
  });
});

Deno.test("a dated model id takes the price of its family unless the table names the date", () => {
  assert.deepEqual(builtinPrice("claude-haiku-4-5-20251001"), builtinPrice("claude-haiku-4-5"));
  assert.deepEqual(builtinPrice("claude-3-5-sonnet-20241022"), builtinPrice("claude-3-5-sonnet"));
  assert.deepEqual(builtinPrice("gpt-4o-2024-08-06"), builtinPrice("gpt-4o"));
  assert.deepEqual(builtinPrice("gemini-2.0-flash-001"), builtinPrice("gemini-2.0-flash"));
  assert.deepEqual(builtinPrice("claude-3-7-sonnet-latest"), builtinPrice("claude-3-7-sonnet"));
  // The exact entry wins over the rule: this snapshot kept its launch price.
  assert.deepEqual(builtinPrice("gpt-4o-2024-05-13"), { input: 5, output: 15, cached_input: null });
  // A longer name is another model, not a version: no guess from a prefix.
  assert.equal(builtinPrice("gpt-4o-audio-preview"), null);
  assert.equal(builtinPrice("o3-deep-research"), null);
  assert.equal(builtinPrice("gpt-4o-mini-2024-07-18")?.input, 0.15);
});

Deno.test("a model without a price costs null and is reported once per provider and model", () => {
  const warnings: string[] = [];
  const onUnknownPrice = (p: string, m: string) => warnings.push(`${p}/${m}`);
  const local = provider("local");
  assert.equal(costOf(local, "my-finetune-7b", usage(10, 5), { onUnknownPrice }), null);
  assert.equal(costOf(local, "my-finetune-7b", usage(20, 5), { onUnknownPrice }), null);
  assert.equal(costOf(provider("other"), "my-finetune-7b", usage(1, 1), { onUnknownPrice }), null);
  assert.deepEqual(warnings, ["local/my-finetune-7b", "other/my-finetune-7b"]);
});

Deno.test("a price in the provider's model list overrides the table for that provider only", () => {
  const price: ModelPrice = { input: 1, output: 2, cached_input: null };
  const azure = provider("azure", [{ name: "gpt-4o", price }, {
    name: "free-model",
    price: {
      input: 0,
      output: 0,
      cached_input: null,
    },
  }]);
  assert.deepEqual(priceOf(azure, "gpt-4o"), price);
  assert.equal(priceOf(provider("openai"), "gpt-4o")?.input, 2.5);
  // The override is for the exact name; a dated id at that provider still finds the table.
  assert.equal(priceOf(azure, "gpt-4o-2024-08-06")?.input, 2.5);
  // A configured zero is a real price: a free model costs 0, not null.
  assert.equal(costOf(azure, "free-model", usage(1000, 1000)), 0);
  // A listed model without a price falls back to the table.
  assert.equal(priceOf(provider("x", [{ name: "o3" }]), "o3")?.output, 8);
});

Deno.test("cost: cached prompt tokens are billed at cached_input, once, the rest at input", () => {
  const price: ModelPrice = { input: 2.5, output: 10, cached_input: 1.25 };
  // 1,000,000 prompt tokens of which 400,000 cached, 100,000 completion tokens:
  // 600,000 x 2.5 + 400,000 x 1.25 + 100,000 x 10 per million = 1.5 + 0.5 + 1.0.
  assert.equal(costAt(price, usage(1_000_000, 100_000, 400_000)), 3);
  assert.equal(costAt(price, usage(1_000_000, 100_000)), 3.5);
  // No cached_input price: cached tokens cost the input price.
  assert.equal(costAt({ ...price, cached_input: null }, usage(1_000_000, 0, 400_000)), 2.5);
  // A small request: 1,234 prompt (1,024 cached) and 56 completion tokens of gpt-4o.
  assert.equal(costOf(provider("openai"), "gpt-4o", usage(1234, 56, 1024)), 0.002365);
});

Deno.test("a cost is written as a plain decimal in a header", () => {
  assert.equal(formatUsd(0.001365), "0.001365");
  assert.equal(formatUsd(0.00000005), "0.00000005");
  assert.equal(formatUsd(3), "3");
  assert.equal(formatUsd(0), "0");
});
