// The official `openai` SDK against the real gateway, which fronts two mock upstreams on real
// sockets: what a user of the SDK sees, end to end.
import assert from "node:assert/strict";
import { type ChatCompletionCreateParamsNonStreaming, OpenAI } from "../support/openai.ts";
import { providerYaml, startGateway, type TestGateway } from "../support/gateway.ts";
import { embeddingVector } from "../support/mock_openai_wire.ts";
import { type MockUpstream, type Scenario, startMockUpstream } from "../support/mock_upstream.ts";
import { waitFor } from "../support/wait_for.ts";
import { bodyOf, readUntilInterrupted, sdkClient } from "../support/sdk.ts";

/** Everything one test talks to. */
interface Setup {
  gw: TestGateway;
  client: OpenAI;
  alpha: MockUpstream;
  beta: MockUpstream;
}

/** Both providers retry once: two attempts at alpha before beta. */
const MAX_RETRIES = 1;
const ATTEMPTS_PER_PROVIDER = MAX_RETRIES + 1;

function gatewayYaml(alpha: MockUpstream, beta: MockUpstream, chain: boolean): string {
  const provider = { timeout: "300ms", max_retries: MAX_RETRIES };
  return [
    "routing:",
    '  backoff_base: "5ms"',
    '  backoff_max: "20ms"',
    ...(chain ? ["strategies:", '  - name: "chain"', '    providers: ["alpha", "beta"]'] : []),
    "providers:",
    providerYaml("alpha", alpha.url, provider),
    providerYaml("beta", beta.url, provider),
  ].join("\n");
}

/**
 * Starts alpha, beta and a gateway in front of them (with the alpha -> beta chain unless
 * `chain: false`), runs `fn`, and always stops all three so the resource sanitizers pass.
 */
async function withGateway(
  fn: (setup: Setup) => Promise<void>,
  options: { chain?: boolean } = {},
): Promise<void> {
  const alpha = await startMockUpstream({ name: "alpha", models: ["gpt-4o"] });
  const beta = await startMockUpstream({ name: "beta", models: ["llama-3"] });
  let gw: TestGateway | undefined;
  try {
    gw = await startGateway(gatewayYaml(alpha, beta, options.chain ?? true));
    const client = sdkClient(gw.url);
    await fn({ gw, client, alpha, beta });
  } finally {
    await gw?.close();
    await alpha.close();
    await beta.close();
  }
}

const messages = [{ role: "user" as const, content: "Say hello" }];

function repeat(scenario: Scenario, times: number): Scenario[] {
  return Array.from({ length: times }, () => scenario);
}

Deno.test("SDK models.list shows every provider's models with their provider prefix", () =>
  withGateway(async ({ gw, client }) => {
    await gw.server.engine.catalog.refresh();
    const ids: string[] = [];
    for await (const model of client.models.list()) ids.push(model.id);
    assert.ok(ids.includes("alpha/gpt-4o"), `alpha/gpt-4o missing from ${ids.join(", ")}`);
    assert.ok(ids.includes("beta/llama-3"), `beta/llama-3 missing from ${ids.join(", ")}`);
  }));

Deno.test("SDK chat completion is served by alpha with the provider's key and the bare model", () =>
  withGateway(async ({ client, alpha, beta }) => {
    const { data, response } = await client.chat.completions
      .create({ model: "alpha/gpt-4o", messages })
      .withResponse();

    assert.equal(data.choices[0]?.message.content, "Hello from alpha");
    assert.equal(response.headers.get("x-gateway-provider"), "alpha");
    assert.equal(response.headers.get("x-gateway-model"), "gpt-4o");
    assert.equal(alpha.requests.length, 1);
    assert.equal(beta.requests.length, 0);
    assert.equal(bodyOf(alpha, 0).model, "gpt-4o");
    const headers = alpha.requests[0]!.headers;
    assert.equal(headers.get("authorization"), "Bearer sk-alpha-secret");
    for (const [name, value] of headers) {
      assert.ok(!value.includes("client-key"), `client key forwarded upstream in ${name}`);
    }
  }));

Deno.test("SDK streaming chat yields the content and the usage chunk include_usage asked for", () =>
  withGateway(async ({ client, alpha }) => {
    const { data: stream, response } = await client.chat.completions.create({
      model: "alpha/gpt-4o",
      messages,
      stream: true,
      stream_options: { include_usage: true },
    }).withResponse();

    let text = "";
    let usageChunks = 0;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? "";
      if (chunk.usage) {
        usageChunks++;
        assert.ok(chunk.usage.total_tokens > 0);
      }
    }
    assert.equal(text, "Hello from alpha");
    assert.equal(usageChunks, 1);
    assert.equal(response.headers.get("x-gateway-provider"), "alpha");
    assert.deepEqual(bodyOf(alpha, 0).stream_options, { include_usage: true });
  }));

Deno.test("SDK streaming chat receives each piece as the upstream sends it, not all at the end", () =>
  withGateway(async ({ client, alpha }) => {
    // Three pieces 150 ms apart: the last one leaves the upstream >= 300 ms after the first.
    alpha.enqueue({ type: "stream", pieces: ["one", " two", " three"], gapMs: 150 });
    const stream = await client.chat.completions.create({
      model: "alpha/gpt-4o",
      messages,
      stream: true,
    });

    const arrivals: { text: string; at: number }[] = [];
    for await (const chunk of stream) {
      const text = chunk.choices[0]?.delta.content;
      if (text) arrivals.push({ text, at: Date.now() });
    }
    assert.deepEqual(arrivals.map((a) => a.text), ["one", " two", " three"]);
    // A buffering gateway would hand all three over at once; 200 ms leaves a wide margin.
    const spread = arrivals.at(-1)!.at - arrivals[0]!.at;
    assert.ok(spread >= 200, `first and last piece arrived only ${spread} ms apart`);
  }));

Deno.test("SDK embeddings (base64 on the wire) decode to vectors of the mock's dimension", () =>
  withGateway(async ({ client, alpha }) => {
    const { data, response } = await client.embeddings.create({
      model: "alpha/text-embedding-3-small",
      input: ["first text", "second text"],
    }).withResponse();

    assert.equal(response.headers.get("x-gateway-provider"), "alpha");
    assert.equal(bodyOf(alpha, 0).encoding_format, "base64");
    assert.equal(data.data.length, 2);
    assert.deepEqual(data.data[0]?.embedding, embeddingVector("first text", 8));
    assert.deepEqual(data.data[1]?.embedding, embeddingVector("second text", 8));
  }));

/** Asks for alpha/gpt-4o and checks that beta answered it, through the chain. */
async function assertServedByBeta({ client, beta }: Setup): Promise<void> {
  const { data, response } = await client.chat.completions
    .create({ model: "alpha/gpt-4o", messages })
    .withResponse();
  assert.equal(data.choices[0]?.message.content, "Hello from beta");
  assert.equal(response.headers.get("x-gateway-provider"), "beta");
  assert.equal(beta.requests.length, 1);
  assert.equal(bodyOf(beta, 0).model, "gpt-4o");
}

Deno.test("SDK request falls back to beta when alpha's port is closed", () =>
  withGateway(async (setup) => {
    await setup.alpha.close();
    await assertServedByBeta(setup);
  }));

Deno.test("SDK request falls back to beta when alpha keeps answering 500", () =>
  withGateway(async (setup) => {
    setup.alpha.enqueue(...repeat({ type: "error", status: 500 }, ATTEMPTS_PER_PROVIDER));
    await assertServedByBeta(setup);
    assert.equal(setup.alpha.requests.length, ATTEMPTS_PER_PROVIDER);
  }));

Deno.test("SDK request falls back to beta when alpha keeps answering 429", () =>
  withGateway(async (setup) => {
    setup.alpha.enqueue(...repeat({ type: "error", status: 429 }, ATTEMPTS_PER_PROVIDER));
    await assertServedByBeta(setup);
    assert.equal(setup.alpha.requests.length, ATTEMPTS_PER_PROVIDER);
  }));

Deno.test("SDK request falls back to beta when alpha hangs past its timeout", () =>
  withGateway(async (setup) => {
    setup.alpha.enqueue(...repeat({ type: "hang" }, ATTEMPTS_PER_PROVIDER));
    await assertServedByBeta(setup);
    assert.equal(setup.alpha.requests.length, ATTEMPTS_PER_PROVIDER);
    // The gateway gave up on each hanging attempt instead of leaving it open.
    await waitFor(() => setup.alpha.requests.every((r) => r.aborted), {
      message: "alpha's hanging requests were never aborted",
    });
  }));

Deno.test("SDK gets alpha's 400 as a BadRequestError and beta is never asked", () =>
  withGateway(async ({ client, alpha, beta }) => {
    alpha.enqueue({ type: "error", status: 400, message: "bad things", code: "bad_param" });
    await assert.rejects(
      client.chat.completions.create({ model: "alpha/gpt-4o", messages }),
      (err: unknown) => {
        assert.ok(err instanceof OpenAI.BadRequestError, `unexpected error: ${err}`);
        assert.equal(err.status, 400);
        assert.match(err.message, /bad things/);
        assert.equal(err.code, "bad_param");
        return true;
      },
    );
    assert.equal(alpha.requests.length, 1);
    assert.equal(beta.requests.length, 0);
  }));

Deno.test("SDK request-level models list falls back to beta/llama-3 and is not forwarded upstream", () =>
  // No chain here: only the request's own `models` list can bring beta in.
  withGateway(async ({ client, alpha, beta }) => {
    alpha.enqueue(...repeat({ type: "error", status: 500 }, ATTEMPTS_PER_PROVIDER));
    const params: ChatCompletionCreateParamsNonStreaming & { models: string[] } = {
      model: "alpha/gpt-4o",
      messages,
      models: ["beta/llama-3"],
    };
    const { data, response } = await client.chat.completions.create(params).withResponse();

    assert.equal(data.choices[0]?.message.content, "Hello from beta");
    assert.equal(response.headers.get("x-gateway-provider"), "beta");
    assert.equal(response.headers.get("x-gateway-model"), "llama-3");
    assert.equal(beta.requests.length, 1);
    assert.equal(bodyOf(beta, 0).model, "llama-3");
    assert.ok(!("models" in bodyOf(beta, 0)), "beta received the gateway-only models field");
    assert.ok(!("models" in bodyOf(alpha, 0)), "alpha received the gateway-only models field");
  }, { chain: false }));

Deno.test("SDK stream iteration throws an APIError when the upstream breaks mid-stream", () =>
  withGateway(async ({ client, alpha, beta }) => {
    alpha.enqueue({ type: "stream", breakAfter: 1, gapMs: 20 });
    const stream = await client.chat.completions.create({
      model: "alpha/gpt-4o",
      messages,
      stream: true,
    });

    const text = await readUntilInterrupted(stream, /failed after it started/);
    assert.equal(text, "Hello", "the content before the break reached the client");
    assert.equal(beta.requests.length, 0, "no fallback once the stream had started");
  }));

Deno.test("SDK leaving a stream early makes the gateway abort the upstream request", () =>
  withGateway(async ({ client, alpha }) => {
    const pieces = Array.from({ length: 20 }, (_, i) => `piece ${i} `);
    alpha.enqueue({ type: "stream", pieces, gapMs: 100 });
    const stream = await client.chat.completions.create({
      model: "alpha/gpt-4o",
      messages,
      stream: true,
    });

    let received = "";
    for await (const chunk of stream) {
      received += chunk.choices[0]?.delta.content ?? "";
      if (received !== "") break; // the SDK aborts its request when the loop is left
    }
    assert.equal(received, "piece 0 ");
    // 20 pieces 100 ms apart would take 2 s; the abort must arrive well before that.
    await waitFor(() => alpha.requests[0]?.aborted === true, {
      timeoutMs: 1500,
      message: "alpha kept streaming after the client left",
    });
  }));

const weatherTool = {
  type: "function" as const,
  function: {
    name: "get_weather",
    description: "Current weather for a city",
    parameters: {
      type: "object",
      properties: { city: { type: "string" }, unit: { type: "string" } },
      required: ["city"],
    },
  },
};
const toolArguments = '{"city":"Paris","unit":"celsius","note":"a \\"quoted\\" word"}';

Deno.test("SDK tool call round trip keeps finish_reason tool_calls and the arguments intact", () =>
  withGateway(async ({ client, alpha }) => {
    alpha.enqueue({ type: "ok", toolCall: { name: "get_weather", arguments: toolArguments } });
    const completion = await client.chat.completions.create({
      model: "alpha/gpt-4o",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [weatherTool],
    });

    const choice = completion.choices[0];
    assert.equal(choice?.finish_reason, "tool_calls");
    const call = choice.message.tool_calls?.[0];
    assert.ok(call?.type === "function", "no function tool call");
    assert.equal(call.function.name, "get_weather");
    assert.equal(call.function.arguments, toolArguments);
    assert.deepEqual(bodyOf(alpha, 0).tools, [weatherTool]);

    // Second leg: the tool's result goes back through the gateway and alpha answers in text.
    const followUp = await client.chat.completions.create({
      model: "alpha/gpt-4o",
      messages: [
        { role: "user", content: "Weather in Paris?" },
        choice.message,
        { role: "tool", tool_call_id: call.id, content: '{"temperature":21}' },
      ],
      tools: [weatherTool],
    });
    assert.equal(followUp.choices[0]?.message.content, "Hello from alpha");
    const sent = bodyOf(alpha, 1).messages as Record<string, unknown>[];
    assert.equal(sent[2]?.tool_call_id, call.id);
  }));

Deno.test("SDK stream helper reassembles a streamed tool call's split arguments", () =>
  withGateway(async ({ client, alpha }) => {
    alpha.enqueue({ type: "ok", toolCall: { name: "get_weather", arguments: toolArguments } });
    const stream = client.chat.completions.stream({
      model: "alpha/gpt-4o",
      messages: [{ role: "user", content: "Weather in Paris?" }],
      tools: [weatherTool],
    });
    const completion = await stream.finalChatCompletion();

    const choice = completion.choices[0];
    assert.equal(choice?.finish_reason, "tool_calls");
    const call = choice.message.tool_calls?.[0];
    assert.ok(call?.type === "function", "no function tool call");
    assert.equal(call.function.arguments, toolArguments);
    assert.deepEqual(call.function.parsed_arguments ?? JSON.parse(call.function.arguments), {
      city: "Paris",
      unit: "celsius",
      note: 'a "quoted" word',
    });
  }));
