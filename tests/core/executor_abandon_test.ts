import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.ts";
import type { GatewayConfig } from "../../src/config/types.ts";
import { ProviderError } from "../../src/core/errors.ts";
import { CLIENT_CLOSED, createExecutor, type ExecuteRequest } from "../../src/core/executor.ts";
import type { Provider, ProviderCall, ProviderResult } from "../../src/core/provider.ts";

/** One provider whose breaker opens at its first counted failure. */
const config: GatewayConfig = await parseConfig(
  `routing:
  circuit_breaker:
    failure_threshold: 1
    cooldown: "1m"
providers:
  - name: "a"
    target_url: "http://127.0.0.1:9"
    api_key: "sk-a"
    max_retries: 0
    timeout: "20s"
`,
  { filename: "test.yaml", env: {} },
);

/** Long enough for the attempt to be on its way upstream. */
const TIED_MS = 250;

function fakeProvider(send: (call: ProviderCall) => Promise<ProviderResult>): Provider {
  return {
    name: "a",
    config: config.providers[0]!,
    send,
    listModels: () => Promise.resolve([]),
    close: () => {},
  };
}

function requestOf(client: AbortController, stream: boolean): ExecuteRequest {
  return {
    endpoint: "chat",
    body: { model: "m", stream, messages: [{ role: "user", content: "hi" }] },
    stream,
    signal: client.signal,
    requestId: "req-1",
  };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("an attempt that times out after its client left does not count against the breaker", async () => {
  const executor = createExecutor(config.routing);
  try {
    const client = new AbortController();
    // The provider's own timeout wins the race against the client's abort.
    const provider = fakeProvider(() =>
      new Promise((_, reject) => {
        client.signal.addEventListener("abort", () => {
          reject(new ProviderError("timeout", "no answer within 20000ms"));
        });
      })
    );
    const executing = executor.execute(
      [{ provider, model: "m", via: "a/m" }],
      requestOf(client, false),
    );
    await sleep(TIED_MS);
    client.abort();
    await assert.rejects(executing, (err) => err === CLIENT_CLOSED);
    const breaker = executor.breaker("a");
    assert.equal(breaker.consecutiveFailures, 0);
    assert.equal(breaker.state, "closed");
  } finally {
    executor.close();
  }
});

Deno.test("a stream whose client left does not count against the breaker when its read fails first", async () => {
  const executor = createExecutor(config.routing);
  try {
    const client = new AbortController();
    const encoder = new TextEncoder();
    // An upstream body that errors with the abort reason as soon as the attempt is aborted,
    // before the client's side of the response is cancelled.
    const provider = fakeProvider((call) => {
      const body = new ReadableStream<Uint8Array>({
        start(controller) {
          controller.enqueue(encoder.encode('data: {"choices":[]}\n\n'));
          call.signal.addEventListener("abort", () => controller.error(call.signal.reason));
        },
      });
      return Promise.resolve({
        status: 200,
        contentType: "text/event-stream",
        body,
        bytes: () => Promise.reject(new Error("a stream is not read whole")),
        chunks: () => body.getReader(),
      });
    });
    const outcome = await executor.execute(
      [{ provider, model: "m", via: "a/m" }],
      requestOf(client, true),
    );
    assert.equal(outcome.kind, "stream");
    if (outcome.kind !== "stream") return;
    const reader = outcome.body.getReader();
    await reader.read();
    const reading = reader.read();
    await sleep(TIED_MS);
    client.abort();
    await reading;
    const summary = await outcome.summary;
    assert.equal(summary.end.kind, "failed");
    const breaker = executor.breaker("a");
    assert.equal(breaker.consecutiveFailures, 0);
    assert.equal(breaker.state, "closed");
    await reader.cancel().catch(() => {});
  } finally {
    executor.close();
  }
});
