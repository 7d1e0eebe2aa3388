// POST /v1/responses on the real server: native to a mock that speaks the Responses API,
// translated to a Chat-only mock (found out by its 404) and to an Anthropic mock, conversation
// state kept in SQLite, stored responses read and deleted by their owner only, errors.
import assert from "node:assert/strict";
import { startGateway, type TestGateway } from "../support/gateway.ts";
import { type MockAnthropic, startMockAnthropic } from "../support/mock_anthropic.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";

const ALICE = "sk-gw-alice-0123456789";
const BOB = "sk-gw-bob-0123456789ab";

interface Setup {
  gw: TestGateway;
  native: MockUpstream;
  chat: MockUpstream;
  claude: MockAnthropic;
}

async function withResponses(fn: (s: Setup) => Promise<void>): Promise<void> {
  const native = await startMockUpstream({ name: "native" });
  const chat = await startMockUpstream({ name: "chat", responsesApi: false });
  const claude = startMockAnthropic({ name: "claude" });
  const dir = await Deno.makeTempDir({ prefix: "gateway-responses-" });
  let gw: TestGateway | undefined;
  try {
    gw = await startGateway(
      `
auth:
  enabled: true
  keys:
    - { name: alice, key: "${ALICE}" }
    - { name: bob, key: "${BOB}" }
storage:
  path: "${dir}/gateway.db"
routing:
  backoff_base: "5ms"
  backoff_max: "20ms"
strategies:
  - name: "cross"
    targets: ["native/gpt-4o", "claude/claude-sonnet-4-5"]
providers:
  - name: "native"
    target_url: "${native.url}"
    api_key: "sk-native-provider"
    responses_api: native
    max_retries: 0
  - name: "chat"
    target_url: "${chat.url}"
    api_key: "sk-chat-provider"
    max_retries: 0
  - name: "claude"
    type: "anthropic"
    target_url: "${claude.url}"
    api_key: "sk-ant-provider"
    max_retries: 0
`,
      { openStorage: true },
    );
    await fn({ gw, native, chat, claude });
  } finally {
    await gw?.close();
    await Promise.all([native.close(), chat.close(), claude.close()]);
    await Deno.remove(dir, { recursive: true });
  }
}

function post(gw: TestGateway, body: unknown, key = ALICE): Promise<Response> {
  return fetch(`${gw.url}/v1/responses`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

function call(gw: TestGateway, method: string, path: string, key = ALICE): Promise<Response> {
  return fetch(`${gw.url}${path}`, { method, headers: { authorization: `Bearer ${key}` } });
}

/** The SSE events of a stream body, as [type, data] pairs. */
function events(text: string): [string, Record<string, unknown>][] {
  return text.split("\n\n").filter((e) => e.trim() !== "").map((event) => {
    const type = /^event: (.*)$/m.exec(event)?.[1] ?? "";
    const data = JSON.parse(/^data: (.*)$/m.exec(event)?.[1] ?? "null");
    return [type, data];
  });
}

/** The text of a response object's message items. */
function outputText(response: Record<string, unknown>): string {
  let text = "";
  for (const item of response.output as Record<string, unknown>[]) {
    if (item.type !== "message") continue;
    for (const part of item.content as Record<string, unknown>[]) {
      if (part.type === "output_text") text += part.text;
    }
  }
  return text;
}

Deno.test("a Responses request to a native provider passes through as sent, model rewritten", async () => {
  await withResponses(async ({ gw, native }) => {
    const body = {
      model: "native/gpt-4o",
      input: [{ type: "message", role: "developer", content: "Be terse." }, {
        role: "user",
        content: [{ type: "input_text", text: "hi" }],
      }],
      tools: [{ type: "web_search" }],
      reasoning: { summary: "auto" },
      include: ["reasoning.encrypted_content"],
      prompt_cache_key: "k-1",
      store: true,
    };
    const res = await post(gw, body);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway-provider"), "native");
    const answer = await res.json();
    const sent = native.requests.at(-1)!;
    assert.equal(sent.path, "/v1/responses");
    assert.deepEqual(sent.body, { ...body, model: "gpt-4o" });
    assert.equal(sent.headers.get("authorization"), "Bearer sk-native-provider");
    assert.deepEqual(answer, native.responses.get(answer.id)!.response);
    assert.equal(outputText(answer), "Hello from native");

    const streamed = await post(gw, { ...body, stream: true });
    assert.equal(streamed.headers.get("content-type"), "text/event-stream");
    const got = events(await streamed.text());
    assert.equal(got[0]![0], "response.created");
    assert.equal(got.at(-1)![0], "response.completed");
    assert.deepEqual(got.map(([, data]) => data.sequence_number), got.map((_, i) => i));
  });
});

Deno.test("a provider without the Responses API is found out by its 404 and translated from then on", async () => {
  await withResponses(async ({ gw, chat }) => {
    const first = await post(gw, { model: "chat/gpt-4o", input: "hi", instructions: "Be terse." });
    assert.equal(first.status, 200, await first.clone().text());
    const answer = await first.json();
    assert.match(answer.id, /^resp_[0-9a-f]{48}$/);
    assert.equal(answer.object, "response");
    assert.equal(answer.status, "completed");
    assert.equal(answer.model, "chat/gpt-4o");
    assert.equal(outputText(answer), "Hello from chat");
    assert.equal(answer.usage.total_tokens, answer.usage.input_tokens + answer.usage.output_tokens);
    assert.deepEqual(chat.requests.map((r) => r.path), ["/v1/responses", "/v1/chat/completions"]);
    assert.deepEqual(chat.requests[1]!.body, {
      model: "gpt-4o",
      messages: [{ role: "system", content: "Be terse." }, { role: "user", content: "hi" }],
    });
    assert.match(
      await gw.logText(),
      /provider \\"chat\\" does not serve \/v1\/responses: translating from now on/,
    );
    const second = await post(gw, { model: "chat/gpt-4o", input: "again", stream: true });
    const got = events(await second.text());
    assert.deepEqual(chat.requests.slice(2).map((r) => r.path), ["/v1/chat/completions"]);
    assert.equal(got[0]![0], "response.created");
    assert.equal(got.at(-1)![0], "response.completed");
    const done = got.at(-1)![1].response as Record<string, unknown>;
    assert.equal(outputText(done), "Hello from chat");
  });
});

Deno.test("previous_response_id continues a translated conversation; its owner alone reads or deletes it", async () => {
  await withResponses(async ({ gw, claude }) => {
    const first = await (await post(gw, {
      model: "claude/claude-sonnet-4-5",
      input: "My name is Ann.",
    })).json();
    const second = await post(gw, {
      model: "claude/claude-sonnet-4-5",
      previous_response_id: first.id,
      input: [{ role: "user", content: "What is my name?" }],
    });
    assert.equal(second.status, 200, await second.clone().text());
    const sent = claude.requests.at(-1)!.body as Record<string, unknown>;
    assert.deepEqual(
      (sent.messages as Record<string, unknown>[]).map((m) => [m.role, JSON.stringify(m.content)]),
      [
        ["user", JSON.stringify([{ type: "text", text: "My name is Ann." }])],
        ["assistant", JSON.stringify([{ type: "text", text: "Hello from claude" }])],
        ["user", JSON.stringify([{ type: "text", text: "What is my name?" }])],
      ].map(([role, content]) => [role, content]),
    );
    const kept = await call(gw, "GET", `/v1/responses/${first.id}`);
    assert.equal(kept.status, 200);
    assert.deepEqual(await kept.json(), first);
    const items = await (await call(gw, "GET", `/v1/responses/${first.id}/input_items`)).json();
    assert.equal(items.object, "list");
    assert.equal(items.data.length, 1);
    assert.equal(items.data[0].content[0].text, "My name is Ann.");

    // Bob gets what an unknown id gets, for reading and for continuing.
    const theirs = await call(gw, "GET", `/v1/responses/${first.id}`, BOB);
    assert.equal(theirs.status, 404);
    assert.equal((await theirs.json()).error.type, "invalid_request_error");
    const follow = await post(gw, {
      model: "claude/claude-sonnet-4-5",
      previous_response_id: first.id,
      input: "hi",
    }, BOB);
    assert.equal(follow.status, 400);
    const error = (await follow.json()).error;
    assert.equal(error.code, "previous_response_not_found");
    assert.equal(error.param, "previous_response_id");

    assert.equal((await call(gw, "DELETE", `/v1/responses/${first.id}`, BOB)).status, 404);
    const deleted = await call(gw, "DELETE", `/v1/responses/${first.id}`);
    assert.deepEqual(await deleted.json(), { id: first.id, object: "response", deleted: true });
    assert.equal((await call(gw, "GET", `/v1/responses/${first.id}`)).status, 404);
  });
});

Deno.test("store: false keeps nothing, and a streamed translated answer is kept like a whole one", async () => {
  await withResponses(async ({ gw }) => {
    const unkept =
      await (await post(gw, { model: "claude/claude-sonnet-4-5", input: "x", store: false }))
        .json();
    assert.equal(unkept.store, false);
    assert.equal((await call(gw, "GET", `/v1/responses/${unkept.id}`)).status, 404);

    const streamed = await post(gw, {
      model: "claude/claude-sonnet-4-5",
      input: "y",
      stream: true,
    });
    const done = events(await streamed.text()).at(-1)![1].response as Record<string, unknown>;
    const kept = await call(gw, "GET", `/v1/responses/${done.id}`);
    assert.equal(kept.status, 200);
    assert.deepEqual(await kept.json(), done);

    // A built-in tool the target cannot run is left out, and the access log says so.
    const searched = await post(gw, {
      model: "claude/claude-sonnet-4-5",
      input: "z",
      tools: [{ type: "web_search" }],
    });
    assert.equal(searched.status, 200);
    await searched.body?.cancel();
    assert.match(await gw.logText(), /"gateway.dropped":"tools.web_search"/);
    // Writes land after the answer: the counter gets there.
    let saved = 0;
    for (let tries = 0; saved < 1 && tries < 200; tries++) {
      const metrics = await (await fetch(`${gw.url}/metrics`)).text();
      saved = Number(
        /llm_gateway_stored_responses_total\{outcome="saved"\} (\d+)/.exec(metrics)?.[1],
      );
      if (saved < 1) await new Promise((resolve) => setTimeout(resolve, 10));
    }
    assert.ok(saved >= 1, "the stored responses are counted in /metrics");
  });
});

Deno.test("a natively served response is continued, read and deleted at its provider only", async () => {
  await withResponses(async ({ gw, native }) => {
    const first = await (await post(gw, { model: "native/gpt-4o", input: "remember 7" })).json();
    const next = await post(gw, {
      model: "native/gpt-4o",
      previous_response_id: first.id,
      input: "what number?",
    });
    assert.equal(next.status, 200);
    assert.equal(
      (native.requests.at(-1)!.body as Record<string, unknown>).previous_response_id,
      first.id,
    );

    const elsewhere = await post(gw, {
      model: "chat/gpt-4o",
      previous_response_id: first.id,
      input: "what number?",
    });
    assert.equal(elsewhere.status, 400);
    assert.match((await elsewhere.json()).error.message, /held by provider "native"/);

    const got = await call(gw, "GET", `/v1/responses/${first.id}`);
    assert.equal(got.status, 200);
    assert.equal((await got.json()).id, first.id);
    assert.equal(native.requests.at(-1)!.method, "GET");
    assert.equal(native.requests.at(-1)!.headers.get("authorization"), "Bearer sk-native-provider");
    assert.equal((await call(gw, "GET", `/v1/responses/${first.id}`, BOB)).status, 404);
    const deleted = await call(gw, "DELETE", `/v1/responses/${first.id}`);
    assert.equal(deleted.status, 200);
    assert.equal((await deleted.json()).deleted, true);
    assert.equal(native.responses.has(first.id), false);
    assert.equal((await call(gw, "GET", `/v1/responses/${first.id}`)).status, 404);
  });
});

Deno.test("a chain crosses from a native provider that fails to a translated one", async () => {
  await withResponses(async ({ gw, native }) => {
    native.enqueue({ type: "error", status: 500 }, { type: "error", status: 500 });
    const res = await post(gw, { model: "cross", input: "hi" });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway-provider"), "claude");
    assert.equal(outputText(await res.json()), "Hello from claude");
    const streamed = await post(gw, { model: "cross", input: "hi", stream: true });
    const got = events(await streamed.text());
    assert.equal(
      outputText(got.at(-1)![1].response as Record<string, unknown>),
      "Hello from claude",
    );
  });
});

Deno.test("a translated stream broken midway ends with error and response.failed", async () => {
  await withResponses(async ({ gw, chat }) => {
    await (await post(gw, { model: "chat/gpt-4o", input: "warm up" })).body?.cancel();
    chat.enqueue({ type: "stream", pieces: ["Hel", "lo", " there"], breakAfter: 1 });
    const res = await post(gw, { model: "chat/gpt-4o", input: "hi", stream: true });
    assert.equal(res.status, 200);
    const got = events(await res.text());
    assert.deepEqual(got.slice(-2).map(([type]) => type), ["error", "response.failed"]);
    const failed = got.at(-1)![1].response as Record<string, unknown>;
    assert.equal(failed.status, "failed");
    assert.deepEqual(got.map(([, data]) => data.sequence_number), got.map((_, i) => i));
  });
});

Deno.test("a native stream broken midway ends with error and response.failed for its response", async () => {
  await withResponses(async ({ gw, native }) => {
    native.enqueue({ type: "stream", pieces: ["Hel", "lo", " there"], breakAfter: 1 });
    const res = await post(gw, { model: "native/gpt-4o", input: "hi", stream: true });
    const got = events(await res.text());
    assert.deepEqual(got.slice(-2).map(([type]) => type), ["error", "response.failed"]);
    const created = got[0]![1].response as Record<string, unknown>;
    const failed = got.at(-1)![1].response as Record<string, unknown>;
    assert.equal(failed.id, created.id);
    assert.equal(failed.status, "failed");
    assert.match(JSON.stringify(failed.error), /upstream stream from native\/gpt-4o failed/);
    assert.deepEqual(got.map(([, data]) => data.sequence_number), got.map((_, i) => i));
  });
});

Deno.test("bad Responses requests get 400 in the OpenAI shape, naming the field", async () => {
  await withResponses(async ({ gw, claude }) => {
    const cases: [unknown, string][] = [
      [{ model: "claude/claude-sonnet-4-5", input: 5 }, "input"],
      [{
        model: "claude/claude-sonnet-4-5",
        input: "hi",
        tools: [{ type: "web_search" }],
        tool_choice: { type: "web_search" },
      }, "tool_choice"],
      [
        { model: "claude/claude-sonnet-4-5", input: [{ type: "item_reference", id: "x" }] },
        "input[0].type",
      ],
    ];
    for (const [body, param] of cases) {
      const res = await post(gw, body);
      assert.equal(res.status, 400, JSON.stringify(body));
      const error = (await res.json()).error;
      assert.equal(error.type, "invalid_request_error");
      assert.equal(error.param, param, error.message);
    }
    assert.equal(claude.requests.length, 0, "nothing was sent upstream");
    const unknown = await post(gw, { model: "nowhere/x", input: "hi" });
    assert.equal(unknown.status, 404);
    assert.equal((await unknown.json()).error.code, "model_not_found");
  });
});

Deno.test("without a store, a follow-up goes to a provider that keeps its own responses, or is refused", async () => {
  const native = await startMockUpstream({ name: "native" });
  const chat = await startMockUpstream({ name: "chat", responsesApi: false });
  const gw = await startGateway(`
storage: false
providers:
  - { name: native, target_url: "${native.url}", responses_api: native }
  - { name: chat, target_url: "${chat.url}", responses_api: translate }
`);
  try {
    const first = await (await post(gw, { model: "native/gpt-4o", input: "remember 7" })).json();
    const next = await post(gw, {
      model: "native/gpt-4o",
      previous_response_id: first.id,
      input: "?",
    });
    assert.equal(next.status, 200);
    assert.equal(
      (native.requests.at(-1)!.body as Record<string, unknown>).previous_response_id,
      first.id,
    );
    const translated = await (await post(gw, { model: "chat/gpt-4o", input: "x" })).json();
    const refused = await post(gw, {
      model: "chat/gpt-4o",
      previous_response_id: translated.id,
      input: "?",
    });
    assert.equal(refused.status, 400);
    assert.match((await refused.json()).error.message, /keeps no responses/);
    assert.equal((await call(gw, "GET", `/v1/responses/${translated.id}`)).status, 404);
  } finally {
    await gw.close();
    await Promise.all([native.close(), chat.close()]);
  }
});
