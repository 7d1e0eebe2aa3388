// The real Responses API clients (the Codex CLI, the Vercel AI SDK, the openai SDK) pointed
// straight at the mock upstream: proof that the mock speaks the API as they expect, so that the
// same helpers can be pointed at the gateway. Codex is installed from npm into a cache
// directory; its tests are skipped, saying why, when it cannot be installed or started.
import assert from "node:assert/strict";
import { join } from "node:path";
import { aiGenerateText, aiStreamText, jsonSchema, tool } from "../support/ai_sdk.ts";
import { type CodexInstall, installCodex, runCodex } from "../support/codex.ts";
import {
  type MockUpstream,
  type MockUpstreamOptions,
  startMockUpstream,
} from "../support/mock_upstream.ts";
import { OpenAI } from "../support/openai.ts";
import { bodyOf, sdkClient } from "../support/sdk.ts";

type Json = Record<string, unknown>;

const codex = await installCodex();
const codexSkip = typeof codex === "string" ? codex : undefined;
if (codexSkip !== undefined) {
  console.log(`responses_clients_mock_test: Codex skipped: ${codexSkip}`);
} else console.log(`responses_clients_mock_test: ${(codex as CodexInstall).version}`);

async function withMock(
  fn: (mock: MockUpstream) => Promise<void>,
  options: MockUpstreamOptions = {},
): Promise<void> {
  const mock = await startMockUpstream({ name: "mock", ...options });
  try {
    await fn(mock);
  } finally {
    await mock.close();
  }
}

/** The `input` items of the i-th request the mock received. */
function inputOf(mock: MockUpstream, index: number): Json[] {
  return bodyOf(mock, index).input as Json[];
}

function itemsOfType(items: readonly Json[], type: string): Json[] {
  return items.filter((item) => item.type === type);
}

/** The fixture of what Codex sends (tests/fixtures/codex_responses_request.json). */
async function codexFixture(): Promise<{ headers: Record<string, string>; body: Json }> {
  const url = new URL("../fixtures/codex_responses_request.json", import.meta.url);
  return JSON.parse(await Deno.readTextFile(url));
}

const codexTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, ignore: codexSkip !== undefined, fn });

codexTest(
  "Codex prints the answer the mock streams, sending what the fixture shows",
  () =>
    withMock(async (mock) => {
      const run = await runCodex(codex as CodexInstall, mock.url, "say hi", {
        apiKey: "sk-codex-1",
      });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.answer, "Hello from mock");
      assert.deepEqual(run.errors, []);

      assert.equal(mock.requests.length, 1);
      const [sent] = mock.requests;
      assert.equal(sent?.method, "POST");
      assert.equal(sent?.path, "/v1/responses");
      assert.equal(sent?.headers.get("authorization"), "Bearer sk-codex-1");
      assert.equal(sent?.headers.get("accept"), "text/event-stream");
      assert.equal(sent?.headers.get("originator"), "codex_exec");
      assert.match(sent?.headers.get("user-agent") ?? "", /^codex_exec\/\d+\.\d+\.\d+ /);
      assert.equal(sent?.headers.get("content-encoding"), null, "the body is not compressed");

      const body = bodyOf(mock, 0);
      assert.equal(body.model, "gpt-5.5");
      assert.equal(body.stream, true);
      assert.equal(body.store, false);
      assert.equal(body.previous_response_id, undefined);
      const prompt = itemsOfType(body.input as Json[], "message").at(-1);
      assert.deepEqual(prompt?.content, [{ type: "input_text", text: "say hi" }]);

      // The saved fixture still shows what this Codex sends: same fields, same kinds of tools.
      const fixture = await codexFixture();
      assert.deepEqual(Object.keys(body).sort(), Object.keys(fixture.body).sort());
      const toolKinds = (tools: unknown) => (tools as Json[]).map((t) => `${t.type}:${t.name}`);
      assert.deepEqual(toolKinds(body.tools), toolKinds(fixture.body.tools));
      const headerNames = [...sent!.headers.keys()].filter((h) =>
        !["host", "content-length"].includes(h)
      );
      assert.deepEqual(headerNames.sort(), Object.keys(fixture.headers).sort());
    }),
);

codexTest(
  "Codex runs a shell command the mock asks for and sends its output back",
  () =>
    withMock(async (mock) => {
      const workdir = await Deno.makeTempDir({ prefix: "codex-work-" });
      try {
        await Deno.writeTextFile(join(workdir, "note.txt"), "the secret word is pineapple\n");
        const toolCall = {
          name: "exec_command",
          arguments: JSON.stringify({ cmd: "cat note.txt" }),
        };
        mock.enqueue({ type: "ok", toolCall });
        const run = await runCodex(codex as CodexInstall, mock.url, "read the note", { workdir });
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.answer, "Hello from mock");
        assert.equal(mock.requests.length, 2, "the question, then the command's output");
        const input = inputOf(mock, 1);
        const [call] = itemsOfType(input, "function_call");
        const [output] = itemsOfType(input, "function_call_output");
        assert.equal(call?.name, "exec_command");
        assert.equal(output?.call_id, call?.call_id);
        assert.match(String(output?.output), /pineapple/);
      } finally {
        await Deno.remove(workdir, { recursive: true });
      }
    }),
);

codexTest(
  "Codex runs a namespaced tool only when the call names its namespace apart",
  () =>
    withMock(async (mock) => {
      // A model Codex has no metadata for gets its sub-agent tools as a namespace group.
      const model = "mock-model";
      const options = { model };
      const first = await runCodex(codex as CodexInstall, mock.url, "say hi", options);
      assert.equal(first.code, 0, first.stderr);
      const group = (bodyOf(mock, 0).tools as Json[]).find((t) => t.type === "namespace");
      assert.ok(group, "Codex sent a namespace tool");
      const inner = (group.tools as Json[]).find((t) => t.name === "close_agent");
      assert.equal(inner?.type, "function");
      mock.reset();

      const args = JSON.stringify({ target: "no-such-agent" });
      const namespace = String(group.name);
      mock.enqueue(
        { type: "ok", toolCall: { name: "close_agent", namespace, arguments: args } },
        { type: "ok" },
        { type: "ok", toolCall: { name: `${namespace}.close_agent`, arguments: args } },
      );
      const split = await runCodex(codex as CodexInstall, mock.url, "close it", options);
      assert.equal(split.code, 0, split.stderr);
      const echoed = itemsOfType(inputOf(mock, 1), "function_call")[0];
      assert.equal(echoed?.namespace, namespace, "the call comes back with its namespace");
      const ran = itemsOfType(inputOf(mock, 1), "function_call_output")[0];
      assert.doesNotMatch(String(ran?.output), /unsupported call/);
      assert.match(String(ran?.output), /no-such-agent/, "the tool itself answered");

      const joined = await runCodex(codex as CodexInstall, mock.url, "close it", options);
      assert.equal(joined.code, 0, joined.stderr);
      const refused = itemsOfType(inputOf(mock, 3), "function_call_output")[0];
      assert.equal(refused?.output, `unsupported call: ${namespace}.close_agent`);
    }),
);

codexTest(
  "Codex applies a free-form apply_patch call and sends custom_tool_call_output",
  () =>
    withMock(async (mock) => {
      const workdir = await Deno.makeTempDir({ prefix: "codex-work-" });
      try {
        const patch =
          "*** Begin Patch\n*** Add File: hello.txt\n+hello from a patch\n*** End Patch\n";
        mock.enqueue({
          type: "ok",
          toolCall: { name: "apply_patch", arguments: patch, custom: true },
        });
        const run = await runCodex(codex as CodexInstall, mock.url, "write hello.txt", {
          workdir,
          sandbox: "workspace-write",
        });
        assert.equal(run.code, 0, run.stderr);
        const custom = (bodyOf(mock, 0).tools as Json[]).find((t) => t.type === "custom");
        assert.equal(custom?.name, "apply_patch");
        assert.equal(await Deno.readTextFile(join(workdir, "hello.txt")), "hello from a patch\n");
        const input = inputOf(mock, 1);
        const [call] = itemsOfType(input, "custom_tool_call");
        const [output] = itemsOfType(input, "custom_tool_call_output");
        assert.equal(call?.input, patch);
        assert.equal(output?.call_id, call?.call_id);
        assert.match(String(output?.output), /hello\.txt/);
      } finally {
        await Deno.remove(workdir, { recursive: true });
      }
    }),
);

codexTest(
  "Codex shows the message of a response.failed event and exits non-zero",
  () =>
    withMock(async (mock) => {
      const failure = { code: "server_error", message: "the model tripped over a cable" };
      mock.enqueue({ type: "stream", failAfter: 1, failure });
      const run = await runCodex(codex as CodexInstall, mock.url, "say hi");
      assert.equal(run.code, 1);
      assert.equal(run.answer, "");
      assert.ok(run.errors.some((line) => line.includes(failure.message)), run.stderr);
    }),
);

codexTest(
  "Codex reports the 404 of a server without the Responses API",
  () =>
    withMock(async (mock) => {
      const run = await runCodex(codex as CodexInstall, mock.url, "say hi");
      assert.equal(run.code, 1);
      assert.equal(run.answer, "");
      assert.ok(run.errors.some((line) => /404 Not Found/.test(line)), run.stderr);
      assert.equal(mock.requests.length, 1);
    }, { responsesApi: false }),
);

Deno.test("AI SDK generateText gets the mock's answer through the Responses API", () =>
  withMock(async (mock) => {
    mock.enqueue({ type: "ok", content: "Bonjour", usage: { prompt: 11, completion: 3 } });
    const result = await aiGenerateText(mock.url, {
      model: "gpt-4o-mini",
      prompt: "Say hello in French",
      system: "Be brief",
      apiKey: "sk-ai-sdk",
    });
    assert.equal(result.text, "Bonjour");
    assert.equal(result.finishReason, "stop");
    assert.equal(result.usage.inputTokens, 11);
    assert.equal(result.usage.outputTokens, 3);
    assert.match(result.responseId ?? "", /^resp_/);

    assert.equal(mock.requests[0]?.path, "/v1/responses");
    assert.equal(mock.requests[0]?.headers.get("authorization"), "Bearer sk-ai-sdk");
    const body = bodyOf(mock, 0);
    assert.equal(body.model, "gpt-4o-mini");
    assert.notEqual(body.stream, true);
    const roles = (body.input as Json[]).map((item) => item.role);
    assert.deepEqual(roles, ["system", "user"]);
  }));

Deno.test("AI SDK streamText yields the mock's deltas as text parts, in order", () =>
  withMock(async (mock) => {
    mock.enqueue({ type: "stream", pieces: ["One", " two", " three"], gapMs: 5 });
    const result = await aiStreamText(mock.url, { model: "gpt-4o-mini", prompt: "Count" });
    assert.deepEqual(result.textDeltas, ["One", " two", " three"]);
    assert.equal(result.text, "One two three");
    assert.equal(result.finishReason, "stop");
    const parts = result.partTypes.filter((type) => type !== "raw");
    assert.equal(parts[0], "start");
    assert.equal(parts.at(-1), "finish");
    assert.ok(parts.indexOf("text-start") < parts.indexOf("text-delta"), parts.join(","));
    assert.ok(parts.lastIndexOf("text-delta") < parts.indexOf("text-end"), parts.join(","));
    assert.ok((result.usage.totalTokens ?? 0) > 0);
    assert.equal(bodyOf(mock, 0).stream, true);
  }));

Deno.test("AI SDK runs a tool the mock calls and sends the result back", () =>
  withMock(async (mock) => {
    mock.enqueue({
      type: "ok",
      toolCall: { name: "get_weather", arguments: JSON.stringify({ city: "Oslo" }) },
    });
    const cities: string[] = [];
    const getWeather = tool({
      description: "The weather in a city",
      inputSchema: jsonSchema<{ city: string }>({
        type: "object",
        properties: { city: { type: "string" } },
        required: ["city"],
      }),
      execute: ({ city }) => {
        cities.push(city);
        return Promise.resolve({ city, sky: "overcast" });
      },
    });
    const result = await aiGenerateText(mock.url, {
      model: "gpt-4o-mini",
      prompt: "Weather in Oslo?",
      tools: { get_weather: getWeather },
      maxSteps: 2,
    });
    assert.deepEqual(cities, ["Oslo"]);
    assert.deepEqual(result.toolCalls, [{ toolName: "get_weather", input: { city: "Oslo" } }]);
    assert.equal(result.text, "Hello from mock");
    assert.equal(mock.requests.length, 2);
    const tools = bodyOf(mock, 0).tools as Json[];
    assert.equal(tools[0]?.type, "function");
    assert.equal(tools[0]?.name, "get_weather");
    const input = inputOf(mock, 1);
    const [output] = itemsOfType(input, "function_call_output");
    const firstCall = (mock.responses.values().next().value?.response.output as Json[])[0];
    assert.equal(output?.call_id, firstCall?.call_id);
    assert.deepEqual(JSON.parse(String(output?.output)), { city: "Oslo", sky: "overcast" });
  }));

Deno.test("AI SDK streamText streams a tool call's input, runs it and streams the answer", () =>
  withMock(async (mock) => {
    mock.enqueue(
      { type: "ok", toolCall: { name: "get_time", arguments: '{"zone":"UTC"}' } },
      { type: "stream", pieces: ["It is", " noon"] },
    );
    const getTime = tool({
      inputSchema: jsonSchema<{ zone: string }>({
        type: "object",
        properties: { zone: { type: "string" } },
      }),
      execute: ({ zone }) => Promise.resolve(`12:00 ${zone}`),
    });
    const result = await aiStreamText(mock.url, {
      model: "gpt-4o-mini",
      prompt: "What time is it?",
      tools: { get_time: getTime },
      maxSteps: 2,
    });
    assert.equal(result.text, "It is noon");
    assert.deepEqual(result.toolCalls, [{ toolName: "get_time", input: { zone: "UTC" } }]);
    const parts = result.partTypes;
    const order = ["tool-input-start", "tool-input-delta", "tool-call", "tool-result", "text-delta"]
      .map((type) => parts.indexOf(type));
    assert.ok(order.every((at, i) => at >= 0 && (i === 0 || at > order[i - 1]!)), parts.join());
    const [output] = itemsOfType(inputOf(mock, 1), "function_call_output");
    assert.equal(output?.output, "12:00 UTC");
  }));

Deno.test("AI SDK streamText rejects with the message of a response.failed event", () =>
  withMock(async (mock) => {
    const failure = { code: "server_error", message: "the model tripped over a cable" };
    mock.enqueue({ type: "stream", pieces: ["partial"], failAfter: 1, failure });
    await assert.rejects(
      aiStreamText(mock.url, { model: "gpt-4o-mini", prompt: "Hi" }),
      (err: unknown) => {
        assert.match(String((err as Error).message ?? err), /tripped over a cable/);
        return true;
      },
    );
  }));

Deno.test("openai SDK responses.create round-trips a function call with previous_response_id", () =>
  withMock(async (mock) => {
    const client = sdkClient(mock.url, "sk-openai-sdk");
    const tools: OpenAI.Responses.Tool[] = [{
      type: "function",
      name: "get_weather",
      parameters: { type: "object", properties: { city: { type: "string" } } },
      strict: false,
    }];
    mock.enqueue({ type: "ok", toolCall: { name: "get_weather", arguments: '{"city":"Rome"}' } });
    const first = await client.responses.create({
      model: "gpt-4o-mini",
      input: "Weather in Rome?",
      tools,
    });
    const call = first.output.find((item) => item.type === "function_call");
    assert.ok(call?.type === "function_call");
    assert.equal(call.name, "get_weather");
    assert.deepEqual(JSON.parse(call.arguments), { city: "Rome" });
    assert.equal(first.output_text, "");

    const second = await client.responses.create({
      model: "gpt-4o-mini",
      previous_response_id: first.id,
      input: [{ type: "function_call_output", call_id: call.call_id, output: "sunny" }],
      tools,
    });
    assert.equal(second.output_text, "Hello from mock");
    assert.equal(second.previous_response_id, first.id);
    // The mock answered the second turn knowing the first: the question and the call.
    const context = mock.responses.get(second.id)!.context;
    assert.deepEqual(context.map((item) => item.type), [
      "message",
      "function_call",
      "function_call_output",
    ]);
    assert.equal(mock.requests[1]?.headers.get("authorization"), "Bearer sk-openai-sdk");
  }));

Deno.test("openai SDK responses.stream gives text deltas and the final response", () =>
  withMock(async (mock) => {
    mock.enqueue({ type: "stream", pieces: ["Hel", "lo"], gapMs: 5 });
    const client = sdkClient(mock.url);
    const stream = client.responses.stream({ model: "gpt-4o-mini", input: "Hi" });
    const deltas: string[] = [];
    const types: string[] = [];
    stream.on("response.output_text.delta", (event) => deltas.push(event.delta));
    for await (const event of stream) types.push(event.type);
    const final = await stream.finalResponse();
    assert.deepEqual(deltas, ["Hel", "lo"]);
    assert.equal(final.output_text, "Hello");
    assert.equal(final.status, "completed");
    assert.equal(types[0], "response.created");
    assert.equal(types.at(-1), "response.completed");
  }));

Deno.test("openai SDK retrieves, lists the input of and deletes a stored response", () =>
  withMock(async (mock) => {
    const client = sdkClient(mock.url);
    const created = await client.responses.create({ model: "gpt-4o-mini", input: "Keep me" });
    const fetched = await client.responses.retrieve(created.id);
    assert.equal(fetched.output_text, "Hello from mock");
    const items = [];
    for await (const item of client.responses.inputItems.list(created.id)) items.push(item);
    assert.equal(items.length, 1);
    assert.equal(items[0]?.type, "message");
    await client.responses.delete(created.id);
    await assert.rejects(client.responses.retrieve(created.id), OpenAI.NotFoundError);
    await assert.rejects(
      client.responses.create({
        model: "gpt-4o-mini",
        input: "Hi",
        previous_response_id: created.id,
      }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError);
        assert.equal(err.code, "previous_response_not_found");
        return true;
      },
    );
  }));
