import assert from "node:assert/strict";
import { ProviderError } from "../../../src/core/errors.ts";
import type { JsonObject } from "../../../src/core/json.ts";
import { chatToResponse } from "../../../src/dialects/responses/from_chat.ts";
import { responsesToChat } from "../../../src/dialects/responses/to_chat.ts";
import { context, CREATED_AT, fixture, REQUEST, RESPONSE_ID } from "./support.ts";

/** A completion with one choice made of `message` and `finish`. */
function completion(message: JsonObject, finish: string, extra: JsonObject = {}): JsonObject {
  return {
    id: "chatcmpl-1",
    object: "chat.completion",
    choices: [{ index: 0, message: { role: "assistant", ...message }, finish_reason: finish }],
    ...extra,
  };
}

/** The output items of a response. */
function outputOf(response: JsonObject): JsonObject[] {
  assert.ok(Array.isArray(response.output));
  return response.output as JsonObject[];
}

/** The id of output item `i`, checked against the shape OpenAI gives ids. */
function idOf(response: JsonObject, i: number, prefix: string): string {
  const id = outputOf(response)[i]?.id;
  assert.equal(typeof id, "string");
  assert.match(id as string, new RegExp(`^${prefix}_[0-9a-f]{48}$`));
  return id as string;
}

Deno.test("a text completion becomes a whole response object, request fields echoed", async () => {
  const response = chatToResponse(await fixture("chat_text.json"), context());
  assert.deepEqual(response, {
    id: RESPONSE_ID,
    object: "response",
    created_at: CREATED_AT,
    status: "completed",
    error: null,
    incomplete_details: null,
    instructions: "You are a careful coding agent.",
    max_output_tokens: 2048,
    model: "gpt-5-codex",
    output: [{
      id: idOf(response, 0, "msg"),
      type: "message",
      status: "completed",
      content: [{
        type: "output_text",
        annotations: [],
        logprobs: [],
        text: "The image shows a wooden boardwalk through a grassy field.",
      }],
      role: "assistant",
    }],
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: "high", summary: "auto" },
    store: false,
    temperature: 1,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: REQUEST.tools,
    top_p: 1,
    truncation: "disabled",
    usage: {
      input_tokens: 1117,
      input_tokens_details: { cached_tokens: 1024, cache_write_tokens: 0 },
      output_tokens: 46,
      output_tokens_details: { reasoning_tokens: 0 },
      total_tokens: 1163,
    },
    user: null,
    metadata: { session: "s-1" },
  });
});

Deno.test("a request without echo fields gets OpenAI's defaults; set ones come back as sent", () => {
  const answer = completion({ content: "Hi" }, "stop");
  const bare = chatToResponse(answer, context({ model: "m", input: "Hi" }));
  const { id: _, output: __, usage: ___, ...rest } = bare;
  assert.deepEqual(rest, {
    object: "response",
    created_at: CREATED_AT,
    status: "completed",
    error: null,
    incomplete_details: null,
    instructions: null,
    max_output_tokens: null,
    model: "gpt-5-codex",
    parallel_tool_calls: true,
    previous_response_id: null,
    reasoning: { effort: null, summary: null },
    store: true,
    temperature: 1,
    text: { format: { type: "text" } },
    tool_choice: "auto",
    tools: [],
    top_p: 1,
    truncation: "disabled",
    user: null,
    metadata: {},
  });
  const set = chatToResponse(
    answer,
    context({
      model: "m",
      input: "Hi",
      parallel_tool_calls: false,
      previous_response_id: "resp_prev",
      temperature: 0.2,
      top_p: 0.9,
      truncation: "auto",
      user: "u-7",
      text: { verbosity: "low" },
      tool_choice: { type: "function", name: "get_time" },
    }),
  );
  assert.equal(set.parallel_tool_calls, false);
  assert.equal(set.previous_response_id, "resp_prev");
  assert.equal(set.temperature, 0.2);
  assert.equal(set.top_p, 0.9);
  assert.equal(set.truncation, "auto");
  assert.equal(set.user, "u-7");
  assert.deepEqual(set.text, { format: { type: "text" }, verbosity: "low" });
  assert.deepEqual(set.tool_choice, { type: "function", name: "get_time" });
});

Deno.test("tool calls come back under the client's names: namespaced, custom, plain", async () => {
  const response = chatToResponse(await fixture("chat_tool_calls.json"), context());
  assert.equal(response.status, "completed");
  const output = outputOf(response);
  assert.deepEqual(output, [
    {
      id: idOf(response, 0, "msg"),
      type: "message",
      status: "completed",
      content: [{
        type: "output_text",
        annotations: [],
        logprobs: [],
        text: "Reading the file, then patching it.",
      }],
      role: "assistant",
    },
    {
      id: idOf(response, 1, "fc"),
      type: "function_call",
      status: "completed",
      arguments: '{"path":"src/main.ts"}',
      call_id: "call_read1",
      name: "read",
      namespace: "files",
    },
    {
      id: idOf(response, 2, "ctc"),
      type: "custom_tool_call",
      status: "completed",
      call_id: "call_patch2",
      input: "*** Begin Patch\n*** Update File: src/main.ts\n*** End Patch",
      name: "apply_patch",
    },
    {
      id: idOf(response, 3, "fc"),
      type: "function_call",
      status: "completed",
      // A function without arguments gets an empty object, and a call without an id gets one.
      arguments: "{}",
      call_id: output[3]?.call_id,
      name: "get_time",
    },
  ]);
  assert.match(String(output[3]?.call_id), /^call_[0-9a-f]{48}$/);
  assert.deepEqual(response.usage, {
    input_tokens: 82,
    input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    output_tokens: 17,
    output_tokens_details: { reasoning_tokens: 5 },
    total_tokens: 99,
  });
});

Deno.test("calls to the tools the request's translation renamed come back as the client named them", () => {
  const { body, toolNames } = responsesToChat(REQUEST);
  const hubNames = (body.tools as { function: { name: string } }[]).map((t) => t.function.name);
  const call = (name: string, args: string, i: number) => ({
    id: `call_${i}`,
    type: "function",
    function: { name, arguments: args },
  });
  const answer = completion({
    tool_calls: hubNames.map((name, i) => call(name, '{"input":"patch text"}', i)),
  }, "tool_calls");
  const output = outputOf(chatToResponse(answer, { ...context(), toolNames }));
  assert.deepEqual(output.map((item) => [item.type, item.namespace, item.name]), [
    ["function_call", "files", "read"],
    ["custom_tool_call", undefined, "apply_patch"],
    ["function_call", undefined, "get_time"],
  ]);
  assert.equal(output[1]?.input, "patch text");
});

Deno.test("a custom tool's arguments that are not {input} are its input as written", () => {
  const call = (args: string) =>
    completion({
      tool_calls: [{
        id: "c",
        type: "function",
        function: { name: "apply_patch", arguments: args },
      }],
    }, "tool_calls");
  const inputOf = (args: string) => outputOf(chatToResponse(call(args), context()))[0]?.input;
  assert.equal(inputOf("*** Begin Patch"), "*** Begin Patch");
  assert.equal(inputOf('{"patch": "x"}'), '{"patch": "x"}');
  assert.equal(inputOf("{}"), "");
  assert.equal(inputOf(""), "");
});

Deno.test("an answer cut by its token limit is incomplete, reasoning first, cached tokens read", async () => {
  const response = chatToResponse(await fixture("chat_length_reasoning.json"), context());
  assert.equal(response.status, "incomplete");
  assert.deepEqual(response.incomplete_details, { reason: "max_output_tokens" });
  assert.deepEqual(outputOf(response), [
    {
      id: idOf(response, 0, "rs"),
      type: "reasoning",
      summary: [{ type: "summary_text", text: "The user wants a list. Start with" }],
    },
    {
      id: idOf(response, 1, "msg"),
      type: "message",
      status: "incomplete",
      content: [{ type: "output_text", annotations: [], logprobs: [], text: "1. Apples\n2. Pe" }],
      role: "assistant",
    },
  ]);
  // DeepSeek counts cache hits apart; they are part of the input all the same.
  assert.deepEqual(response.usage, {
    input_tokens: 10,
    input_tokens_details: { cached_tokens: 8, cache_write_tokens: 0 },
    output_tokens: 64,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 74,
  });
});

Deno.test("a filtered answer is incomplete for content_filter; calls cut short are incomplete", () => {
  const filtered = chatToResponse(completion({ content: "I can" }, "content_filter"), context());
  assert.equal(filtered.status, "incomplete");
  assert.deepEqual(filtered.incomplete_details, { reason: "content_filter" });
  const cut = chatToResponse(
    completion({
      content: "Calling",
      tool_calls: [{
        id: "c",
        type: "function",
        function: { name: "get_time", arguments: '{"tz' },
      }],
    }, "length"),
    context(),
  );
  // The message was done before the call began; the call is where the answer stopped.
  assert.deepEqual(outputOf(cut).map((item) => item.status), ["completed", "incomplete"]);
});

Deno.test("a refusal is a refusal part; reasoning under `reasoning` counts as reasoning", () => {
  const response = chatToResponse(
    completion({ content: null, refusal: "I can't help with that.", reasoning: "Unsafe." }, "stop"),
    context(),
  );
  const [reasoning, message] = outputOf(response);
  assert.deepEqual(reasoning?.summary, [{ type: "summary_text", text: "Unsafe." }]);
  assert.deepEqual(message?.content, [{ type: "refusal", refusal: "I can't help with that." }]);
});

Deno.test("text parts are joined; an empty answer has no items and zero usage", () => {
  const parts = chatToResponse(
    completion({
      content: [{ type: "text", text: "Hello, " }, { type: "image_url" }, {
        type: "text",
        text: "world",
      }],
    }, "stop"),
    context(),
  );
  assert.deepEqual(outputOf(parts)[0]?.content, [{
    type: "output_text",
    annotations: [],
    logprobs: [],
    text: "Hello, world",
  }]);
  const empty = chatToResponse(completion({ content: "" }, "stop"), context());
  assert.deepEqual(empty.output, []);
  assert.deepEqual(empty.usage, {
    input_tokens: 0,
    input_tokens_details: { cached_tokens: 0, cache_write_tokens: 0 },
    output_tokens: 0,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: 0,
  });
});

Deno.test("each answer's items get fresh ids", () => {
  const answer = completion({ content: "Hi" }, "stop");
  const first = outputOf(chatToResponse(answer, context()))[0]?.id;
  const second = outputOf(chatToResponse(answer, context()))[0]?.id;
  assert.notEqual(first, second);
});

Deno.test("an answer that is not a completion is a protocol failure", () => {
  for (const bad of [null, [], {}, { choices: [] }, { choices: [{ message: "hi" }] }]) {
    assert.throws(
      () => chatToResponse(bad, context()),
      (err) => err instanceof ProviderError && err.kind === "protocol",
      JSON.stringify(bad),
    );
  }
  const nameless = completion({ tool_calls: [{ id: "c", function: { arguments: "{}" } }] }, "stop");
  assert.throws(() => chatToResponse(nameless, context()), /tool call 0 has no function name/);
});
