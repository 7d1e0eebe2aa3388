import assert from "node:assert/strict";
import { ProviderError } from "../../../src/core/errors.ts";
import type { JsonObject } from "../../../src/core/json.ts";
import { geminiStreamTranslator } from "../../../src/providers/gemini/stream.ts";
import { translateSse } from "../../../src/providers/sse_translate.ts";

const dir = new URL("../../testdata/gemini/", import.meta.url);

/** A body delivering `text` in `size`-byte slices, so events straddle chunk boundaries. */
function bodyOf(text: string, size = 7): ReadableStream<Uint8Array> {
  const bytes = new TextEncoder().encode(text);
  let offset = 0;
  return new ReadableStream({
    pull(controller) {
      if (offset >= bytes.length) return controller.close();
      controller.enqueue(bytes.slice(offset, offset + size));
      offset += size;
    },
  });
}

/** Translates a Gemini SSE body; returns the OpenAI `data:` payloads (JSON parsed but [DONE]). */
async function translate(
  sse: string,
  includeUsage = false,
): Promise<(JsonObject | string)[]> {
  const translator = geminiStreamTranslator({ model: "gemini-2.0-flash", includeUsage });
  const text = await new Response(translateSse(bodyOf(sse), translator)).text();
  assert.ok(text.endsWith("\n\n"), "every event ends with a blank line");
  return text.trimEnd().split("\n\n").map((event) => {
    assert.ok(event.startsWith("data: "), `not a data event: ${event}`);
    const data = event.slice("data: ".length);
    return data === "[DONE]" ? data : JSON.parse(data);
  });
}

type Delta = JsonObject & { content?: string; tool_calls?: JsonObject[] };
type ChunkChoice = { index: number; delta: Delta; finish_reason: string | null };

function choiceOf(chunk: JsonObject | string): ChunkChoice {
  assert.ok(typeof chunk !== "string");
  const choices = chunk.choices as ChunkChoice[];
  assert.equal(choices.length, 1);
  return choices[0]!;
}

Deno.test("gemini stream: text pieces become OpenAI chunks, role first, [DONE] last", async () => {
  const events = await translate(await Deno.readTextFile(new URL("stream_text.sse", dir)));
  assert.equal(events.at(-1), "[DONE]");
  const chunks = events.slice(0, -1) as JsonObject[];
  const ids = new Set(chunks.map((c) => c.id));
  assert.equal(ids.size, 1, "one id for the whole stream");
  for (const c of chunks) {
    assert.equal(c.object, "chat.completion.chunk");
    assert.equal(c.model, "gemini-2.0-flash");
    assert.ok(!("usage" in c), "no usage unless include_usage asked for it");
  }
  assert.deepEqual(choiceOf(chunks[0]!).delta, { role: "assistant", content: "" });
  const text = chunks.map((c) => choiceOf(c).delta.content ?? "").join("");
  assert.equal(text, "The quick brown fox.");
  assert.deepEqual(chunks.slice(1, 4).map((c) => choiceOf(c).delta.content), [
    "The",
    " quick brown",
    " fox.",
  ]);
  const last = choiceOf(chunks.at(-1)!);
  assert.deepEqual(last.delta, {});
  assert.equal(last.finish_reason, "stop");
  assert.equal(chunks.filter((c) => choiceOf(c).finish_reason !== null).length, 1);
});

Deno.test("gemini stream: include_usage adds one usage chunk with empty choices before [DONE]", async () => {
  const events = await translate(await Deno.readTextFile(new URL("stream_text.sse", dir)), true);
  assert.equal(events.at(-1), "[DONE]");
  const usage = events.at(-2) as JsonObject;
  assert.deepEqual(usage.choices, []);
  assert.deepEqual(usage.usage, { prompt_tokens: 6, completion_tokens: 4, total_tokens: 10 });
  assert.equal(events.filter((e) => typeof e !== "string" && "usage" in e).length, 1);
});

Deno.test("gemini stream: function calls arrive whole, indexed, with finish_reason tool_calls", async () => {
  const events = await translate(
    await Deno.readTextFile(new URL("stream_function_call.sse", dir)),
  );
  const choices = events.slice(0, -1).map(choiceOf);
  assert.equal(choices.map((c) => c.delta.content ?? "").join(""), "Let me check.");
  const calls = choices.flatMap((c) => c.delta.tool_calls ?? []);
  assert.equal(calls.length, 2);
  assert.deepEqual(calls.map((c) => c.index), [0, 1]);
  for (const call of calls) {
    assert.match(String(call.id), /^call_/);
    assert.equal(call.type, "function");
  }
  assert.deepEqual(calls.map((c) => c.function), [
    { name: "get_weather", arguments: '{"city":"Paris"}' },
    { name: "get_time", arguments: "{}" },
  ]);
  assert.equal(choices.at(-1)?.finish_reason, "tool_calls");
});

Deno.test("gemini stream: an end without finishReason fails instead of looking complete", async () => {
  const sse = await Deno.readTextFile(new URL("stream_truncated.sse", dir));
  await assert.rejects(
    translate(sse),
    (err: unknown) => err instanceof ProviderError && err.kind === "protocol",
  );
});

Deno.test("gemini stream: an error object inside an event fails with its status", async () => {
  const sse =
    'data: {"candidates":[{"content":{"parts":[{"text":"Hi"}],"role":"model"}}]}\r\n\r\n' +
    'data: {"error":{"code":503,"message":"The model is overloaded.","status":"UNAVAILABLE"}}\r\n\r\n';
  await assert.rejects(translate(sse), (err: unknown) => {
    assert.ok(err instanceof ProviderError);
    assert.equal(err.kind, "http");
    assert.equal(err.status, 503);
    assert.equal(err.retryable, true);
    assert.match(err.message, /overloaded/);
    return true;
  });
});

Deno.test("gemini stream: an event that is not JSON is a protocol error", async () => {
  await assert.rejects(
    translate("data: {not json\r\n\r\n"),
    (err: unknown) => err instanceof ProviderError && err.kind === "protocol",
  );
});

Deno.test("gemini stream: a blocked prompt ends with a content_filter finish", async () => {
  const sse = 'data: {"promptFeedback":{"blockReason":"SAFETY"},' +
    '"usageMetadata":{"promptTokenCount":3,"totalTokenCount":3}}\r\n\r\n';
  const events = await translate(sse, true);
  const choices = events.slice(0, -2).map(choiceOf);
  assert.equal(choices.at(-1)?.finish_reason, "content_filter");
  assert.deepEqual((events.at(-2) as JsonObject).usage, {
    prompt_tokens: 3,
    completion_tokens: 0,
    total_tokens: 3,
  });
});

Deno.test("gemini stream: several candidates stream as several choice indexes", async () => {
  const event = (parts: string[], finish?: string) =>
    "data: " + JSON.stringify({
      candidates: parts.map((text, index) => ({
        content: { parts: [{ text }], role: "model" },
        index,
        ...(finish ? { finishReason: finish } : {}),
      })),
    }) + "\r\n\r\n";
  const events = await translate(event(["a", "x"]) + event(["b", "y"], "STOP"));
  const choices = events.slice(0, -1).map(choiceOf);
  const textOf = (i: number) =>
    choices.filter((c) => c.index === i).map((c) => c.delta.content ?? "").join("");
  assert.equal(textOf(0), "ab");
  assert.equal(textOf(1), "xy");
  assert.equal(choices.filter((c) => c.finish_reason === "stop").length, 2);
});
