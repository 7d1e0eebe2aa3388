import assert from "node:assert/strict";
import { defaultConfig, parseConfig, resolveConfigPath } from "../../src/config/load.ts";

Deno.test("the embedded default enables openai when OPENAI_API_KEY is set", async () => {
  const { config, enabled } = await defaultConfig({ OPENAI_API_KEY: "sk-test", GROQ_API_KEY: "" });
  assert.deepEqual(enabled, ["openai"]);
  assert.equal(config.server.host, "127.0.0.1");
  assert.equal(config.server.port, 8080);
  assert.deepEqual(config.strategies, []);
  assert.deepEqual(config.providers, [{
    name: "openai",
    type: "openai",
    enabled: true,
    target_url: "https://api.openai.com",
    api_key: "sk-test",
    api_version: null,
    default_max_tokens: 4096,
    responses_api: "native",
    deployments: {},
    timeout_ms: 30_000,
    max_retries: 2,
    headers: {},
    models: [],
  }]);
});

Deno.test("the embedded default without API keys has no providers but file defaults", async () => {
  const { config, enabled } = await defaultConfig({});
  assert.deepEqual(enabled, []);
  assert.deepEqual(config.providers, []);
  assert.deepEqual(config, await parseConfig("", { filename: "config.yaml", env: {} }));
});

Deno.test("the embedded default enables every well-known provider whose key is set", async () => {
  const { config, enabled } = await defaultConfig({
    GROQ_API_KEY: "g",
    XAI_API_KEY: "x",
    DEEPSEEK_API_KEY: "d",
  });
  assert.deepEqual(enabled, ["groq", "deepseek", "xai"]);
  assert.deepEqual(config.providers.map((p) => p.target_url), [
    "https://api.groq.com/openai/v1",
    "https://api.deepseek.com/v1",
    "https://api.x.ai/v1",
  ]);
});

Deno.test("the config path comes from the flag, then GATEWAY_CONFIG, then ./config.yaml", () => {
  const env = { GATEWAY_CONFIG: "/etc/gateway.yaml" };
  assert.deepEqual(resolveConfigPath({ flag: "my.yaml", env }), {
    path: "my.yaml",
    explicit: true,
  });
  assert.deepEqual(resolveConfigPath({ env }), { path: "/etc/gateway.yaml", explicit: true });
  assert.deepEqual(resolveConfigPath({ env: {} }), { path: "./config.yaml", explicit: false });
});

Deno.test("the embedded default enables anthropic and gemini from their keys", async () => {
  const { config, enabled } = await defaultConfig({
    ANTHROPIC_API_KEY: "a-key",
    GEMINI_API_KEY: "g-key",
  });
  assert.deepEqual(enabled, ["anthropic", "gemini"]);
  assert.deepEqual(
    config.providers.map((p) => [p.name, p.type, p.target_url]),
    [
      ["anthropic", "anthropic", "https://api.anthropic.com"],
      ["gemini", "gemini", "https://generativelanguage.googleapis.com"],
    ],
  );
});
