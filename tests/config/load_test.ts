import assert from "node:assert/strict";
import { ConfigError, loadConfig, parseConfig } from "../../src/config/load.ts";
import { parseLines, rejectLines } from "./parse_helpers.ts";

const ORIGINAL = new URL("../testdata/config/original.yaml", import.meta.url);

Deno.test("the original config file loads unchanged", async () => {
  const config = await loadConfig(ORIGINAL.pathname, { OPENAI_API_KEY: "sk-test" });
  assert.equal(config.server.host, "0.0.0.0");
  assert.equal(config.server.port, 8080);
  assert.equal(config.logging.level, "info");
  assert.deepEqual(config.strategies, [
    { kind: "chain", name: "main_models", providers: ["openai", "vllm"] },
  ]);
  assert.deepEqual(config.providers, [
    {
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
      max_retries: 3,
      headers: {},
      models: [],
    },
    {
      name: "vllm",
      type: "openai",
      enabled: true,
      target_url: "http://localhost:8000",
      api_key: null,
      api_version: null,
      default_max_tokens: 4096,
      responses_api: "auto",
      deployments: {},
      timeout_ms: 60_000,
      max_retries: 1,
      headers: {},
      models: [],
    },
  ]);
});

Deno.test("an empty file and a comments-only file load as all defaults", async () => {
  const expected = {
    auth: { enabled: false, keys: [], admin_keys: [], admin_groups: [], oidc: null },
    ratelimit: {
      enabled: false,
      backend: "memory",
      redis_address: "localhost:6379",
      redis_password: null,
      redis_db: 0,
      on_backend_error: "allow",
      default: { requests: 100, tokens: null, window_ms: 60_000 },
      groups: {},
      group_policy: "strictest",
    },
    budgets: { groups: {}, per_user: null },
    server: {
      host: "127.0.0.1",
      port: 8080,
      max_body_bytes: 10 * 1024 * 1024,
      max_response_bytes: 64 * 1024 * 1024,
      max_json_depth: 128,
      shutdown_timeout_ms: 10_000,
      header_timeout_ms: 30_000,
      body_timeout_ms: 30_000,
      idle_timeout_ms: 60_000,
      max_connections: 10_000,
      tls: null,
    },
    logging: { level: "info", format: "json" },
    routing: {
      backoff_base_ms: 200,
      backoff_max_ms: 5_000,
      retry_after_cap_ms: 30_000,
      stream_idle_timeout_ms: 60_000,
      pool_idle_timeout_ms: 4_000,
      circuit_breaker: { failure_threshold: 5, cooldown_ms: 30_000 },
    },
    models: { refresh_interval_ms: 300_000, fetch_timeout_ms: 10_000 },
    strategies: [],
    aliases: [],
    providers: [],
    storage: null,
    responses: { retention_ms: 30 * 24 * 3_600_000, max_stored_bytes: 1024 * 1024 },
    ui: { enabled: true, public: false },
  };
  assert.deepEqual(await parseConfig("", { filename: "config.yaml", env: {} }), expected);
  assert.deepEqual(await parseLines(["# nothing here", "  # still nothing"]), expected);
  assert.deepEqual(await parseLines(["server:", "routing:", "providers:"]), expected);
});

Deno.test("provider fields get defaults and are normalised", async () => {
  const config = await parseLines([
    "server:",
    "  max_body_size: 512KB",
    "  shutdown_timeout: 1m30s",
    "logging:",
    "  level: warning",
    "providers:",
    "  - name: local",
    "    target_url: http://localhost:8080/v1/",
    "    api_key: ''",
    "    headers:",
    "      X-Team: search",
    "    models: [llama-3, {name: qwen}]",
  ]);
  assert.equal(config.server.max_body_bytes, 512 * 1024);
  assert.equal(config.server.shutdown_timeout_ms, 90_000);
  assert.equal(config.logging.level, "warn");
  assert.deepEqual(config.providers[0], {
    name: "local",
    type: "openai",
    enabled: true,
    target_url: "http://localhost:8080/v1",
    api_key: null,
    api_version: null,
    default_max_tokens: 4096,
    responses_api: "auto",
    deployments: {},
    timeout_ms: 30_000,
    max_retries: 2,
    headers: { "X-Team": "search" },
    models: [
      { name: "llama-3", allowed_groups: null, max_output_tokens: null, price: null },
      { name: "qwen", allowed_groups: null, max_output_tokens: null, price: null },
    ],
  });
});

Deno.test("environment references are replaced, with defaults and several per value", async () => {
  const config = await parseLines([
    "server:",
    "  host: ${HOST:-0.0.0.0}",
    "  port: ${PORT}",
    "providers:",
    "  - name: a",
    "    target_url: ${BASE:-http://localhost:9000}",
    '    api_key: "${EMPTY:-fallback}"',
    "    headers:",
    '      Authorization: "Bearer ${A}-${B}"',
  ], { PORT: "9090", EMPTY: "", A: "one", B: "two" });
  assert.equal(config.server.host, "0.0.0.0");
  assert.equal(config.server.port, 9090);
  assert.equal(config.providers[0]?.target_url, "http://localhost:9000");
  // ":-" replaces an empty variable too, as in the shell.
  assert.equal(config.providers[0]?.api_key, "fallback");
  assert.deepEqual(config.providers[0]?.headers, { Authorization: "Bearer one-two" });
});

Deno.test("an environment value is data, never YAML", async () => {
  const config = await parseLines([
    "providers:",
    "  - name: a",
    "    target_url: http://localhost:9000",
    "    api_key: ${KEY}",
  ], { KEY: "x\n    enabled: false" });
  assert.equal(config.providers[0]?.api_key, "x\n    enabled: false");
  assert.equal(config.providers[0]?.enabled, true);
});

Deno.test("an unset variable is an error naming the variable, path and line", async () => {
  assert.deepEqual(
    await rejectLines([
      "providers:",
      "  - name: openai",
      "    target_url: https://api.openai.com",
      '    api_key: "${OPENAI_API_KEY}"',
    ]),
    ["providers[0].api_key: environment variable OPENAI_API_KEY is not set (config.yaml:4)"],
  );
});

Deno.test("a set but empty variable without default is not an error", async () => {
  const config = await parseLines([
    "providers:",
    "  - name: a",
    "    target_url: http://localhost:1",
    "    api_key: ${KEY}",
  ], { KEY: "" });
  assert.equal(config.providers[0]?.api_key, null);
});

Deno.test("unset variables inside a disabled provider are tolerated", async () => {
  const config = await parseLines([
    "providers:",
    "  - name: anthropic",
    "    enabled: false",
    "    target_url: ${ANTHROPIC_URL}",
    "    api_key: ${ANTHROPIC_API_KEY}",
  ]);
  assert.equal(config.providers[0]?.enabled, false);
  // The unresolved URL falls back to the type's default; a disabled provider is never called.
  assert.equal(config.providers[0]?.target_url, "https://api.openai.com");
  assert.equal(config.providers[0]?.api_key, null);
});

Deno.test("an unset variable that breaks a disabled provider's value is still reported", async () => {
  assert.deepEqual(
    await rejectLines([
      "providers:",
      "  - name: anthropic",
      "    enabled: false",
      "    target_url: http://localhost:1",
      "    timeout: ${TIMEOUT}",
    ]),
    ["providers[0].timeout: environment variable TIMEOUT is not set (config.yaml:5)"],
  );
});

Deno.test("a malformed variable reference is an error", async () => {
  assert.deepEqual(
    await rejectLines([
      "server:",
      "  host: ${1HOST}",
      "  port: 80",
      "logging:",
      "  level: ${LEVEL",
    ]),
    [
      'server.host: invalid variable reference "${1HOST}"; expected ${NAME} or ${NAME:-default} (config.yaml:2)',
      'logging.level: unterminated variable reference "${LEVEL" (config.yaml:5)',
    ],
  );
});

Deno.test("a missing config file is a ConfigError that keeps the cause", async () => {
  const error = await loadConfig("/nonexistent/gateway.yaml", {}).then(
    () => assert.fail("expected a ConfigError"),
    (error: unknown) => error,
  );
  assert.ok(error instanceof ConfigError);
  assert.equal(error.message, "cannot read config file /nonexistent/gateway.yaml: file not found");
  assert.ok(error.cause instanceof Deno.errors.NotFound);
});

Deno.test("preset types fill in their default base URL; an explicit target_url wins", async () => {
  const config = await parseConfig(
    [
      "providers:",
      "  - name: local",
      "    type: ollama",
      "  - name: claude",
      "    type: anthropic",
      '    api_key: "k"',
      "    api_version: 2023-06-01",
      "    default_max_tokens: 1024",
      "  - name: az",
      "    type: azure",
      '    target_url: "https://res.openai.azure.com"',
      '    api_key: "k"',
      "    deployments:",
      "      gpt-4o: prod-gpt4o",
    ].join("\n"),
    { filename: "config.yaml", env: {} },
  );
  const [ollama, claude, azure] = config.providers;
  assert.equal(ollama!.target_url, "http://localhost:11434/v1");
  assert.equal(ollama!.api_key, null);
  assert.equal(claude!.target_url, "https://api.anthropic.com");
  assert.equal(claude!.api_version, "2023-06-01");
  assert.equal(claude!.default_max_tokens, 1024);
  assert.deepEqual(azure!.deployments, { "gpt-4o": "prod-gpt4o" });
});

Deno.test("config.example.yaml, which documents every option, loads", async () => {
  const path = new URL("../../config.example.yaml", import.meta.url).pathname;
  const config = await loadConfig(path, { OPENAI_API_KEY: "sk-test" });
  assert.deepEqual(
    config.providers.filter((p) => p.enabled).map((p) => p.name),
    ["openai", "vllm"],
  );
  assert.deepEqual(config.strategies.map((s) => s.name), ["main_models", "smart", "balanced"]);
  const types = new Set(config.providers.map((p) => p.type));
  for (const type of ["openai", "anthropic", "gemini", "azure", "groq"]) assert.ok(types.has(type));
  assert.deepEqual(config.storage, { path: "./data/gateway.db", url: null });
  assert.deepEqual(config.budgets, { groups: {}, per_user: null });
  assert.deepEqual(config.responses, {
    retention_ms: 30 * 24 * 3_600_000,
    max_stored_bytes: 1024 * 1024,
  });
});
