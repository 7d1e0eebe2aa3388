// The official `openai` SDK against the real gateway's Responses API: natively to a mock that
// speaks it, translated to a Chat-only mock, a mock Anthropic API and a mock Gemini API. Text and
// streamed text, function-call round trips, structured output, previous_response_id, the stored
// responses read, listed and deleted by their owner only, and typed errors, each as the SDK shows
// it to its user.
import assert from "node:assert/strict";
import { zodTextFormat } from "npm:openai@^6.0.0/helpers/zod";
import { z } from "zod";
import type { RecordedRequest } from "../support/mock_upstream.ts";
import { OpenAI } from "../support/openai.ts";
import {
  ALICE,
  BOB,
  type ResponsesSetup,
  withResponsesGateway,
} from "../support/responses_gateway.ts";
import { bodyOf, sdkClient } from "../support/sdk.ts";

type Json = Record<string, unknown>;

/** One provider behind the gateway, and how to script and read its mock. */
interface Upstream {
  label: string;
  model: string;
  /** The path of a (non-streamed) request it gets from the gateway. */
  path: string;
  /** The next answer is `pieces` of text (a stream's deltas). */
  say(setup: ResponsesSetup, pieces: string[]): void;
  /** The next answer calls function `name` with `args`. */
  call(setup: ResponsesSetup, name: string, args: Json): void;
  requests(setup: ResponsesSetup): RecordedRequest[];
  /** The tool call and its result in the last request's conversation, as the upstream got them. */
  toolTurn(body: Json): { id?: string; name: string; args: Json; result: string };
}

const NATIVE: Upstream = {
  label: "native (Responses API)",
  model: "native/gpt-4o",
  path: "/v1/responses",
  say: ({ native }, pieces) => native.enqueue({ type: "stream", pieces }),
  call: ({ native }, name, args) =>
    native.enqueue({ type: "ok", toolCall: { name, arguments: JSON.stringify(args) } }),
  requests: ({ native }) => native.requests,
  toolTurn(body) {
    const input = body.input as Json[];
    const call = input.find((item) => item.type === "function_call")!;
    const output = input.find((item) => item.type === "function_call_output")!;
    assert.equal(output.call_id, call.call_id);
    return {
      id: String(call.call_id),
      name: String(call.name),
      args: JSON.parse(String(call.arguments)),
      result: String(output.output),
    };
  },
};

const CHAT: Upstream = {
  label: "Chat-only OpenAI-compatible",
  model: "chat/gpt-4o",
  path: "/v1/chat/completions",
  say: ({ chat }, pieces) => chat.enqueue({ type: "stream", pieces }),
  call: ({ chat }, name, args) =>
    chat.enqueue({ type: "ok", toolCall: { name, arguments: JSON.stringify(args) } }),
  requests: ({ chat }) => chat.requests,
  toolTurn(body) {
    const messages = body.messages as Json[];
    const assistant = messages.find((m) => m.role === "assistant" && m.tool_calls);
    const call = (assistant?.tool_calls as Json[])[0]!;
    const fn = call.function as Json;
    const tool = messages.find((m) => m.role === "tool")!;
    assert.equal(tool.tool_call_id, call.id);
    return {
      id: String(call.id),
      name: String(fn.name),
      args: JSON.parse(String(fn.arguments)),
      result: String(tool.content),
    };
  },
};

const CLAUDE: Upstream = {
  label: "Anthropic",
  model: "claude/claude-sonnet-4-5",
  path: "/v1/messages",
  say: ({ claude }, pieces) => claude.enqueue({ type: "text", pieces }),
  call: ({ claude }, name, input) => claude.enqueue({ type: "tool_use", name, input }),
  requests: ({ claude }) => claude.requests,
  toolTurn(body) {
    const blocks = (body.messages as Json[]).flatMap((m) =>
      Array.isArray(m.content) ? m.content as Json[] : []
    );
    const use = blocks.find((b) => b.type === "tool_use")!;
    const result = blocks.find((b) => b.type === "tool_result")!;
    assert.equal(result.tool_use_id, use.id);
    return {
      id: String(use.id),
      name: String(use.name),
      args: use.input as Json,
      result: String(result.content),
    };
  },
};

const GEMINI: Upstream = {
  label: "Gemini",
  model: "gemini/gemini-2.0-flash",
  path: "/v1beta/models/gemini-2.0-flash:generateContent",
  say: ({ gemini }, pieces) => gemini.enqueue({ type: "text", pieces }),
  call: ({ gemini }, name, args) => gemini.enqueue({ type: "function_call", name, args }),
  requests: ({ gemini }) => gemini.requests,
  toolTurn(body) {
    const parts = (body.contents as Json[]).flatMap((c) => c.parts as Json[]);
    const call = parts.find((p) => p.functionCall)!.functionCall as Json;
    const response = parts.find((p) => p.functionResponse)!.functionResponse as Json;
    assert.equal(response.name, call.name);
    return {
      name: String(call.name),
      args: call.args as Json,
      result: JSON.stringify(response.response),
    };
  },
};

const UPSTREAMS = [NATIVE, CHAT, CLAUDE, GEMINI];

/** The JSON body of the last request `upstream` received. */
function lastBody(setup: ResponsesSetup, upstream: Upstream): Json {
  const requests = upstream.requests(setup);
  return bodyOf({ requests }, requests.length - 1);
}

const weatherTool: OpenAI.Responses.FunctionTool = {
  type: "function",
  name: "get_weather",
  description: "The weather in a city",
  parameters: {
    type: "object",
    properties: { city: { type: "string" } },
    required: ["city"],
    additionalProperties: false,
  },
  strict: true,
};

/** What `responses.stream` delivered: every event, the text deltas and the final response. */
interface Streamed {
  events: OpenAI.Responses.ResponseStreamEvent[];
  deltas: string[];
  final: OpenAI.Responses.Response;
}

async function stream(
  client: OpenAI,
  params: OpenAI.Responses.ResponseCreateParamsStreaming,
): Promise<Streamed> {
  const events: OpenAI.Responses.ResponseStreamEvent[] = [];
  const deltas: string[] = [];
  const running = client.responses.stream(params);
  running.on("response.output_text.delta", (event) => deltas.push(event.delta));
  for await (const event of running) events.push(event);
  return { events, deltas, final: await running.finalResponse() };
}

/** Asserts the events come in the order the SDK (and OpenAI's own streams) give them. */
function assertEventOrder(events: readonly OpenAI.Responses.ResponseStreamEvent[]): void {
  const types: string[] = events.map((event) => event.type);
  const at = (type: string) => types.indexOf(type);
  assert.equal(types[0], "response.created", types.join());
  assert.equal(types[1], "response.in_progress", types.join());
  assert.equal(types.at(-1), "response.completed", types.join());
  const order = [
    "response.output_item.added",
    "response.content_part.added",
    "response.output_text.delta",
    "response.output_text.done",
    "response.content_part.done",
    "response.output_item.done",
  ];
  for (let i = 1; i < order.length; i++) {
    assert.ok(at(order[i - 1]!) >= 0 && at(order[i - 1]!) < at(order[i]!), types.join());
  }
  assert.ok(types.lastIndexOf("response.output_text.delta") < at("response.output_text.done"));
  assert.deepEqual(events.map((event) => event.sequence_number), events.map((_, i) => i));
  const added = events.find((event) => event.type === "response.output_item.added");
  for (const event of events) {
    if (event.type === "response.output_text.delta") assert.equal(event.item_id, added?.item.id);
  }
}

for (const upstream of UPSTREAMS) {
  Deno.test(`responses.create through the ${upstream.label} provider gives its text`, () =>
    withResponsesGateway(async (setup) => {
      const client = sdkClient(setup.gw.url, ALICE);
      upstream.say(setup, [`Bonjour de ${upstream.model}`]);
      const { data, response } = await client.responses.create({
        model: upstream.model,
        instructions: "Answer in French.",
        input: "Say hello",
      }).withResponse();

      assert.equal(data.output_text, `Bonjour de ${upstream.model}`);
      assert.equal(data.status, "completed");
      assert.match(data.id, /^resp_/);
      assert.ok(data.usage !== undefined && data.usage.total_tokens > 0);
      assert.equal(response.headers.get("x-gateway-provider"), upstream.model.split("/")[0]);
      const requests = upstream.requests(setup);
      assert.equal(requests.at(-1)?.path, upstream.path);
      assert.match(JSON.stringify(requests.at(-1)?.body), /Answer in French\./);
      assert.match(JSON.stringify(requests.at(-1)?.body), /Say hello/);
    }));

  Deno.test(`responses.stream through the ${upstream.label} provider: deltas in order, the events the SDK needs`, () =>
    withResponsesGateway(async (setup) => {
      const client = sdkClient(setup.gw.url, ALICE);
      const pieces = ["Un", ", deux", ", trois"];
      upstream.say(setup, pieces);
      const { events, deltas, final } = await stream(client, {
        model: upstream.model,
        input: "Count to three in French",
        stream: true,
      });
      assert.deepEqual(deltas, pieces);
      assert.equal(final.output_text, "Un, deux, trois");
      assert.equal(final.status, "completed");
      assertEventOrder(events);
      const done = events.find((event) => event.type === "response.output_text.done");
      assert.equal(done?.type === "response.output_text.done" && done.text, "Un, deux, trois");
    }));

  Deno.test(`a function call round trip through the ${upstream.label} provider, whole and streamed`, () =>
    withResponsesGateway(async (setup) => {
      const client = sdkClient(setup.gw.url, ALICE);
      for (const streamed of [false, true]) {
        const question: OpenAI.Responses.ResponseInputItem = {
          role: "user",
          content: "What is the weather in Oslo?",
        };
        upstream.call(setup, "get_weather", { city: "Oslo" });
        const params = { model: upstream.model, input: [question], tools: [weatherTool] };
        let first: OpenAI.Responses.Response;
        if (streamed) {
          const got = await stream(client, { ...params, stream: true });
          first = got.final;
          const args = got.events.flatMap((e) =>
            e.type === "response.function_call_arguments.delta" ? [e.delta] : []
          );
          assert.deepEqual(JSON.parse(args.join("")), { city: "Oslo" });
          const types: string[] = got.events.map((e) => e.type);
          assert.ok(
            types.indexOf("response.function_call_arguments.done") <
              types.indexOf("response.output_item.done"),
            types.join(),
          );
          assert.equal(types.at(-1), "response.completed");
        } else {
          first = await client.responses.create(params);
        }
        const call = first.output.find((item) => item.type === "function_call");
        assert.ok(call?.type === "function_call", JSON.stringify(first.output));
        assert.equal(call.name, "get_weather");
        assert.deepEqual(JSON.parse(call.arguments), { city: "Oslo" });
        assert.equal(first.output_text, "");

        upstream.say(setup, ["It is 3°C", " and overcast in Oslo."]);
        const output: OpenAI.Responses.ResponseInputItem = {
          type: "function_call_output",
          call_id: call.call_id,
          output: "overcast, 3°C",
        };
        const next = { ...params, input: [question, call, output] };
        const second = streamed
          ? (await stream(client, { ...next, stream: true })).final
          : await client.responses.create(next);
        assert.equal(
          second.output_text,
          "It is 3°C and overcast in Oslo.",
          `streamed: ${streamed}`,
        );
        const turn = upstream.toolTurn(lastBody(setup, upstream));
        assert.equal(turn.name, "get_weather");
        assert.deepEqual(turn.args, { city: "Oslo" });
        assert.match(turn.result, /overcast, 3°C/);
        if (turn.id !== undefined) assert.equal(turn.id, call.call_id);
      }
    }));
}

const cityWeather = {
  type: "object",
  properties: { city: { type: "string" }, celsius: { type: "number" } },
  required: ["city", "celsius"],
  additionalProperties: false,
};
const jsonFormat: OpenAI.Responses.ResponseFormatTextJSONSchemaConfig = {
  type: "json_schema",
  name: "city_weather",
  schema: cityWeather,
  strict: true,
};

Deno.test("text.format json_schema reaches a Chat upstream as response_format; the JSON comes back parsed", () =>
  withResponsesGateway(async (setup) => {
    const client = sdkClient(setup.gw.url, ALICE);
    const answer = { city: "Oslo", celsius: 3 };
    CHAT.say(setup, [JSON.stringify(answer)]);
    const parsed = await client.responses.parse({
      model: CHAT.model,
      input: "Weather in Oslo as JSON",
      text: { format: jsonFormat },
    });
    assert.deepEqual(parsed.output_parsed, answer);
    assert.deepEqual(lastBody(setup, CHAT).response_format, {
      type: "json_schema",
      json_schema: { name: "city_weather", schema: cityWeather, strict: true },
    });

    // Streamed, with a zod schema: the SDK parses what the stream's events built.
    CHAT.say(setup, ['{"city": "Ber', 'gen", "celsius": 9}']);
    const format = zodTextFormat(z.object({ city: z.string(), celsius: z.number() }), "weather");
    const streamed = client.responses.stream({
      model: CHAT.model,
      input: "Weather in Bergen as JSON",
      text: { format },
    });
    const final = await streamed.finalResponse();
    assert.deepEqual(final.output_parsed, { city: "Bergen", celsius: 9 });
    const sent = lastBody(setup, CHAT).response_format as { json_schema: Json };
    assert.equal(sent.json_schema.name, "weather");
    assert.deepEqual(sent.json_schema.schema, format.schema);
  }));

Deno.test("text.format json_schema reaches Gemini as its response schema; the JSON comes back parsed", () =>
  withResponsesGateway(async (setup) => {
    const client = sdkClient(setup.gw.url, ALICE);
    const answer = { city: "Tromsø", celsius: -4 };
    GEMINI.say(setup, [JSON.stringify(answer)]);
    const parsed = await client.responses.parse({
      model: GEMINI.model,
      input: "Weather in Tromsø as JSON",
      text: { format: jsonFormat },
    });
    assert.deepEqual(parsed.output_parsed, answer);
    const config = lastBody(setup, GEMINI).generationConfig as Json;
    assert.equal(config.responseMimeType, "application/json");
    const schema = config.responseSchema as Json;
    assert.deepEqual(Object.keys(schema.properties as Json).sort(), ["celsius", "city"]);
    assert.deepEqual(schema.required, ["city", "celsius"]);
  }));

/** The role and text of each Chat message, for comparing conversations. */
function chatTurns(body: Json): string[] {
  return (body.messages as Json[]).map((m) => `${m.role}: ${m.content}`);
}

Deno.test("previous_response_id continues a translated conversation: the upstream gets the earlier turns", () =>
  withResponsesGateway(async (setup) => {
    const client = sdkClient(setup.gw.url, ALICE);
    CHAT.say(setup, ["Nice to meet you, Ann."]);
    const first = await client.responses.create({
      model: CHAT.model,
      instructions: "Be brief.",
      input: "My name is Ann.",
    });
    CHAT.say(setup, ["Your name is Ann."]);
    const second = await client.responses.create({
      model: CHAT.model,
      previous_response_id: first.id,
      input: "What is my name?",
    });
    assert.equal(second.output_text, "Your name is Ann.");
    assert.equal(second.previous_response_id, first.id);
    // Instructions are the request's own: the earlier ones do not carry over.
    assert.deepEqual(chatTurns(lastBody(setup, CHAT)), [
      "user: My name is Ann.",
      "assistant: Nice to meet you, Ann.",
      "user: What is my name?",
    ]);

    // A third turn, streamed, on another provider: the gateway holds the conversation.
    CLAUDE.say(setup, ["Still Ann", "."]);
    const third = await stream(client, {
      model: CLAUDE.model,
      previous_response_id: second.id,
      input: "And now?",
      stream: true,
    });
    assert.equal(third.final.output_text, "Still Ann.");
    assert.equal(third.final.previous_response_id, second.id);
    const sent = (lastBody(setup, CLAUDE).messages as Json[]).map((m) =>
      `${m.role}: ${(m.content as Json[]).map((b) => b.text).join("")}`
    );
    assert.deepEqual(sent, [
      "user: My name is Ann.",
      "assistant: Nice to meet you, Ann.",
      "user: What is my name?",
      "assistant: Your name is Ann.",
      "user: And now?",
    ]);
  }));

Deno.test("previous_response_id of a natively served response goes to the provider holding it", () =>
  withResponsesGateway(async (setup) => {
    const { native, chat } = setup;
    const client = sdkClient(setup.gw.url, ALICE);
    native.enqueue({ type: "ok", content: "Noted: 7." });
    const first = await client.responses.create({ model: NATIVE.model, input: "Remember 7." });
    assert.ok(native.responses.has(first.id), "the id is the provider's own");

    // The strategy tries the Chat-only provider first: a follow-up can only go to `native`.
    native.enqueue({ type: "ok", content: "You said 7." });
    const { data: second, response } = await client.responses.create({
      model: "chat_then_native",
      previous_response_id: first.id,
      input: "Which number?",
    }).withResponse();
    assert.equal(second.output_text, "You said 7.");
    assert.equal(response.headers.get("x-gateway-provider"), "native");
    assert.equal(chat.requests.length, 0, "the other target was never tried");
    const sent = bodyOf(native, 1);
    assert.equal(sent.previous_response_id, first.id);
    assert.equal(sent.model, "gpt-4o");
    const context = native.responses.get(second.id)!.context;
    assert.deepEqual(context.map((item) => item.role), ["user", "assistant", "user"]);

    const third = await stream(client, {
      model: NATIVE.model,
      previous_response_id: second.id,
      input: "Again?",
      stream: true,
    });
    assert.equal(third.final.previous_response_id, second.id);
    assert.equal(bodyOf(native, 2).previous_response_id, second.id);
    assert.equal(native.responses.get(third.final.id)!.context.length, 5);
  }));

/** Every input item the SDK lists for `id`, reading all pages. */
async function listItems(
  client: OpenAI,
  id: string,
  query: OpenAI.Responses.InputItemListParams = {},
): Promise<OpenAI.Responses.ResponseItem[]> {
  const items: OpenAI.Responses.ResponseItem[] = [];
  for await (const item of client.responses.inputItems.list(id, query)) items.push(item);
  return items;
}

/** The text of a listed input message. */
function itemText(item: OpenAI.Responses.ResponseItem | undefined): string {
  assert.ok(item?.type === "message", JSON.stringify(item));
  const parts: { type: string; text?: string }[] = item.content;
  return parts.map((part) => part.type.endsWith("_text") ? part.text : "").join("");
}

/** Asserts Bob can neither read, list, delete nor continue response `id`. */
async function assertHiddenFromBob(url: string, id: string, model: string): Promise<void> {
  const bob = sdkClient(url, BOB);
  await assert.rejects(bob.responses.retrieve(id), OpenAI.NotFoundError);
  await assert.rejects(listItems(bob, id), OpenAI.NotFoundError);
  await assert.rejects(bob.responses.delete(id), OpenAI.NotFoundError);
  await assert.rejects(
    bob.responses.create({ model, previous_response_id: id, input: "hi" }),
    (err: unknown) => {
      assert.ok(err instanceof OpenAI.BadRequestError, String(err));
      assert.equal(err.code, "previous_response_not_found");
      return true;
    },
  );
}

Deno.test("a translated response is retrieved, its input listed and deleted by its owner; another key gets NotFoundError", () =>
  withResponsesGateway(async (setup) => {
    const client = sdkClient(setup.gw.url, ALICE);
    CLAUDE.say(setup, ["Kept."]);
    const input: OpenAI.Responses.ResponseInput = [
      { role: "user", content: "first question" },
      { role: "assistant", content: "first answer" },
      { role: "user", content: "second question" },
    ];
    const created = await client.responses.create({ model: CLAUDE.model, input });

    const fetched = await client.responses.retrieve(created.id);
    assert.equal(fetched.id, created.id);
    assert.equal(fetched.output_text, "Kept.");
    assert.deepEqual(fetched.output, created.output);

    const newestFirst = await listItems(client, created.id);
    assert.deepEqual(newestFirst.map(itemText), [
      "second question",
      "first answer",
      "first question",
    ]);
    // Messages sent with their text as a string are listed as OpenAI lists them.
    const answer = newestFirst[1];
    assert.ok(answer?.type === "message" && answer.role === "assistant");
    assert.equal(answer.content[0]?.type, "output_text");
    assert.equal(
      newestFirst[0]?.type === "message" && newestFirst[0].content[0]?.type,
      "input_text",
    );
    const paged = await listItems(client, created.id, { order: "asc", limit: 2 });
    assert.deepEqual(paged.map(itemText), ["first question", "first answer", "second question"]);
    assert.equal(new Set(paged.map((item) => item.id)).size, 3, "each item has its own id");

    await assertHiddenFromBob(setup.gw.url, created.id, CLAUDE.model);
    assert.equal((await client.responses.retrieve(created.id)).id, created.id, "still there");

    await client.responses.delete(created.id);
    await assert.rejects(client.responses.retrieve(created.id), OpenAI.NotFoundError);
    await assert.rejects(client.responses.delete(created.id), OpenAI.NotFoundError);
  }));

Deno.test("a native response is retrieved, listed and deleted at its provider by its owner only", () =>
  withResponsesGateway(async (setup) => {
    const { native } = setup;
    const client = sdkClient(setup.gw.url, ALICE);
    const created = await client.responses.create({ model: NATIVE.model, input: "Keep this" });

    const fetched = await client.responses.retrieve(created.id);
    assert.equal(fetched.output_text, "Hello from native");
    const items = await listItems(client, created.id);
    assert.deepEqual(items.map(itemText), ["Keep this"]);
    const reads = native.requests.filter((r) => r.method === "GET");
    assert.deepEqual(reads.map((r) => r.path), [
      `/v1/responses/${created.id}`,
      `/v1/responses/${created.id}/input_items`,
    ]);
    assert.ok(reads.every((r) => r.headers.get("authorization") === "Bearer sk-native-provider"));

    const before = native.requests.length;
    await assertHiddenFromBob(setup.gw.url, created.id, NATIVE.model);
    assert.equal(native.requests.length, before, "nothing of Bob's reached the provider");

    await client.responses.delete(created.id);
    assert.equal(native.responses.has(created.id), false, "deleted at the provider");
    await assert.rejects(client.responses.retrieve(created.id), OpenAI.NotFoundError);
  }));

Deno.test("errors come as the SDK's typed errors: a bad field, no key, a wrong key, an unknown model", () =>
  withResponsesGateway(async (setup) => {
    const client = sdkClient(setup.gw.url, ALICE);
    for (const model of [CHAT.model, CLAUDE.model, GEMINI.model]) {
      await assert.rejects(
        client.responses.create({
          model,
          input: "hi",
          temperature: "hot" as unknown as number,
        }),
        (err: unknown) => {
          assert.ok(err instanceof OpenAI.BadRequestError, String(err));
          assert.equal(err.param, "temperature");
          assert.equal(err.type, "invalid_request_error");
          return true;
        },
      );
    }
    await assert.rejects(
      client.responses.stream({ model: CLAUDE.model, input: [{ type: "nonsense" }] as never })
        .finalResponse(),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError, String(err));
        assert.equal(err.param, "input[0].type");
        return true;
      },
    );
    assert.equal(setup.claude.requests.length, 0, "nothing bad was sent upstream");
    assert.equal(setup.gemini.requests.length, 0, "nothing bad was sent upstream");

    await assert.rejects(
      client.responses.create({ model: NATIVE.model, input: "hi" }, {
        headers: { authorization: null },
      }),
      OpenAI.AuthenticationError,
    );
    await assert.rejects(
      sdkClient(setup.gw.url, "sk-not-a-gateway-key").responses.create({
        model: NATIVE.model,
        input: "hi",
      }),
      OpenAI.AuthenticationError,
    );
    await assert.rejects(
      sdkClient(setup.gw.url, "sk-not-a-gateway-key").responses.retrieve("resp_123"),
      OpenAI.AuthenticationError,
    );
    assert.equal(setup.native.requests.length, 0, "nothing unauthenticated was sent upstream");

    await assert.rejects(
      client.responses.create({ model: "nowhere/model", input: "hi" }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.NotFoundError, String(err));
        assert.equal(err.code, "model_not_found");
        return true;
      },
    );
  }));
