import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.ts";
import { createEngine, type Engine } from "../../src/core/engine.ts";
import type { ExecuteRequest } from "../../src/core/executor.ts";
import type { Provider, ProviderResult } from "../../src/core/provider.ts";
import { createProvider } from "../../src/providers/registry.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";
import { providerYaml } from "../support/gateway.ts";

const decoder = new TextDecoder();

/** An engine over providers a and b (strategy main chains them: "a/m" falls back to "b/m"). */
async function withEngine(
  fn: (engine: Engine, a: MockUpstream, b: MockUpstream) => Promise<void>,
): Promise<void> {
  const a = await startMockUpstream({ name: "a", models: ["m"] });
  const b = await startMockUpstream({ name: "b", models: ["m"] });
  const yaml = `strategies:
  - name: main
    providers: [a, b]
providers:
${providerYaml("a", a.url, { max_retries: 0 })}
${providerYaml("b", b.url, { max_retries: 0 })}
`;
  const engine = createEngine(
    parseConfig(yaml, { filename: "test.yaml", env: {} }),
    createProvider,
  );
  try {
    await fn(engine, a, b);
  } finally {
    engine.close();
    await Promise.all([a.close(), b.close()]);
  }
}

function streamRequest(prepare: ExecuteRequest["prepare"]): ExecuteRequest {
  return {
    endpoint: "chat",
    body: { model: "main", stream: true, messages: [{ role: "user", content: "hi" }] },
    stream: true,
    clientSignal: () => new AbortController().signal,
    requestId: "req-1",
    prepare,
  };
}

async function text(body: ReadableStream<Uint8Array>): Promise<string> {
  let out = "";
  for await (const chunk of body) out += decoder.decode(chunk, { stream: true });
  return out;
}

Deno.test("a stream's body is offered to prepare before its upstream answers, and relayed", async () => {
  await withEngine(async (engine) => {
    // A provider whose answer waits for the test: prepare must come while it waits.
    const real = engine.providers.get("a")!;
    const answer = Promise.withResolvers<ProviderResult>();
    let sent = 0;
    const gated: Provider = {
      name: real.name,
      config: real.config,
      send: () => {
        sent++;
        return answer.promise;
      },
      listModels: () => Promise.resolve([]),
      close: () => {},
    };
    const offered: { attempt: number; body: ReadableStream<Uint8Array> }[] = [];
    const executing = engine.executor.execute(
      [{ provider: gated, model: "m", via: "a/m" }],
      streamRequest((target, attempt, body) => {
        assert.equal(target.provider, gated);
        offered.push({ attempt, body });
      }),
    );
    assert.equal(sent, 1, "the request went out first");
    assert.equal(offered.length, 1, "the body was offered before the answer");
    assert.equal(offered[0]!.attempt, 1);
    const events = 'data: {"n":1}\n\ndata: [DONE]\n\n';
    answer.resolve({
      status: 200,
      contentType: "text/event-stream",
      body: ReadableStream.from([new TextEncoder().encode(events)]),
      bytes: () => Promise.reject(new Error("a stream is not read whole")),
    });
    const outcome = await executing;
    assert.equal(outcome.kind, "stream");
    if (outcome.kind !== "stream") return;
    assert.equal(outcome.body, offered[0]!.body, "the offered body is the one relayed");
    assert.equal(await text(outcome.body), events);
    assert.equal((await outcome.summary).end.kind, "done");
  });
});

Deno.test("a failed attempt's offered body is dropped and the fallback's is relayed", async () => {
  await withEngine(async (engine, a, b) => {
    a.enqueue({ type: "error", status: 503 });
    b.enqueue({ type: "stream", pieces: ["from", " b"] });
    const offered: { target: string; attempt: number; body: ReadableStream<Uint8Array> }[] = [];
    const outcome = await engine.executor.execute(
      engine.router.plan("a/m"),
      streamRequest((target, attempt, body) => {
        offered.push({ target: target.provider.name, attempt, body });
      }),
    );
    assert.deepEqual(offered.map((o) => [o.target, o.attempt]), [["a", 1], ["b", 2]]);
    assert.equal(outcome.kind, "stream");
    if (outcome.kind !== "stream") return;
    assert.equal(outcome.target.provider.name, "b");
    assert.equal(outcome.body, offered[1]!.body);
    assert.match(await text(outcome.body), /" b"/);
  });
});

Deno.test("a prepare that throws does not fail the stream", async () => {
  await withEngine(async (engine, a) => {
    a.enqueue({ type: "stream", pieces: ["still", " served"] });
    const outcome = await engine.executor.execute(
      engine.router.plan("a/m"),
      streamRequest(() => {
        throw new TypeError("cannot build a response");
      }),
    );
    assert.equal(outcome.kind, "stream");
    if (outcome.kind !== "stream") return;
    assert.match(await text(outcome.body), /" served"/);
  });
});
