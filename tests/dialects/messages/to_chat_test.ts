import assert from "node:assert/strict";
import type { JsonObject } from "../../../src/core/json.ts";
import { MessagesRequestError } from "../../../src/dialects/messages/errors.ts";
import {
  messagesToChat,
  reasoningEffortFor,
  type ToChatOptions,
} from "../../../src/dialects/messages/to_chat.ts";

async function fixture(name: string): Promise<JsonObject> {
  const url = new URL(`../../testdata/messages/${name}`, import.meta.url);
  return JSON.parse(await Deno.readTextFile(url));
}

/** A minimal valid request with `fields` set on top. */
function request(fields: JsonObject = {}): JsonObject {
  return {
    model: "claude-sonnet-4-5",
    max_tokens: 100,
    messages: [{ role: "user", content: "hi" }],
    ...fields,
  };
}

const readTool = {
  name: "Read",
  input_schema: { type: "object", properties: { file_path: { type: "string" } } },
};

/** Asserts that `body` is refused with a 400 naming `field`. */
function assertRefused(body: unknown, field: string, why?: RegExp): void {
  assert.throws(
    () => messagesToChat(body),
    (err: unknown) => {
      assert.ok(err instanceof MessagesRequestError, `not a MessagesRequestError: ${err}`);
      assert.equal(err.field, field);
      assert.equal(err.status, 400);
      assert.ok(err.message.startsWith(`${field}: `), err.message);
      if (why) assert.match(err.message, why);
      assert.deepEqual(err.toBody(), {
        type: "error",
        error: { type: "invalid_request_error", message: err.message },
      });
      return true;
    },
  );
}

Deno.test("system blocks, images, documents and sampling translate to a Chat request", async () => {
  const body = await fixture("request_system_media.json");
  const frozen = structuredClone(body);
  const { body: chat, dropped } = messagesToChat(body);
  assert.deepEqual(chat, {
    model: "claude-sonnet-4-5",
    messages: [
      { role: "system", content: "You are a careful reviewer.\n\nAnswer in English." },
      {
        role: "user",
        content: [
          { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
          { type: "image_url", image_url: { url: "https://example.com/cat.jpg" } },
          {
            type: "file",
            file: { filename: "report.pdf", file_data: "data:application/pdf;base64,JVBERi0x" },
          },
          { type: "text", text: "Q3 revenue rose." },
          { type: "text", text: "What do these show?" },
        ],
      },
      { role: "assistant", content: "A cat, a report and a note." },
      { role: "user", content: "Summarise the report." },
    ],
    max_tokens: 1024,
    temperature: 0.2,
    top_p: 0.9,
    stop: ["\n\nHuman:"],
    stream: true,
    stream_options: { include_usage: true },
    user: "user-42",
  });
  assert.deepEqual(dropped, ["cache_control", "top_k", "service_tier"]);
  assert.deepEqual(body, frozen, "the request body was modified");
});

Deno.test("a tool-use conversation translates to tool calls and tool messages", async () => {
  const body = await fixture("request_tool_round_trip.json");
  const { body: chat, dropped } = messagesToChat(body, { supportsReasoningEffort: true });
  const call = (id: string, name: string, input: JsonObject) => ({
    id,
    type: "function",
    function: { name, arguments: JSON.stringify(input) },
  });
  assert.deepEqual(chat.messages, [
    { role: "system", content: "You are Claude Code." },
    { role: "user", content: "Look at main.ts and the logo." },
    {
      role: "assistant",
      content: "Reading them.",
      tool_calls: [
        call("toolu_01A", "Read", { file_path: "main.ts" }),
        call("toolu_01B", "Read", { file_path: "logo.png" }),
      ],
    },
    { role: "tool", tool_call_id: "toolu_01A", content: "console.log(1);" },
    {
      role: "tool",
      tool_call_id: "toolu_01B",
      content: "(1 attachment follows in the next user message)",
    },
    {
      role: "user",
      content: [
        { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
        { type: "text", text: "Now run it." },
      ],
    },
    {
      role: "assistant",
      content: null,
      tool_calls: [call("toolu_01C", "Bash", { command: "deno run main.ts" })],
    },
    { role: "tool", tool_call_id: "toolu_01C", content: "Error: permission denied" },
  ]);
  assert.deepEqual(chat.tools, [
    {
      type: "function",
      function: {
        name: "Read",
        description: "Reads a file",
        parameters: {
          type: "object",
          properties: { file_path: { type: "string" } },
          required: ["file_path"],
        },
      },
    },
    {
      type: "function",
      function: {
        name: "Bash",
        parameters: { type: "object", properties: { command: { type: "string" } } },
      },
    },
  ]);
  assert.equal(chat.tool_choice, "auto");
  assert.equal(chat.parallel_tool_calls, false);
  assert.equal(chat.reasoning_effort, "medium");
  assert.equal(chat.max_tokens, 32000);
  assert.deepEqual(dropped, ["thinking blocks", "cache_control"]);
});

Deno.test("tool_choice variants map to Chat's", () => {
  const cases: [JsonObject, unknown][] = [
    [{ type: "auto" }, "auto"],
    [{ type: "any" }, "required"],
    [{ type: "none" }, "none"],
    [{ type: "tool", name: "Read" }, { type: "function", function: { name: "Read" } }],
  ];
  for (const [choice, expected] of cases) {
    const { body } = messagesToChat(request({ tools: [readTool], tool_choice: choice }));
    assert.deepEqual(body.tool_choice, expected, JSON.stringify(choice));
    assert.equal(body.parallel_tool_calls, undefined);
  }
  const { body } = messagesToChat(
    request({ tools: [readTool], tool_choice: { type: "any", disable_parallel_tool_use: true } }),
  );
  assert.equal(body.tool_choice, "required");
  assert.equal(body.parallel_tool_calls, false);
});

Deno.test("tool_choice without tools is dropped, as Chat would refuse it", () => {
  const { body, dropped } = messagesToChat(request({ tool_choice: { type: "auto" } }));
  assert.equal(body.tool_choice, undefined);
  assert.equal(body.tools, undefined);
  assert.deepEqual(dropped, ["tool_choice"]);
});

Deno.test("extended thinking becomes reasoning_effort only where the target takes it", () => {
  const thinking = (budget: number) =>
    request({ thinking: { type: "enabled", budget_tokens: budget } });
  const supported: ToChatOptions = { supportsReasoningEffort: true };
  assert.equal(messagesToChat(thinking(4000), supported).body.reasoning_effort, "low");
  assert.equal(messagesToChat(thinking(10000), supported).body.reasoning_effort, "medium");
  assert.equal(messagesToChat(thinking(31999), supported).body.reasoning_effort, "high");
  const plain = messagesToChat(thinking(10000));
  assert.equal(plain.body.reasoning_effort, undefined);
  assert.deepEqual(plain.dropped, ["thinking"]);
  const off = messagesToChat(request({ thinking: { type: "disabled" } }), supported);
  assert.equal(off.body.reasoning_effort, undefined);
  assert.deepEqual(off.dropped, []);
});

Deno.test("thinking budgets split into efforts at 4,096 and 16,384 tokens", () => {
  assert.equal(reasoningEffortFor(1024), "low");
  assert.equal(reasoningEffortFor(4095), "low");
  assert.equal(reasoningEffortFor(4096), "medium");
  assert.equal(reasoningEffortFor(16383), "medium");
  assert.equal(reasoningEffortFor(16384), "high");
});

Deno.test("max_tokens is clamped to the target's output limit", () => {
  assert.equal(messagesToChat(request({ max_tokens: 64000 })).body.max_tokens, 64000);
  const clamped = messagesToChat(request({ max_tokens: 64000 }), { maxOutputTokens: 16384 });
  assert.equal(clamped.body.max_tokens, 16384);
  const below = messagesToChat(request({ max_tokens: 500 }), { maxOutputTokens: 16384 });
  assert.equal(below.body.max_tokens, 500);
});

Deno.test("a non-streaming request asks for no stream, and unknown fields are listed", () => {
  const { body, dropped } = messagesToChat(
    request({ stream: false, container: "c_1", output_format: { type: "json" } }),
  );
  assert.equal(body.stream, undefined);
  assert.equal(body.stream_options, undefined);
  assert.deepEqual(dropped, ["output_format", "container"]);
});

Deno.test("a user id longer than Chat accepts is dropped", () => {
  const long = "user_" + "a".repeat(64) + "_account__session_1";
  const { body, dropped } = messagesToChat(request({ metadata: { user_id: long } }));
  assert.equal(body.user, undefined);
  assert.deepEqual(dropped, ["metadata.user_id"]);
});

Deno.test("an assistant turn of thinking only leaves no empty message behind", () => {
  const { body } = messagesToChat(request({
    messages: [
      { role: "user", content: "hi" },
      { role: "assistant", content: [{ type: "redacted_thinking", data: "xyz" }] },
      { role: "user", content: "still there?" },
    ],
  }));
  assert.deepEqual(body.messages, [
    { role: "user", content: "hi" },
    { role: "user", content: "still there?" },
  ]);
});

Deno.test("a system turn between the others stays a system message in its place", () => {
  const { body } = messagesToChat(request({
    system: "You are Claude Code.",
    messages: [
      { role: "user", content: "say hi" },
      {
        role: "system",
        content: [{ type: "text", text: "Agents:" }, { type: "text", text: "- Explore" }],
      },
      { role: "assistant", content: "hi" },
      { role: "system", content: "Be brief." },
      { role: "user", content: "again" },
    ],
  }));
  assert.deepEqual(body.messages, [
    { role: "system", content: "You are Claude Code." },
    { role: "user", content: "say hi" },
    { role: "system", content: "Agents:\n\n- Explore" },
    { role: "assistant", content: "hi" },
    { role: "system", content: "Be brief." },
    { role: "user", content: "again" },
  ]);
});

Deno.test("invalid or untranslatable requests are refused naming the field", () => {
  const user = (content: unknown) => request({ messages: [{ role: "user", content }] });
  assertRefused("hello", "body");
  assertRefused(request({ model: 3 }), "model");
  assertRefused(request({ max_tokens: undefined }), "max_tokens", /positive integer/);
  assertRefused(request({ max_tokens: 0 }), "max_tokens");
  assertRefused(request({ messages: [] }), "messages", /empty/);
  assertRefused(request({ messages: [{ role: "developer", content: "x" }] }), "messages[0].role");
  assertRefused(
    request({ messages: [{ role: "system", content: [{ type: "image" }] }] }),
    "messages[0].content[0].type",
  );
  assertRefused(
    request({
      messages: [
        { role: "user", content: "a" },
        { role: "assistant", content: "b" },
        { role: "user", content: [{ type: "video", url: "x" }] },
      ],
    }),
    "messages[2].content[0].type",
    /"video"/,
  );
  assertRefused(user([{ text: "no type" }]), "messages[0].content[0].type");
  assertRefused(
    user([{ type: "image", source: { type: "file", file_id: "file_1" } }]),
    "messages[0].content[0].source.type",
  );
  assertRefused(
    user([{ type: "document", source: { type: "url", url: "https://x/a.pdf" } }]),
    "messages[0].content[0].source.type",
  );
  assertRefused(
    user([{ type: "document", source: { type: "base64", media_type: "image/png", data: "x" } }]),
    "messages[0].content[0].source.media_type",
  );
  assertRefused(
    user([{ type: "tool_use", id: "t", name: "Read", input: {} }]),
    "messages[0].content[0].type",
  );
  assertRefused(
    request({
      messages: [
        { role: "user", content: "a" },
        { role: "assistant", content: [{ type: "tool_use", id: "t", name: "Read", input: "x" }] },
      ],
    }),
    "messages[1].content[0].input",
  );
  assertRefused(
    request({ tools: [readTool, { type: "web_search_20250305", name: "web_search" }] }),
    "tools[1].type",
    /server tool/,
  );
  assertRefused(request({ tools: [{ type: "bash_20250124", name: "bash" }] }), "tools[0].type");
  assertRefused(request({ tools: [{ name: "Read" }] }), "tools[0].input_schema");
  assertRefused(
    request({ tools: [readTool], tool_choice: { type: "sometimes" } }),
    "tool_choice.type",
  );
  assertRefused(request({ tools: [readTool], tool_choice: { type: "tool" } }), "tool_choice.name");
  assertRefused(request({ stop_sequences: ["a", 2] }), "stop_sequences[1]");
  assertRefused(request({ system: [{ type: "image" }] }), "system[0].type");
  assertRefused(request({ thinking: { type: "enabled" } }), "thinking.budget_tokens");
});
