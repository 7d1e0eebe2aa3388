import assert from "node:assert/strict";
import { parseLines, rejectLines } from "./parse_helpers.ts";

const HEAD = [
  "providers:", //                                     line 1
  "  - name: openai",
  "    target_url: https://api.openai.com",
  "  - name: anthropic",
  "    type: anthropic",
  "    api_key: test-key",
  "strategies:",
  "  - name: smart",
  "    targets: [openai/gpt-4o, anthropic/claude-sonnet-4-5]",
  "  - name: main",
  "    providers: [openai, anthropic]",
  "aliases:", //                                       line 12
];

Deno.test("aliases load in the order written, wildcards and strategy targets included", async () => {
  const config = await parseLines([
    ...HEAD,
    '  "claude-*": "anthropic/*"',
    '  "gpt-5": smart',
    "  fast: openai/gpt-4o-mini",
    '  "*-latest": "openai/*"',
    '  "claude-*-fast": openai/gpt-4o-mini',
  ]);
  assert.deepEqual(config.aliases, [
    { pattern: "claude-*", target: "anthropic/*" },
    { pattern: "gpt-5", target: "smart" },
    { pattern: "fast", target: "openai/gpt-4o-mini" },
    { pattern: "*-latest", target: "openai/*" },
    { pattern: "claude-*-fast", target: "openai/gpt-4o-mini" },
  ]);
  assert.deepEqual((await parseLines(["aliases:"])).aliases, []);
});

Deno.test("an alias naming an unknown provider or strategy is an error with its line", async () => {
  assert.deepEqual(
    await rejectLines([
      ...HEAD,
      '  "claude-*": "anthropc/*"', //                 line 13
      '  "gpt-5": smrt',
      "  fast: groq/llama-3",
      "  chained: gpt-5",
      "  chain: main",
    ]),
    [
      'aliases["claude-*"]: unknown provider "anthropc"; did you mean "anthropic"? (config.yaml:13)',
      'aliases.gpt-5: unknown strategy "smrt"; did you mean "smart"? (config.yaml:14)',
      'aliases.fast: unknown provider "groq"; known providers: openai, anthropic (config.yaml:15)',
      'aliases.chained: unknown strategy "gpt-5": it is an alias, and an alias cannot name another alias (config.yaml:16)',
      'aliases.chain: "main" is a provider chain, not a model; an alias names "provider/model" or a strategy with targets (config.yaml:17)',
    ],
  );
  assert.deepEqual(
    await rejectLines([
      "providers:",
      "  - name: openai",
      "    target_url: https://api.openai.com",
      "aliases:",
      "  fast: quick",
    ]),
    [
      'aliases.fast: unknown strategy "quick"; no strategy has targets, so name a "provider/model" (config.yaml:5)',
    ],
  );
});

Deno.test("a bad alias pattern or target is an error naming the pattern and its line", async () => {
  assert.deepEqual(
    await rejectLines([
      ...HEAD,
      "  openai/gpt-5: smart", //                       line 13
      '  "a*b*": "openai/*"',
      '  "exact": "openai/*"',
      '  "c-*": "*/gpt-4o"',
      '  "d-*": "open*"',
      '  "e-*": "openai/*-*"',
      "  f: 5",
      '  g: "/gpt-4o"',
      '  "": openai/gpt-4o',
      "  smart: openai/gpt-4o",
    ]),
    [
      'aliases["openai/gpt-5"]: an alias pattern is a bare model name and must not contain "/" ("provider/model" names are routed as they are) (config.yaml:13)',
      'aliases["a*b*"]: an alias pattern may hold at most one "*" (config.yaml:14)',
      'aliases.exact: a "*" in the target (the requested name) needs a "*" in the pattern; name the model (config.yaml:15)',
      'aliases["c-*"]: a "*" may stand only in the model part of "provider/model" (config.yaml:16)',
      'aliases["d-*"]: a "*" may stand only in the model part of "provider/model" (config.yaml:17)',
      'aliases["e-*"]: an alias target may hold at most one "*" (config.yaml:18)',
      'aliases.f: expected "provider/model" or a strategy name, got 5 (config.yaml:19)',
      'aliases.g: expected "provider/model" or a strategy name, got "/gpt-4o" (config.yaml:20)',
      'aliases[""]: an alias pattern must not be empty (config.yaml:21)',
    ],
  );
  // Only once the spelling is right are the names looked up.
  assert.deepEqual(
    await rejectLines([...HEAD, "  smart: openai/gpt-4o"]),
    ['aliases.smart: alias "smart" is also a strategy name; rename one of them (config.yaml:13)'],
  );
});

Deno.test("aliases must be a mapping", async () => {
  assert.deepEqual(
    await rejectLines(["aliases:", "  - fast"]),
    ["aliases: expected a mapping, got a list (config.yaml:2)"],
  );
});
