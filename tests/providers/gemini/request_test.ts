import assert from "node:assert/strict";
import { ProviderError } from "../../../src/core/errors.ts";
import type { JsonObject } from "../../../src/core/json.ts";
import { toGeminiEmbedRequest, toGeminiRequest } from "../../../src/providers/gemini/request.ts";

const provider = "gem";

function translate(body: JsonObject): JsonObject {
  return toGeminiRequest(body, { provider });
}

/** Asserts that translating `body` is refused with a 400 whose OpenAI error names `param`. */
function assertRefused(body: JsonObject, param: string): void {
  assert.throws(
    () => translate(body),
    (err: unknown) => {
      assert.ok(err instanceof ProviderError, `not a ProviderError: ${err}`);
      assert.equal(err.status, 400);
      assert.equal(err.fallbackable, false, "a refused field must not fall back");
      const parsed = JSON.parse(err.upstreamBody ?? "{}");
      assert.equal(parsed.error.param, param);
      assert.equal(parsed.error.code, "unsupported_parameter");
      assert.match(parsed.error.message, new RegExp(`^${param.replace(/[[\].]/g, "\\$&")}: `));
      return true;
    },
  );
}

const hello = [{ role: "user", content: "Hello" }];

Deno.test("gemini request: system and developer messages become the systemInstruction", () => {
  const out = translate({
    model: "gemini-2.0-flash",
    messages: [
      { role: "system", content: "Be brief." },
      { role: "developer", content: [{ type: "text", text: "Answer in French." }] },
      { role: "user", content: "Hello" },
    ],
  });
  assert.deepEqual(out.systemInstruction, {
    parts: [{ text: "Be brief." }, { text: "Answer in French." }],
  });
  assert.deepEqual(out.contents, [{ role: "user", parts: [{ text: "Hello" }] }]);
  assert.ok(!("model" in out), "the model goes in the URL, not the body");
});

Deno.test("gemini request: assistant turns are 'model' and consecutive same-role turns merge", () => {
  const out = translate({
    messages: [
      { role: "user", content: "one" },
      { role: "user", content: [{ type: "text", text: "two" }] },
      { role: "assistant", content: "three" },
      { role: "assistant", content: "four" },
      { role: "user", content: "five" },
    ],
  });
  assert.deepEqual(out.contents, [
    { role: "user", parts: [{ text: "one" }, { text: "two" }] },
    { role: "model", parts: [{ text: "three" }, { text: "four" }] },
    { role: "user", parts: [{ text: "five" }] },
  ]);
});

Deno.test("gemini request: a base64 data URL image becomes inlineData", () => {
  const out = translate({
    messages: [{
      role: "user",
      content: [
        { type: "text", text: "What is this?" },
        { type: "image_url", image_url: { url: "data:image/png;base64,iVBORw0KGgo=" } },
      ],
    }],
  });
  assert.deepEqual(out.contents, [{
    role: "user",
    parts: [
      { text: "What is this?" },
      { inlineData: { mimeType: "image/png", data: "iVBORw0KGgo=" } },
    ],
  }]);
});

Deno.test("gemini request: a Gemini Files API URI becomes fileData", () => {
  const uri = "https://generativelanguage.googleapis.com/v1beta/files/abc-123";
  const out = translate({
    messages: [{ role: "user", content: [{ type: "image_url", image_url: { url: uri } }] }],
  });
  assert.deepEqual(out.contents, [{ role: "user", parts: [{ fileData: { fileUri: uri } }] }]);
});

Deno.test("gemini request: an http(s) image URL is refused naming the part", () => {
  assertRefused({
    messages: [
      { role: "system", content: "x" },
      {
        role: "user",
        content: [
          { type: "text", text: "Look" },
          { type: "image_url", image_url: { url: "https://example.com/cat.png" } },
        ],
      },
    ],
  }, "messages[1].content[1].image_url");
});

Deno.test("gemini request: tool calls and tool results become functionCall / functionResponse", () => {
  const out = translate({
    messages: [
      { role: "user", content: "Weather and time in Paris?" },
      {
        role: "assistant",
        content: null,
        tool_calls: [
          {
            id: "call_1",
            type: "function",
            function: { name: "get_weather", arguments: '{"city":"Paris"}' },
            extra_content: { google: { thought_signature: "sig-1" } },
          },
          { id: "call_2", type: "function", function: { name: "get_time", arguments: "" } },
        ],
      },
      { role: "tool", tool_call_id: "call_1", content: '{"temperature":21}' },
      { role: "tool", tool_call_id: "call_2", content: "noon" },
      { role: "user", content: "Thanks" },
    ],
  });
  assert.deepEqual(out.contents, [
    { role: "user", parts: [{ text: "Weather and time in Paris?" }] },
    {
      role: "model",
      parts: [
        {
          functionCall: { name: "get_weather", args: { city: "Paris" } },
          thoughtSignature: "sig-1",
        },
        { functionCall: { name: "get_time", args: {} } },
      ],
    },
    {
      role: "user",
      parts: [
        { functionResponse: { name: "get_weather", response: { temperature: 21 } } },
        { functionResponse: { name: "get_time", response: { content: "noon" } } },
        { text: "Thanks" },
      ],
    },
  ]);
});

Deno.test("gemini request: a tool result for an unknown call id is refused naming it", () => {
  assertRefused({
    messages: [...hello, { role: "tool", tool_call_id: "call_nope", content: "x" }],
  }, "messages[1].tool_call_id");
});

Deno.test("gemini request: tool call arguments that are not a JSON object are refused", () => {
  assertRefused({
    messages: [...hello, {
      role: "assistant",
      tool_calls: [{ id: "c", type: "function", function: { name: "f", arguments: "[1]" } }],
    }],
  }, "messages[1].tool_calls[0].function.arguments");
});

Deno.test("gemini request: tools become functionDeclarations with schemas Gemini accepts", () => {
  const out = translate({
    messages: hello,
    tools: [
      {
        type: "function",
        function: {
          name: "get_weather",
          description: "Current weather",
          strict: true,
          parameters: {
            $schema: "http://json-schema.org/draft-07/schema#",
            type: "object",
            additionalProperties: false,
            properties: {
              city: { type: "string", format: "hostname", description: "City name" },
              unit: { type: ["string", "null"], enum: ["celsius", "fahrenheit", null] },
              when: { $ref: "#/$defs/When" },
            },
            required: ["city", "ghost"],
            $defs: { When: { type: "string", format: "date-time", additionalProperties: false } },
          },
        },
      },
      { type: "function", function: { name: "ping", parameters: { type: "object" } } },
    ],
  });
  assert.deepEqual(out.tools, [{
    functionDeclarations: [
      {
        name: "get_weather",
        description: "Current weather",
        parameters: {
          type: "object",
          properties: {
            city: { type: "string", description: "City name" },
            unit: { type: "string", nullable: true, enum: ["celsius", "fahrenheit"] },
            when: { type: "string", format: "date-time" },
          },
          required: ["city"],
        },
      },
      { name: "ping" },
    ],
  }]);
});

Deno.test("gemini request: a recursive $ref is refused naming the tool's parameters", () => {
  assertRefused({
    messages: hello,
    tools: [{
      type: "function",
      function: {
        name: "tree",
        parameters: {
          type: "object",
          properties: { root: { $ref: "#/$defs/Node" } },
          $defs: {
            Node: { type: "object", properties: { children: { items: { $ref: "#/$defs/Node" } } } },
          },
        },
      },
    }],
  }, "tools[0].function.parameters");
});

Deno.test("gemini request: tool_choice maps to functionCallingConfig", () => {
  const cases: [unknown, JsonObject][] = [
    ["auto", { mode: "AUTO" }],
    ["required", { mode: "ANY" }],
    ["none", { mode: "NONE" }],
    [
      { type: "function", function: { name: "get_weather" } },
      { mode: "ANY", allowedFunctionNames: ["get_weather"] },
    ],
  ];
  for (const [choice, config] of cases) {
    const out = translate({ messages: hello, tool_choice: choice });
    assert.deepEqual(out.toolConfig, { functionCallingConfig: config });
  }
  assertRefused({ messages: hello, tool_choice: "sometimes" }, "tool_choice");
});

Deno.test("gemini request: sampling fields go into generationConfig under Gemini's names", () => {
  const out = translate({
    messages: hello,
    temperature: 0.2,
    top_p: 0.9,
    max_tokens: 100,
    stop: "END",
    n: 2,
    seed: 7,
    presence_penalty: 0.5,
    frequency_penalty: -0.5,
    response_format: { type: "json_object" },
  });
  assert.deepEqual(out.generationConfig, {
    temperature: 0.2,
    topP: 0.9,
    candidateCount: 2,
    seed: 7,
    presencePenalty: 0.5,
    frequencyPenalty: -0.5,
    maxOutputTokens: 100,
    stopSequences: ["END"],
    responseMimeType: "application/json",
  });
});

Deno.test("gemini request: max_completion_tokens wins over max_tokens; stop arrays pass", () => {
  const out = translate({
    messages: hello,
    max_tokens: 10,
    max_completion_tokens: 20,
    stop: ["a", "b"],
  });
  assert.deepEqual(out.generationConfig, { maxOutputTokens: 20, stopSequences: ["a", "b"] });
});

Deno.test("gemini request: a json_schema response_format becomes responseSchema, cleaned", () => {
  const out = translate({
    messages: hello,
    response_format: {
      type: "json_schema",
      json_schema: {
        name: "answer",
        strict: true,
        schema: {
          type: "object",
          additionalProperties: false,
          properties: { answer: { type: "integer" }, kind: { const: "number" } },
          required: ["answer"],
        },
      },
    },
  });
  assert.deepEqual(out.generationConfig, {
    responseMimeType: "application/json",
    responseSchema: {
      type: "object",
      properties: { answer: { type: "integer" }, kind: { enum: ["number"] } },
      required: ["answer"],
    },
  });
});

Deno.test("gemini request: harmless fields are dropped and nothing else leaks into the body", () => {
  const out = translate({
    model: "gemini-2.0-flash",
    messages: hello,
    stream: true,
    stream_options: { include_usage: true },
    user: "u-1",
    store: true,
    metadata: { a: "b" },
    service_tier: "auto",
    parallel_tool_calls: true,
    logprobs: false,
    logit_bias: null,
  });
  assert.deepEqual(out, { contents: [{ role: "user", parts: [{ text: "Hello" }] }] });
});

Deno.test("gemini request: each field Gemini cannot honour is refused with a 400 naming it", () => {
  const refused: [string, unknown][] = [
    ["logprobs", true],
    ["top_logprobs", 3],
    ["logit_bias", { "50256": -100 }],
    ["audio", { voice: "alloy", format: "mp3" }],
    ["prediction", { type: "content", content: "x" }],
    ["web_search_options", {}],
    ["functions", [{ name: "f" }]],
    ["function_call", "auto"],
    ["modalities", ["text", "audio"]],
    ["temperature", "hot"],
    ["stop", 42],
    ["response_format", { type: "xml" }],
    ["reasoning_effort", "extreme"],
  ];
  for (const [field, value] of refused) assertRefused({ messages: hello, [field]: value }, field);
});

Deno.test("gemini request: roles and parts Gemini has no place for are refused naming them", () => {
  assertRefused({ messages: [{ role: "function", name: "f", content: "x" }] }, "messages[0].role");
  assertRefused(
    { messages: [{ role: "user", content: [{ type: "video_url", video_url: "x" }] }] },
    "messages[0].content[0].type",
  );
  assertRefused({ messages: [{ role: "system", content: "only a system prompt" }] }, "messages");
  assertRefused({ messages: hello, tools: [{ type: "code_interpreter" }] }, "tools[0].type");
});

Deno.test("gemini request: input_audio and file data URLs become inlineData", () => {
  const out = translate({
    messages: [{
      role: "user",
      content: [
        { type: "input_audio", input_audio: { data: "UklGRg==", format: "wav" } },
        { type: "file", file: { file_data: "data:application/pdf;base64,JVBERi0=" } },
      ],
    }],
  });
  assert.deepEqual(out.contents, [{
    role: "user",
    parts: [
      { inlineData: { mimeType: "audio/wav", data: "UklGRg==" } },
      { inlineData: { mimeType: "application/pdf", data: "JVBERi0=" } },
    ],
  }]);
});

Deno.test("gemini request: reasoning_effort sets a thinking budget", () => {
  const out = translate({ messages: hello, reasoning_effort: "low" });
  assert.deepEqual(out.generationConfig, { thinkingConfig: { thinkingBudget: 1024 } });
});

Deno.test("gemini request: the OpenAI body is left untouched (it is shared across attempts)", () => {
  const body = {
    messages: [{ role: "user", content: "Hi" }],
    tools: [{ type: "function", function: { name: "f", parameters: { type: "object" } } }],
  };
  const before = structuredClone(body);
  translate(body);
  assert.deepEqual(body, before);
});

Deno.test("gemini embed request: strings become batch requests with the model and dimensions", () => {
  const out = toGeminiEmbedRequest(
    { model: "text-embedding-004", input: ["a", "b"], dimensions: 256, encoding_format: "base64" },
    { provider, model: "text-embedding-004" },
  );
  assert.deepEqual(out, {
    requests: [
      {
        model: "models/text-embedding-004",
        content: { parts: [{ text: "a" }] },
        outputDimensionality: 256,
      },
      {
        model: "models/text-embedding-004",
        content: { parts: [{ text: "b" }] },
        outputDimensionality: 256,
      },
    ],
  });
  const single = toGeminiEmbedRequest({ input: "one" }, { provider, model: "models/x" });
  assert.deepEqual(single, {
    requests: [{ model: "models/x", content: { parts: [{ text: "one" }] } }],
  });
});

Deno.test("gemini embed request: token arrays are refused naming input", () => {
  for (const input of [[1, 2, 3], [[1, 2]]]) {
    assert.throws(
      () => toGeminiEmbedRequest({ input }, { provider, model: "m" }),
      (err: unknown) => {
        assert.ok(err instanceof ProviderError);
        assert.equal(err.status, 400);
        assert.equal(JSON.parse(err.upstreamBody!).error.param, "input");
        return true;
      },
    );
  }
});
