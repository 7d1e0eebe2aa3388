import assert from "node:assert/strict";
import type { ProviderConfig } from "../../../src/config/types.ts";
import { ProviderError } from "../../../src/core/errors.ts";
import type { JsonObject } from "../../../src/core/json.ts";
import {
  createGeminiProvider,
  geminiBase,
  modelResource,
} from "../../../src/providers/gemini/gemini_provider.ts";
import type { Endpoint, Provider } from "../../../src/core/provider.ts";
import { type MockGemini, startMockGemini } from "../../support/mock_gemini.ts";

function config(overrides: Partial<ProviderConfig>): ProviderConfig {
  return {
    name: "gem",
    type: "gemini",
    enabled: true,
    target_url: "https://generativelanguage.googleapis.com",
    api_key: "g-key",
    timeout_ms: 5000,
    max_retries: 0,
    headers: {},
    models: [],
    api_version: null,
    default_max_tokens: 4096,
    responses_api: "translate",
    deployments: {},
    ...overrides,
  };
}

/** Runs `fn` with a mock Gemini and a provider in front of it, closing both afterwards. */
async function withProvider(
  fn: (provider: Provider, mock: MockGemini) => Promise<void>,
  overrides: Partial<ProviderConfig> = {},
): Promise<void> {
  const mock = startMockGemini();
  const provider = createGeminiProvider(config({ target_url: mock.url, ...overrides }));
  try {
    await fn(provider, mock);
  } finally {
    provider.close();
    await mock.close();
  }
}

function call(endpoint: Endpoint, body: JsonObject, model = "gemini-2.0-flash") {
  return {
    endpoint,
    model,
    body,
    json: () => JSON.stringify(body),
    stream: body.stream === true,
    signal: new AbortController().signal,
    requestId: "req-test-1",
  };
}

Deno.test("gemini base URL: a trailing version is not doubled; api_version wins", () => {
  assert.deepEqual(geminiBase(config({})), {
    root: "https://generativelanguage.googleapis.com",
    version: "v1beta",
  });
  assert.deepEqual(
    geminiBase(config({ target_url: "https://generativelanguage.googleapis.com/v1/" })),
    { root: "https://generativelanguage.googleapis.com", version: "v1" },
  );
  assert.deepEqual(
    geminiBase(config({ target_url: "http://proxy/gemini/v1beta", api_version: "v1alpha" })),
    { root: "http://proxy/gemini", version: "v1alpha" },
  );
});

Deno.test("gemini model resource: bare and prefixed names give one models/ prefix", () => {
  assert.equal(modelResource("gemini-2.0-flash"), "models/gemini-2.0-flash");
  assert.equal(modelResource("models/gemini-2.0-flash"), "models/gemini-2.0-flash");
  assert.equal(modelResource("tunedModels/my-tune"), "tunedModels/my-tune");
  assert.equal(modelResource("odd?name#x"), "models/odd%3Fname%23x");
});

Deno.test("gemini provider: chat posts to :generateContent with the key in a header only", () =>
  withProvider(async (provider, mock) => {
    const result = await provider.send(
      call("chat", { messages: [{ role: "user", content: "Hi" }] }, "models/gemini-2.0-flash"),
    );
    const answer = await new Response(result.body).json();
    assert.equal(answer.choices[0].message.content, "Hello from gemini");
    const [req] = mock.requests;
    assert.equal(req?.path, "/v1beta/models/gemini-2.0-flash:generateContent");
    assert.equal(req.search, "");
    assert.equal(req.headers.get("x-goog-api-key"), "g-key");
    assert.equal(req.headers.get("authorization"), null);
  }));

Deno.test("gemini provider: target_url with the version and api_version both honoured", async () => {
  const mock = startMockGemini();
  const provider = createGeminiProvider(config({ target_url: `${mock.url}/v1beta/` }));
  const pinned = createGeminiProvider(config({ target_url: mock.url, api_version: "v1" }));
  try {
    const hi = { messages: [{ role: "user", content: "Hi" }] };
    await new Response((await provider.send(call("chat", hi))).body).text();
    await new Response((await pinned.send(call("chat", hi))).body).text();
    assert.deepEqual(mock.requests.map((r) => r.path), [
      "/v1beta/models/gemini-2.0-flash:generateContent",
      "/v1/models/gemini-2.0-flash:generateContent",
    ]);
  } finally {
    provider.close();
    pinned.close();
    await mock.close();
  }
});

Deno.test("gemini provider: streaming asks for alt=sse and relays OpenAI chunks", () =>
  withProvider(async (provider, mock) => {
    const result = await provider.send(
      call("chat", { messages: [{ role: "user", content: "Hi" }], stream: true }),
    );
    assert.equal(result.contentType, "text/event-stream");
    const text = await new Response(result.body).text();
    assert.match(text, /"content":"Hello"/);
    assert.ok(text.endsWith("data: [DONE]\n\n"));
    assert.equal(mock.requests[0]?.path, "/v1beta/models/gemini-2.0-flash:streamGenerateContent");
    assert.equal(mock.requests[0]?.search, "?alt=sse");
    assert.equal(mock.requests[0]?.headers.get("accept"), "text/event-stream");
  }));

Deno.test("gemini provider: legacy completions is a fallbackable 404 unsupported_endpoint", () =>
  withProvider(async (provider, mock) => {
    await assert.rejects(provider.send(call("completions", { prompt: "x" })), (err: unknown) => {
      assert.ok(err instanceof ProviderError);
      assert.equal(err.status, 404);
      assert.equal(err.fallbackable, true);
      assert.equal(err.retryable, false);
      assert.equal(JSON.parse(err.upstreamBody!).error.code, "unsupported_endpoint");
      return true;
    });
    assert.equal(mock.requests.length, 0);
  }));

Deno.test("gemini provider: an invalid key (Google's 400) is a 401 that falls back", () =>
  withProvider(async (provider, mock) => {
    mock.apiKey = "the-right-key";
    await assert.rejects(
      provider.send(call("chat", { messages: [{ role: "user", content: "Hi" }] })),
      (err: unknown) => {
        assert.ok(err instanceof ProviderError);
        assert.equal(err.status, 401);
        assert.equal(err.fallbackable, true);
        assert.match(JSON.parse(err.upstreamBody!).error.message, /API key not valid/);
        return true;
      },
    );
  }));

Deno.test("gemini provider: listModels follows nextPageToken and strips models/", () =>
  withProvider(async (provider, mock) => {
    mock.models = ["gemini-2.0-flash", "gemini-2.5-pro", "text-embedding-004"];
    mock.maxPageSize = 2;
    const models = await provider.listModels(new AbortController().signal);
    assert.deepEqual(models.map((m) => m.id), [
      "gemini-2.0-flash",
      "gemini-2.5-pro",
      "text-embedding-004",
    ]);
    assert.deepEqual(mock.requests.map((r) => r.search), [
      "?pageSize=1000",
      "?pageSize=1000&pageToken=2",
    ]);
    assert.equal(mock.requests[0]?.path, "/v1beta/models");
  }));

Deno.test("gemini provider: a stream that ends without finishReason errors the body", () =>
  withProvider(async (provider, mock) => {
    mock.enqueue({ type: "truncated", afterEvents: 2 });
    const result = await provider.send(
      call("chat", { messages: [{ role: "user", content: "Hi" }], stream: true }),
    );
    await assert.rejects(
      new Response(result.body).text(),
      (err: unknown) => err instanceof ProviderError && err.kind === "protocol",
    );
  }));
