import assert from "node:assert/strict";
import { ProviderError } from "../../../src/core/errors.ts";
import type { JsonObject } from "../../../src/core/json.ts";
import {
  float32Base64,
  fromGeminiEmbeddings,
  fromGeminiResponse,
  toOpenAIError,
} from "../../../src/providers/gemini/response.ts";

const dir = new URL("../../testdata/gemini/", import.meta.url);

async function fixture(name: string): Promise<unknown> {
  return JSON.parse(await Deno.readTextFile(new URL(name, dir)));
}

async function fixtureText(name: string): Promise<string> {
  return await Deno.readTextFile(new URL(name, dir));
}

type Choice = {
  index: number;
  message: { role: string; content: string | null; tool_calls?: JsonObject[] } & JsonObject;
  finish_reason: string;
};

function choicesOf(completion: JsonObject): Choice[] {
  return completion.choices as Choice[];
}

Deno.test("gemini response: text parts join into one OpenAI chat.completion", async () => {
  const out = fromGeminiResponse(await fixture("generate_content_text.json"), "gemini-2.0-flash");
  assert.equal(out.object, "chat.completion");
  assert.match(String(out.id), /^chatcmpl-/);
  assert.equal(typeof out.created, "number");
  assert.equal(out.model, "gemini-2.0-flash");
  assert.deepEqual(out.choices, [{
    index: 0,
    message: { role: "assistant", content: "Paris is the capital of France.", refusal: null },
    logprobs: null,
    finish_reason: "stop",
  }]);
  assert.deepEqual(out.usage, { prompt_tokens: 8, completion_tokens: 7, total_tokens: 15 });
});

Deno.test("gemini response: functionCall parts become tool_calls with JSON arguments", async () => {
  const out = fromGeminiResponse(await fixture("generate_content_function_call.json"), "m");
  const [choice] = choicesOf(out);
  assert.equal(choice?.finish_reason, "tool_calls");
  assert.equal(choice.message.content, null);
  const calls = choice.message.tool_calls!;
  assert.equal(calls.length, 2);
  assert.match(String(calls[0]!.id), /^call_\w+$/);
  assert.notEqual(calls[0]!.id, calls[1]!.id);
  assert.deepEqual({ ...calls[0], id: "x" }, {
    id: "x",
    type: "function",
    function: { name: "get_weather", arguments: '{"city":"Paris","unit":"celsius"}' },
    extra_content: { google: { thought_signature: "CiQB0e2Kb0sig" } },
  });
  assert.deepEqual(JSON.parse(String((calls[1]!.function as JsonObject).arguments)), {
    zone: "Europe/Paris",
  });
  // Thinking tokens are billed as output: they count as completion tokens.
  assert.deepEqual(out.usage, {
    prompt_tokens: 40,
    completion_tokens: 42,
    total_tokens: 82,
    completion_tokens_details: { reasoning_tokens: 30 },
  });
});

Deno.test("gemini response: one choice per candidate; thoughts hidden; finish reasons mapped", async () => {
  const out = fromGeminiResponse(await fixture("generate_content_thinking.json"), "m");
  const choices = choicesOf(out);
  assert.deepEqual(choices.map((c) => [c.index, c.message.content, c.finish_reason]), [
    [0, "42", "length"],
    [1, "Forty-two", "content_filter"],
  ]);
  assert.deepEqual(out.usage, {
    prompt_tokens: 5,
    completion_tokens: 23,
    total_tokens: 28,
    prompt_tokens_details: { cached_tokens: 2 },
    completion_tokens_details: { reasoning_tokens: 20 },
  });
});

Deno.test("gemini response: each filtering finishReason maps to content_filter", () => {
  const reasons: [string, string][] = [
    ["STOP", "stop"],
    ["MAX_TOKENS", "length"],
    ["SAFETY", "content_filter"],
    ["RECITATION", "content_filter"],
    ["BLOCKLIST", "content_filter"],
    ["PROHIBITED_CONTENT", "content_filter"],
    ["SPII", "content_filter"],
    ["OTHER", "stop"],
    ["MALFORMED_FUNCTION_CALL", "stop"],
  ];
  for (const [reason, expected] of reasons) {
    const out = fromGeminiResponse({
      candidates: [{ content: { parts: [{ text: "x" }], role: "model" }, finishReason: reason }],
    }, "m");
    assert.equal(choicesOf(out)[0]?.finish_reason, expected, reason);
  }
});

Deno.test("gemini response: a blocked prompt is a content_filter choice with null content", async () => {
  const out = fromGeminiResponse(await fixture("generate_content_blocked.json"), "m");
  assert.deepEqual(out.choices, [{
    index: 0,
    message: { role: "assistant", content: null, refusal: null },
    logprobs: null,
    finish_reason: "content_filter",
  }]);
  assert.deepEqual(out.usage, { prompt_tokens: 11, completion_tokens: 0, total_tokens: 11 });
});

Deno.test("gemini response: an answer with neither candidates nor block reason is a protocol error", () => {
  for (const body of [{}, "nope", null, { candidates: [] }]) {
    assert.throws(
      () => fromGeminiResponse(body, "m"),
      (err: unknown) => err instanceof ProviderError && err.kind === "protocol",
    );
  }
});

Deno.test("gemini embeddings: float vectors in the OpenAI list shape", async () => {
  const json = await fixture("batch_embed_contents.json");
  const out = fromGeminiEmbeddings(json, "text-embedding-004");
  assert.deepEqual(out, {
    object: "list",
    data: [
      {
        object: "embedding",
        index: 0,
        embedding: [0.013168523, -0.008711934, -0.046782676, 0.00069968984],
      },
      { object: "embedding", index: 1, embedding: [-0.5, 0.25, 0.125, 1.0] },
    ],
    model: "text-embedding-004",
    usage: { prompt_tokens: 0, total_tokens: 0 },
  });
});

Deno.test("gemini embeddings: base64 is float32 little-endian, as the openai SDK decodes it", async () => {
  const json = await fixture("batch_embed_contents.json");
  const out = fromGeminiEmbeddings(json, "m", { base64: true });
  const data = out.data as { embedding: string }[];
  assert.equal(data[1]?.embedding, float32Base64([-0.5, 0.25, 0.125, 1.0]));
  // Decode the way the SDK does: base64 -> bytes -> Float32Array (little-endian hosts).
  const bytes = Uint8Array.from(atob(data[1]!.embedding), (c) => c.charCodeAt(0));
  assert.deepEqual(Array.from(new Float32Array(bytes.buffer)), [-0.5, 0.25, 0.125, 1.0]);
  const first = Uint8Array.from(atob(data[0]!.embedding), (c) => c.charCodeAt(0));
  assert.deepEqual(
    Array.from(new Float32Array(first.buffer)),
    Array.from(new Float32Array([0.013168523, -0.008711934, -0.046782676, 0.00069968984])),
  );
});

Deno.test("gemini embeddings: an answer without numeric values is a protocol error", () => {
  for (const body of [{}, { embeddings: [{ values: ["x"] }] }, { embeddings: [{}] }]) {
    assert.throws(
      () => fromGeminiEmbeddings(body, "m"),
      (err: unknown) => err instanceof ProviderError && err.kind === "protocol",
    );
  }
});

function translatedError(status: number, body: string): { status: number; error: JsonObject } {
  const out = toOpenAIError(status, body);
  return { status: out.status, error: JSON.parse(out.body).error };
}

Deno.test("gemini errors: a 400 API_KEY_INVALID becomes a 401 so the gateway moves on", async () => {
  const out = translatedError(400, await fixtureText("error_api_key_invalid.json"));
  assert.equal(out.status, 401);
  assert.deepEqual(out.error, {
    message: "API key not valid. Please pass a valid API key.",
    type: "authentication_error",
    param: null,
    code: "api_key_invalid",
  });
});

Deno.test("gemini errors: 429 RESOURCE_EXHAUSTED and 503 UNAVAILABLE keep their status", async () => {
  const limited = translatedError(429, await fixtureText("error_resource_exhausted.json"));
  assert.equal(limited.status, 429);
  assert.equal(limited.error.type, "rate_limit_error");
  assert.equal(limited.error.code, "resource_exhausted");
  assert.match(String(limited.error.message), /exceeded your current quota/);
  const down = translatedError(503, await fixtureText("error_unavailable.json"));
  assert.equal(down.status, 503);
  assert.equal(down.error.type, "server_error");
  assert.equal(down.error.message, "The model is overloaded. Please try again later.");
});

Deno.test("gemini errors: a plain 400 INVALID_ARGUMENT stays a 400 with Google's message", async () => {
  const out = translatedError(400, await fixtureText("error_invalid_argument.json"));
  assert.equal(out.status, 400);
  assert.equal(out.error.type, "invalid_request_error");
  assert.equal(out.error.code, "invalid_argument");
  assert.match(String(out.error.message), /temperature: must be between 0 and 2/);
});

Deno.test("gemini errors: a billing/region FAILED_PRECONDITION 400 becomes 403 (not the client's fault)", () => {
  const body = JSON.stringify({
    error: {
      code: 400,
      message: "User location is not supported for the API use.",
      status: "FAILED_PRECONDITION",
    },
  });
  assert.equal(toOpenAIError(400, body).status, 403);
});

Deno.test("gemini errors: a body that is not Google's shape is wrapped, status kept", () => {
  const out = translatedError(502, "<html>Bad Gateway</html>");
  assert.equal(out.status, 502);
  assert.equal(out.error.message, "<html>Bad Gateway</html>");
  assert.equal(out.error.type, "server_error");
  const array = translatedError(
    404,
    JSON.stringify([{
      error: { code: 404, message: "models/x is not found", status: "NOT_FOUND" },
    }]),
  );
  assert.equal(array.status, 404);
  assert.equal(array.error.message, "models/x is not found");
});
