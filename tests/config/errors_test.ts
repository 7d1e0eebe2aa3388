import assert from "node:assert/strict";
import { rejectLines } from "./parse_helpers.ts";

Deno.test("config error names the field path and the line of a bad target_url", async () => {
  assert.deepEqual(
    await rejectLines([
      "providers:",
      "  - name: a",
      "    target_url: http://localhost:1",
      "  - name: b",
      "    target_url: ftp://example.com",
    ]),
    ["providers[1].target_url: expected an http(s) URL (config.yaml:5)"],
  );
});

Deno.test("a misspelt key gets a did-you-mean hint at the key's own line", async () => {
  assert.deepEqual(
    await rejectLines([
      "server:",
      "  prot: 80",
      "providers:",
      "  - name: openai",
      "    target_ur: https://api.openai.com",
    ]),
    [
      'server.prot: unknown key; did you mean "port"? (config.yaml:2)',
      'providers[0].target_ur: unknown key; did you mean "target_url"? (config.yaml:5)',
    ],
  );
});

Deno.test("a missing required key points at its parent mapping", async () => {
  // azure has no default URL, unlike openai (api.openai.com) and the presets.
  assert.deepEqual(
    await rejectLines(["providers:", "  - name: a", "    type: azure", "    api_key: k"]),
    [
      "providers[0].target_url: missing required key (config.yaml:2)",
    ],
  );
});

Deno.test("an unknown key with no near match lists the allowed keys", async () => {
  assert.deepEqual(await rejectLines(["logging:", "  level: info", "  colour: true"]), [
    "logging.colour: unknown key; expected one of: level, format (config.yaml:3)",
  ]);
});

Deno.test("duplicate provider names are rejected, pointing at the second", async () => {
  assert.deepEqual(
    await rejectLines([
      "providers:",
      "  - name: openai",
      "    target_url: https://api.openai.com",
      "  - name: openai",
      "    target_url: https://example.com",
    ]),
    ['providers[1].name: duplicate provider name "openai" (first at providers[0]) (config.yaml:4)'],
  );
});

Deno.test("a strategy naming an unknown provider suggests the closest one", async () => {
  assert.deepEqual(
    await rejectLines([
      "strategies:",
      "  - name: main",
      "    providers: [openai, vlm]",
      "providers:",
      "  - name: openai",
      "    target_url: https://api.openai.com",
      "  - name: vllm",
      "    target_url: http://localhost:8000",
    ]),
    ['strategies[0].providers[1]: unknown provider "vlm"; did you mean "vllm"? (config.yaml:3)'],
  );
});

Deno.test("negative max_retries and an out-of-range port are rejected", async () => {
  assert.deepEqual(
    await rejectLines([
      "server:",
      "  port: 70000",
      "providers:",
      "  - name: a",
      "    target_url: http://localhost:1",
      "    max_retries: -1",
    ]),
    [
      "server.port: expected a port number between 0 and 65535 (0 picks a free port) (config.yaml:2)",
      "providers[0].max_retries: must not be negative (config.yaml:6)",
    ],
  );
});

Deno.test("a bare number is not accepted as a duration", async () => {
  assert.deepEqual(
    await rejectLines([
      "providers:",
      "  - name: a",
      "    target_url: http://localhost:1",
      "    timeout: 30",
    ]),
    [
      'providers[0].timeout: expected a duration such as "500ms", "30s", "2m" or "1m30s", got 30 (config.yaml:4)',
    ],
  );
});

Deno.test("provider names must be non-empty and free of slashes; types must be known", async () => {
  assert.deepEqual(
    await rejectLines([
      "providers:",
      "  - name: my/provider",
      "    target_url: http://localhost:1",
      "  - name: ''",
      "    type: nonsense",
      "    target_url: http://localhost:2",
    ]),
    [
      'providers[0].name: must not contain "/" (it separates provider and model) (config.yaml:2)',
      "providers[1].name: must not be empty (config.yaml:4)",
      'providers[1].type: unknown provider type "nonsense"; valid types: openai, anthropic, gemini, azure, ollama, llamacpp, vllm, lmstudio, groq, openrouter, together, mistral, deepseek, xai (config.yaml:5)',
    ],
  );
});

Deno.test("a YAML syntax error reports its line", async () => {
  const lines = await rejectLines(["server:", "  host: [1, 2", "  port: 80"]);
  assert.equal(lines.length, 1);
  assert.match(lines[0] ?? "", /^invalid YAML: .+ \(config\.yaml:3\)$/);
});

Deno.test("duplicate YAML keys are a syntax error with a line", async () => {
  const lines = await rejectLines(["server:", "  port: 80", "  port: 81"]);
  assert.match(lines[0] ?? "", /^invalid YAML: Map keys must be unique \(config\.yaml:3\)$/);
});

Deno.test("a document that is not a mapping is rejected", async () => {
  assert.deepEqual(await rejectLines(["- a", "- b"]), [
    "expected a mapping at the top level (config.yaml:1)",
  ]);
});

Deno.test("a wrong type names what was expected and what was found", async () => {
  assert.deepEqual(await rejectLines(["server:", "  host: [a]"]), [
    "server.host: expected a string, got a list (config.yaml:2)",
  ]);
});

Deno.test("a preset type supplies its base URL and a cloud preset demands a key", async () => {
  assert.deepEqual(
    await rejectLines([
      "providers:",
      "  - name: groq",
      "    type: groq",
      "  - name: local",
      "    type: azure",
      "    api_key: k",
    ]),
    [
      'providers[0].api_key: type "groq" needs an API key (e.g. api_key: "${GROQ_API_KEY}") (config.yaml:2)',
      "providers[1].target_url: missing required key (config.yaml:4)",
    ],
  );
});
