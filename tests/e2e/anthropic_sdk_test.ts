// The official `openai` SDK against the real gateway fronting a mock Anthropic API (and an
// OpenAI mock behind it in a chain): an OpenAI client must not tell that Claude answered.
import assert from "node:assert/strict";
import { OpenAI } from "../support/openai.ts";
import { startGateway, type TestGateway } from "../support/gateway.ts";
import {
  type AnthropicScenario,
  MOCK_INPUT_TOKENS,
  type MockAnthropic,
  startMockAnthropic,
} from "../support/mock_anthropic.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";
import { bodyOf, readUntilInterrupted, sdkClient } from "../support/sdk.ts";

/** Everything one test talks to. */
interface Setup {
  gw: TestGateway;
  client: OpenAI;
  claude: MockAnthropic;
  openai: MockUpstream;
}

/** Anthropic is tried twice (one retry) before the chain moves on to openai. */
const ANTHROPIC_ATTEMPTS = 2;
const MODEL = "claude-sonnet-4-5";

function gatewayYaml(claude: MockAnthropic, openai: MockUpstream): string {
  return `
routing:
  backoff_base: "5ms"
  backoff_max: "20ms"
strategies:
  - name: "claude_chain"
    providers: ["anthropic", "openai"]
providers:
  - name: "anthropic"
    type: "anthropic"
    target_url: "${claude.url}"
    api_key: "sk-ant-test"
    timeout: "2s"
    max_retries: ${ANTHROPIC_ATTEMPTS - 1}
    default_max_tokens: 1024
  - name: "openai"
    target_url: "${openai.url}"
    api_key: "sk-openai-secret"
    max_retries: 0
`;
}

async function withGateway(
  fn: (setup: Setup) => Promise<void>,
  options: { maxPageSize?: number; models?: string[] } = {},
): Promise<void> {
  const claude = startMockAnthropic({ name: "claude", ...options });
  const openai = await startMockUpstream({ name: "openai", models: ["gpt-4o-mini"] });
  let gw: TestGateway | undefined;
  try {
    gw = await startGateway(gatewayYaml(claude, openai));
    const client = sdkClient(gw.url);
    await fn({ gw, client, claude, openai });
  } finally {
    await gw?.close();
    await claude.close();
    await openai.close();
  }
}

function repeat(scenario: AnthropicScenario, times: number): AnthropicScenario[] {
  return Array.from({ length: times }, () => scenario);
}

const messages = [
  { role: "system" as const, content: "Be brief." },
  { role: "user" as const, content: "Say hello" },
];

Deno.test("SDK chat completion from Claude looks like OpenAI's and carries Anthropic's headers", () =>
  withGateway(async ({ client, claude, openai }) => {
    const { data, response } = await client.chat.completions
      .create({ model: `anthropic/${MODEL}`, messages })
      .withResponse();

    assert.equal(data.object, "chat.completion");
    assert.equal(data.choices[0]?.message.content, "Hello from claude");
    assert.equal(data.choices[0]?.finish_reason, "stop");
    assert.equal(data.usage?.prompt_tokens, MOCK_INPUT_TOKENS);
    assert.equal(response.headers.get("x-gateway-provider"), "anthropic");
    assert.equal(openai.requests.length, 0);

    const sent = claude.requests[0]!;
    assert.equal(sent.path, "/v1/messages");
    assert.equal(sent.headers.get("x-api-key"), "sk-ant-test");
    assert.equal(sent.headers.get("anthropic-version"), "2023-06-01");
    assert.equal(sent.headers.get("authorization"), null, "no Bearer key for Anthropic");
    const body = bodyOf(claude, 0);
    assert.equal(body.model, MODEL);
    assert.equal(body.max_tokens, 1024, "the provider's default_max_tokens");
    assert.equal(body.system, "Be brief.");
    assert.deepEqual(body.messages, [{
      role: "user",
      content: [{ type: "text", text: "Say hello" }],
    }]);
  }));

Deno.test("SDK streaming from Claude concatenates, finishes with stop and gets one usage chunk", () =>
  withGateway(async ({ client, claude }) => {
    claude.enqueue({ type: "text", pieces: ["Bon", "jour", " !"], gapMs: 10 });
    const stream = await client.chat.completions.create({
      model: `anthropic/${MODEL}`,
      messages,
      max_tokens: 64,
      stream: true,
      stream_options: { include_usage: true },
    });

    let text = "";
    const finishes: string[] = [];
    const usages: OpenAI.CompletionUsage[] = [];
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.choices[0]?.finish_reason) finishes.push(chunk.choices[0].finish_reason);
      if (chunk.usage) usages.push(chunk.usage);
    }
    assert.equal(text, "Bonjour !");
    assert.deepEqual(finishes, ["stop"]);
    assert.equal(usages.length, 1);
    assert.equal(usages[0]!.prompt_tokens, MOCK_INPUT_TOKENS);
    assert.equal(usages[0]!.completion_tokens, 3);
    const body = bodyOf(claude, 0);
    assert.equal(body.stream, true);
    assert.equal(body.max_tokens, 64);
    assert.ok(!("stream_options" in body), "stream_options is OpenAI's, not Anthropic's");
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
    },
  },
};
const toolInput = { city: "Paris", unit: "celsius", note: 'a "quoted" word' };

Deno.test("SDK tool call round trip: streamed arguments reassemble, the result reaches Claude", () =>
  withGateway(async ({ client, claude }) => {
    claude.enqueue({ type: "tool_use", name: "get_weather", input: toolInput, pieces: 5 });
    const question = { role: "user" as const, content: "Weather in Paris?" };
    const completion = await client.chat.completions.stream({
      model: `anthropic/${MODEL}`,
      messages: [question],
      tools: [weatherTool],
    }).finalChatCompletion();

    const choice = completion.choices[0]!;
    assert.equal(choice.finish_reason, "tool_calls");
    assert.equal(choice.message.tool_calls?.length, 1);
    const call = choice.message.tool_calls![0]!;
    assert.ok(call.type === "function");
    assert.equal(call.function.name, "get_weather");
    assert.deepEqual(JSON.parse(call.function.arguments), toolInput);
    assert.deepEqual(bodyOf(claude, 0).tools, [{
      name: "get_weather",
      description: "Current weather for a city",
      input_schema: weatherTool.function.parameters,
    }]);

    const followUp = await client.chat.completions.create({
      model: `anthropic/${MODEL}`,
      messages: [
        question,
        choice.message,
        { role: "tool", tool_call_id: call.id, content: '{"temperature":21}' },
      ],
      tools: [weatherTool],
    });
    assert.equal(followUp.choices[0]?.message.content, "Hello from claude");
    const sent = bodyOf(claude, 1).messages as { role: string; content: unknown[] }[];
    assert.deepEqual(sent[1]?.content, [{
      type: "tool_use",
      id: call.id,
      name: "get_weather",
      input: toolInput,
    }]);
    assert.deepEqual(sent[2], {
      role: "user",
      content: [{ type: "tool_result", tool_use_id: call.id, content: '{"temperature":21}' }],
    });
  }));

Deno.test("SDK models.list shows Claude's models as anthropic/<id>, every page of them", () =>
  withGateway(async ({ gw, client, claude }) => {
    await gw.server.engine.catalog.refresh();
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    for (
      const id of [
        "anthropic/claude-opus-4-1",
        "anthropic/claude-sonnet-4-5",
        "anthropic/claude-haiku-4-5",
        "openai/gpt-4o-mini",
      ]
    ) {
      assert.ok(ids.includes(id), `${id} missing from ${ids.join(", ")}`);
    }
    const pages = claude.requests.filter((r) => r.path === "/v1/models");
    assert.equal(pages.length, 3, "one request per page of one model");
    assert.equal(new URLSearchParams(pages[1]!.search).get("after_id"), "claude-opus-4-1");
  }, { maxPageSize: 1, models: ["claude-opus-4-1", MODEL, "claude-haiku-4-5"] }));

Deno.test("SDK request falls back to the OpenAI provider while Anthropic is overloaded (529)", () =>
  withGateway(async ({ client, claude, openai }) => {
    claude.enqueue(
      ...repeat({ type: "error", status: 529, message: "Overloaded" }, ANTHROPIC_ATTEMPTS),
    );
    const { data, response } = await client.chat.completions
      .create({ model: `anthropic/${MODEL}`, messages })
      .withResponse();
    assert.equal(data.choices[0]?.message.content, "Hello from openai");
    assert.equal(response.headers.get("x-gateway-provider"), "openai");
    assert.equal(claude.requests.length, ANTHROPIC_ATTEMPTS, "529 is retried before moving on");
    assert.equal(bodyOf(openai, 0).model, MODEL);
  }));

Deno.test("SDK stream falls back when Anthropic's first event is an overloaded error", () =>
  withGateway(async ({ client, claude, openai }) => {
    claude.enqueue(...repeat({ type: "stream_error", afterEvents: 0 }, ANTHROPIC_ATTEMPTS));
    const stream = await client.chat.completions.create({
      model: `anthropic/${MODEL}`,
      messages,
      stream: true,
    });
    let text = "";
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    assert.equal(text, "Hello from openai");
    assert.equal(openai.requests.length, 1);
  }));

Deno.test("SDK stream iteration throws when Anthropic sends an error event mid-stream", () =>
  withGateway(async ({ client, claude, openai }) => {
    // message_start, content_block_start, ping, one text delta, then the error event.
    claude.enqueue({ type: "stream_error", afterEvents: 4, message: "Overloaded right now" });
    const stream = await client.chat.completions.create({
      model: `anthropic/${MODEL}`,
      messages,
      stream: true,
    });
    const text = await readUntilInterrupted(stream, /Overloaded right now/);
    assert.equal(text, "Hello from claude", "the content before the error reached the client");
    assert.equal(openai.requests.length, 0, "no fallback once the stream had started");
  }));

Deno.test("SDK gets Anthropic's 400 as a BadRequestError with Anthropic's message", () =>
  withGateway(async ({ client, claude, openai }) => {
    claude.enqueue({ type: "error", status: 400, message: "messages.0: prompt is too long" });
    await assert.rejects(
      client.chat.completions.create({ model: `anthropic/${MODEL}`, messages }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError, `unexpected error: ${err}`);
        assert.equal(err.status, 400);
        assert.match(err.message, /messages\.0: prompt is too long/);
        assert.equal(err.code, "invalid_request_error");
        return true;
      },
    );
    assert.equal(claude.requests.length, 1);
    assert.equal(openai.requests.length, 0);
  }));

Deno.test("SDK gets a 400 naming n when it asks Claude for two choices; Anthropic is not called", () =>
  withGateway(async ({ client, claude }) => {
    await assert.rejects(
      client.chat.completions.create({ model: `anthropic/${MODEL}`, messages, n: 2 }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError, `unexpected error: ${err}`);
        assert.equal(err.param, "n");
        assert.equal(err.code, "unsupported_parameter");
        return true;
      },
    );
    assert.equal(claude.requests.length, 0);
  }));

Deno.test("SDK embeddings through the chain skip Anthropic (chat only) and reach openai", () =>
  withGateway(async ({ client, claude, openai }) => {
    const { response } = await client.embeddings
      .create({ model: "anthropic/text-embedding-3-small", input: "hello" })
      .withResponse();
    assert.equal(response.headers.get("x-gateway-provider"), "openai");
    assert.equal(claude.requests.length, 0);
    assert.equal(openai.requests.length, 1);
  }));
