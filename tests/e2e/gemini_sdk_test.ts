// The official `openai` SDK against the real gateway, which fronts a mock Gemini API (type
// gemini) on a real socket: an OpenAI client cannot tell that Gemini answers.
import assert from "node:assert/strict";
import { OpenAI } from "../support/openai.ts";
import { providerYaml, startGateway, type TestGateway } from "../support/gateway.ts";
import {
  DEFAULT_TEXT,
  embeddingValues,
  MOCK_PROMPT_TOKENS,
  type MockGemini,
  startMockGemini,
} from "../support/mock_gemini.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";
import { bodyOf, readUntilInterrupted, sdkClient } from "../support/sdk.ts";

interface Setup {
  gw: TestGateway;
  client: OpenAI;
  gemini: MockGemini;
  /** An OpenAI-compatible provider after gemini in a fallback chain. */
  beta: MockUpstream;
}

function gatewayYaml(gemini: MockGemini, beta: MockUpstream): string {
  return [
    "routing:",
    '  backoff_base: "5ms"',
    '  backoff_max: "20ms"',
    "strategies:",
    '  - name: "chain"',
    '    providers: ["gemini", "beta"]',
    "providers:",
    '  - name: "gemini"',
    '    type: "gemini"',
    `    target_url: "${gemini.url}"`,
    '    api_key: "g-test-key"',
    '    timeout: "2s"',
    "    max_retries: 1",
    providerYaml("beta", beta.url, { timeout: "2s", max_retries: 0 }),
  ].join("\n");
}

/** Starts the mocks and a gateway in front of them, runs `fn`, and always stops all three. */
async function withGateway(fn: (setup: Setup) => Promise<void>): Promise<void> {
  const gemini = startMockGemini({ apiKey: "g-test-key" });
  const beta = await startMockUpstream({ name: "beta", models: ["llama-3"] });
  let gw: TestGateway | undefined;
  try {
    gw = await startGateway(gatewayYaml(gemini, beta));
    const client = sdkClient(gw.url);
    await fn({ gw, client, gemini, beta });
  } finally {
    await gw?.close();
    await gemini.close();
    await beta.close();
  }
}

const messages = [{ role: "user" as const, content: "Say hello" }];

Deno.test("gemini SDK: chat completion comes back in OpenAI's shape", () =>
  withGateway(async ({ client, gemini, beta }) => {
    const { data, response } = await client.chat.completions
      .create({ model: "gemini/gemini-2.0-flash", messages, temperature: 0.3, max_tokens: 50 })
      .withResponse();

    assert.equal(data.object, "chat.completion");
    assert.equal(data.choices[0]?.message.role, "assistant");
    assert.equal(data.choices[0]?.message.content, DEFAULT_TEXT);
    assert.equal(data.choices[0]?.finish_reason, "stop");
    assert.equal(data.usage?.prompt_tokens, MOCK_PROMPT_TOKENS);
    assert.equal(response.headers.get("x-gateway-provider"), "gemini");
    assert.equal(beta.requests.length, 0);

    const req = gemini.requests[0]!;
    assert.equal(req.path, "/v1beta/models/gemini-2.0-flash:generateContent");
    assert.deepEqual(bodyOf(gemini, 0).generationConfig, { temperature: 0.3, maxOutputTokens: 50 });
    assert.deepEqual(bodyOf(gemini, 0).contents, [
      { role: "user", parts: [{ text: "Say hello" }] },
    ]);
  }));

Deno.test("gemini SDK: the key travels in x-goog-api-key, never in the URL or from the client", () =>
  withGateway(async ({ client, gemini }) => {
    await client.chat.completions.create({ model: "gemini/gemini-2.0-flash", messages });
    await client.embeddings.create({ model: "gemini/text-embedding-004", input: "x" });
    for (const req of gemini.requests) {
      assert.equal(req.headers.get("x-goog-api-key"), "g-test-key");
      assert.ok(!req.search.includes("key="), `key in the URL: ${req.search}`);
      for (const [name, value] of req.headers) {
        assert.ok(!value.includes("client-key"), `client key forwarded upstream in ${name}`);
      }
    }
  }));

Deno.test("gemini SDK: streaming content concatenates and include_usage adds one usage chunk", () =>
  withGateway(async ({ client, gemini }) => {
    gemini.enqueue({ type: "text", pieces: ["Hel", "lo from ", "gemini"], gapMs: 10 });
    const stream = await client.chat.completions.create({
      model: "gemini/gemini-2.0-flash",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    });
    let text = "";
    let usageChunks = 0;
    let finish: string | null = null;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      finish = chunk.choices[0]?.finish_reason ?? finish;
      if (chunk.usage) {
        usageChunks++;
        assert.deepEqual(chunk.choices, []);
        assert.equal(chunk.usage.prompt_tokens, MOCK_PROMPT_TOKENS);
        assert.equal(chunk.usage.total_tokens, MOCK_PROMPT_TOKENS + 3);
      }
    }
    assert.equal(text, "Hello from gemini");
    assert.equal(finish, "stop");
    assert.equal(usageChunks, 1);
    assert.equal(gemini.requests[0]?.path, "/v1beta/models/gemini-2.0-flash:streamGenerateContent");
    assert.equal(gemini.requests[0]?.search, "?alt=sse");
    assert.ok(!("stream_options" in bodyOf(gemini, 0)), "OpenAI-only fields leaked to Gemini");
  }));

const weatherTool = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string" }, unit: { type: "string" } },
      required: ["city"],
      additionalProperties: false,
    },
  },
};
const weatherArgs = { city: "Paris", unit: "celsius", note: 'a "quoted" word' };

Deno.test("gemini SDK: a tool call round trip reaches Gemini as functionCall / functionResponse", () =>
  withGateway(async ({ client, gemini }) => {
    gemini.enqueue({ type: "function_call", name: "get_weather", args: weatherArgs });
    const first = await client.chat.completions.create({
      model: "gemini/gemini-2.0-flash",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [weatherTool],
      tool_choice: "required",
    });
    const choice = first.choices[0]!;
    assert.equal(choice.finish_reason, "tool_calls");
    const call = choice.message.tool_calls?.[0];
    assert.ok(call?.type === "function", "no function tool call");
    assert.equal(call.function.name, "get_weather");
    assert.deepEqual(JSON.parse(call.function.arguments), weatherArgs);
    assert.deepEqual(bodyOf(gemini, 0).tools, [{
      functionDeclarations: [{
        name: "get_weather",
        description: "Current weather for a city",
        // additionalProperties is stripped: Gemini's schema dialect refuses it.
        parameters: {
          type: "object",
          properties: { city: { type: "string" }, unit: { type: "string" } },
          required: ["city"],
        },
      }],
    }]);
    assert.deepEqual(bodyOf(gemini, 0).toolConfig, { functionCallingConfig: { mode: "ANY" } });

    const second = await client.chat.completions.create({
      model: "gemini/gemini-2.0-flash",
      messages: [
        { role: "user", content: "Weather in Paris?" },
        choice.message,
        { role: "tool", tool_call_id: call.id, content: '{"temperature":21}' },
      ],
      tools: [weatherTool],
    });
    assert.equal(second.choices[0]?.message.content, DEFAULT_TEXT);
    assert.deepEqual(bodyOf(gemini, 1).contents, [
      { role: "user", parts: [{ text: "Weather in Paris?" }] },
      { role: "model", parts: [{ functionCall: { name: "get_weather", args: weatherArgs } }] },
      {
        role: "user",
        parts: [{ functionResponse: { name: "get_weather", response: { temperature: 21 } } }],
      },
    ]);
  }));

Deno.test("gemini SDK: the stream helper assembles a streamed Gemini function call", () =>
  withGateway(async ({ client, gemini }) => {
    gemini.enqueue({ type: "function_call", name: "get_weather", args: weatherArgs });
    const completion = await client.chat.completions.stream({
      model: "gemini/gemini-2.0-flash",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [weatherTool],
    }).finalChatCompletion();
    const choice = completion.choices[0];
    assert.equal(choice?.finish_reason, "tool_calls");
    const call = choice.message.tool_calls?.[0];
    assert.ok(call?.type === "function", "no function tool call");
    assert.deepEqual(JSON.parse(call.function.arguments), weatherArgs);
  }));

Deno.test("gemini SDK: embeddings (base64 by default) decode to the mock's floats", () =>
  withGateway(async ({ client, gemini }) => {
    const { data } = await client.embeddings.create({
      model: "gemini/text-embedding-004",
      input: ["first text", "second text"],
    });
    assert.equal(data.length, 2);
    assert.deepEqual(data[0]?.embedding, embeddingValues("first text"));
    assert.deepEqual(data[1]?.embedding, embeddingValues("second text"));
    assert.equal(gemini.requests[0]?.path, "/v1beta/models/text-embedding-004:batchEmbedContents");
    const requests = bodyOf(gemini, 0).requests as Record<string, unknown>[];
    assert.deepEqual(requests[1], {
      model: "models/text-embedding-004",
      content: { parts: [{ text: "second text" }] },
    });
  }));

Deno.test("gemini SDK: float embeddings with dimensions ask Gemini for outputDimensionality", () =>
  withGateway(async ({ client, gemini }) => {
    const { data } = await client.embeddings.create({
      model: "gemini/text-embedding-004",
      input: "one",
      dimensions: 4,
      encoding_format: "float",
    });
    assert.deepEqual(data[0]?.embedding, embeddingValues("one", 4));
    const requests = bodyOf(gemini, 0).requests as Record<string, unknown>[];
    assert.equal(requests[0]?.outputDimensionality, 4);
  }));

Deno.test("gemini SDK: models.list shows gemini/<id> without the models/ prefix", () =>
  withGateway(async ({ gw, client, gemini }) => {
    gemini.maxPageSize = 1; // two pages: the gateway must follow nextPageToken
    await gw.server.engine.catalog.refresh();
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    assert.ok(ids.includes("gemini/gemini-2.0-flash"), `missing from ${ids.join(", ")}`);
    assert.ok(ids.includes("gemini/text-embedding-004"), `missing from ${ids.join(", ")}`);
    assert.ok(!ids.some((id) => id.includes("models/")), `prefix kept in ${ids.join(", ")}`);
  }));

Deno.test("gemini SDK: Gemini's 400 INVALID_ARGUMENT is a BadRequestError with Google's message", () =>
  withGateway(async ({ client, gemini, beta }) => {
    const message = "* GenerateContentRequest.generation_config.temperature: must be <= 2";
    gemini.enqueue({ type: "error", status: 400, message });
    await assert.rejects(
      client.chat.completions.create({ model: "gemini/gemini-2.0-flash", messages }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError, `unexpected error: ${err}`);
        assert.equal(err.status, 400);
        assert.match(err.message, /temperature: must be <= 2/);
        assert.equal(err.code, "invalid_argument");
        return true;
      },
    );
    assert.equal(gemini.requests.length, 1);
    assert.equal(beta.requests.length, 0, "a client error must not fall back");
  }));

Deno.test("gemini SDK: a field Gemini cannot honour is a BadRequestError naming it, no upstream call", () =>
  withGateway(async ({ client, gemini }) => {
    await assert.rejects(
      client.chat.completions.create({
        model: "gemini/gemini-2.0-flash",
        messages,
        logit_bias: { "50256": -100 },
      }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError, `unexpected error: ${err}`);
        assert.equal(err.param, "logit_bias");
        return true;
      },
    );
    assert.equal(gemini.requests.length, 0);
  }));

Deno.test("gemini SDK: 429 RESOURCE_EXHAUSTED is retried, then the chain falls back to beta", () =>
  withGateway(async ({ client, gemini, beta }) => {
    const quota = { type: "error" as const, status: 429, message: "Quota exceeded" };
    gemini.enqueue(quota, quota);
    const { data, response } = await client.chat.completions
      .create({ model: "gemini/gemini-2.0-flash", messages })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, "Hello from beta");
    assert.equal(response.headers.get("x-gateway-provider"), "beta");
    assert.equal(gemini.requests.length, 2, "one try and one retry at gemini");
    assert.equal(beta.requests.length, 1);
  }));

Deno.test("gemini SDK: an invalid Gemini key (Google's 400) moves on to beta without retrying", () =>
  withGateway(async ({ client, gemini, beta }) => {
    gemini.apiKey = "some-other-key";
    const data = await client.chat.completions.create({
      model: "gemini/gemini-2.0-flash",
      messages,
    });
    assert.equal(data.choices[0]?.message.content, "Hello from beta");
    assert.equal(gemini.requests.length, 1);
    assert.equal(beta.requests.length, 1);
  }));

Deno.test("gemini SDK: an error event mid-stream ends the SDK's iteration with an APIError", () =>
  withGateway(async ({ client, gemini, beta }) => {
    gemini.enqueue({ type: "stream_error", afterEvents: 2, message: "The model is overloaded." });
    const stream = await client.chat.completions.create({
      model: "gemini/gemini-2.0-flash",
      messages,
      stream: true,
    });
    const text = await readUntilInterrupted(stream, /overloaded/);
    assert.equal(text, "piece 0 piece 1 ");
    assert.equal(beta.requests.length, 0, "no fallback once the stream had started");
  }));

Deno.test("gemini SDK: legacy completions falls back along the chain (Gemini has none)", () =>
  withGateway(async ({ client, gemini, beta }) => {
    const completion = await client.completions.create({
      model: "gemini/gemini-2.0-flash",
      prompt: "Say hello",
    });
    assert.equal(gemini.requests.length, 0);
    assert.equal(beta.requests.length, 1);
    assert.ok(completion.choices.length > 0);
  }));
