// Real Responses API clients through the real gateway: the Vercel AI SDK (generateText,
// streamText, tool round trips) and the Codex CLI (`codex exec`) to a provider that speaks the
// Responses API natively and to providers the gateway translates for. Codex's built-in tools
// (web_search, tool_search) cannot be translated and are left out; its namespaced tools and its
// free-form apply_patch tool reach a Chat-only upstream as functions, and the calls come back
// under Codex's own names, which is how Codex can run them. Codex is installed from npm into a
// cache directory; its tests are skipped, saying why, when it cannot be installed or started.
import assert from "node:assert/strict";
import { join } from "node:path";
import { aiGenerateText, aiStreamText, jsonSchema, tool } from "../support/ai_sdk.ts";
import { type CodexInstall, installCodex, runCodex } from "../support/codex.ts";
import { flatName } from "../../src/dialects/responses/tools.ts";
import type { MockUpstream } from "../support/mock_upstream.ts";
import { ALICE, type ResponsesSetup, withResponsesGateway } from "../support/responses_gateway.ts";
import { bodyOf } from "../support/sdk.ts";

type Json = Record<string, unknown>;

const codex = await installCodex();
const codexSkip = typeof codex === "string" ? codex : undefined;
if (codexSkip !== undefined) {
  console.log(`responses_clients_test: Codex skipped: ${codexSkip}`);
} else console.log(`responses_clients_test: ${(codex as CodexInstall).version}`);

const codexTest = (name: string, fn: () => Promise<void>) =>
  Deno.test({ name, ignore: codexSkip !== undefined, fn });

/** The JSON body of the last request `mock` received. */
function lastBody(mock: { requests: readonly { body: unknown }[] }): Json {
  return bodyOf(mock, mock.requests.length - 1);
}

/** The requests a mock got at `path`. */
function at(mock: MockUpstream, path: string): Json[] {
  return mock.requests.filter((r) => r.path === path).map((r) => r.body as Json);
}

const weatherTool = () => {
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
      return Promise.resolve({ city, sky: "overcast", celsius: 3 });
    },
  });
  return { cities, tools: { get_weather: getWeather } };
};

// ---------------------------------------------------------------- Vercel AI SDK

Deno.test("AI SDK generateText through the gateway: translated to Anthropic and native", () =>
  withResponsesGateway(async ({ gw, claude, native }) => {
    claude.enqueue({ type: "text", text: "Bonjour, Ann." });
    const translated = await aiGenerateText(gw.url, {
      model: "claude/claude-sonnet-4-5",
      system: "Be brief.",
      prompt: "Say hello to Ann in French",
      apiKey: ALICE,
    });
    assert.equal(translated.text, "Bonjour, Ann.");
    assert.equal(translated.finishReason, "stop");
    assert.ok((translated.usage.inputTokens ?? 0) > 0);
    assert.match(translated.responseId ?? "", /^resp_[0-9a-f]{48}$/);
    const sent = lastBody(claude);
    assert.equal(sent.system, "Be brief.");
    assert.match(JSON.stringify(sent.messages), /Say hello to Ann in French/);

    native.enqueue({ type: "ok", content: "Hallo, Ann.", usage: { prompt: 17, completion: 4 } });
    const direct = await aiGenerateText(gw.url, {
      model: "native/gpt-4o",
      prompt: "Say hello to Ann in German",
      apiKey: ALICE,
    });
    assert.equal(direct.text, "Hallo, Ann.");
    assert.equal(direct.usage.inputTokens, 17);
    assert.equal(direct.usage.outputTokens, 4);
    assert.ok(native.responses.has(direct.responseId!), "the provider's own response id");
    assert.equal(native.requests[0]?.path, "/v1/responses");
    assert.equal(lastBody(native).model, "gpt-4o");
  }));

Deno.test("AI SDK streamText through the gateway: a Chat-only provider's and a native provider's deltas", () =>
  withResponsesGateway(async ({ gw, chat, native }) => {
    for (const [mock, model] of [[chat, "chat/gpt-4o"], [native, "native/gpt-4o"]] as const) {
      const pieces = ["One", " two", " three", ` from ${mock.name}`];
      mock.enqueue({ type: "stream", pieces, gapMs: 5 });
      const result = await aiStreamText(gw.url, { model, prompt: "Count", apiKey: ALICE });
      assert.deepEqual(result.textDeltas, pieces, model);
      assert.equal(result.text, pieces.join(""));
      assert.equal(result.finishReason, "stop");
      assert.ok((result.usage.totalTokens ?? 0) > 0, model);
      const parts = result.partTypes.filter((type) => type !== "raw");
      assert.equal(parts[0], "start");
      assert.equal(parts.at(-1), "finish");
      assert.ok(parts.indexOf("text-start") < parts.indexOf("text-delta"), parts.join());
      assert.ok(parts.lastIndexOf("text-delta") < parts.indexOf("text-end"), parts.join());
      assert.equal(lastBody(mock).stream, true);
    }
    assert.deepEqual(chat.requests.map((r) => r.path).slice(-1), ["/v1/chat/completions"]);
  }));

for (
  const [label, model, pick] of [
    ["a Chat-only provider", "chat/gpt-4o", (s: ResponsesSetup) => s.chat],
    ["a native provider", "native/gpt-4o", (s: ResponsesSetup) => s.native],
  ] as const
) {
  Deno.test(`AI SDK runs a tool ${label} calls through the gateway and sends the result back`, () =>
    withResponsesGateway(async (setup) => {
      const mock = pick(setup);
      const { cities, tools } = weatherTool();
      mock.enqueue(
        { type: "ok", toolCall: { name: "get_weather", arguments: '{"city":"Oslo"}' } },
        { type: "ok", content: "Overcast and 3°C in Oslo." },
      );
      const result = await aiGenerateText(setup.gw.url, {
        model,
        prompt: "Weather in Oslo?",
        tools,
        maxSteps: 2,
        apiKey: ALICE,
      });
      assert.deepEqual(cities, ["Oslo"]);
      assert.deepEqual(result.toolCalls, [{ toolName: "get_weather", input: { city: "Oslo" } }]);
      assert.equal(result.text, "Overcast and 3°C in Oslo.");
      const toolResult = { city: "Oslo", sky: "overcast", celsius: 3 };
      if (mock === setup.chat) {
        const [first, second] = at(mock, "/v1/chat/completions");
        const offered = (first?.tools as Json[]).map((t) => (t.function as Json).name);
        assert.deepEqual(offered, ["get_weather"]);
        const messages = second?.messages as Json[];
        const call = (messages[1]?.tool_calls as Json[])[0]!;
        assert.deepEqual(messages.map((m) => m.role), ["user", "assistant", "tool"]);
        assert.equal((call.function as Json).name, "get_weather");
        assert.equal(messages[2]?.tool_call_id, call.id);
        assert.deepEqual(JSON.parse(String(messages[2]?.content)), toolResult);
      } else {
        const input = lastBody(mock).input as Json[];
        const output = input.find((item) => item.type === "function_call_output");
        assert.deepEqual(JSON.parse(String(output?.output)), toolResult);
      }
    }));
}

Deno.test("AI SDK streamText runs a tool Anthropic calls through the gateway and streams the answer", () =>
  withResponsesGateway(async ({ gw, claude }) => {
    const { cities, tools } = weatherTool();
    claude.enqueue(
      { type: "tool_use", name: "get_weather", input: { city: "Bergen" } },
      { type: "text", pieces: ["Rain", " in Bergen."] },
    );
    const result = await aiStreamText(gw.url, {
      model: "claude/claude-sonnet-4-5",
      prompt: "Weather in Bergen?",
      tools,
      maxSteps: 2,
      apiKey: ALICE,
    });
    assert.deepEqual(cities, ["Bergen"]);
    assert.equal(result.text, "Rain in Bergen.");
    assert.deepEqual(result.toolCalls, [{ toolName: "get_weather", input: { city: "Bergen" } }]);
    const parts = result.partTypes;
    const order = ["tool-input-start", "tool-input-delta", "tool-call", "tool-result", "text-delta"]
      .map((type) => parts.indexOf(type));
    assert.ok(order.every((i, n) => i >= 0 && (n === 0 || i > order[n - 1]!)), parts.join());
    const blocks = (lastBody(claude).messages as Json[]).flatMap((m) => m.content as Json[]);
    const use = blocks.find((b) => b.type === "tool_use");
    const toolResult = blocks.find((b) => b.type === "tool_result");
    assert.equal(toolResult?.tool_use_id, use?.id);
    assert.match(String(toolResult?.content), /Bergen/);
  }));

Deno.test("AI SDK previousResponseId continues a conversation the gateway translated", () =>
  withResponsesGateway(async ({ gw, claude }) => {
    claude.enqueue({ type: "text", text: "Nice to meet you, Ann." });
    const first = await aiGenerateText(gw.url, {
      model: "claude/claude-sonnet-4-5",
      prompt: "My name is Ann.",
      apiKey: ALICE,
    });
    claude.enqueue({ type: "text", text: "Your name is Ann." });
    const second = await aiGenerateText(gw.url, {
      model: "claude/claude-sonnet-4-5",
      prompt: "What is my name?",
      apiKey: ALICE,
      openai: { previousResponseId: first.responseId! },
    });
    assert.equal(second.text, "Your name is Ann.");
    const turns = (lastBody(claude).messages as Json[]).map((m) =>
      `${m.role}: ${(m.content as Json[]).map((b) => b.text).join("")}`
    );
    assert.deepEqual(turns, [
      "user: My name is Ann.",
      "assistant: Nice to meet you, Ann.",
      "user: What is my name?",
    ]);
  }));

// ---------------------------------------------------------------- Codex CLI

/** Codex's model names routed to one provider: gpt-5.5 (tools it knows) and one it does not. */
function codexAliases(provider: string): string {
  return `aliases:
  "gpt-5.5": "${provider}/gpt-5.5"
  "mock-model": "${provider}/mock-model"
`;
}

/** The Chat tool names of a Chat request. */
function chatToolNames(body: Json): string[] {
  return ((body.tools ?? []) as Json[]).map((t) => String((t.function as Json).name));
}

codexTest(
  "Codex through the gateway to a native provider: the request passes as sent, the answer prints",
  () =>
    withResponsesGateway(async ({ gw, native }) => {
      native.enqueue({ type: "stream", pieces: ["Hello", " through", " the gateway"] });
      const run = await runCodex(codex as CodexInstall, gw.url, "say hi", { apiKey: ALICE });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.answer, "Hello through the gateway");
      assert.deepEqual(run.errors, []);

      assert.equal(native.requests.length, 1);
      const sent = native.requests[0]!;
      assert.equal(sent.path, "/v1/responses");
      assert.equal(sent.headers.get("authorization"), "Bearer sk-native-provider");
      const body = bodyOf(native, 0);
      assert.equal(body.model, "gpt-5.5");
      assert.equal(body.store, false);
      const kinds = (body.tools as Json[]).map((t) => String(t.type));
      for (const kind of ["custom", "tool_search", "web_search"]) {
        assert.ok(kinds.includes(kind), `Codex's ${kind} tool reached the provider: ${kinds}`);
      }
      assert.deepEqual(body.include, ["reasoning.encrypted_content"]);
    }, { extraYaml: codexAliases("native") }),
);

codexTest(
  "Codex through the gateway to a Chat-only provider: translated, built-in tools left out, the answer prints",
  () =>
    withResponsesGateway(async ({ gw, chat }) => {
      chat.enqueue({ type: "stream", pieces: ["Hello", " from", " a Chat-only server"] });
      const run = await runCodex(codex as CodexInstall, gw.url, "say hi", { apiKey: ALICE });
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.answer, "Hello from a Chat-only server");
      assert.deepEqual(run.errors, []);

      // The Responses request was refused with a 404 once, then translated.
      assert.deepEqual(chat.requests.map((r) => r.path), ["/v1/responses", "/v1/chat/completions"]);
      const codexBody = bodyOf(chat, 0);
      const kinds = (codexBody.tools as Json[]).map((t) => String(t.type));
      for (const kind of ["custom", "tool_search", "web_search"]) {
        assert.ok(kinds.includes(kind), `Codex sent a ${kind} tool: ${kinds}`);
      }
      assert.equal(codexBody.store, false);

      const body = bodyOf(chat, 1);
      assert.equal(body.model, "gpt-5.5");
      assert.equal(body.stream, true);
      assert.deepEqual(body.stream_options, { include_usage: true });
      for (const field of ["store", "include", "prompt_cache_key", "client_metadata", "text"]) {
        assert.equal(body[field], undefined, `${field} has no Chat counterpart`);
      }
      const messages = body.messages as Json[];
      assert.equal(messages[0]?.role, "system", "Codex's developer instructions");
      assert.match(JSON.stringify(messages.at(-1)), /say hi/);
      // Every function and the free-form apply_patch are offered as functions; nothing else.
      const tools = body.tools as Json[];
      assert.ok(
        tools.every((t) => t.type === "function"),
        JSON.stringify(tools.map((t) => t.type)),
      );
      const names = chatToolNames(body);
      const functions = (codexBody.tools as Json[]).filter((t) => t.type === "function")
        .map((t) => String(t.name));
      assert.deepEqual(names.filter((n) => n !== "apply_patch"), functions);
      const patch = tools.find((t) => (t.function as Json).name === "apply_patch")!;
      const parameters = (patch.function as Json).parameters as Json;
      assert.deepEqual(parameters.required, ["input"]);
      assert.match(JSON.stringify(parameters), /lark grammar/);
      const log = await gw.logText();
      assert.match(log, /"gateway\.dropped":"[^"]*tools\.web_search/);
      assert.match(log, /"gateway\.dropped":"[^"]*tools\.tool_search/);
    }, { extraYaml: codexAliases("chat") }),
);

codexTest(
  "Codex runs a namespaced tool the Chat-only upstream calls by its flattened name",
  () =>
    withResponsesGateway(async ({ gw, chat }) => {
      // A model Codex has no metadata for gets its sub-agent tools as a namespace group.
      const options = { apiKey: ALICE, model: "mock-model" };
      const first = await runCodex(codex as CodexInstall, gw.url, "say hi", options);
      assert.equal(first.code, 0, first.stderr);
      assert.equal(first.answer, "Hello from chat");
      const group = (bodyOf(chat, 0).tools as Json[]).find((t) => t.type === "namespace");
      assert.ok(group, "Codex sent a namespace tool group");
      const namespace = String(group.name);
      const inner = (group.tools as Json[]).find((t) => t.name === "close_agent");
      assert.ok(inner, "with close_agent in it");
      const flat = flatName(namespace, "close_agent", new Set());
      assert.ok(chatToolNames(lastBody(chat)).includes(flat), `${flat} offered upstream`);
      chat.reset();

      const args = JSON.stringify({ target: "no-such-agent" });
      chat.enqueue(
        { type: "ok", toolCall: { name: flat, arguments: args } },
        { type: "stream", pieces: ["Done."] },
      );
      const run = await runCodex(codex as CodexInstall, gw.url, "close it", options);
      assert.equal(run.code, 0, run.stderr);
      assert.equal(run.answer, "Done.");
      assert.equal(chat.requests.length, 2, "the question, then the tool's output");
      const messages = lastBody(chat).messages as Json[];
      const assistant = messages.find((m) => Array.isArray(m.tool_calls))!;
      const call = (assistant.tool_calls as Json[])[0]!;
      assert.equal((call.function as Json).name, flat, "Codex's call goes back flattened");
      const output = messages.find((m) => m.role === "tool" && m.tool_call_id === call.id);
      assert.ok(output, JSON.stringify(messages.slice(-3)));
      assert.doesNotMatch(String(output.content), /unsupported call/);
      assert.match(String(output.content), /no-such-agent/, "the tool itself answered");
    }, { extraYaml: codexAliases("chat") }),
);

codexTest(
  "Codex applies a patch the Chat-only upstream sends as an apply_patch function call",
  () =>
    withResponsesGateway(async ({ gw, chat }) => {
      const workdir = await Deno.makeTempDir({ prefix: "codex-work-" });
      try {
        const patch =
          "*** Begin Patch\n*** Add File: hello.txt\n+hello through the gateway\n*** End Patch\n";
        chat.enqueue(
          {
            type: "ok",
            toolCall: { name: "apply_patch", arguments: JSON.stringify({ input: patch }) },
          },
          { type: "stream", pieces: ["Patched."] },
        );
        const run = await runCodex(codex as CodexInstall, gw.url, "write hello.txt", {
          apiKey: ALICE,
          workdir,
          sandbox: "workspace-write",
        });
        assert.equal(run.code, 0, run.stderr);
        assert.equal(run.answer, "Patched.");
        // Codex applies only a custom_tool_call: a function_call named apply_patch it aborts.
        assert.equal(
          await Deno.readTextFile(join(workdir, "hello.txt")),
          "hello through the gateway\n",
        );
        const chats = at(chat, "/v1/chat/completions");
        assert.equal(chats.length, 2);
        const messages = chats[1]!.messages as Json[];
        const assistant = messages.find((m) => Array.isArray(m.tool_calls))!;
        const call = (assistant.tool_calls as Json[])[0]!;
        const fn = call.function as Json;
        assert.equal(fn.name, "apply_patch");
        assert.deepEqual(JSON.parse(String(fn.arguments)), { input: patch });
        const output = messages.find((m) => m.role === "tool" && m.tool_call_id === call.id);
        assert.match(String(output?.content), /hello\.txt/);
      } finally {
        await Deno.remove(workdir, { recursive: true });
      }
    }, { extraYaml: codexAliases("chat") }),
);

codexTest(
  "Codex shows why a translated stream broke midway and exits non-zero",
  () =>
    withResponsesGateway(async ({ gw, chat }) => {
      chat.enqueue({ type: "stream", pieces: ["Hel", "lo", " there"], breakAfter: 1 });
      const run = await runCodex(codex as CodexInstall, gw.url, "say hi", { apiKey: ALICE });
      assert.equal(run.code, 1);
      assert.equal(run.answer, "");
      assert.ok(
        run.errors.some((line) => /upstream stream from chat\/gpt-5\.5 failed/.test(line)),
        run.stderr,
      );
    }, { extraYaml: codexAliases("chat") }),
);
