import assert from "node:assert/strict";
import { chatToMessagesStream, pingEvent } from "../../../src/dialects/messages/stream.ts";
import type { MessagesStreamOptions } from "../../../src/dialects/messages/stream.ts";
import { cut, source } from "../stream_pieces.ts";

const MODEL = "claude-sonnet-4-5";
const encoder = new TextEncoder();

/** One Messages event as the client sees it. */
type Event = [string, unknown];

async function fixture(name: string): Promise<string> {
  return await Deno.readTextFile(new URL(`../../testdata/messages/${name}`, import.meta.url));
}

/** Runs bytes through the transformer: the text sent and the reads it took to send it. */
async function translate(
  pieces: Uint8Array[],
  options: Partial<MessagesStreamOptions> = {},
): Promise<{ text: string; cancelled: boolean }> {
  const upstream = source(pieces);
  const out = upstream.stream.pipeThrough(chatToMessagesStream({ model: MODEL, ...options }));
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of out) text += decoder.decode(chunk, { stream: true });
  return { text, cancelled: upstream.cancelled() };
}

/** Parses Messages SSE text, checking each frame's shape and that `type` repeats the name. */
function events(text: string): Event[] {
  assert.ok(text.endsWith("\n\n"), "the stream must end on a whole event");
  return text.slice(0, -2).split("\n\n").map((frame) => {
    const match = /^event: ([a-z_]+)\ndata: (.+)$/s.exec(frame);
    assert.ok(match, `not a Messages event: ${JSON.stringify(frame)}`);
    const data = JSON.parse(match[2]!);
    assert.equal(data.type, match[1]);
    return [match[1]!, data];
  });
}

async function run(
  name: string,
  size = 7,
  options: Partial<MessagesStreamOptions> = {},
): Promise<Event[]> {
  return events((await translate(cut(await fixture(name), size), options)).text);
}

/** `message_start` and the `ping` that follows it. */
function messageStart(id: string, inputTokens = 0): Event[] {
  return [["message_start", {
    type: "message_start",
    message: {
      id,
      type: "message",
      role: "assistant",
      model: MODEL,
      content: [],
      stop_reason: null,
      stop_sequence: null,
      usage: {
        input_tokens: inputTokens,
        cache_creation_input_tokens: 0,
        cache_read_input_tokens: 0,
        output_tokens: 0,
      },
    },
  }], ["ping", { type: "ping" }]];
}

function blockStart(index: number, block: unknown): Event {
  return ["content_block_start", { type: "content_block_start", index, content_block: block }];
}

function delta(index: number, d: unknown): Event {
  return ["content_block_delta", { type: "content_block_delta", index, delta: d }];
}

function blockStop(index: number): Event {
  return ["content_block_stop", { type: "content_block_stop", index }];
}

function messageEnd(
  stopReason: string,
  usage: unknown,
  stopSequence: string | null = null,
): Event[] {
  return [
    ["message_delta", {
      type: "message_delta",
      delta: { stop_reason: stopReason, stop_sequence: stopSequence },
      usage,
    }],
    ["message_stop", { type: "message_stop" }],
  ];
}

function errorEvent(message: string): Event {
  return ["error", { type: "error", error: { type: "api_error", message } }];
}

const TEXT_EVENTS: Event[] = [
  ...messageStart("msg_chatcmpl-123"),
  blockStart(0, { type: "text", text: "" }),
  delta(0, { type: "text_delta", text: "Héllo" }),
  delta(0, { type: "text_delta", text: " there! 👋" }),
  blockStop(0),
  ...messageEnd("end_turn", {
    input_tokens: 19,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: 10,
  }),
];

Deno.test("a text stream becomes the Messages event sequence, usage from the last chunk", async () => {
  assert.deepEqual(await run("stream_text.sse"), TEXT_EVENTS);
});

Deno.test("reads cut anywhere, even inside a line or a character, change nothing", async () => {
  const text = await fixture("stream_text.sse");
  for (const size of [1, 2, 3, 64, 1 << 20]) {
    assert.deepEqual(events((await translate(cut(text, size))).text), TEXT_EVENTS, `${size}`);
  }
  // One read ends mid-line, in the middle of "👋" (4 bytes), the next carries the rest.
  const bytes = encoder.encode(text);
  const at = bytes.indexOf(0xf0) + 2;
  assert.ok(at > 2);
  const pieces = [bytes.slice(0, at), bytes.slice(at)];
  assert.deepEqual(events((await translate(pieces)).text), TEXT_EVENTS);
});

Deno.test("events go out as the chunks that carry them arrive", async () => {
  const text = await fixture("stream_text.sse");
  const frames = text.split("\n\n").filter((f) => f !== "").map((f) => encoder.encode(f + "\n\n"));
  const out = source(frames).stream.pipeThrough(chatToMessagesStream({ model: MODEL }));
  const seen: string[][] = [];
  const decoder = new TextDecoder();
  for await (const chunk of out) {
    seen.push(events(decoder.decode(chunk)).map(([name]) => name));
  }
  assert.deepEqual(seen, [
    ["message_start", "ping"],
    ["content_block_start", "content_block_delta"],
    ["content_block_delta"],
    ["content_block_stop"],
    ["message_delta", "message_stop"],
  ]);
});

Deno.test("reasoning then text: a thinking block, then a text block", async () => {
  assert.deepEqual(await run("stream_thinking_text.sse"), [
    ...messageStart("msg_0f3d5b3c-reasoner"),
    blockStart(0, { type: "thinking", thinking: "", signature: "" }),
    delta(0, { type: "thinking_delta", thinking: "9.11 vs 9.8:" }),
    delta(0, { type: "thinking_delta", thinking: " compare tenths." }),
    blockStop(0),
    blockStart(1, { type: "text", text: "" }),
    delta(1, { type: "text_delta", text: "9.8" }),
    delta(1, { type: "text_delta", text: " is larger." }),
    blockStop(1),
    ...messageEnd("end_turn", {
      input_tokens: 15,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 0,
      output_tokens: 42,
    }),
  ]);
});

Deno.test("two tool calls with arguments in pieces: a tool_use block each, in order", async () => {
  assert.deepEqual(await run("stream_two_tools.sse", 5), [
    ...messageStart("msg_chatcmpl-tools"),
    blockStart(0, { type: "text", text: "" }),
    delta(0, { type: "text_delta", text: "Let me check." }),
    blockStop(0),
    blockStart(1, { type: "tool_use", id: "call_a", name: "get_weather", input: {} }),
    delta(1, { type: "input_json_delta", partial_json: '{"loc' }),
    delta(1, { type: "input_json_delta", partial_json: 'ation": "Paris"}' }),
    blockStop(1),
    blockStart(2, { type: "tool_use", id: "call_b", name: "get_time", input: {} }),
    delta(2, { type: "input_json_delta", partial_json: '{"tz":' }),
    delta(2, { type: "input_json_delta", partial_json: ' "CET"}' }),
    blockStop(2),
    ...messageEnd("tool_use", {
      input_tokens: 16,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: 64,
      output_tokens: 40,
    }),
  ]);
});

Deno.test("an upstream error event ends the stream with a Messages error event", async () => {
  const { text, cancelled } = await translate(cut(await fixture("stream_error.sse"), 11));
  assert.deepEqual(events(text), [
    ...messageStart("msg_chatcmpl-err"),
    blockStart(0, { type: "text", text: "" }),
    delta(0, { type: "text_delta", text: "Once upon" }),
    errorEvent("The server had an error while processing your request. Sorry about that!"),
  ]);
  assert.ok(cancelled, "the rest of the upstream is not read");
});

Deno.test("a stream cut off before its end is an error, never a clean-looking end", async () => {
  assert.deepEqual(await run("stream_truncated.sse"), [
    ...messageStart("msg_chatcmpl-cut"),
    blockStart(0, { type: "text", text: "" }),
    delta(0, { type: "text_delta", text: "The answer is" }),
    errorEvent("the upstream stream ended before the answer was complete"),
  ]);
  assert.deepEqual(events((await translate([])).text), [
    errorEvent("the upstream stream ended before the answer was complete"),
  ]);
});

/** SSE text of Chat chunks, each given as its `choices[0]` (or a whole chunk with `usage`). */
function chatStream(chunks: Record<string, unknown>[], done = true): string {
  const frames = chunks.map((c) =>
    `data: ${JSON.stringify({ id: "chatcmpl-x", object: "chat.completion.chunk", ...c })}\n\n`
  );
  return frames.join("") + (done ? "data: [DONE]\n\n" : "");
}

function choice(delta: Record<string, unknown>, finish: string | null = null, extra = {}) {
  return { choices: [{ index: 0, delta, finish_reason: finish, ...extra }] };
}

Deno.test("a finish_reason without [DONE] ends cleanly, without usage", async () => {
  const text = chatStream([choice({ content: "Hi" }), choice({}, "length")], false);
  const got = events((await translate(cut(text, 9))).text);
  assert.deepEqual(got.slice(-3), [
    blockStop(0),
    ...messageEnd("max_tokens", { output_tokens: 0 }),
  ]);
});

Deno.test("a stop sequence the upstream names is reported; known input tokens open the stream", async () => {
  const text = chatStream([
    choice({ content: "Hi" }),
    choice({}, "stop", { stop_reason: "\nUser:" }),
  ]);
  const got = events(
    (await translate(cut(text, 13), { stopSequences: ["\nUser:"], inputTokens: 12 })).text,
  );
  assert.deepEqual(got.slice(0, 2), messageStart("msg_chatcmpl-x", 12));
  assert.deepEqual(got.slice(-2), messageEnd("stop_sequence", { output_tokens: 0 }, "\nUser:"));
});

Deno.test("`reasoning` deltas are thinking too, and a tool name that comes late still opens its block", async () => {
  const text = chatStream([
    choice({ reasoning: "plan" }),
    choice({ tool_calls: [{ index: 0, id: "call_1", function: { arguments: '{"a"' } }] }),
    choice({ tool_calls: [{ index: 0, function: { name: "f", arguments: ":1}" } }] }),
    choice({}, "tool_calls"),
  ]);
  assert.deepEqual((events((await translate(cut(text, 4))).text)).slice(2), [
    blockStart(0, { type: "thinking", thinking: "", signature: "" }),
    delta(0, { type: "thinking_delta", thinking: "plan" }),
    blockStop(0),
    blockStart(1, { type: "tool_use", id: "call_1", name: "f", input: {} }),
    delta(1, { type: "input_json_delta", partial_json: '{"a":1}' }),
    blockStop(1),
    ...messageEnd("tool_use", { output_tokens: 0 }),
  ]);
});

Deno.test("arguments for a tool call whose block has ended are an error, not a lost piece", async () => {
  const text = chatStream([
    choice({ tool_calls: [{ index: 0, id: "a", function: { name: "f", arguments: "{" } }] }),
    choice({ tool_calls: [{ index: 1, id: "b", function: { name: "g", arguments: "{}" } }] }),
    choice({ tool_calls: [{ index: 0, function: { arguments: "}" } }] }),
    choice({}, "tool_calls"),
  ]);
  const got = events((await translate(cut(text, 50))).text);
  assert.deepEqual(
    got.at(-1),
    errorEvent("the upstream sent arguments for tool call 0 after its block ended"),
  );
});

Deno.test("data that is not JSON ends the stream with an error event", async () => {
  const text = chatStream([choice({ content: "Hi" })], false) + "data: {oops\n\n";
  const got = events((await translate(cut(text, 8))).text);
  assert.deepEqual(got.at(-1), errorEvent("the upstream sent a stream event that is not JSON"));
});

Deno.test("a failure to read the upstream errors the stream, for the relay to report", async () => {
  const failing = new ReadableStream<Uint8Array>({
    start(controller) {
      controller.enqueue(encoder.encode(chatStream([choice({ content: "Hi" })], false)));
      controller.error(new Error("connection reset"));
    },
  });
  const reader = failing.pipeThrough(chatToMessagesStream({ model: MODEL })).getReader();
  await assert.rejects(async () => {
    for (;;) if ((await reader.read()).done) break;
  }, /connection reset/);
});

Deno.test("a ping is a Messages ping event", () => {
  assert.equal(pingEvent(), 'event: ping\ndata: {"type":"ping"}\n\n');
});
