// The official `@anthropic-ai/sdk` against the real gateway's Messages API: natively to a mock
// Anthropic API, translated to a mock OpenAI server and a mock Gemini API, tool use, fallback
// across dialects, token counts and errors, each as the SDK shows it to its user.
import assert from "node:assert/strict";
import Anthropic from "npm:@anthropic-ai/sdk@^1.16.0";
import { startGateway, type TestGateway } from "../support/gateway.ts";
import {
  MOCK_COUNTED_TOKENS,
  MOCK_INPUT_TOKENS,
  type MockAnthropic,
  startMockAnthropic,
} from "../support/mock_anthropic.ts";
import { DEFAULT_TEXT, type MockGemini, startMockGemini } from "../support/mock_gemini.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";
import { bodyOf } from "../support/sdk.ts";

/** Everything one test talks to. */
interface Setup {
  gw: TestGateway;
  /** An SDK client with the key of a caller in group "staff". */
  client: Anthropic;
  claude: MockAnthropic;
  openai: MockUpstream;
  gemini: MockGemini;
}

const STAFF_KEY = "gw-staff-key-0123456789";
const GUEST_KEY = "gw-guest-key-0123456789";
const CLAUDE = "claude/claude-sonnet-4-5";

/** Anthropic-type `claude` chained to OpenAI-type `openai`; Gemini-type `gemini`; keys on. */
function gatewayYaml(setup: Omit<Setup, "gw" | "client">, extra: string): string {
  return `
routing:
  backoff_base: "5ms"
  backoff_max: "20ms"
auth:
  enabled: true
  keys:
    - name: "staff"
      key: "${STAFF_KEY}"
      groups: ["staff"]
    - name: "guest"
      key: "${GUEST_KEY}"
      groups: ["guests"]
strategies:
  - name: "claude_chain"
    providers: ["claude", "openai"]
providers:
  - name: "claude"
    type: "anthropic"
    target_url: "${setup.claude.url}"
    api_key: "sk-ant-upstream"
    timeout: "5s"
    max_retries: 0
    models:
      - name: "claude-opus-4-1"
        allowed_groups: ["staff"]
  - name: "openai"
    target_url: "${setup.openai.url}"
    api_key: "sk-openai-upstream"
    timeout: "5s"
    max_retries: 0
  - name: "gemini"
    type: "gemini"
    target_url: "${setup.gemini.url}"
    api_key: "g-test-key"
    timeout: "5s"
    max_retries: 0
${extra}`;
}

/** An SDK client for the gateway; retries off so each test sees every answer. */
function anthropicClient(url: string, apiKey = STAFF_KEY): Anthropic {
  return new Anthropic({ baseURL: url, apiKey, maxRetries: 0 });
}

/** Starts the mocks and a gateway in front of them, runs `fn`, and always stops them all. */
async function withGateway(
  fn: (setup: Setup) => Promise<void>,
  options: { extraYaml?: string } = {},
): Promise<void> {
  const claude = startMockAnthropic({ name: "claude" });
  const openai = await startMockUpstream({ name: "openai", models: ["gpt-4o"] });
  const gemini = startMockGemini({ apiKey: "g-test-key" });
  let gw: TestGateway | undefined;
  try {
    gw = await startGateway(gatewayYaml({ claude, openai, gemini }, options.extraYaml ?? ""));
    await fn({ gw, client: anthropicClient(gw.url), claude, openai, gemini });
  } finally {
    await gw?.close();
    await claude.close();
    await openai.close();
    await gemini.close();
  }
}

/** The text of a Messages response's text blocks. */
function textOf(message: { content: readonly { type: string; text?: string }[] }): string {
  return message.content.map((b) => b.type === "text" ? b.text : "").join("");
}

/** A request with every field an Anthropic client may rely on, to go through untouched. */
function nativeRequest(model: string) {
  return {
    model,
    max_tokens: 1024,
    system: [
      {
        type: "text" as const,
        text: "You are terse.",
        cache_control: { type: "ephemeral" as const },
      },
    ],
    messages: [{
      role: "user" as const,
      content: [{
        type: "text" as const,
        text: "Say hello",
        cache_control: { type: "ephemeral" as const, ttl: "5m" as const },
      }],
    }],
    thinking: { type: "enabled" as const, budget_tokens: 2048 },
    metadata: { user_id: "user-1234" },
    top_k: 5,
    stop_sequences: ["\n\nHuman:"],
  };
}

const BETAS = "interleaved-thinking-2025-05-14,context-management-2025-06-27";

/** Asserts the mock received `sent` with only `model` changed, and the provider's key. */
function assertPassedThrough(claude: MockAnthropic, sent: Record<string, unknown>): void {
  const got = claude.requests[0]!;
  assert.equal(got.path, "/v1/messages");
  assert.deepEqual(bodyOf(claude, 0), { ...sent, model: "claude-sonnet-4-5" });
  assert.equal(got.headers.get("x-api-key"), "sk-ant-upstream", "the provider's key, not ours");
  assert.equal(got.headers.get("authorization"), null);
  assert.equal(got.headers.get("anthropic-beta"), BETAS);
  assert.equal(got.headers.get("anthropic-version"), "2023-01-01");
}

Deno.test("messages.create to an Anthropic provider passes the request through untouched", () =>
  withGateway(async ({ client, claude, openai }) => {
    const request = nativeRequest(CLAUDE);
    const { data, response } = await client.messages
      .create(request, {
        headers: { "anthropic-beta": BETAS, "anthropic-version": "2023-01-01" },
      })
      .withResponse();

    assert.equal(textOf(data), "Hello from claude");
    assert.equal(data.stop_reason, "end_turn");
    assert.equal(data.usage.input_tokens, MOCK_INPUT_TOKENS);
    assert.equal(response.headers.get("x-gateway-provider"), "claude");
    assertPassedThrough(claude, request);
    assert.equal(openai.requests.length, 0);
  }));

Deno.test("beta.messages.stream to an Anthropic provider relays the events; usage is counted", async () => {
  let logs: Record<string, unknown>[] = [];
  await withGateway(async ({ gw, client, claude }) => {
    claude.enqueue({ type: "text", pieces: ["Bon", "jour", " !"], oneWrite: true });
    const request = nativeRequest(CLAUDE);
    // The beta namespace sends its betas as anthropic-beta, to /v1/messages?beta=true.
    const stream = client.beta.messages.stream({ ...request, betas: BETAS.split(",") }, {
      headers: { "anthropic-version": "2023-01-01" },
    });
    const deltas: string[] = [];
    stream.on("text", (delta) => deltas.push(delta));
    const message = await stream.finalMessage();

    assert.deepEqual(deltas, ["Bon", "jour", " !"]);
    assert.equal(textOf(message), "Bonjour !");
    assert.equal(message.usage.input_tokens, MOCK_INPUT_TOKENS);
    assertPassedThrough(claude, { ...request, stream: true });
    logs = gw.logs;
  });
  const line = logs.find((l) => l["url.path"] === "/v1/messages");
  assert.equal(line?.["gateway.usage.prompt_tokens"], MOCK_INPUT_TOKENS, "input tokens counted");
  assert.equal(line?.["gateway.usage.completion_tokens"], 3);
});

Deno.test("messages.create and stream through an OpenAI provider: the SDK reads its text", () =>
  withGateway(async ({ client, claude, openai }) => {
    const question = {
      model: "openai/gpt-4o",
      max_tokens: 256,
      system: "Be brief.",
      messages: [{ role: "user" as const, content: "Say hello" }],
    };
    const { data, response } = await client.messages.create(question).withResponse();
    assert.equal(data.type, "message");
    assert.equal(data.role, "assistant");
    assert.equal(data.model, "openai/gpt-4o");
    assert.equal(textOf(data), "Hello from openai");
    assert.equal(data.stop_reason, "end_turn");
    assert.ok(data.usage.input_tokens > 0);
    assert.equal(response.headers.get("x-gateway-provider"), "openai");

    const sent = openai.requests[0]!;
    assert.equal(sent.path, "/v1/chat/completions");
    assert.equal(sent.headers.get("authorization"), "Bearer sk-openai-upstream");
    assert.equal(sent.headers.get("x-api-key"), null, "the client's key stays at the gateway");
    assert.deepEqual(bodyOf(openai, 0).messages, [
      { role: "system", content: "Be brief." },
      { role: "user", content: "Say hello" },
    ]);

    openai.enqueue({ type: "stream", pieces: ["Hel", "lo", " there"] });
    const stream = client.messages.stream(question);
    const deltas: string[] = [];
    stream.on("text", (delta) => deltas.push(delta));
    const message = await stream.finalMessage();
    assert.deepEqual(deltas, ["Hel", "lo", " there"]);
    assert.equal(textOf(message), "Hello there");
    assert.equal(message.stop_reason, "end_turn");
    assert.equal(bodyOf(openai, 1).stream, true);
    assert.equal(claude.requests.length, 0);
  }));

Deno.test("messages.create and stream through a Gemini provider: the SDK reads its text", () =>
  withGateway(async ({ client, gemini }) => {
    const question = {
      model: "gemini/gemini-2.0-flash",
      max_tokens: 256,
      messages: [{ role: "user" as const, content: "Say hello" }],
    };
    const data = await client.messages.create(question);
    assert.equal(textOf(data), DEFAULT_TEXT);
    assert.equal(data.stop_reason, "end_turn");

    const stream = client.messages.stream(question);
    const deltas: string[] = [];
    stream.on("text", (delta) => deltas.push(delta));
    const message = await stream.finalMessage();
    assert.equal(textOf(message), DEFAULT_TEXT);
    assert.ok(deltas.length > 1, `the text arrived in pieces: ${JSON.stringify(deltas)}`);
    assert.equal(deltas.join(""), DEFAULT_TEXT);
    assert.equal(gemini.requests[0]?.path, "/v1beta/models/gemini-2.0-flash:generateContent");
    assert.match(gemini.requests[1]!.path, /:streamGenerateContent$/);
  }));

const weatherTool = {
  name: "get_weather",
  description: "Current weather for a city",
  input_schema: {
    type: "object" as const,
    properties: { city: { type: "string" }, unit: { type: "string" } },
    required: ["city"],
  },
};
const toolInput = { city: "Paris", unit: "celsius", note: 'a "quoted" word' };
const weatherQuestion = { role: "user" as const, content: "Weather in Paris?" };

/** Asks for the weather (streamed or not) and returns the answer and the input's pieces. */
async function askForTool(
  client: Anthropic,
  model: string,
  stream: boolean,
): Promise<{ message: Anthropic.Message; pieces: string[] }> {
  const request = { model, max_tokens: 512, messages: [weatherQuestion], tools: [weatherTool] };
  if (!stream) return { message: await client.messages.create(request), pieces: [] };
  const pieces: string[] = [];
  const events = client.messages.stream(request);
  events.on("inputJson", (partial) => pieces.push(partial));
  return { message: await events.finalMessage(), pieces };
}

/** Sends the tool's result back after `message` asked for it; returns the answer. */
function sendToolResult(
  client: Anthropic,
  model: string,
  message: Anthropic.Message,
  toolUseId: string,
): Promise<Anthropic.Message> {
  return client.messages.create({
    model,
    max_tokens: 512,
    tools: [weatherTool],
    messages: [
      weatherQuestion,
      { role: "assistant", content: message.content },
      {
        role: "user",
        content: [{ type: "tool_result", tool_use_id: toolUseId, content: '{"temperature":21}' }],
      },
    ],
  });
}

/** The one tool_use block of an answer, checked against what the model was scripted to send. */
function toolUseOf(message: Anthropic.Message): Anthropic.ToolUseBlock {
  assert.equal(message.stop_reason, "tool_use");
  const uses = message.content.filter((b): b is Anthropic.ToolUseBlock => b.type === "tool_use");
  assert.equal(uses.length, 1);
  assert.equal(uses[0]!.name, "get_weather");
  assert.deepEqual(uses[0]!.input, toolInput);
  return uses[0]!;
}

for (const stream of [false, true]) {
  const how = stream ? "streamed" : "not streamed";

  Deno.test(`tool use round trip with an Anthropic provider, ${how}`, () =>
    withGateway(async ({ client, claude }) => {
      claude.enqueue({ type: "tool_use", name: "get_weather", input: toolInput, pieces: 5 });
      const { message, pieces } = await askForTool(client, CLAUDE, stream);
      const use = toolUseOf(message);
      if (stream) {
        assert.ok(pieces.filter((p) => p !== "").length >= 5, `pieces: ${pieces}`);
        assert.deepEqual(JSON.parse(pieces.join("")), toolInput);
      }
      assert.deepEqual(bodyOf(claude, 0).tools, [weatherTool]);

      const answer = await sendToolResult(client, CLAUDE, message, use.id);
      assert.equal(textOf(answer), "Hello from claude");
      const sent = bodyOf(claude, 1).messages as { role: string; content: unknown[] }[];
      assert.deepEqual(sent[1]?.content, message.content);
      assert.deepEqual(sent[2]?.content, [
        { type: "tool_result", tool_use_id: use.id, content: '{"temperature":21}' },
      ]);
    }));

  Deno.test(`tool use round trip through an OpenAI provider, ${how}`, () =>
    withGateway(async ({ client, openai }) => {
      const call = { name: "get_weather", arguments: JSON.stringify(toolInput) };
      openai.enqueue({ type: "ok", toolCall: call });
      const { message, pieces } = await askForTool(client, "openai/gpt-4o", stream);
      const use = toolUseOf(message);
      if (stream) {
        assert.ok(pieces.filter((p) => p !== "").length >= 2, `pieces: ${pieces}`);
        assert.deepEqual(JSON.parse(pieces.join("")), toolInput);
      }
      assert.deepEqual(bodyOf(openai, 0).tools, [{
        type: "function",
        function: {
          name: "get_weather",
          parameters: weatherTool.input_schema,
          description: weatherTool.description,
        },
      }]);

      const answer = await sendToolResult(client, "openai/gpt-4o", message, use.id);
      assert.equal(textOf(answer), "Hello from openai");
      const sent = bodyOf(openai, 1).messages as Record<string, unknown>[];
      assert.deepEqual(sent[1], {
        role: "assistant",
        content: null,
        tool_calls: [{
          id: use.id,
          type: "function",
          function: { name: "get_weather", arguments: JSON.stringify(toolInput) },
        }],
      });
      assert.deepEqual(sent[2], {
        role: "tool",
        tool_call_id: use.id,
        content: '{"temperature":21}',
      });
    }));

  Deno.test(`an Anthropic 500 falls back to the OpenAI provider, ${how}`, () =>
    withGateway(async ({ client, claude, openai }) => {
      claude.enqueue({ type: "error", status: 500, message: "Internal server error" });
      const request = {
        model: CLAUDE,
        max_tokens: 256,
        messages: [{ role: "user" as const, content: "Say hello" }],
      };
      const message = stream
        ? await client.messages.stream(request).finalMessage()
        : await client.messages.create(request);
      assert.equal(textOf(message), "Hello from openai");
      assert.equal(message.stop_reason, "end_turn");
      assert.equal(claude.requests.length, 1);
      assert.equal(openai.requests.length, 1);
      assert.equal(bodyOf(openai, 0).model, "claude-sonnet-4-5");
      assert.equal(bodyOf(openai, 0).stream, stream ? true : undefined);
    }));
}

Deno.test("count_tokens is Anthropic's count natively, and an estimate elsewhere", () =>
  withGateway(async ({ client, claude, openai }) => {
    const request = {
      system: "Be brief.",
      messages: [{ role: "user" as const, content: "Count the tokens of this sentence, please." }],
      tools: [weatherTool],
    };
    const native = await client.messages.countTokens({ model: CLAUDE, ...request }).withResponse();
    assert.equal(native.data.input_tokens, MOCK_COUNTED_TOKENS);
    assert.equal(native.response.headers.get("x-gateway-token-estimate"), null);
    assert.equal(claude.requests[0]?.path, "/v1/messages/count_tokens");
    assert.deepEqual(bodyOf(claude, 0), { model: "claude-sonnet-4-5", ...request });
    assert.equal(claude.requests[0]?.headers.get("x-api-key"), "sk-ant-upstream");

    const estimate = await client.messages.countTokens({ model: "openai/gpt-4o", ...request })
      .withResponse();
    assert.equal(estimate.response.headers.get("x-gateway-token-estimate"), "true");
    assert.ok(
      estimate.data.input_tokens > 10 && estimate.data.input_tokens < 200,
      `an estimate in the right range: ${estimate.data.input_tokens}`,
    );
    assert.equal(openai.requests.length, 0);
  }));

/** Asserts that `promise` rejects with the SDK's `type` of error carrying the gateway's words. */
async function assertSdkError(
  promise: Promise<unknown>,
  type: new (...args: never[]) => InstanceType<typeof Anthropic.APIError>,
  expected: { status: number; errorType: string; message: RegExp },
): Promise<void> {
  await assert.rejects(promise, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${err}`);
    assert.equal(err.status, expected.status);
    // The SDK's message is the status and the body; its `error` is the body, parsed.
    assert.ok(err.message.startsWith(`${expected.status} `), err.message);
    const body = err.error as { type?: string; error?: { type?: string; message?: string } };
    assert.equal(body?.type, "error");
    assert.equal(body?.error?.type, expected.errorType);
    assert.match(body?.error?.message ?? "", expected.message);
    return true;
  });
}

const hello = { max_tokens: 64, messages: [{ role: "user" as const, content: "Say hello" }] };

Deno.test("errors reach the SDK as its typed exceptions with the gateway's message", () =>
  withGateway(async ({ gw, client, claude }) => {
    await assertSdkError(
      anthropicClient(gw.url, "not-a-gateway-key").messages.create({ model: CLAUDE, ...hello }),
      Anthropic.AuthenticationError,
      { status: 401, errorType: "authentication_error", message: /key/i },
    );
    await assertSdkError(
      anthropicClient(gw.url, GUEST_KEY).messages.create({
        model: "claude/claude-opus-4-1",
        ...hello,
      }),
      Anthropic.PermissionDeniedError,
      {
        status: 403,
        errorType: "permission_error",
        message: /model "claude\/claude-opus-4-1" is not available to caller "guest"/,
      },
    );
    await assertSdkError(
      client.messages.create({ model: "nope/x", ...hello }),
      Anthropic.NotFoundError,
      { status: 404, errorType: "not_found_error", message: /provider "nope" is not configured/ },
    );
    await assertSdkError(
      client.messages.stream({ model: "nope/x", ...hello }).finalMessage(),
      Anthropic.NotFoundError,
      { status: 404, errorType: "not_found_error", message: /provider "nope" is not configured/ },
    );
    assert.equal(claude.requests.length, 0, "no refused request went upstream");
  }));

Deno.test("a provider's refusal reaches the SDK as a BadRequestError with its words", () =>
  withGateway(async ({ client, claude, openai }) => {
    claude.enqueue({ type: "error", status: 400, message: "messages.0: prompt is too long" });
    await assertSdkError(
      client.messages.stream({ model: CLAUDE, ...hello }).finalMessage(),
      Anthropic.BadRequestError,
      { status: 400, errorType: "invalid_request_error", message: /prompt is too long/ },
    );
    assert.equal(openai.requests.length, 0, "a refusal is not a reason to fall back");

    openai.enqueue({ type: "error", status: 400, message: "This model's maximum context is 128k" });
    await assertSdkError(
      client.messages.create({ model: "openai/gpt-4o", ...hello }),
      Anthropic.BadRequestError,
      { status: 400, errorType: "invalid_request_error", message: /maximum context is 128k/ },
    );
  }));

Deno.test("a rate limit of one request per window raises RateLimitError on the second", () =>
  withGateway(async ({ client }) => {
    await client.messages.create({ model: CLAUDE, ...hello });
    await assertSdkError(
      client.messages.create({ model: CLAUDE, ...hello }),
      Anthropic.RateLimitError,
      { status: 429, errorType: "rate_limit_error", message: /rate limit exceeded: 1 requests/ },
    );
  }, {
    extraYaml: `
ratelimit:
  enabled: true
  default:
    requests: 1
    window: "1m"
`,
  }));

/** Reads a stream with the SDK's raw iterator, expecting it to raise; returns the text before. */
async function readUntilRaised(
  client: Anthropic,
  model: string,
  message: RegExp,
): Promise<string> {
  let text = "";
  await assert.rejects(
    (async () => {
      const events = await client.messages.create({ model, ...hello, stream: true });
      for await (const event of events) {
        if (event.type === "content_block_delta" && event.delta.type === "text_delta") {
          text += event.delta.text;
        }
      }
    })(),
    (err: unknown) => {
      assert.ok(err instanceof Anthropic.APIError, `unexpected error: ${err}`);
      assert.match(err.message, message);
      return true;
    },
  );
  return text;
}

Deno.test("an Anthropic stream that breaks mid-way raises in the SDK, not a clean end", () =>
  withGateway(async ({ client, claude, openai }) => {
    // message_start, content_block_start, ping, one text delta, then the error event.
    claude.enqueue({ type: "stream_error", afterEvents: 4, message: "Overloaded right now" });
    const text = await readUntilRaised(client, CLAUDE, /Overloaded right now/);
    assert.equal(text, "Hello from claude", "what came before the break reached the client");

    claude.enqueue({ type: "stream_error", afterEvents: 4, message: "Overloaded again" });
    await assert.rejects(
      client.messages.stream({ model: CLAUDE, ...hello }).finalMessage(),
      (err: unknown) => err instanceof Anthropic.APIError && /Overloaded again/.test(err.message),
    );

    // The same events, then the connection ends without message_stop.
    claude.enqueue({ type: "truncated", afterEvents: 4 });
    await readUntilRaised(client, CLAUDE, /claude\/claude-sonnet-4-5 failed after it started/);
    assert.equal(openai.requests.length, 0, "no fallback once the stream had started");
  }));

Deno.test("an OpenAI stream cut off mid-way raises in the SDK, not a clean end", () =>
  withGateway(async ({ client, openai }) => {
    openai.enqueue({ type: "stream", pieces: ["Hel", "lo", " there"], breakAfter: 2 });
    const text = await readUntilRaised(client, "openai/gpt-4o", /openai\/gpt-4o/);
    assert.equal(text, "Hello");
  }));
