import assert from "node:assert/strict";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";

type Json = Record<string, unknown>;

async function withMock(
  fn: (mock: MockUpstream) => Promise<void>,
  options?: Parameters<typeof startMockUpstream>[0],
): Promise<void> {
  const mock = await startMockUpstream(options);
  try {
    await fn(mock);
  } finally {
    await mock.close();
  }
}

function call(mock: MockUpstream, method: string, path: string, body?: unknown) {
  return fetch(`${mock.url}${path}`, {
    method,
    headers: { "content-type": "application/json", authorization: "Bearer sk-test" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function create(mock: MockUpstream, body: Json): Promise<Json> {
  const response = await call(mock, "POST", "/v1/responses", body);
  assert.equal(response.status, 200, await response.clone().text());
  return await response.json();
}

/** The events of a Responses stream: each `event:` name must match its data's `type`. */
async function streamEvents(response: Response): Promise<Json[]> {
  assert.equal(response.headers.get("content-type"), "text/event-stream");
  const text = await response.text();
  return text.split("\n\n").filter((block) => block !== "").map((block) => {
    const [eventLine = "", dataLine = "", ...rest] = block.split("\n");
    assert.deepEqual(rest, [], `one event line and one data line: ${block}`);
    assert.ok(eventLine.startsWith("event: ") && dataLine.startsWith("data: "), block);
    const data = JSON.parse(dataLine.slice("data: ".length));
    assert.equal(data.type, eventLine.slice("event: ".length));
    return data;
  });
}

const request = { model: "gpt-4o-mini", input: "Hi there" };
const weatherTool = {
  type: "function",
  name: "get_weather",
  parameters: { type: "object", properties: { city: { type: "string" } } },
};

Deno.test("mock upstream answers POST /v1/responses with a response object and records it", () =>
  withMock(async (mock) => {
    const body = await create(mock, { ...request, instructions: "Be brief", metadata: { a: "1" } });
    assert.match(String(body.id), /^resp_/);
    assert.equal(body.object, "response");
    assert.equal(typeof body.created_at, "number");
    assert.equal(body.status, "completed");
    assert.equal(body.model, "gpt-4o-mini");
    assert.equal(body.instructions, "Be brief");
    assert.deepEqual(body.metadata, { a: "1" });
    assert.equal(body.previous_response_id, null);
    assert.equal(body.store, true);
    assert.equal(body.error, null);
    const output = body.output as Json[];
    assert.equal(output.length, 1);
    assert.match(String(output[0]!.id), /^msg_/);
    assert.deepEqual({ ...output[0], id: undefined }, {
      id: undefined,
      type: "message",
      status: "completed",
      content: [{ type: "output_text", annotations: [], logprobs: [], text: "Hello from alpha" }],
      role: "assistant",
    });
    const usage = body.usage as Record<string, number>;
    assert.ok(usage.input_tokens! > 0 && usage.output_tokens! > 0);
    assert.equal(usage.total_tokens, usage.input_tokens! + usage.output_tokens!);

    assert.equal(mock.requests.length, 1);
    const [recorded] = mock.requests;
    assert.equal(recorded?.path, "/v1/responses");
    assert.equal(recorded?.headers.get("authorization"), "Bearer sk-test");
    assert.deepEqual(recorded?.body, {
      ...request,
      instructions: "Be brief",
      metadata: { a: "1" },
    });
  }, { name: "alpha" }));

Deno.test("mock upstream answers a Responses request with a function call when told to", () =>
  withMock(async (mock) => {
    const toolCall = { name: "get_weather", arguments: '{"city":"Paris"}' };
    mock.enqueue({ type: "ok", toolCall }, { type: "ok", toolCall });
    const called = await create(mock, { ...request, tools: [weatherTool] });
    const [item] = called.output as Json[];
    assert.equal(item?.type, "function_call");
    assert.equal(item?.status, "completed");
    assert.equal(item?.name, "get_weather");
    assert.equal(item?.arguments, '{"city":"Paris"}');
    assert.match(String(item?.call_id), /^call_/);
    assert.match(String(item?.id), /^fc_/);
    assert.equal("namespace" in item!, false);

    // Without tools in the request there is nothing to call: the answer is text.
    const [text] = (await create(mock, request)).output as Json[];
    assert.equal(text?.type, "message");
  }));

Deno.test("mock upstream calls a namespaced tool with a namespace field, a custom tool by input", () =>
  withMock(async (mock) => {
    const tools = [{ type: "namespace", name: "agents", description: "d", tools: [weatherTool] }];
    mock.enqueue(
      { type: "ok", toolCall: { name: "get_weather", arguments: "{}", namespace: "agents" } },
      { type: "ok", toolCall: { name: "apply_patch", arguments: "*** Begin Patch", custom: true } },
    );
    const [namespaced] = (await create(mock, { ...request, tools })).output as Json[];
    assert.equal(namespaced?.name, "get_weather");
    assert.equal(namespaced?.namespace, "agents");

    const custom = [{ type: "custom", name: "apply_patch", description: "Edits files" }];
    const [item] = (await create(mock, { ...request, tools: custom })).output as Json[];
    assert.equal(item?.type, "custom_tool_call");
    assert.equal(item?.name, "apply_patch");
    assert.equal(item?.input, "*** Begin Patch");
    assert.match(String(item?.call_id), /^call_/);
  }));

Deno.test("mock upstream streams a response as OpenAI's events, numbered in order", () =>
  withMock(async (mock) => {
    mock.enqueue({ type: "stream", pieces: ["One", " two", " three"], gapMs: 5 });
    const events = await streamEvents(
      await call(mock, "POST", "/v1/responses", { ...request, stream: true }),
    );
    assert.deepEqual(events.map((e) => e.type), [
      "response.created",
      "response.in_progress",
      "response.output_item.added",
      "response.content_part.added",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.delta",
      "response.output_text.done",
      "response.content_part.done",
      "response.output_item.done",
      "response.completed",
    ]);
    assert.deepEqual(events.map((e) => e.sequence_number), events.map((_, i) => i));
    const created = events[0]!.response as Json;
    assert.equal(created.status, "in_progress");
    assert.deepEqual(created.output, []);
    assert.equal(created.usage, null);

    const added = events[2]!.item as Json;
    assert.equal(added.status, "in_progress");
    assert.deepEqual(added.content, []);
    const deltas = events.filter((e) => e.type === "response.output_text.delta");
    assert.ok(deltas.every((e) => e.item_id === added.id && e.output_index === 0));
    assert.ok(deltas.every((e) => e.content_index === 0));
    assert.equal(deltas.map((e) => e.delta).join(""), "One two three");
    assert.equal(events[7]!.text, "One two three");
    assert.equal((events[8]!.part as Json).text, "One two three");

    const done = events[9]!.item as Json;
    const completed = events[10]!.response as Json;
    assert.equal(completed.status, "completed");
    assert.deepEqual(completed.output, [done]);
    assert.equal(completed.id, created.id);
    assert.ok((completed.usage as Json).total_tokens);
    // The kept response is the one the stream completed with.
    const fetched = await call(mock, "GET", `/v1/responses/${completed.id}`);
    assert.deepEqual(await fetched.json(), completed);
  }));

Deno.test("mock upstream streams a function call's arguments in deltas, name in the done event", () =>
  withMock(async (mock) => {
    mock.enqueue({ type: "ok", toolCall: { name: "get_weather", arguments: '{"city":"Oslo"}' } });
    const events = await streamEvents(
      await call(mock, "POST", "/v1/responses", { ...request, tools: [weatherTool], stream: true }),
    );
    const types = events.map((e) => e.type);
    assert.deepEqual(types.slice(0, 3), [
      "response.created",
      "response.in_progress",
      "response.output_item.added",
    ]);
    assert.deepEqual(types.slice(-4), [
      "response.function_call_arguments.delta",
      "response.function_call_arguments.done",
      "response.output_item.done",
      "response.completed",
    ]);
    assert.equal((events[2]!.item as Json).arguments, "");
    const deltas = events.filter((e) => e.type === "response.function_call_arguments.delta");
    assert.equal(deltas.map((e) => e.delta).join(""), '{"city":"Oslo"}');
    const argsDone = events.at(-3)!;
    assert.equal(argsDone.name, "get_weather");
    assert.equal(argsDone.arguments, '{"city":"Oslo"}');
    const item = events.at(-2)!.item as Json;
    assert.equal(item.type, "function_call");
    assert.equal(item.arguments, '{"city":"Oslo"}');
    assert.equal(argsDone.item_id, item.id);
  }));

Deno.test("mock upstream continues a kept response with previous_response_id", () =>
  withMock(async (mock) => {
    const first = await create(mock, request);
    const fresh = await create(mock, { model: "gpt-4o-mini", input: "And now?" });
    const second = await create(mock, {
      model: "gpt-4o-mini",
      input: "And now?",
      previous_response_id: first.id,
    });
    assert.equal(second.previous_response_id, first.id);
    assert.notEqual(second.id, first.id);
    // The earlier turn counts as input: more input tokens than the same question alone.
    const tokens = (r: Json) => (r.usage as Record<string, number>).input_tokens!;
    assert.ok(tokens(second) > tokens(fresh), `${tokens(second)} > ${tokens(fresh)}`);
    const context = mock.responses.get(String(second.id))!.context;
    assert.deepEqual(context.map((item) => item.type), ["message", "message", "message"]);
    assert.deepEqual(context.map((item) => item.role), ["user", "assistant", "user"]);
    assert.deepEqual(context[1], (first.output as Json[])[0]);

    const unknown = await call(mock, "POST", "/v1/responses", {
      ...request,
      previous_response_id: "resp_missing",
    });
    assert.equal(unknown.status, 400);
    assert.deepEqual(await unknown.json(), {
      error: {
        message: "Previous response with id 'resp_missing' not found.",
        type: "invalid_request_error",
        param: "previous_response_id",
        code: "previous_response_not_found",
      },
    });
  }));

Deno.test("mock upstream keeps nothing for store: false", () =>
  withMock(async (mock) => {
    const unstored = await create(mock, { ...request, store: false });
    assert.equal(unstored.store, false);
    assert.equal(mock.responses.size, 0);
    const fetched = await call(mock, "GET", `/v1/responses/${unstored.id}`);
    assert.equal(fetched.status, 404);
    const continued = await call(mock, "POST", "/v1/responses", {
      ...request,
      previous_response_id: unstored.id,
    });
    assert.equal(continued.status, 400);
    assert.equal((await continued.json()).error.code, "previous_response_not_found");
  }));

Deno.test("mock upstream gets, lists the input items of, and deletes a kept response", () =>
  withMock(async (mock) => {
    const input = [
      { role: "developer", content: "Answer in French" },
      { type: "message", role: "user", content: [{ type: "input_text", text: "One" }] },
      { role: "user", content: "Two" },
    ];
    const created = await create(mock, { model: "gpt-4o-mini", input });
    const id = String(created.id);
    assert.deepEqual(await (await call(mock, "GET", `/v1/responses/${id}`)).json(), created);

    const listed = await (await call(mock, "GET", `/v1/responses/${id}/input_items`)).json();
    assert.equal(listed.object, "list");
    assert.equal(listed.has_more, false);
    // Newest first by default, every item with an id and its text parts.
    assert.deepEqual(
      listed.data.map((item: Json) => (item.content as Json[])[0]!.text),
      ["Two", "One", "Answer in French"],
    );
    assert.ok(listed.data.every((item: Json) => /^msg_/.test(String(item.id))));
    assert.ok(listed.data.every((item: Json) => item.type === "message"));
    assert.equal(listed.first_id, listed.data[0].id);
    assert.equal(listed.last_id, listed.data[2].id);

    const page = await (await call(
      mock,
      "GET",
      `/v1/responses/${id}/input_items?order=asc&limit=1&after=${listed.data[2].id}`,
    )).json();
    assert.deepEqual(page.data.map((item: Json) => item.role), ["user"]);
    assert.equal(page.data[0].id, listed.data[1].id);
    assert.equal(page.has_more, true);

    const deleted = await call(mock, "DELETE", `/v1/responses/${id}`);
    assert.deepEqual(await deleted.json(), { id, object: "response", deleted: true });
    const gone = await call(mock, "GET", `/v1/responses/${id}`);
    assert.equal(gone.status, 404);
    assert.deepEqual(await gone.json(), {
      error: {
        message: `Response with id '${id}' not found.`,
        type: "invalid_request_error",
        param: null,
        code: null,
      },
    });
    assert.equal((await call(mock, "DELETE", `/v1/responses/${id}`)).status, 404);
    assert.equal((await call(mock, "GET", `/v1/responses/${id}/input_items`)).status, 404);
  }));

Deno.test("mock upstream with responsesApi: false answers /v1/responses like a chat-only server", () =>
  withMock(async (mock) => {
    const refused = await call(mock, "POST", "/v1/responses", request);
    assert.equal(refused.status, 404);
    assert.deepEqual(await refused.json(), {
      error: {
        message: "Invalid URL (POST /v1/responses)",
        type: "invalid_request_error",
        param: null,
        code: null,
      },
    });
    assert.equal((await call(mock, "GET", "/v1/responses/resp_1")).status, 404);
    const chat = await call(mock, "POST", "/v1/chat/completions", {
      model: "gpt-4o-mini",
      messages: [{ role: "user", content: "Hi" }],
    });
    assert.equal(chat.status, 200);
    assert.equal(mock.responses.size, 0);
  }, { responsesApi: false }));

Deno.test("mock upstream failAfter ends a Responses stream with response.failed", () =>
  withMock(async (mock) => {
    const failure = { code: "server_error", message: "upstream fell over" };
    mock.enqueue({ type: "stream", pieces: ["a", "b", "c"], failAfter: 2, failure });
    const events = await streamEvents(
      await call(mock, "POST", "/v1/responses", { ...request, stream: true }),
    );
    const deltas = events.filter((e) => e.type === "response.output_text.delta");
    assert.deepEqual(deltas.map((e) => e.delta), ["a", "b"]);
    const last = events.at(-1)!;
    assert.equal(last.type, "response.failed");
    assert.equal((last.response as Json).status, "failed");
    assert.deepEqual((last.response as Json).error, failure);
    assert.ok(!events.some((e) => e.type === "response.completed"));
    const kept = mock.responses.get(String((last.response as Json).id));
    assert.equal(kept?.response.status, "failed");
  }));

Deno.test("mock upstream breakAfter cuts a Responses stream before response.completed", () =>
  withMock(async (mock) => {
    mock.enqueue({ type: "stream", pieces: ["a", "b", "c"], breakAfter: 1 });
    const response = await call(mock, "POST", "/v1/responses", { ...request, stream: true });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    let text = "";
    await assert.rejects(async () => {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        text += new TextDecoder().decode(value);
      }
    });
    assert.match(text, /"delta":"a"/);
    assert.doesNotMatch(text, /"delta":"b"/);
    assert.doesNotMatch(text, /response\.completed/);
  }));

Deno.test("mock upstream validates a Responses request as OpenAI does", () =>
  withMock(async (mock) => {
    const noModel = await call(mock, "POST", "/v1/responses", { input: "Hi" });
    assert.equal(noModel.status, 400);
    assert.equal((await noModel.json()).error.type, "invalid_request_error");
    const badInput = await call(mock, "POST", "/v1/responses", { model: "m", input: 42 });
    assert.equal(badInput.status, 400);
    assert.equal((await badInput.json()).error.param, "input");
    mock.enqueue({ type: "error", status: 429 });
    const limited = await call(mock, "POST", "/v1/responses", request);
    assert.equal(limited.status, 429);
    assert.equal((await limited.json()).error.code, "rate_limit_exceeded");
  }));
