// The official openai SDK pointed at a gateway under test, and reading what mocks received.
import assert from "node:assert/strict";
import { OpenAI } from "./openai.ts";

/** An SDK client for the gateway at `url`; retries off so tests see each answer. */
export function sdkClient(url: string, apiKey = "client-key"): OpenAI {
  return new OpenAI({ baseURL: url + "/v1", apiKey, maxRetries: 0 });
}

/** The JSON body of the i-th request a mock received, as an object. */
export function bodyOf(
  mock: { requests: readonly { body: unknown }[] },
  index: number,
): Record<string, unknown> {
  const body = mock.requests[index]?.body;
  assert.ok(typeof body === "object" && body !== null && !Array.isArray(body), "no JSON body");
  return body as Record<string, unknown>;
}

/**
 * Iterates an SDK stream that must break after it started: the SDK raises an APIError with the
 * gateway's `stream_interrupted` code whose message matches `message`. Returns the text that
 * arrived before the break.
 */
export async function readUntilInterrupted(
  stream: AsyncIterable<OpenAI.ChatCompletionChunk>,
  message: RegExp,
): Promise<string> {
  let text = "";
  await assert.rejects(
    (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? "";
    })(),
    (err: unknown) => {
      assert.ok(err instanceof OpenAI.APIError, `unexpected error: ${err}`);
      assert.equal(err.code, "stream_interrupted");
      assert.match(err.message, message);
      return true;
    },
  );
  return text;
}
