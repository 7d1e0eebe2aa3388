import assert from "node:assert/strict";
import { mergeUsage, toUsage, usageFromHead, usageFromTail } from "../../src/core/usage.ts";

const bytes = (text: string) => new TextEncoder().encode(text);

Deno.test("usage is read from the end of a pretty-printed JSON answer", () => {
  const answer = JSON.stringify(
    {
      choices: [{ message: { content: 'a "usage" word in the text' } }],
      usage: { prompt_tokens: 12, completion_tokens: 30, total_tokens: 42 },
    },
    null,
    2,
  );
  assert.deepEqual(usageFromTail(bytes(answer)), {
    prompt_tokens: 12,
    completion_tokens: 30,
    total_tokens: 42,
  });
});

Deno.test("usage is read from a stream's final usage chunk, not the nulls before it", () => {
  const tail = 'data: {"choices":[{"delta":{"content":"hi"}}],"usage":null}\n\n' +
    'data: {"choices":[],"usage":{"prompt_tokens":3,"completion_tokens":5,"total_tokens":8}}\n\n' +
    "data: [DONE]\n\n";
  assert.deepEqual(usageFromTail(bytes(tail)), {
    prompt_tokens: 3,
    completion_tokens: 5,
    total_tokens: 8,
  });
});

Deno.test("a body without usage, or with usage null or cut off, has none", () => {
  assert.equal(usageFromTail(bytes('{"choices":[]}')), null);
  assert.equal(usageFromTail(bytes('data: {"choices":[],"usage":null}\n\n')), null);
  assert.equal(usageFromTail(bytes('{"usage":{"prompt_tokens":3,"completion')), null);
});

Deno.test("a Messages stream read whole in one chunk gives its input tokens from message_start", () => {
  const stream = "event: message_start\n" +
    'data: {"type":"message_start","message":{"content":[],"usage":{"input_tokens":12,' +
    '"cache_read_input_tokens":3,"output_tokens":1}}}\n\n' +
    'event: content_block_delta\ndata: {"delta":{"type":"text_delta","text":"hi"}}\n\n' +
    'event: message_delta\ndata: {"type":"message_delta","usage":{"output_tokens":7}}\n\n' +
    'event: message_stop\ndata: {"type":"message_stop"}\n\n';
  assert.deepEqual(usageFromHead(bytes(stream)), {
    prompt_tokens: 15,
    completion_tokens: 1,
    total_tokens: 16,
    cached_tokens: 3,
  });
  assert.deepEqual(usageFromTail(bytes(stream)), {
    prompt_tokens: 0,
    completion_tokens: 7,
    total_tokens: 7,
  });
  assert.equal(usageFromHead(bytes('event: ping\ndata: {"type":"ping"}\n\n')), null);
});

Deno.test("OpenAI's cached prompt tokens are read from prompt_tokens_details in the tail", () => {
  const answer = JSON.stringify({
    choices: [{ message: { content: "hi" } }],
    usage: {
      prompt_tokens: 2006,
      completion_tokens: 300,
      total_tokens: 2306,
      prompt_tokens_details: { cached_tokens: 1920, audio_tokens: 0 },
      completion_tokens_details: { reasoning_tokens: 0 },
    },
  });
  assert.deepEqual(usageFromTail(bytes(answer)), {
    prompt_tokens: 2006,
    completion_tokens: 300,
    total_tokens: 2306,
    cached_tokens: 1920,
  });
});

Deno.test("cached tokens: Anthropic's cache reads, DeepSeek's cache hits, none when zero", () => {
  // Anthropic counts cache reads and writes apart from input_tokens; prompt_tokens adds them up.
  assert.deepEqual(
    toUsage({
      input_tokens: 10,
      cache_read_input_tokens: 1000,
      cache_creation_input_tokens: 200,
      output_tokens: 50,
    }),
    { prompt_tokens: 1210, completion_tokens: 50, total_tokens: 1260, cached_tokens: 1000 },
  );
  assert.deepEqual(
    toUsage({
      prompt_tokens: 100,
      completion_tokens: 5,
      total_tokens: 105,
      prompt_cache_hit_tokens: 64,
      prompt_cache_miss_tokens: 36,
    }),
    { prompt_tokens: 100, completion_tokens: 5, total_tokens: 105, cached_tokens: 64 },
  );
  assert.deepEqual(
    toUsage({
      prompt_tokens: 10,
      completion_tokens: 5,
      total_tokens: 15,
      prompt_tokens_details: { cached_tokens: 0 },
    }),
    { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
  );
  // A count beyond the prompt is an upstream's mistake: never more cached than prompt tokens.
  assert.equal(
    toUsage({
      prompt_tokens: 10,
      completion_tokens: 1,
      prompt_tokens_details: { cached_tokens: 99 },
    })
      ?.cached_tokens,
    10,
  );
});

Deno.test("a stream's head and tail usage merge keeps the cached tokens of the head", () => {
  const head = toUsage({ input_tokens: 5, cache_read_input_tokens: 40, output_tokens: 1 });
  const tail = toUsage({ output_tokens: 9 });
  assert.deepEqual(mergeUsage(head, tail), {
    prompt_tokens: 45,
    completion_tokens: 9,
    total_tokens: 54,
    cached_tokens: 40,
  });
});

Deno.test("toUsage reads the Responses API's usage, cached input tokens included", () => {
  assert.deepEqual(
    toUsage({
      input_tokens: 120,
      input_tokens_details: { cached_tokens: 100 },
      output_tokens: 30,
      output_tokens_details: { reasoning_tokens: 12 },
      total_tokens: 150,
    }),
    { prompt_tokens: 120, completion_tokens: 30, total_tokens: 150, cached_tokens: 100 },
  );
  assert.deepEqual(
    toUsage({ input_tokens: 5, output_tokens: 2, total_tokens: 7 }),
    { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 },
  );
});
