import assert from "node:assert/strict";
import { ProviderError } from "../../../src/core/errors.ts";
import { IdleWatch } from "../../../src/core/idle_watch.ts";
import { relayStream, type RelaySummary } from "../../../src/core/stream_relay.ts";
import { chatToResponsesStream } from "../../../src/dialects/responses/stream.ts";
import {
  responsesStreamEnd,
  responsesStreamErrorEvent,
} from "../../../src/dialects/responses/stream_end.ts";
import { context, fixtureText } from "./support.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The last `n` bytes of `text`, as the relay keeps a stream's tail. */
function tailOf(text: string, n = 4096): Uint8Array {
  const bytes = encoder.encode(text);
  return bytes.slice(Math.max(0, bytes.length - n));
}

/** A translated Responses stream's text, from a hub fixture. */
async function translated(name: string): Promise<string> {
  const hub = new Response(await fixtureText(name)).body!;
  return await new Response(hub.pipeThrough(chatToResponsesStream(context()))).text();
}

/** One SSE event as OpenAI frames it. */
function event(type: string, data: Record<string, unknown>, sequence: number): string {
  return `event: ${type}\ndata: ${
    JSON.stringify({ type, ...data, sequence_number: sequence })
  }\n\n`;
}

/** A native stream whose answer is `text`, long enough that its last event outgrows a tail. */
function nativeStream(text: string): string[] {
  const response = (status: string, output: unknown[], usage: unknown) => ({
    id: "resp_1",
    object: "response",
    status,
    output,
    parallel_tool_calls: true,
    tools: [],
    usage,
    user: null,
    metadata: {},
  });
  const item = {
    id: "msg_1",
    type: "message",
    status: "completed",
    content: [{ type: "output_text", annotations: [], text }],
    role: "assistant",
  };
  const usage = { input_tokens: 5, output_tokens: 900, total_tokens: 905 };
  return [
    event("response.created", { response: response("in_progress", [], null) }, 0),
    event("response.output_text.delta", { item_id: "msg_1", delta: text }, 1),
    event("response.output_text.done", { item_id: "msg_1", text }, 2),
    event("response.output_item.done", { item, output_index: 0 }, 3),
    event("response.completed", { response: response("completed", [item], usage) }, 4),
  ];
}

Deno.test("a Responses stream that reached its last event ended; one without it was cut", async () => {
  const whole = await translated("stream_parallel_tools.sse");
  assert.equal(responsesStreamEnd(tailOf(whole)), undefined);
  const cut = whole.slice(0, whole.lastIndexOf("event: response.completed"));
  assert.equal(responsesStreamEnd(tailOf(cut)), "the stream ended before response.completed");
  for (const name of ["stream_length.sse", "stream_error.sse", "stream_truncated.sse"]) {
    // Incomplete and failed responses are ends too.
    assert.equal(responsesStreamEnd(tailOf(await translated(name))), undefined, name);
  }
  const error = responsesStreamErrorEvent(new Error("reset"), "openai/gpt-5", undefined);
  assert.equal(responsesStreamEnd(tailOf(cut + error)), undefined);
  assert.equal(responsesStreamEnd(new Uint8Array()), "the stream ended before response.completed");
});

Deno.test("a long answer's last event, larger than the tail kept, still counts as the end", () => {
  const events = nativeStream("All work and no play makes Jack a dull boy. ".repeat(200));
  assert.ok(events[4]!.length > 4096);
  assert.equal(responsesStreamEnd(tailOf(events.join(""))), undefined);
  // Cut after a large event that is not the last: its bytes show no response of their own.
  assert.equal(
    responsesStreamEnd(tailOf(events.slice(0, 4).join(""))),
    "the stream ended before response.completed",
  );
  assert.equal(
    responsesStreamEnd(tailOf(events.slice(0, 3).join(""))),
    "the stream ended before response.completed",
  );
});

Deno.test("a broken stream's error event follows the last sequence number sent", async () => {
  const sent = await translated("stream_truncated.sse");
  const last = Math.max(...[...sent.matchAll(/"sequence_number":(\d+)/g)].map((m) => +m[1]!));
  const text = responsesStreamErrorEvent(
    new ProviderError("network", "connection reset by sk-secret-key"),
    "openai/gpt-5",
    (s) => s.replaceAll("sk-secret-key", "[redacted]"),
    tailOf(sent),
  );
  const match = /^event: error\ndata: (.+)\n\n$/.exec(text);
  assert.ok(match, text);
  assert.deepEqual(JSON.parse(match[1]!), {
    type: "error",
    code: "stream_interrupted",
    message:
      "upstream stream from openai/gpt-5 failed after it started: network: connection reset by [redacted]",
    param: null,
    sequence_number: last + 1,
  });
  const idle = JSON.parse(
    responsesStreamErrorEvent(new ProviderError("idle_timeout", "no data for 50ms"), "a/b")
      .split("data: ")[1]!,
  );
  assert.equal(idle.code, "stream_idle_timeout");
  assert.equal(idle.message, "upstream stream from a/b failed after it started: no data for 50ms");
  assert.equal(idle.sequence_number, 0);
});

/** Relays `parts` (the first one first), failing after them with `failure` if given. */
async function relay(
  parts: string[],
  failure?: Error,
): Promise<{ text: string; summary: RelaySummary }> {
  const idle = new IdleWatch(1000);
  let next = 1;
  const reader = new ReadableStream<Uint8Array>({
    pull(controller) {
      const part = parts[next++];
      if (part !== undefined) controller.enqueue(encoder.encode(part));
      else if (failure !== undefined) controller.error(failure);
      else controller.close();
    },
  }).getReader();
  let summary: RelaySummary | undefined;
  const stream = relayStream(encoder.encode(parts[0]!), reader, {
    idle,
    idleTimeoutMs: 60_000,
    abort: () => {},
    label: "openai/gpt-5",
    onEnd: (s) => summary = s,
    errorEvent: responsesStreamErrorEvent,
    checkEnd: responsesStreamEnd,
  });
  const text = await new Response(stream).text();
  idle.close();
  assert.ok(summary);
  return { text, summary };
}

/** The sequence numbers of the events in `text`, in order. */
function sequenceNumbers(text: string): number[] {
  return text.split("\n\n").filter((f) => f !== "").map((frame) =>
    JSON.parse(frame.slice(frame.indexOf("data: ") + 6)).sequence_number
  );
}

Deno.test("the relay ends a broken native stream with an error event numbered after the rest", async () => {
  const events = nativeStream("Hello there. ".repeat(10));
  const broken = await relay(events.slice(0, 3), new ProviderError("network", "reset"));
  assert.equal(broken.summary.end.kind, "failed");
  assert.deepEqual(sequenceNumbers(broken.text), [0, 1, 2, 3]);
  assert.match(broken.text, /event: error\ndata: \{"type":"error","code":"stream_interrupted"/);

  const cut = await relay(events.slice(0, 4));
  assert.equal(cut.summary.end.kind, "failed");
  assert.match(cut.text, /"message":"[^"]*the stream ended before response.completed"/);
  assert.deepEqual(sequenceNumbers(cut.text), [0, 1, 2, 3, 4]);

  const whole = await relay(events);
  assert.equal(whole.summary.end.kind, "done");
  assert.equal(whole.text, events.join(""));
  assert.equal(decoder.decode(whole.summary.tail), whole.text.slice(-4096));
});
