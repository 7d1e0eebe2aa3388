import assert from "node:assert/strict";
import { parseLines, rejectLines } from "./parse_helpers.ts";

const provider = ["providers:", "  - name: openai", "    models:"];

Deno.test("a static model's price is read in USD per million tokens, cached_input optional", async () => {
  const config = await parseLines([
    ...provider,
    "      - name: gpt-4o",
    "        price: {input: 2.5, output: 10, cached_input: 1.25}",
    "      - name: local-llama",
    "        price:",
    "          input: 0",
    '          output: "0.5"',
    "      - gpt-4o-mini",
  ], { OPENAI_API_KEY: "sk-test" });
  const models = config.providers[0]!.models;
  assert.deepEqual(models.map((m) => m.price), [
    { input: 2.5, output: 10, cached_input: 1.25 },
    { input: 0, output: 0.5, cached_input: null },
    null,
  ]);
});

Deno.test("a price without input names the missing field and the line of the price mapping", async () => {
  assert.deepEqual(
    await rejectLines([
      ...provider,
      "      - name: gpt-4o",
      "        price:",
      "          output: 10",
    ]),
    ["providers[0].models[0].price.input: missing required key (config.yaml:6)"],
  );
});

Deno.test("negative, non-numeric and unknown price fields are each named with their line", async () => {
  assert.deepEqual(
    await rejectLines([
      ...provider,
      "      - name: gpt-4o",
      "        price:",
      "          input: -1",
      "          output: ten",
      "          cached_input: -0.5",
      "          cache_write: 3",
    ]),
    [
      "providers[0].models[0].price.input: must not be negative (config.yaml:6)",
      'providers[0].models[0].price.output: expected a number, got "ten" (config.yaml:7)',
      "providers[0].models[0].price.cached_input: must not be negative (config.yaml:8)",
      "providers[0].models[0].price.cache_write: unknown key; " +
      "expected one of: input, output, cached_input (config.yaml:9)",
    ],
  );
});

Deno.test("a price that is not a mapping is rejected at its line", async () => {
  assert.deepEqual(
    await rejectLines([...provider, "      - name: gpt-4o", "        price: 2.5"]),
    ["providers[0].models[0].price: expected a mapping, got 2.5 (config.yaml:5)"],
  );
});
