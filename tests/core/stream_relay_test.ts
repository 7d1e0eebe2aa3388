import assert from "node:assert/strict";
import { IdleWatch } from "../../src/core/idle_watch.ts";
import { relayStream, type RelaySummary } from "../../src/core/stream_relay.ts";
import { usageFromTail } from "../../src/core/usage.ts";

const encoder = new TextEncoder();

function chunks(parts: string[]): ReadableStreamDefaultReader<Uint8Array> {
  return new ReadableStream<Uint8Array>({
    start(controller) {
      for (const p of parts) controller.enqueue(encoder.encode(p));
      controller.close();
    },
  }).getReader();
}

Deno.test("the relay keeps exactly the stream's last 4 KB, across chunk sizes, for usage", async () => {
  const events = Array.from(
    { length: 300 },
    (_, i) => `data: {"choices":[{"delta":{"content":"piece ${i}"}}]}\n\n`,
  );
  const usage =
    'data: {"choices":[],"usage":{"prompt_tokens":7,"completion_tokens":300,"total_tokens":307}}\n\n';
  // The usage event arrives split over three reads, after many small ones and one large one.
  const parts = [
    ...events.slice(0, 250),
    events.slice(250).join(""),
    usage.slice(0, 20),
    usage.slice(20, 50),
    usage.slice(50),
    "data: [DONE]\n\n",
  ];
  const all = parts.join("");
  let summary: RelaySummary | undefined;
  const idle = new IdleWatch(1000);
  const stream = relayStream(encoder.encode("data: first\n\n"), chunks(parts), {
    idle,
    idleTimeoutMs: 60_000,
    abort: () => {},
    label: "test/model",
    onEnd: (s) => summary = s,
  });
  const text = await new Response(stream).text();
  assert.equal(text, "data: first\n\n" + all);
  assert.ok(summary);
  assert.equal(summary.end.kind, "done");
  assert.equal(summary.bytes, encoder.encode("data: first\n\n" + all).byteLength);
  const tail = new TextDecoder().decode(summary.tail);
  assert.equal(tail.length, 4096);
  assert.ok(("data: first\n\n" + all).endsWith(tail));
  assert.deepEqual(usageFromTail(summary.tail), {
    prompt_tokens: 7,
    completion_tokens: 300,
    total_tokens: 307,
  });
  idle.close();
});

Deno.test("a stream closed before its API's last event ends with the error event, as failed", async () => {
  const idle = new IdleWatch(1000);
  const ends: RelaySummary[] = [];
  const relay = (parts: string[]) =>
    new Response(
      relayStream(encoder.encode("event: message_start\ndata: {}\n\n"), chunks(parts), {
        idle,
        idleTimeoutMs: 60_000,
        abort: () => {},
        label: "claude/sonnet",
        onEnd: (s) => ends.push(s),
        errorEvent: (error) => `event: error\ndata: ${(error as Error).message}\n\n`,
        checkEnd: (tail) =>
          new TextDecoder().decode(tail).includes("event: message_stop") ? undefined : "cut short",
      }),
    ).text();

  const cut = await relay(["event: content_block_delta\ndata: {}\n\n"]);
  assert.ok(
    cut.endsWith("event: content_block_delta\ndata: {}\n\nevent: error\ndata: cut short\n\n"),
  );
  assert.equal(ends[0]?.end.kind, "failed");

  const whole = await relay(["event: message_stop\ndata: {}\n\n"]);
  assert.ok(whole.endsWith("event: message_stop\ndata: {}\n\n"));
  assert.equal(ends[1]?.end.kind, "done");
  idle.close();
});

Deno.test("the event that ends a broken stream is given the stream's last bytes sent", async () => {
  const idle = new IdleWatch(1000);
  let reads = 0;
  const failing = new ReadableStream<Uint8Array>({
    pull(controller) {
      if (reads++ === 0) controller.enqueue(encoder.encode("data: second\n\n"));
      else controller.error(new Error("connection reset"));
    },
  }).getReader();
  const stream = relayStream(encoder.encode("data: first\n\n"), failing, {
    idle,
    idleTimeoutMs: 60_000,
    abort: () => {},
    label: "test/model",
    onEnd: () => {},
    errorEvent: (error, _label, _redact, tail) =>
      `data: ${(error as Error).message} after ${
        JSON.stringify(new TextDecoder().decode(tail))
      }\n\n`,
  });
  assert.equal(
    await new Response(stream).text(),
    'data: first\n\ndata: second\n\ndata: connection reset after "data: first\\n\\ndata: second\\n\\n"\n\n',
  );
  idle.close();
});
