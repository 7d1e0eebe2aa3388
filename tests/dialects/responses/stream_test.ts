import assert from "node:assert/strict";
import type { JsonObject } from "../../../src/core/json.ts";
import {
  chatToResponsesStream,
  type ResponsesStreamOptions,
} from "../../../src/dialects/responses/stream.ts";
import { OpenAI } from "../../support/openai.ts";
import { context, CREATED_AT, fixtureText, REQUEST, RESPONSE_ID } from "./support.ts";
import { cut, source } from "../stream_pieces.ts";

const encoder = new TextEncoder();

/** One Responses event as the client sees it, its sequence number checked and left out. */
type Event = [string, JsonObject];

/** Runs bytes through the transformer: the text sent, and whether the upstream was cancelled. */
async function translate(
  pieces: Uint8Array[],
  options: ResponsesStreamOptions = {},
): Promise<{ text: string; cancelled: boolean }> {
  const upstream = source(pieces);
  const out = upstream.stream.pipeThrough(chatToResponsesStream(context(), options));
  let text = "";
  const decoder = new TextDecoder();
  for await (const chunk of out) text += decoder.decode(chunk, { stream: true });
  return { text, cancelled: upstream.cancelled() };
}

/** Generated ids, as `msg_1`, `fc_2`, ... by prefix in order of appearance. */
function normalizeIds(text: string): string {
  const seen = new Map<string, string>();
  const counts = new Map<string, number>();
  return text.replace(/\b(msg|rs|fc|ctc|call)_[0-9a-f]{48}\b/g, (id, prefix: string) => {
    let name = seen.get(id);
    if (name === undefined) {
      const n = (counts.get(prefix) ?? 0) + 1;
      counts.set(prefix, n);
      name = `${prefix}_${n}`;
      seen.set(id, name);
    }
    return name;
  });
}

/**
 * Parses Responses SSE text: each frame `event: <type>\ndata: <json>` with `type` repeating the
 * name, and sequence numbers contiguous from 0.
 */
function events(text: string): Event[] {
  assert.ok(text.endsWith("\n\n"), "the stream must end on a whole event");
  return normalizeIds(text).slice(0, -2).split("\n\n").map((frame, i) => {
    const match = /^event: ([a-z_.]+)\ndata: (.+)$/s.exec(frame);
    assert.ok(match, `not a Responses event: ${JSON.stringify(frame)}`);
    const { sequence_number, ...data } = JSON.parse(match[2]!);
    assert.equal(data.type, match[1]);
    assert.equal(sequence_number, i, `sequence number of ${match[1]}`);
    return [match[1]!, data];
  });
}

async function run(name: string, size = 7, options: ResponsesStreamOptions = {}): Promise<Event[]> {
  return events((await translate(cut(await fixtureText(name), size), options)).text);
}

/** The usage object with these counts. */
function usage(input: number, cached: number, output: number, reasoning = 0): JsonObject {
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: cached, cache_write_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: input + output,
  };
}

/** The response object for `REQUEST` in a given state. */
function response(
  status: string,
  output: JsonObject[],
  usage: JsonObject | null,
  more: JsonObject = {},
): JsonObject {
  return {
    id: RESPONSE_ID,
    object: "response",
    created_at: CREATED_AT,
    status,
    error: null,
    incomplete_details: null,
    instructions: REQUEST.instructions,
    max_output_tokens: 2048,
    model: "gpt-5-codex",
    output,
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
    usage,
    user: null,
    metadata: { session: "s-1" },
    ...more,
  };
}

/** `response.created` and `response.in_progress`. */
function started(): Event[] {
  const initial = response("in_progress", [], null);
  return [
    ["response.created", { type: "response.created", response: initial }],
    ["response.in_progress", { type: "response.in_progress", response: initial }],
  ];
}

function itemAdded(index: number, item: JsonObject): Event {
  const type = "response.output_item.added";
  return [type, { type, item, output_index: index }];
}

function itemDone(index: number, item: JsonObject): Event {
  const type = "response.output_item.done";
  return [type, { type, item, output_index: index }];
}

function message(id: string, status: string, texts: string[]): JsonObject {
  const content = texts.map((text) => ({
    type: "output_text",
    annotations: [],
    logprobs: [],
    text,
  }));
  return { id, type: "message", status, content, role: "assistant" };
}

/** The events of a message's text part, from its start to its end. */
function textPart(id: string, index: number, deltas: string[]): Event[] {
  const place = { content_index: 0, item_id: id, output_index: index };
  const part = (text: string) => ({ type: "output_text", annotations: [], logprobs: [], text });
  const text = deltas.join("");
  return [
    ["response.content_part.added", {
      type: "response.content_part.added",
      ...place,
      part: part(""),
    }],
    ...deltas.map((delta): Event => [
      "response.output_text.delta",
      { type: "response.output_text.delta", ...place, delta, logprobs: [] },
    ]),
    ["response.output_text.done", {
      type: "response.output_text.done",
      ...place,
      logprobs: [],
      text,
    }],
    ["response.content_part.done", {
      type: "response.content_part.done",
      ...place,
      part: part(text),
    }],
  ];
}

/** A whole message item's events. */
function messageEvents(id: string, index: number, deltas: string[], status = "completed") {
  return [
    itemAdded(index, message(id, "in_progress", [])),
    ...textPart(id, index, deltas),
    itemDone(index, message(id, status, [deltas.join("")])),
  ];
}

/** How a failed stream ends: an `error` event, then `response.failed` with the output so far. */
function failed(output: JsonObject[], text: string, usage: JsonObject | null = null): Event[] {
  return [
    ["error", { type: "error", code: "server_error", message: text, param: null }],
    ["response.failed", {
      type: "response.failed",
      response: response("failed", output, usage, {
        error: { code: "server_error", message: text },
      }),
    }],
  ];
}

const TEXT_OUTPUT = [message("msg_1", "completed", ["Héllo there! 👋"])];

const TEXT_EVENTS: Event[] = [
  ...started(),
  ...messageEvents("msg_1", 0, ["Héllo", " there! 👋"]),
  ["response.completed", {
    type: "response.completed",
    response: response("completed", TEXT_OUTPUT, usage(19, 0, 10)),
  }],
];

Deno.test("a text stream becomes the Responses event sequence, usage from the last chunk", async () => {
  assert.deepEqual(await run("stream_text.sse"), TEXT_EVENTS);
});

Deno.test("reads cut anywhere, even inside a line or a character, change nothing", async () => {
  const text = await fixtureText("stream_text.sse");
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
  const text = await fixtureText("stream_text.sse");
  const frames = text.split("\n\n").filter((f) => f !== "").map((f) => encoder.encode(f + "\n\n"));
  const out = source(frames).stream.pipeThrough(chatToResponsesStream(context()));
  const seen: string[][] = [];
  const decoder = new TextDecoder();
  let all = "";
  for await (const chunk of out) {
    const piece = decoder.decode(chunk);
    all += piece;
    seen.push([...piece.matchAll(/^event: (\S+)$/gm)].map((m) => m[1]!));
  }
  // The first chunk has only the role: it starts the response, and the text its message.
  assert.deepEqual(seen, [
    ["response.created", "response.in_progress"],
    [
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
    ],
    ["response.output_text.delta"],
    ["response.output_text.done", "response.content_part.done", "response.output_item.done"],
    ["response.completed"],
  ]);
  assert.deepEqual(events(all), TEXT_EVENTS);
});

Deno.test("reasoning then text: a reasoning item with its summary, then a message", async () => {
  const reasoning = { id: "rs_1", type: "reasoning", summary: [] };
  const summary = "9.11 vs 9.8: compare tenths.";
  const place = { item_id: "rs_1", output_index: 0 };
  const output = [
    { ...reasoning, summary: [{ type: "summary_text", text: summary }] },
    message("msg_1", "completed", ["9.8 is larger."]),
  ];
  assert.deepEqual(await run("stream_reasoning_text.sse", 5), [
    ...started(),
    itemAdded(0, reasoning),
    ["response.reasoning_summary_part.added", {
      type: "response.reasoning_summary_part.added",
      ...place,
      part: { type: "summary_text", text: "" },
      summary_index: 0,
    }],
    ...["9.11 vs 9.8:", " compare tenths."].map((delta): Event => [
      "response.reasoning_summary_text.delta",
      { type: "response.reasoning_summary_text.delta", delta, ...place, summary_index: 0 },
    ]),
    ["response.reasoning_summary_text.done", {
      type: "response.reasoning_summary_text.done",
      ...place,
      summary_index: 0,
      text: summary,
    }],
    ["response.reasoning_summary_part.done", {
      type: "response.reasoning_summary_part.done",
      ...place,
      part: { type: "summary_text", text: summary },
      summary_index: 0,
    }],
    itemDone(0, output[0]!),
    ...messageEvents("msg_1", 1, ["9.8", " is larger."]),
    ["response.completed", {
      type: "response.completed",
      response: response("completed", output, usage(15, 0, 42, 30)),
    }],
  ]);
});

Deno.test("two parallel tool calls, interleaved: items under the client's names, in order", async () => {
  const read = {
    id: "fc_1",
    type: "function_call",
    status: "in_progress",
    arguments: "",
    call_id: "call_read",
    name: "read",
    namespace: "files",
  };
  const patch = {
    id: "ctc_1",
    type: "custom_tool_call",
    status: "in_progress",
    call_id: "call_patch",
    input: "",
    name: "apply_patch",
  };
  const readArgs = '{"path": "src/main.ts"}';
  const input = "*** Begin Patch\n✓";
  const readDone = { ...read, status: "completed", arguments: readArgs };
  const patchDone = { ...patch, status: "completed", input };
  const readPlace = { item_id: "fc_1", output_index: 1 };
  const patchPlace = { item_id: "ctc_1", output_index: 2 };
  const argsDelta = (delta: string): Event => [
    "response.function_call_arguments.delta",
    { type: "response.function_call_arguments.delta", delta, ...readPlace },
  ];
  const output = [message("msg_1", "completed", ["Reading, then patching."]), readDone, patchDone];
  // Cut every 5 bytes: the pieces of arguments and of "✓" land across reads.
  assert.deepEqual(await run("stream_parallel_tools.sse", 5), [
    ...started(),
    ...messageEvents("msg_1", 0, ["Reading, then patching."]),
    itemAdded(1, read),
    itemAdded(2, patch),
    argsDelta('{"path":'),
    argsDelta(' "src/main.ts"}'),
    ["response.function_call_arguments.done", {
      type: "response.function_call_arguments.done",
      arguments: readArgs,
      ...readPlace,
      name: "read",
    }],
    itemDone(1, readDone),
    // A custom tool's input goes out whole: the hub streamed it as JSON text.
    ["response.custom_tool_call_input.delta", {
      type: "response.custom_tool_call_input.delta",
      delta: input,
      ...patchPlace,
    }],
    ["response.custom_tool_call_input.done", {
      type: "response.custom_tool_call_input.done",
      input,
      ...patchPlace,
    }],
    itemDone(2, patchDone),
    ["response.completed", {
      type: "response.completed",
      response: response("completed", output, usage(80, 64, 40)),
    }],
  ]);
});

Deno.test("an answer cut by its token limit ends with response.incomplete", async () => {
  const output = [message("msg_1", "incomplete", ["1. Apples\n2. Pe"])];
  assert.deepEqual(await run("stream_length.sse", 9), [
    ...started(),
    ...messageEvents("msg_1", 0, ["1. Apples\n2. Pe"], "incomplete"),
    ["response.incomplete", {
      type: "response.incomplete",
      response: response("incomplete", output, usage(10, 0, 8), {
        incomplete_details: { reason: "max_output_tokens" },
      }),
    }],
  ]);
});

Deno.test("the final response goes to onComplete once, as the client got it", async () => {
  const got: JsonObject[] = [];
  const { text } = await translate(cut(await fixtureText("stream_parallel_tools.sse"), 64), {
    onComplete: (r) => got.push(r),
  });
  assert.equal(got.length, 1);
  const last = events(text).at(-1);
  assert.equal(last?.[0], "response.completed");
  assert.deepEqual(JSON.parse(normalizeIds(JSON.stringify(got[0]))), last?.[1].response);
});

Deno.test("an upstream error event ends the stream with response.failed, the output so far", async () => {
  const got: JsonObject[] = [];
  const { text, cancelled } = await translate(cut(await fixtureText("stream_error.sse"), 11), {
    onComplete: (r) => got.push(r),
  });
  assert.deepEqual(events(text), [
    ...started(),
    itemAdded(0, message("msg_1", "in_progress", [])),
    ...textPart("msg_1", 0, ["Once upon"]).slice(0, 2),
    ...failed(
      [message("msg_1", "incomplete", ["Once upon"])],
      "The server had an error while processing your request. Sorry about that!",
    ),
  ]);
  assert.ok(cancelled, "the rest of the upstream is not read");
  assert.deepEqual(got, [], "a failed response is not a completed one");
});

Deno.test("a stream cut off before its end fails, never a clean-looking end", async () => {
  assert.deepEqual(await run("stream_truncated.sse"), [
    ...started(),
    itemAdded(0, message("msg_1", "in_progress", [])),
    ...textPart("msg_1", 0, ["The answer is"]).slice(0, 2),
    ...failed(
      [message("msg_1", "incomplete", ["The answer is"])],
      "the upstream stream ended before the answer was complete",
    ),
  ]);
  assert.deepEqual(events((await translate([])).text), [
    ...started(),
    ...failed([], "the upstream stream ended before the answer was complete"),
  ]);
});

/** SSE text of Chat chunks, each given as its `choices[0]` (or a whole chunk with `usage`). */
function chatStream(chunks: JsonObject[], done = true): string {
  const frames = chunks.map((c) =>
    `data: ${JSON.stringify({ id: "chatcmpl-x", object: "chat.completion.chunk", ...c })}\n\n`
  );
  return frames.join("") + (done ? "data: [DONE]\n\n" : "");
}

function choice(delta: JsonObject, finish: string | null = null): JsonObject {
  return { choices: [{ index: 0, delta, finish_reason: finish }] };
}

Deno.test("a finish_reason without [DONE] ends cleanly, with zero usage when none came", async () => {
  const text = chatStream([choice({ content: "Hi" }), choice({}, "stop")], false);
  const got = events((await translate(cut(text, 9))).text);
  assert.deepEqual(got.at(-1), ["response.completed", {
    type: "response.completed",
    response: response("completed", [message("msg_1", "completed", ["Hi"])], usage(0, 0, 0)),
  }]);
});

Deno.test("a refusal streams as a refusal part; a filtered answer is incomplete", async () => {
  const text = chatStream([
    choice({ refusal: "I can't " }),
    choice({ refusal: "help." }),
    choice({}, "content_filter"),
  ]);
  const got = events((await translate(cut(text, 6))).text);
  const place = { content_index: 0, item_id: "msg_1", output_index: 0 };
  const refusal = { type: "refusal", refusal: "I can't help." };
  const item = { ...message("msg_1", "incomplete", []), content: [refusal] };
  assert.deepEqual(got.slice(2), [
    itemAdded(0, message("msg_1", "in_progress", [])),
    ["response.content_part.added", {
      type: "response.content_part.added",
      ...place,
      part: { type: "refusal", refusal: "" },
    }],
    ["response.refusal.delta", { type: "response.refusal.delta", ...place, delta: "I can't " }],
    ["response.refusal.delta", { type: "response.refusal.delta", ...place, delta: "help." }],
    ["response.refusal.done", {
      type: "response.refusal.done",
      ...place,
      refusal: refusal.refusal,
    }],
    ["response.content_part.done", { type: "response.content_part.done", ...place, part: refusal }],
    itemDone(0, item),
    ["response.incomplete", {
      type: "response.incomplete",
      response: response("incomplete", [item], usage(0, 0, 0), {
        incomplete_details: { reason: "content_filter" },
      }),
    }],
  ]);
});

Deno.test("a tool name that comes late still opens its item; a call without arguments gets {}", async () => {
  const text = chatStream([
    choice({ tool_calls: [{ index: 0, id: "call_1", function: { arguments: '{"a"' } }] }),
    choice({ tool_calls: [{ index: 0, function: { name: "files__read", arguments: ":1}" } }] }),
    choice({ tool_calls: [{ index: 1, id: "call_2", function: { name: "get_time" } }] }),
    choice({}, "tool_calls"),
  ]);
  const got = events((await translate(cut(text, 4))).text);
  const deltas = got
    .filter(([type]) => type === "response.function_call_arguments.delta")
    .map(([, data]) => [data.item_id, data.delta]);
  // Arguments held until the name came go out together.
  assert.deepEqual(deltas, [["fc_1", '{"a":1}'], ["fc_2", "{}"]]);
  const final = got.at(-1)?.[1].response as JsonObject;
  assert.deepEqual(
    (final.output as JsonObject[]).map((item) => [item.name, item.namespace, item.arguments]),
    [["read", "files", '{"a":1}'], ["get_time", undefined, "{}"]],
  );
});

Deno.test("a tool call that never gets a name fails the response", async () => {
  const text = chatStream([
    choice({ tool_calls: [{ index: 0, id: "call_1", function: { arguments: "{}" } }] }),
    choice({}, "tool_calls"),
  ]);
  const got = events((await translate(cut(text, 50))).text);
  assert.deepEqual(got.slice(-2), failed([], "the upstream's tool call 0 never got a name"));
});

Deno.test("data that is not JSON ends the stream with response.failed", async () => {
  const text = chatStream([choice({ content: "Hi" })], false) + "data: {oops\n\n";
  const got = events((await translate(cut(text, 8))).text);
  assert.equal(got.at(-1)?.[0], "response.failed");
  assert.deepEqual(
    (got.at(-1)?.[1].response as JsonObject).error,
    { code: "server_error", message: "the upstream sent a stream event that is not JSON" },
  );
});

Deno.test("a failure to read the upstream errors the stream, for the relay to report", async () => {
  let reads = 0;
  const failing = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (reads++ === 0) {
        controller.enqueue(encoder.encode(chatStream([choice({ content: "Hi" })], false)));
      } else controller.error(new Error("connection reset"));
    },
  });
  const reader = failing.pipeThrough(chatToResponsesStream(context())).getReader();
  const first = await reader.read();
  assert.match(new TextDecoder().decode(first.value), /event: response.output_text.delta/);
  await assert.rejects(async () => {
    for (;;) if ((await reader.read()).done) break;
  }, /connection reset/);
});

/** An SDK client whose every request is answered with `body` as an event stream. */
function clientAnsweredWith(body: ReadableStream<Uint8Array>): OpenAI {
  return new OpenAI({
    apiKey: "unused",
    baseURL: "http://gateway.invalid/v1",
    maxRetries: 0,
    fetch: () =>
      Promise.resolve(new Response(body, { headers: { "content-type": "text/event-stream" } })),
  });
}

Deno.test("the openai SDK's stream reader accepts the stream and rebuilds the response", async () => {
  const text = await fixtureText("stream_parallel_tools.sse");
  const translated = source(cut(text, 13)).stream.pipeThrough(chatToResponsesStream(context()));
  const client = clientAnsweredWith(translated);
  const stream = client.responses.stream({ model: "gpt-5-codex", input: "Fix the bug" });
  const deltas: string[] = [];
  stream.on("response.output_text.delta", (event) => deltas.push(event.snapshot));
  const final = await stream.finalResponse();
  assert.deepEqual(deltas, ["Reading, then patching."]);
  assert.equal(final.output_text, "Reading, then patching.");
  assert.equal(final.status, "completed");
  assert.deepEqual(
    final.output.map((item) =>
      item.type === "function_call"
        ? [item.type, item.namespace, item.name, JSON.parse(item.arguments)]
        : item.type === "custom_tool_call"
        ? [item.type, item.name, item.input]
        : [item.type]
    ),
    [
      ["message"],
      ["function_call", "files", "read", { path: "src/main.ts" }],
      ["custom_tool_call", "apply_patch", "*** Begin Patch\n✓"],
    ],
  );
  assert.equal(final.usage?.input_tokens_details.cached_tokens, 64);
});

Deno.test("the openai SDK sees reasoning, and a failed stream's error", async () => {
  const reasoning = source(cut(await fixtureText("stream_reasoning_text.sse"), 17)).stream
    .pipeThrough(chatToResponsesStream(context()));
  const done = await clientAnsweredWith(reasoning).responses.stream({ model: "m", input: "?" })
    .finalResponse();
  const [first] = done.output;
  assert.equal(first?.type, "reasoning");
  assert.deepEqual(first?.type === "reasoning" ? first.summary : undefined, [
    { type: "summary_text", text: "9.11 vs 9.8: compare tenths." },
  ]);
  assert.equal(done.output_text, "9.8 is larger.");

  const broken = source(cut(await fixtureText("stream_error.sse"), 17)).stream
    .pipeThrough(chatToResponsesStream(context()));
  const types: string[] = [];
  const stream = await clientAnsweredWith(broken).responses.create({
    model: "m",
    input: "?",
    stream: true,
  });
  let failure: unknown;
  for await (const event of stream) {
    types.push(event.type);
    if (event.type === "response.failed") failure = event.response.error;
  }
  assert.equal(types.at(-1), "response.failed");
  assert.deepEqual(failure, {
    code: "server_error",
    message: "The server had an error while processing your request. Sorry about that!",
  });
});
