import assert from "node:assert/strict";
import { ProviderError } from "../../../src/core/errors.ts";
import type { JsonObject } from "../../../src/core/json.ts";
import { chatToMessages } from "../../../src/dialects/messages/from_chat.ts";
import { messagesToChat } from "../../../src/dialects/messages/to_chat.ts";
import { stopInfoFor } from "../../../src/dialects/messages/wire.ts";
import { finishReason } from "../../../src/providers/anthropic/response.ts";

const MODEL = "claude-sonnet-4-5";

async function fixture(name: string): Promise<JsonObject> {
  const url = new URL(`../../testdata/messages/${name}`, import.meta.url);
  return JSON.parse(await Deno.readTextFile(url));
}

/** A completion with one choice made of `message` and `finish`. */
function completion(message: JsonObject, finish: string, extra: JsonObject = {}): JsonObject {
  return {
    id: "chatcmpl-1",
    object: "chat.completion",
    choices: [{
      index: 0,
      message: { role: "assistant", ...message },
      finish_reason: finish,
      ...extra,
    }],
  };
}

Deno.test("a text completion becomes a Messages response, cached tokens counted apart", async () => {
  assert.deepEqual(chatToMessages(await fixture("response_text.json"), MODEL), {
    id: "msg_chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG",
    type: "message",
    role: "assistant",
    model: MODEL,
    content: [{ type: "text", text: "The image shows a wooden boardwalk through a grassy field." }],
    stop_reason: "end_turn",
    stop_sequence: null,
    usage: {
      input_tokens: 93,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 1024,
      output_tokens: 46,
    },
  });
});

Deno.test("tool calls become tool_use blocks with parsed input", async () => {
  const response = chatToMessages(await fixture("response_tool_calls.json"), MODEL);
  assert.equal(response.id, "msg_chatcmpl-abc123");
  assert.equal(response.stop_reason, "tool_use");
  const [first, second, ...rest] = response.content;
  assert.deepEqual(first, {
    type: "tool_use",
    id: "call_abc123",
    name: "get_current_weather",
    input: { location: "Boston, MA" },
  });
  // A call without an id gets one; a function without arguments gets an empty input.
  assert.match(String(second?.id), /^toolu_[0-9a-f]{32}$/);
  assert.deepEqual({ ...second, id: "" }, {
    type: "tool_use",
    id: "",
    name: "get_time",
    input: {},
  });
  assert.deepEqual(rest, []);
  assert.deepEqual(response.usage, {
    input_tokens: 82,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: 17,
  });
});

Deno.test("a cut-off answer with reasoning: a thinking block, then text, max_tokens", async () => {
  const response = chatToMessages(await fixture("response_length_reasoning.json"), MODEL);
  assert.equal(response.id, "msg_0123", "an id with msg_ already is kept");
  assert.deepEqual(response.content, [
    { type: "thinking", thinking: "The user wants a list. Start with", signature: "" },
    { type: "text", text: "1. Apples\n2. Pe" },
  ]);
  assert.equal(response.stop_reason, "max_tokens");
  assert.equal(response.stop_sequence, null);
});

Deno.test("`reasoning` is read where `reasoning_content` is absent", () => {
  const response = chatToMessages(completion({ reasoning: "hmm", content: "ok" }, "stop"), MODEL);
  assert.deepEqual(response.content, [
    { type: "thinking", thinking: "hmm", signature: "" },
    { type: "text", text: "ok" },
  ]);
});

Deno.test("a stop sequence is reported only when the upstream names one the client sent", () => {
  const hit = completion({ content: "Hello" }, "stop", { stop_reason: "\n\nHuman:" });
  const known = chatToMessages(hit, MODEL, { stopSequences: ["\n\nHuman:"] });
  assert.equal(known.stop_reason, "stop_sequence");
  assert.equal(known.stop_sequence, "\n\nHuman:");
  const unknown = chatToMessages(hit, MODEL);
  assert.equal(unknown.stop_reason, "end_turn");
  assert.equal(unknown.stop_sequence, null);
});

Deno.test("content_filter becomes refusal, and 'stop' after tool calls becomes tool_use", () => {
  assert.equal(
    chatToMessages(completion({ content: "" }, "content_filter"), MODEL).stop_reason,
    "refusal",
  );
  const calls = [{ id: "c1", type: "function", function: { name: "f", arguments: "{}" } }];
  const stopped = chatToMessages(completion({ content: null, tool_calls: calls }, "stop"), MODEL);
  assert.equal(stopped.stop_reason, "tool_use");
  assert.deepEqual(stopped.content, [{ type: "tool_use", id: "c1", name: "f", input: {} }]);
});

Deno.test("the stop reasons agree with the Anthropic adapter's table both ways", () => {
  for (const reason of ["end_turn", "max_tokens", "tool_use", "refusal"]) {
    assert.equal(stopInfoFor(finishReason(reason)).stop_reason, reason);
  }
});

Deno.test("an answer that is not a completion, or broken tool arguments, is a protocol failure", () => {
  const protocol = (err: unknown) => err instanceof ProviderError && err.kind === "protocol";
  assert.throws(() => chatToMessages({ error: { message: "nope" } }, MODEL), protocol);
  assert.throws(() => chatToMessages({ choices: [] }, MODEL), protocol);
  const broken = [{ id: "c1", type: "function", function: { name: "f", arguments: '{"a":' } }];
  assert.throws(
    () => chatToMessages(completion({ content: null, tool_calls: broken }, "length"), MODEL),
    protocol,
  );
});

Deno.test("a tool call goes round trip: response, then history in the next request", async () => {
  const upstream = await fixture("response_tool_calls.json");
  const answer = chatToMessages(upstream, MODEL);
  const [weather] = answer.content;
  const next = messagesToChat({
    model: MODEL,
    max_tokens: 100,
    messages: [
      { role: "user", content: "Weather in Boston?" },
      { role: "assistant", content: answer.content },
      {
        role: "user",
        content: [{ type: "tool_result", tool_use_id: weather?.id, content: "22°C, sunny" }],
      },
    ],
  }).body;
  const messages = next.messages as JsonObject[];
  const calls = messages[1]?.tool_calls as { id: string; function: JsonObject }[];
  assert.equal(calls[0]?.id, "call_abc123");
  assert.equal(calls[0]?.function.name, "get_current_weather");
  assert.deepEqual(JSON.parse(String(calls[0]?.function.arguments)), { location: "Boston, MA" });
  assert.deepEqual(messages[2], {
    role: "tool",
    tool_call_id: "call_abc123",
    content: "22°C, sunny",
  });
});
