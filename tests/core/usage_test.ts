import assert from "node:assert/strict";
import { usageFromHead, usageFromTail } from "../../src/core/usage.ts";

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
  });
  assert.deepEqual(usageFromTail(bytes(stream)), {
    prompt_tokens: 0,
    completion_tokens: 7,
    total_tokens: 7,
  });
  assert.equal(usageFromHead(bytes('event: ping\ndata: {"type":"ping"}\n\n')), null);
});
