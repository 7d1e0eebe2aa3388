import assert from "node:assert/strict";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";
import { waitFor } from "../support/wait_for.ts";

async function withMock(
  fn: (mock: MockUpstream) => Promise<void>,
  options?: { models?: string[]; name?: string },
): Promise<void> {
  const mock = await startMockUpstream(options);
  try {
    await fn(mock);
  } finally {
    await mock.close();
  }
}

function post(mock: MockUpstream, path: string, body: unknown, init?: RequestInit) {
  return fetch(`${mock.url}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: "Bearer sk-test" },
    body: JSON.stringify(body),
    ...init,
  });
}

const chatBody = { model: "gpt-4o-mini", messages: [{ role: "user", content: "Hi there" }] };

/** Reads a body chunk by chunk; returns the number of reads and the decoded text. */
async function readAll(response: Response): Promise<{ reads: number; text: string }> {
  const reader = response.body!.getReader();
  const decoder = new TextDecoder();
  let reads = 0;
  let text = "";
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return { reads, text };
    reads++;
    text += decoder.decode(value, { stream: true });
  }
}

function sseData(text: string): string[] {
  return text.split("\n\n").filter((event) => event !== "").map((event) => {
    assert.ok(event.startsWith("data: "), `not an SSE data event: ${event}`);
    return event.slice("data: ".length);
  });
}

function float32sOf(base64: string): number[] {
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  const view = new DataView(bytes.buffer);
  return Array.from({ length: bytes.length / 4 }, (_, i) => view.getFloat32(i * 4, true));
}

Deno.test("mock upstream answers a chat completion in OpenAI's shape and records the request", () =>
  withMock(async (mock) => {
    const response = await post(mock, "/v1/chat/completions", chatBody);
    assert.equal(response.status, 200);
    assert.match(response.headers.get("content-type") ?? "", /application\/json/);
    const body = await response.json();
    assert.match(body.id, /^chatcmpl-/);
    assert.equal(body.object, "chat.completion");
    assert.equal(typeof body.created, "number");
    assert.equal(body.model, "gpt-4o-mini");
    assert.deepEqual(body.choices, [{
      index: 0,
      message: { role: "assistant", content: "Hello from alpha", refusal: null },
      logprobs: null,
      finish_reason: "stop",
    }]);
    assert.equal(body.usage.total_tokens, body.usage.prompt_tokens + body.usage.completion_tokens);
    assert.equal(body.system_fingerprint, null);

    assert.equal(mock.requests.length, 1);
    const [recorded] = mock.requests;
    assert.equal(recorded?.method, "POST");
    assert.equal(recorded?.path, "/v1/chat/completions");
    assert.equal(recorded?.headers.get("authorization"), "Bearer sk-test");
    assert.deepEqual(recorded?.body, chatBody);
    assert.equal(recorded?.aborted, false);
  }, { name: "alpha" }));

Deno.test("mock upstream consumes queued scenarios in order, then falls back to the default", () =>
  withMock(async (mock) => {
    mock.enqueue({ type: "ok", content: "first" }, { type: "ok", content: "second" });
    const contents = [];
    for (let i = 0; i < 3; i++) {
      const body = await (await post(mock, "/v1/chat/completions", chatBody)).json();
      contents.push(body.choices[0].message.content);
    }
    assert.deepEqual(contents, ["first", "second", "Hello from mock"]);

    mock.setDefault(() => ({ type: "ok", content: "custom default" }));
    const body = await (await post(mock, "/v1/chat/completions", chatBody)).json();
    assert.equal(body.choices[0].message.content, "custom default");
    mock.reset();
    assert.equal(mock.requests.length, 0);
  }));

Deno.test("mock upstream returns a tool call when the request has tools and the scenario asks", () =>
  withMock(async (mock) => {
    const toolCall = { name: "get_weather", arguments: '{"city":"Paris"}' };
    mock.enqueue({ type: "ok", toolCall });
    const tools = [{ type: "function", function: { name: "get_weather", parameters: {} } }];
    const body = await (await post(mock, "/v1/chat/completions", { ...chatBody, tools })).json();
    const [choice] = body.choices;
    assert.equal(choice.finish_reason, "tool_calls");
    assert.equal(choice.message.content, null);
    assert.equal(choice.message.tool_calls[0].type, "function");
    assert.deepEqual(choice.message.tool_calls[0].function, toolCall);
  }));

Deno.test("mock upstream streams chat chunks that arrive incrementally, usage last, then [DONE]", () =>
  withMock(async (mock) => {
    mock.enqueue({ type: "stream", pieces: ["One", " two", " three"], gapMs: 30 });
    const response = await post(mock, "/v1/chat/completions", {
      ...chatBody,
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.equal(response.headers.get("content-type"), "text/event-stream");
    const { reads, text } = await readAll(response);
    assert.ok(reads > 1, `expected several reads, got ${reads}`);

    const data = sseData(text);
    assert.equal(data.at(-1), "[DONE]");
    const chunks = data.slice(0, -1).map((line) => JSON.parse(line));
    assert.ok(chunks.every((chunk) => chunk.object === "chat.completion.chunk"));
    assert.ok(chunks.every((chunk) => chunk.model === "gpt-4o-mini"));
    assert.deepEqual(chunks[0].choices[0].delta, { role: "assistant", content: "" });
    const content = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
    assert.equal(content, "One two three");
    assert.equal(chunks.at(-2).choices[0].finish_reason, "stop");
    assert.deepEqual(chunks.at(-1).choices, []);
    assert.equal(chunks.at(-1).usage.completion_tokens > 0, true);
  }));

Deno.test("mock upstream streams a stream:true request by default with its name in the text", () =>
  withMock(async (mock) => {
    const response = await post(mock, "/v1/chat/completions", { ...chatBody, stream: true });
    const chunks = sseData((await readAll(response)).text).slice(0, -1).map((l) => JSON.parse(l));
    const content = chunks.map((chunk) => chunk.choices[0]?.delta.content ?? "").join("");
    assert.equal(content, "Hello from beta");
    assert.ok(chunks.every((chunk) => !("usage" in chunk)));
  }, { name: "beta" }));

Deno.test("mock upstream answers legacy completions, plain and streamed", () =>
  withMock(async (mock) => {
    const plain = await (await post(mock, "/v1/completions", { model: "m", prompt: "Say" })).json();
    assert.equal(plain.object, "text_completion");
    assert.equal(plain.choices[0].text, "Hello from mock");

    const streamed = await post(mock, "/v1/completions", { model: "m", prompt: "x", stream: true });
    const data = sseData((await readAll(streamed)).text);
    assert.equal(data.at(-1), "[DONE]");
    const text = data.slice(0, -1).map((l) => JSON.parse(l).choices[0].text).join("");
    assert.equal(text, "Hello from mock");
  }));

Deno.test("mock upstream sends OpenAI-shaped errors with the scenario's status and headers", () =>
  withMock(async (mock) => {
    mock.enqueue(
      { type: "error", status: 429, headers: { "retry-after": "2" } },
      { type: "error", status: 502, rawBody: "<html>Bad gateway</html>" },
    );
    const limited = await post(mock, "/v1/chat/completions", chatBody);
    assert.equal(limited.status, 429);
    assert.equal(limited.headers.get("retry-after"), "2");
    const body = await limited.json();
    assert.deepEqual(Object.keys(body.error).sort(), ["code", "message", "param", "type"]);
    assert.equal(body.error.code, "rate_limit_exceeded");
    assert.equal(body.error.param, null);

    const raw = await post(mock, "/v1/chat/completions", chatBody);
    assert.equal(raw.status, 502);
    assert.equal(await raw.text(), "<html>Bad gateway</html>");

    const missing = await post(mock, "/v1/chat/completions", { messages: [] });
    assert.equal(missing.status, 400);
    assert.equal((await missing.json()).error.type, "invalid_request_error");
  }));

Deno.test("mock upstream marks a hanging request aborted when the client gives up", () =>
  withMock(async (mock) => {
    mock.enqueue({ type: "hang" });
    const controller = new AbortController();
    const pending = post(mock, "/v1/chat/completions", chatBody, { signal: controller.signal });
    await waitFor(() => mock.requests.length === 1);
    controller.abort();
    await assert.rejects(pending, (error: Error) => error.name === "AbortError");
    await waitFor(() => mock.requests[0]?.aborted === true);
  }));

Deno.test("mock upstream marks a delayed answer aborted when the client times out", () =>
  withMock(async (mock) => {
    mock.enqueue({ type: "ok", delayMs: 5_000 });
    const pending = post(mock, "/v1/chat/completions", chatBody, {
      signal: AbortSignal.timeout(50),
    });
    await assert.rejects(pending);
    await waitFor(() => mock.requests[0]?.aborted === true);
  }));

Deno.test("mock upstream marks a stalled stream aborted when the client cancels it", () =>
  withMock(async (mock) => {
    mock.enqueue({ type: "stream", pieces: ["a", "b", "c"], hangAfter: 1 });
    const response = await post(mock, "/v1/chat/completions", { ...chatBody, stream: true });
    const reader = response.body!.getReader();
    let text = "";
    while (!text.includes('"content":"a"')) {
      const { value } = await reader.read();
      text += new TextDecoder().decode(value);
    }
    await reader.cancel();
    await waitFor(() => mock.requests[0]?.aborted === true);
  }));

Deno.test("mock upstream breakAfter ends the stream abruptly so the reader throws", () =>
  withMock(async (mock) => {
    mock.enqueue({ type: "stream", pieces: ["a", "b", "c"], gapMs: 10, breakAfter: 1 });
    const response = await post(mock, "/v1/chat/completions", { ...chatBody, stream: true });
    assert.equal(response.status, 200);
    await assert.rejects(readAll(response));
    assert.equal(mock.requests[0]?.aborted, false);
  }));

Deno.test("mock upstream close() interrupts a request that is still hanging", async () => {
  const mock = await startMockUpstream();
  mock.enqueue({ type: "hang" });
  const pending = post(mock, "/v1/chat/completions", chatBody);
  await waitFor(() => mock.requests.length === 1);
  await mock.close();
  const response = await pending;
  assert.equal(response.status, 503);
  await response.body?.cancel();
  assert.equal(mock.requests[0]?.aborted, false);
});

Deno.test("mock upstream embeddings in base64 decode to the same floats as the JSON ones", () =>
  withMock(async (mock) => {
    const request = { model: "text-embedding-3-small", input: ["alpha", "beta"] };
    const floats = await (await post(mock, "/v1/embeddings", request)).json();
    const packed = await (await post(mock, "/v1/embeddings", {
      ...request,
      encoding_format: "base64",
    })).json();
    assert.equal(floats.object, "list");
    assert.equal(floats.model, "text-embedding-3-small");
    assert.equal(floats.data.length, 2);
    assert.deepEqual(floats.data.map((d: { index: number }) => d.index), [0, 1]);
    assert.equal(floats.usage.total_tokens, floats.usage.prompt_tokens);
    for (const [i, item] of floats.data.entries()) {
      assert.equal(item.object, "embedding");
      assert.equal(typeof packed.data[i].embedding, "string");
      assert.deepEqual(float32sOf(packed.data[i].embedding), item.embedding);
    }
    assert.notDeepEqual(floats.data[0].embedding, floats.data[1].embedding);

    const single = await (await post(mock, "/v1/embeddings", { ...request, input: "alpha" }))
      .json();
    assert.deepEqual(single.data[0].embedding, floats.data[0].embedding);
  }));

Deno.test("mock upstream lists its models and can be told to fail the listing", () =>
  withMock(async (mock) => {
    const list = await (await fetch(`${mock.url}/v1/models`)).json();
    assert.deepEqual(list, {
      object: "list",
      data: [
        { id: "m-1", object: "model", created: list.data[0].created, owned_by: "gamma" },
        { id: "m-2", object: "model", created: list.data[1].created, owned_by: "gamma" },
      ],
    });
    mock.models.push("m-3");
    const grown = await (await fetch(`${mock.url}/v1/models`)).json();
    assert.deepEqual(grown.data.map((m: { id: string }) => m.id), ["m-1", "m-2", "m-3"]);

    mock.modelsScenario = { type: "error", status: 500 };
    const failed = await fetch(`${mock.url}/v1/models`);
    assert.equal(failed.status, 500);
    assert.equal((await failed.json()).error.type, "server_error");
  }, { name: "gamma", models: ["m-1", "m-2"] }));
