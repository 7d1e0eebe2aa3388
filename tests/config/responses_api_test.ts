import assert from "node:assert/strict";
import { parseLines, rejectLines } from "./parse_helpers.ts";

async function modes(providers: string[][]): Promise<Record<string, string>> {
  const config = await parseLines(["providers:", ...providers.flat()]);
  return Object.fromEntries(config.providers.map((p) => [p.name, p.responses_api]));
}

Deno.test("responses_api defaults: OpenAI itself and known servers native, others tried or translated", async () => {
  assert.deepEqual(
    await modes([
      ["  - name: oa", "    api_key: sk-1"],
      ["  - name: compat", "    target_url: http://127.0.0.1:9/v1"],
      ["  - name: studio", "    type: lmstudio"],
      ["  - name: local", "    type: ollama"],
      ["  - name: vllm", "    type: vllm"],
      ["  - name: router", "    type: openrouter", "    api_key: k"],
      ["  - name: claude", "    type: anthropic", "    api_key: k"],
      ["  - name: gem", "    type: gemini", "    api_key: k"],
      ["  - name: az", "    type: azure", "    api_key: k", "    target_url: https://x.test"],
    ]),
    {
      oa: "native",
      compat: "auto",
      studio: "native",
      local: "translate",
      vllm: "auto",
      router: "native",
      claude: "translate",
      gem: "translate",
      az: "translate",
    },
  );
});

Deno.test("responses_api set in the config wins; a non-OpenAI adapter can only translate", async () => {
  assert.deepEqual(
    await modes([
      ["  - name: compat", "    target_url: http://127.0.0.1:9", "    responses_api: native"],
      ["  - name: local", "    type: ollama", "    responses_api: auto"],
      ["  - name: claude", "    type: anthropic", "    api_key: k", "    responses_api: translate"],
    ]),
    { compat: "native", local: "auto", claude: "translate" },
  );
  assert.deepEqual(
    await rejectLines([
      "providers:",
      "  - name: claude",
      "    type: anthropic",
      "    api_key: k",
      "    responses_api: native",
    ]),
    [
      'providers[0].responses_api: type "anthropic" does not speak the Responses API; only ' +
      '"translate" applies (config.yaml:5)',
    ],
  );
  const [line] = await rejectLines([
    "providers:",
    "  - name: compat",
    "    target_url: http://127.0.0.1:9",
    "    responses_api: yes",
  ]);
  assert.match(
    line!,
    /^providers\[0\]\.responses_api: .*auto.*native.*translate.*\(config\.yaml:4\)$/,
  );
});
