import assert from "node:assert/strict";
import { parseLines, rejectLines } from "./parse_helpers.ts";

const PROVIDERS = [
  "providers:",
  "  - name: openai",
  "    target_url: https://api.openai.com",
  "  - name: openrouter",
  "    target_url: https://openrouter.ai/api/v1",
];

Deno.test("a strategy with targets is a virtual model with weights defaulting to 1", async () => {
  const config = await parseLines([
    ...PROVIDERS,
    "strategies:",
    "  - name: smart",
    "    mode: loadbalance",
    "    targets:",
    "      - openai/gpt-4o",
    "      - model: openrouter/anthropic/claude-sonnet-4",
    "        weight: 3",
    "  - name: cheap",
    "    targets: [openai/gpt-4o-mini]",
  ]);
  assert.deepEqual(config.strategies, [
    {
      kind: "virtual",
      name: "smart",
      mode: "loadbalance",
      targets: [
        { model: "openai/gpt-4o", weight: 1 },
        { model: "openrouter/anthropic/claude-sonnet-4", weight: 3 },
      ],
    },
    {
      kind: "virtual",
      name: "cheap",
      mode: "fallback",
      targets: [{ model: "openai/gpt-4o-mini", weight: 1 }],
    },
  ]);
});

Deno.test("a virtual target must be provider/model with a known provider and a positive weight", async () => {
  assert.deepEqual(
    await rejectLines([
      ...PROVIDERS,
      "strategies:",
      "  - name: smart",
      "    targets:",
      "      - gpt-4o",
      "      - model: openai/gpt-4o",
      "        weight: 0",
    ]),
    [
      'strategies[0].targets[0]: expected "provider/model", got "gpt-4o" (config.yaml:9)',
      "strategies[0].targets[1].weight: must be greater than 0 (config.yaml:11)",
    ],
  );
  assert.deepEqual(
    await rejectLines([
      ...PROVIDERS,
      "strategies:",
      "  - name: smart",
      "    targets:",
      "      - opnai/gpt-4o",
      "      - model: groq/llama",
    ]),
    [
      'strategies[0].targets[0]: unknown provider "opnai"; did you mean "openai"? (config.yaml:9)',
      'strategies[0].targets[1].model: unknown provider "groq"; known providers: openai, openrouter (config.yaml:10)',
    ],
  );
});

Deno.test("a strategy needs exactly one of providers and targets", async () => {
  assert.deepEqual(
    await rejectLines([
      ...PROVIDERS,
      "strategies:",
      "  - name: both",
      "    providers: [openai]",
      "    targets: [openai/gpt-4o]",
      "  - name: neither",
    ]),
    [
      'strategies[0]: strategy "both" has both providers and targets; use one (config.yaml:7)',
      'strategies[1]: strategy "neither" needs providers (a fallback chain) or targets (a virtual model) (config.yaml:10)',
    ],
  );
});

Deno.test("strategy names must be unique and distinct from provider names", async () => {
  assert.deepEqual(
    await rejectLines([
      ...PROVIDERS,
      "strategies:",
      "  - name: main",
      "    providers: [openai]",
      "  - name: main",
      "    providers: [openrouter]",
      "  - name: openai",
      "    providers: [openai]",
    ]),
    [
      'strategies[1].name: duplicate strategy name "main" (first at strategies[0]) (config.yaml:9)',
      'strategies[2].name: strategy name "openai" is also a provider name; rename one of them (config.yaml:11)',
    ],
  );
  assert.deepEqual(
    await rejectLines([...PROVIDERS, "strategies:", "  - name: a/b", "    providers: [openai]"]),
    ['strategies[0].name: must not contain "/" (it separates provider and model) (config.yaml:7)'],
  );
});
