import assert from "node:assert/strict";
import { ProviderError } from "../../../src/core/errors.ts";
import {
  finishReason,
  fromAnthropicResponse,
  parseModelPage,
  toOpenAIError,
} from "../../../src/providers/anthropic/response.ts";

async function fixture(name: string): Promise<unknown> {
  const url = new URL(`../../testdata/anthropic/${name}`, import.meta.url);
  return JSON.parse(await Deno.readTextFile(url));
}

Deno.test("a text message becomes a chat.completion with joined text and cache-aware usage", async () => {
  const completion = fromAnthropicResponse(await fixture("message_text.json"), "fallback");
  const { created, ...rest } = completion;
  assert.equal(typeof created, "number");
  assert.deepEqual(rest, {
    id: "chatcmpl-013Zva2CMHLNnXjNJJKqJ2EF",
    object: "chat.completion",
    model: "claude-sonnet-4-5-20250929",
    choices: [{
      index: 0,
      message: {
        role: "assistant",
        content: "Hi! My name is Claude. How can I help?",
        refusal: null,
      },
      logprobs: null,
      finish_reason: "stop",
    }],
    usage: {
      // input 2095 + cache writes 100 + cache reads 1000: OpenAI counts the whole prompt.
      prompt_tokens: 3195,
      completion_tokens: 503,
      total_tokens: 3698,
      prompt_tokens_details: { cached_tokens: 1000 },
    },
  });
});

Deno.test("a tool_use message becomes tool_calls with the input as JSON text", async () => {
  const completion = fromAnthropicResponse(await fixture("message_tool_use.json"), "m");
  const choice = (completion.choices as Record<string, unknown>[])[0]!;
  assert.equal(choice.finish_reason, "tool_calls");
  assert.deepEqual(choice.message, {
    role: "assistant",
    content: "I'll check the weather.",
    refusal: null,
    tool_calls: [{
      id: "toolu_01A09q90qw90lq917835lq9",
      type: "function",
      function: {
        name: "get_weather",
        arguments: '{"location":"San Francisco, CA","unit":"celsius"}',
      },
    }],
  });
});

Deno.test("a tool call without text has null content, as OpenAI sends it", () => {
  const completion = fromAnthropicResponse({
    id: "msg_1",
    content: [{ type: "tool_use", id: "toolu_1", name: "f", input: {} }],
    stop_reason: "tool_use",
    usage: { input_tokens: 1, output_tokens: 2 },
  }, "claude-x");
  const choice = (completion.choices as Record<string, Record<string, unknown>>[])[0]!;
  assert.equal(choice.message!.content, null);
  assert.equal(completion.model, "claude-x", "the requested model stands in when none is named");
});

Deno.test("stop reasons map to OpenAI finish reasons", () => {
  assert.equal(finishReason("end_turn"), "stop");
  assert.equal(finishReason("stop_sequence"), "stop");
  assert.equal(finishReason("max_tokens"), "length");
  assert.equal(finishReason("tool_use"), "tool_calls");
  assert.equal(finishReason("refusal"), "content_filter");
  assert.equal(finishReason("pause_turn"), "stop");
  assert.equal(finishReason(null), null);
});

Deno.test("an answer that is not a message is a protocol error (the provider's fault)", () => {
  assert.throws(
    () => fromAnthropicResponse({ type: "error" }, "m"),
    (err: unknown) => err instanceof ProviderError && err.kind === "protocol" && err.fallbackable,
  );
});

Deno.test("Anthropic error bodies become OpenAI ones with the message and status kept", () => {
  const cases: [number, string, string][] = [
    [400, "invalid_request_error", "invalid_request_error"],
    [401, "authentication_error", "authentication_error"],
    [413, "request_too_large", "invalid_request_error"],
    [429, "rate_limit_error", "rate_limit_error"],
    [529, "overloaded_error", "server_error"],
  ];
  for (const [status, type, openAIType] of cases) {
    const body = JSON.stringify({
      type: "error",
      error: { type, message: `message for ${type}` },
      request_id: "req_1",
    });
    const translated = toOpenAIError(status, body);
    assert.equal(translated.status, status);
    assert.deepEqual(JSON.parse(translated.body), {
      error: { message: `message for ${type}`, type: openAIType, param: null, code: type },
    });
  }
});

Deno.test("an error body that is not Anthropic's still becomes an OpenAI error", () => {
  const translated = toOpenAIError(502, "<html>Bad Gateway</html>");
  assert.equal(translated.status, 502);
  const error = JSON.parse(translated.body).error;
  assert.match(error.message, /HTTP 502: <html>Bad Gateway/);
  assert.equal(error.type, "server_error");
  assert.match(JSON.parse(toOpenAIError(500, "").body).error.message, /HTTP 500$/);
});

Deno.test("a model page converts created_at to unix seconds and exposes the next cursor", () => {
  const page = parseModelPage("claude", {
    data: [
      {
        type: "model",
        id: "claude-sonnet-4-5",
        display_name: "Claude Sonnet 4.5",
        created_at: "2025-09-29T00:00:00Z",
      },
      { type: "model", id: "claude-haiku-4-5", created_at: "not a date" },
    ],
    has_more: true,
    first_id: "claude-sonnet-4-5",
    last_id: "claude-haiku-4-5",
  });
  assert.deepEqual(page, {
    models: [
      { id: "claude-sonnet-4-5", created: 1759104000, owned_by: "anthropic" },
      { id: "claude-haiku-4-5", created: undefined, owned_by: "anthropic" },
    ],
    next: "claude-haiku-4-5",
  });
  assert.equal(
    parseModelPage("claude", { data: [], has_more: false, last_id: null }).next,
    undefined,
  );
  assert.throws(() => parseModelPage("claude", { models: [] }), /no "data" array/);
});
