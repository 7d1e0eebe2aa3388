import assert from "node:assert/strict";
import { ProviderError } from "../../../src/core/errors.ts";
import type { JsonObject } from "../../../src/core/json.ts";
import { DROPPED_FIELDS, toAnthropicRequest } from "../../../src/providers/anthropic/request.ts";

const options = { defaultMaxTokens: 4096, provider: "claude" };
const hi = [{ role: "user", content: "hi" }];

function translate(body: JsonObject): JsonObject {
  return toAnthropicRequest(body, options);
}

async function fixture(name: string): Promise<{ openai: JsonObject; anthropic: JsonObject }> {
  const url = new URL(`../../testdata/anthropic/${name}`, import.meta.url);
  return JSON.parse(await Deno.readTextFile(url));
}

/** Asserts that `body` is refused with a 400 whose OpenAI error names `param`. */
function assertRefused(body: JsonObject, param: string, message?: RegExp): void {
  assert.throws(
    () => translate(body),
    (err: unknown) => {
      assert.ok(err instanceof ProviderError, `not a ProviderError: ${err}`);
      assert.equal(err.status, 400);
      assert.equal(err.fallbackable, false, "a 400 must go back to the client");
      const error = JSON.parse(err.upstreamBody ?? "{}").error;
      assert.equal(error.param, param);
      assert.ok(error.message.startsWith(`${param}: `), error.message);
      if (message) assert.match(error.message, message);
      return true;
    },
  );
}

Deno.test("a full conversation translates to the documented Messages request", async () => {
  const { openai, anthropic } = await fixture("request_conversation.json");
  const frozen = structuredClone(openai);
  assert.deepEqual(translate(openai), anthropic);
  assert.deepEqual(openai, frozen, "the shared request body was modified");
});

Deno.test("max_tokens falls back to the configured default and max_tokens is read too", () => {
  assert.equal(translate({ model: "m", messages: hi }).max_tokens, 4096);
  assert.equal(translate({ model: "m", messages: hi, max_tokens: 50 }).max_tokens, 50);
  const both = { model: "m", messages: hi, max_tokens: 50, max_completion_tokens: 70 };
  assert.equal(translate(both).max_tokens, 70);
  assertRefused({ model: "m", messages: hi, max_tokens: 0 }, "max_tokens");
});

Deno.test("a plain request carries no optional fields and no stream flag", () => {
  assert.deepEqual(translate({ model: "m", messages: hi }), {
    model: "m",
    max_tokens: 4096,
    messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
  });
});

Deno.test("every harmless hint is dropped without an error", () => {
  for (const field of DROPPED_FIELDS) {
    const out = translate({ model: "m", messages: hi, [field]: { any: "value" } });
    assert.ok(!(field in out), `${field} was forwarded`);
  }
});

Deno.test("stop as a list becomes stop_sequences and temperature 1 is still accepted", () => {
  const out = translate({ model: "m", messages: hi, stop: ["a", "b"], temperature: 1 });
  assert.deepEqual(out.stop_sequences, ["a", "b"]);
  assert.equal(out.temperature, 1);
});

Deno.test("tool_choice maps auto, none and a named function; parallel_tool_calls=false disables parallel use", () => {
  const tools = [{ type: "function", function: { name: "f", parameters: { type: "object" } } }];
  const choice = (extra: JsonObject) => translate({ model: "m", messages: hi, tools, ...extra });
  assert.deepEqual(choice({ tool_choice: "auto" }).tool_choice, { type: "auto" });
  assert.deepEqual(choice({ tool_choice: "none" }).tool_choice, { type: "none" });
  assert.deepEqual(
    choice({ tool_choice: { type: "function", function: { name: "f" } } }).tool_choice,
    { type: "tool", name: "f" },
  );
  assert.deepEqual(choice({ parallel_tool_calls: false }).tool_choice, {
    type: "auto",
    disable_parallel_tool_use: true,
  });
  assert.equal(choice({}).tool_choice, undefined);
  // Without tools there is nothing to choose from: Anthropic would reject a tool_choice.
  assert.equal(translate({ model: "m", messages: hi, tool_choice: "auto" }).tool_choice, undefined);
});

Deno.test("assistant and tool messages alternate roles once merged", () => {
  const out = translate({
    model: "m",
    messages: [
      { role: "assistant", content: "", tool_calls: [call("t1", "{}")] },
      { role: "tool", tool_call_id: "t1", content: "" },
      { role: "assistant", content: [{ type: "refusal", refusal: "I can't." }] },
      { role: "assistant", content: null },
      { role: "user", content: [{ type: "text", text: "ok" }] },
    ],
  });
  assert.deepEqual(out.messages, [
    { role: "assistant", content: [{ type: "tool_use", id: "t1", name: "f", input: {} }] },
    { role: "user", content: [{ type: "tool_result", tool_use_id: "t1" }] },
    { role: "assistant", content: [{ type: "text", text: "I can't." }] },
    { role: "user", content: [{ type: "text", text: "ok" }] },
  ]);
});

Deno.test("an inline PDF becomes a document block", () => {
  const file = { file_data: "data:application/pdf;base64,JVBERi0=", filename: "a.pdf" };
  const out = translate({
    model: "m",
    messages: [{ role: "user", content: [{ type: "file", file }] }],
  });
  assert.deepEqual(out.messages, [{
    role: "user",
    content: [{
      type: "document",
      source: { type: "base64", media_type: "application/pdf", data: "JVBERi0=" },
    }],
  }]);
});

function call(id: string, args: string): JsonObject {
  return { id, type: "function", function: { name: "f", arguments: args } };
}

Deno.test("tool call arguments that are not a JSON object are a 400 naming the field", () => {
  const field = "messages[0].tool_calls[0].function.arguments";
  for (const args of ["{not json", "[1,2]", "42"]) {
    assertRefused({
      model: "m",
      messages: [{ role: "assistant", content: null, tool_calls: [call("t", args)] }, ...hi],
    }, field);
  }
});

Deno.test("each field that would change the answer's shape is refused with a 400 naming it", () => {
  const cases: [JsonObject, string][] = [
    [{ n: 2 }, "n"],
    [{ logprobs: true }, "logprobs"],
    [{ top_logprobs: 3 }, "top_logprobs"],
    [{ logit_bias: { "50256": -100 } }, "logit_bias"],
    [{ audio: { voice: "alloy", format: "wav" } }, "audio"],
    [{ modalities: ["text", "audio"] }, "modalities"],
    [{ response_format: { type: "json_object" } }, "response_format"],
    [{ response_format: { type: "json_schema", json_schema: { name: "x" } } }, "response_format"],
    [{ functions: [{ name: "f" }] }, "functions"],
    [{ function_call: "auto" }, "function_call"],
    [{ web_search_options: {} }, "web_search_options"],
    [{ tools: [{ type: "custom", custom: { name: "x" } }] }, "tools[0].type"],
    [{
      tools: [{ type: "function", function: { name: "f" } }],
      tool_choice: { type: "allowed_tools" },
    }, "tool_choice"],
  ];
  for (const [extra, param] of cases) assertRefused({ model: "m", messages: hi, ...extra }, param);
});

Deno.test("temperature above Anthropic's 1 is refused rather than rescaled", () => {
  assertRefused({ model: "m", messages: hi, temperature: 1.5 }, "temperature", /0 to 1, got 1.5/);
});

Deno.test("message parts Anthropic cannot take are refused with their path", () => {
  const audio = { type: "input_audio", input_audio: { data: "AAAA", format: "wav" } };
  assertRefused(
    { model: "m", messages: [{ role: "user", content: [audio] }] },
    "messages[0].content[0].type",
  );
  const image = { type: "image_url", image_url: { url: "ftp://example.com/a.png" } };
  assertRefused(
    { model: "m", messages: [{ role: "user", content: [image] }] },
    "messages[0].content[0].image_url.url",
  );
  const file = { type: "file", file: { file_id: "file-abc" } };
  assertRefused(
    { model: "m", messages: [{ role: "user", content: [file] }] },
    "messages[0].content[0].file",
  );
  assertRefused(
    { model: "m", messages: [{ role: "function", name: "f", content: "x" }] },
    "messages[0].role",
  );
  assertRefused(
    { model: "m", messages: [{ role: "tool", content: "x" }] },
    "messages[0].tool_call_id",
  );
});
