import assert from "node:assert/strict";
import { ProviderError } from "../../../src/core/errors.ts";
import { anthropicStreamTranslator } from "../../../src/providers/anthropic/stream.ts";
import { translateSse } from "../../../src/providers/sse_translate.ts";

type Chunk = Record<string, unknown> & { choices: Record<string, unknown>[] };
type Payload = Chunk | "[DONE]";
/** One entry of `delta.tool_calls`. */
interface ToolDelta {
  index: number;
  id?: string;
  type?: string;
  function: { name?: string; arguments?: string };
}

const encoder = new TextEncoder();

async function fixture(name: string): Promise<string> {
  return await Deno.readTextFile(new URL(`../../testdata/anthropic/${name}`, import.meta.url));
}

/** The text cut in `size`-byte chunks, so events straddle chunk boundaries. */
function chunked(text: string, size = 7): ReadableStream<Uint8Array> {
  const bytes = encoder.encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

function parsePayloads(text: string): Payload[] {
  return text.split("\n\n").filter((e) => e !== "").map((event) => {
    assert.ok(event.startsWith("data: "), `not an OpenAI data event: ${event}`);
    const data = event.slice("data: ".length);
    return data === "[DONE]" ? "[DONE]" : JSON.parse(data);
  });
}

/** Runs a fixture through the translator: the payloads sent, and the error that ended it. */
async function translate(
  name: string,
  includeUsage = false,
): Promise<{ payloads: Payload[]; error?: unknown }> {
  const translator = anthropicStreamTranslator({ model: "requested", includeUsage });
  const out = translateSse(chunked(await fixture(name)), translator);
  const reader = out.getReader();
  const decoder = new TextDecoder();
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { payloads: parsePayloads(text) };
      text += decoder.decode(value, { stream: true });
    }
  } catch (error) {
    return { payloads: parsePayloads(text), error };
  }
}

function chunks(payloads: Payload[]): Chunk[] {
  return payloads.filter((p): p is Chunk => p !== "[DONE]");
}

function deltas(payloads: Payload[]): Record<string, unknown>[] {
  return chunks(payloads).flatMap((c) =>
    c.choices.map((choice) => choice.delta as Record<string, unknown>)
  );
}

function text(payloads: Payload[]): string {
  return deltas(payloads).map((d) => d.content ?? "").join("");
}

Deno.test("a streamed text answer becomes OpenAI chunks ending in finish_reason and [DONE]", async () => {
  const { payloads, error } = await translate("stream_text.sse");
  assert.equal(error, undefined);
  assert.equal(payloads.at(-1), "[DONE]");
  const all = chunks(payloads);
  for (const chunk of all) {
    assert.equal(chunk.object, "chat.completion.chunk");
    assert.equal(chunk.id, "chatcmpl-1nZdL29xx5MUA1yADyHTEsnR8uuvGzszyY");
    assert.equal(chunk.model, "claude-sonnet-4-5-20250929");
    assert.ok(!("usage" in chunk), "usage only when include_usage was asked for");
  }
  assert.deepEqual(all[0]!.choices[0]!.delta, { role: "assistant", content: "" });
  assert.equal(text(payloads), "Hello!");
  const last = all.at(-1)!.choices[0]!;
  assert.deepEqual(last.delta, {});
  assert.equal(last.finish_reason, "stop");
  assert.equal(all.filter((c) => c.choices[0]!.finish_reason !== null).length, 1);
});

Deno.test("include_usage adds usage: null to each chunk and one closing usage chunk", async () => {
  const { payloads } = await translate("stream_text.sse", true);
  const all = chunks(payloads);
  const usageChunk = all.at(-1)!;
  assert.deepEqual(usageChunk.choices, []);
  assert.deepEqual(usageChunk.usage, {
    prompt_tokens: 30, // 25 input + 5 read from the cache
    completion_tokens: 15,
    total_tokens: 45,
    prompt_tokens_details: { cached_tokens: 5 },
  });
  for (const chunk of all.slice(0, -1)) assert.equal(chunk.usage, null);
  assert.equal(payloads.at(-1), "[DONE]");
});

Deno.test("streamed tool calls are numbered among tools and their arguments arrive in pieces", async () => {
  const { payloads, error } = await translate("stream_tool_use.sse");
  assert.equal(error, undefined);
  assert.equal(text(payloads), "Okay, let's check the weather:");
  const calls = deltas(payloads).flatMap((d) => (d.tool_calls ?? []) as ToolDelta[]);
  assert.deepEqual(calls[0], {
    index: 0,
    id: "toolu_01T1x1fJ34qAmk2tNTrN7Up6",
    type: "function",
    function: { name: "get_weather", arguments: "" },
  });
  // Reassemble as the SDK does: by index, concatenating the argument pieces.
  const args = new Map<number, string>();
  for (const call of calls) {
    args.set(call.index, (args.get(call.index) ?? "") + (call.function.arguments ?? ""));
  }
  assert.equal(
    calls.filter((c) => c.index === 0).length,
    4,
    "three argument pieces after the head",
  );
  assert.deepEqual(JSON.parse(args.get(0)!), {
    location: "San Francisco, CA",
    unit: "fahrenheit",
  });
  assert.equal(calls.find((c) => c.index === 1)?.id, "toolu_02B");
  assert.equal(args.get(1), "{}");
  const finish = chunks(payloads).map((c) => c.choices[0]?.finish_reason).filter(Boolean);
  assert.deepEqual(finish, ["tool_calls"]);
});

Deno.test("an error event ends the stream with a retryable 529 after the content sent so far", async () => {
  const { payloads, error } = await translate("stream_error.sse");
  assert.equal(text(payloads), "Hel", "what arrived before the error was relayed");
  assert.ok(!payloads.includes("[DONE]"), "an interrupted stream must not look complete");
  assert.ok(error instanceof ProviderError, `unexpected error: ${error}`);
  assert.equal(error.status, 529);
  assert.equal(error.retryable, true);
  assert.match(error.message, /overloaded_error: Overloaded/);
});

Deno.test("a stream that ends without message_stop is a protocol failure, not a clean end", async () => {
  const { payloads, error } = await translate("stream_truncated.sse");
  assert.equal(text(payloads), "Hel");
  assert.ok(!payloads.includes("[DONE]"));
  assert.ok(error instanceof ProviderError && error.kind === "protocol", `got ${error}`);
});

Deno.test("an error as the first event fails before any byte, so the executor can fall back", async () => {
  const event =
    'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"boom"}}\n\n';
  const out = translateSse(
    chunked(event, 1000),
    anthropicStreamTranslator({ model: "m", includeUsage: false }),
  );
  await assert.rejects(out.getReader().read(), (err: unknown) => {
    assert.ok(err instanceof ProviderError);
    assert.equal(err.status, 500);
    return true;
  });
});

Deno.test("each chunk goes out as its event arrives, before the upstream has finished", async () => {
  let upstream!: ReadableStreamDefaultController<Uint8Array>;
  const body = new ReadableStream<Uint8Array>({ start: (c) => void (upstream = c) });
  const reader = translateSse(body, anthropicStreamTranslator({ model: "m", includeUsage: false }))
    .getReader();
  const lines = (await fixture("stream_text.sse")).split("\n\n");
  upstream.enqueue(encoder.encode(lines[0] + "\n\n"));
  const first = new TextDecoder().decode((await reader.read()).value);
  assert.match(first, /"role":"assistant"/);
  upstream.enqueue(encoder.encode(lines.slice(1, 4).join("\n\n") + "\n\n"));
  const second = new TextDecoder().decode((await reader.read()).value);
  assert.match(second, /"content":"Hello"/);
  upstream.close();
  await reader.cancel();
});
