import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.ts";
import type { GatewayConfig } from "../../src/config/types.ts";
import { GatewayError, ProviderError } from "../../src/core/errors.ts";
import { createExecutor, type ExecuteRequest, type Executor } from "../../src/core/executor.ts";
import type { Endpoint, Provider, ProviderCall, ProviderResult } from "../../src/core/provider.ts";
import type { Translation } from "../../src/core/attempt.ts";
import { retryDelay } from "../../src/core/retry_policy.ts";
import type { Target } from "../../src/core/router.ts";

const encoder = new TextEncoder();

/** Two providers: `a` retried twice, `b` once; the breaker opens at the third counted failure. */
const config: GatewayConfig = await parseConfig(
  `routing:
  backoff_base: "100ms"
  backoff_max: "1s"
  retry_after_cap: "5s"
  circuit_breaker:
    failure_threshold: 3
    cooldown: "30s"
providers:
  - name: "a"
    target_url: "http://127.0.0.1:9"
    api_key: "sk-a"
    max_retries: 2
  - name: "b"
    target_url: "http://127.0.0.1:9"
    api_key: "sk-b"
    max_retries: 1
`,
  { filename: "test.yaml", env: {} },
);

type Answer = ProviderError | "ok";

/** A provider that answers each call with the next scripted answer (the last one repeats). */
function scripted(index: number, answers: Answer[]): Provider & { calls: ProviderCall[] } {
  const calls: ProviderCall[] = [];
  const providerConfig = config.providers[index]!;
  return {
    name: providerConfig.name,
    config: providerConfig,
    calls,
    send(call) {
      const answer = answers[Math.min(calls.length, answers.length - 1)]!;
      calls.push(call);
      if (answer !== "ok") return Promise.reject(answer);
      return Promise.resolve(okResult(`{"served_by":"${providerConfig.name}"}`));
    },
    listModels: () => Promise.resolve([]),
    close: () => {},
  };
}

function okResult(text: string): ProviderResult {
  const bytes = encoder.encode(text);
  const body = new Response(bytes).body!;
  return {
    status: 200,
    contentType: "application/json",
    body,
    bytes: () => Promise.resolve(bytes),
    chunks: () => body.getReader(),
  };
}

function request(): ExecuteRequest {
  return {
    endpoint: "chat",
    body: { model: "m", messages: [{ role: "user", content: "hi" }] },
    stream: false,
    signal: new AbortController().signal,
    requestId: "req-1",
  };
}

function target(provider: Provider): Target {
  return { provider, model: "m", via: `${provider.name}/m` };
}

const unavailable = () => new ProviderError("http", "503", { status: 503 });

/** An executor whose waits are recorded, not slept, and whose clock the test moves. */
function harness(random = () => 0.5) {
  const waits: number[] = [];
  let clock = 1_000_000;
  const executor: Executor = createExecutor(config.routing, {
    sleep: (ms) => {
      waits.push(ms);
      return Promise.resolve();
    },
    random,
    now: () => clock,
  });
  return {
    executor,
    waits,
    advance: (ms: number) => clock += ms,
    [Symbol.dispose]: () => executor.close(),
  };
}

Deno.test("a retryable failure is retried max_retries times, with backoff doubling between", async () => {
  using h = harness();
  const a = scripted(0, [unavailable(), unavailable(), "ok"]);
  const outcome = await h.executor.execute([target(a)], request());
  assert.equal(outcome.kind, "complete");
  assert.equal(a.calls.length, 3);
  assert.equal(outcome.attempts.length, 2);
  // random() = 0.5: three quarters of 100 ms, then of 200 ms.
  assert.deepEqual(h.waits, [75, 150]);
});

Deno.test("retries stop at max_retries and the plan falls back to the next target", async () => {
  using h = harness();
  const a = scripted(0, [unavailable()]);
  const b = scripted(1, ["ok"]);
  const outcome = await h.executor.execute([target(a), target(b)], request());
  assert.equal(outcome.kind, "complete");
  assert.equal(outcome.target.provider.name, "b");
  assert.equal(a.calls.length, 3, "the first try and max_retries (2) retries");
  assert.equal(b.calls.length, 1);
  assert.deepEqual(outcome.attempts.map((x) => x.provider), ["a", "a", "a"]);
});

Deno.test("backoff stays within the upper half of its ceiling, capped at backoff_max", () => {
  const err = unavailable();
  for (const retry of [0, 1, 2, 3, 4, 10]) {
    const ceiling = Math.min(1000, 100 * 2 ** retry);
    assert.equal(retryDelay(config.routing, retry, err, () => 0), ceiling / 2);
    assert.equal(retryDelay(config.routing, retry, err, () => 0.999999), ceiling);
  }
});

Deno.test("Retry-After is honoured up to the cap; beyond it the plan moves on without waiting", async () => {
  using h = harness();
  const soon = new ProviderError("http", "429", { status: 429, retryAfterMs: 2_000 });
  const a = scripted(0, [soon, "ok"]);
  assert.equal((await h.executor.execute([target(a)], request())).kind, "complete");
  assert.deepEqual(h.waits, [2_000]);

  const late = new ProviderError("http", "429", { status: 429, retryAfterMs: 60_000 });
  const a2 = scripted(0, [late, "ok"]);
  const b = scripted(1, ["ok"]);
  const outcome = await h.executor.execute([target(a2), target(b)], request());
  assert.equal(outcome.target.provider.name, "b");
  assert.equal(a2.calls.length, 1, "a Retry-After beyond the cap is not waited for");
  assert.deepEqual(h.waits, [2_000]);
});

Deno.test("a refusal by the upstream (400) is passed back: no retry, no fallback", async () => {
  using h = harness();
  const refused = new ProviderError("http", "400", {
    status: 400,
    upstreamBody: '{"error":"bad"}',
  });
  const a = scripted(0, [refused]);
  const b = scripted(1, ["ok"]);
  const outcome = await h.executor.execute([target(a), target(b)], request());
  assert.equal(outcome.kind, "rejected");
  assert.equal(outcome.status, 400);
  assert.equal(b.calls.length, 0);
  assert.equal(h.executor.breaker("a").consecutiveFailures, 0);
});

Deno.test("the breaker opens at the threshold, skips the provider, and half-opens after the cooldown", async () => {
  using h = harness();
  const a = scripted(0, [unavailable(), unavailable(), unavailable(), "ok"]);
  const b = scripted(1, ["ok"]);
  // Three counted failures (the try and two retries) open a's circuit; b serves.
  let outcome = await h.executor.execute([target(a), target(b)], request());
  assert.equal(outcome.target.provider.name, "b");
  assert.equal(h.executor.breaker("a").state, "open");

  // While open, a is not called at all.
  outcome = await h.executor.execute([target(a), target(b)], request());
  assert.equal(a.calls.length, 3);
  assert.equal(outcome.attempts[0]?.kind, "circuit_open");

  // After the cooldown one probe goes through; its success closes the circuit.
  h.advance(30_000);
  assert.equal(h.executor.breaker("a").state, "half_open");
  outcome = await h.executor.execute([target(a), target(b)], request());
  assert.equal(outcome.target.provider.name, "a");
  assert.equal(h.executor.breaker("a").state, "closed");
});

Deno.test("a failed probe in half-open state opens the circuit again", async () => {
  using h = harness();
  const a = scripted(0, [unavailable()]);
  const b = scripted(1, ["ok"]);
  await h.executor.execute([target(a), target(b)], request());
  h.advance(30_000);
  const outcome = await h.executor.execute([target(a), target(b)], request());
  assert.equal(a.calls.length, 4, "one probe, not retried while half-open");
  assert.equal(outcome.target.provider.name, "b");
  assert.equal(h.executor.breaker("a").state, "open");
});

Deno.test("refusals (401, 429) do not count against the breaker", async () => {
  using h = harness();
  const a = scripted(0, [new ProviderError("http", "401", { status: 401 })]);
  const b = scripted(1, ["ok"]);
  for (let i = 0; i < 5; i++) await h.executor.execute([target(a), target(b)], request());
  assert.equal(h.executor.breaker("a").state, "closed");
  assert.equal(a.calls.length, 5);
});

Deno.test("every target failing throws all_providers_failed naming each attempt; all timeouts say so", async () => {
  using h = harness();
  const a = scripted(0, [unavailable()]);
  const b = scripted(1, [unavailable()]);
  await assert.rejects(
    h.executor.execute([target(a), target(b)], request()),
    (err) =>
      err instanceof GatewayError && err.code === "all_providers_failed" &&
      err.attempts.length === 5,
  );
  using fresh = harness();
  const slow = () => new ProviderError("timeout", "no answer within 10ms");
  const a2 = scripted(0, [slow()]);
  await assert.rejects(
    fresh.executor.execute([target(a2)], request()),
    (err) => err instanceof GatewayError && err.code === "upstream_timeout",
  );
});

/** A provider trying the Responses API natively (`auto`) until its upstream says it has none. */
function tryingResponses(notFoundBody: string) {
  const endpoints = new Set<Endpoint>(["chat", "completions", "embeddings", "responses"]);
  const calls: ProviderCall[] = [];
  const provider: Provider = {
    name: "a",
    config: config.providers[0]!,
    endpoints,
    unlearn: (endpoint) => endpoints.delete(endpoint),
    send(call) {
      calls.push(call);
      if (call.endpoint === "responses") {
        return Promise.reject(
          new ProviderError("http", "404", {
            status: 404,
            upstreamBody: notFoundBody,
          }),
        );
      }
      return Promise.resolve(okResult(`{"served_by":"a"}`));
    },
    listModels: () => Promise.resolve([]),
    close: () => {},
  };
  return { provider, calls, endpoints };
}

const passThrough: Translation = {
  toHub: (body) => ({ messages: [{ role: "user", content: String(body.input) }] }),
  complete: (bytes) => encoder.encode(`translated:${new TextDecoder().decode(bytes)}`),
  stream: (body) => body,
  contentType: () => "application/json",
};

function responsesRequest(): ExecuteRequest {
  return {
    ...request(),
    endpoint: "responses",
    body: { model: "m", input: "hi" },
    translation: passThrough,
  };
}

Deno.test("a provider answering 404 on a native endpoint it was only trying is translated from then on", async () => {
  const unlearned: string[] = [];
  const executor = createExecutor(config.routing, {
    onUnlearned: (provider, endpoint) => unlearned.push(`${provider} ${endpoint}`),
  });
  try {
    const a = tryingResponses('{"detail":"Not Found"}');
    const first = await executor.execute([target(a.provider)], responsesRequest());
    assert.equal(first.kind, "complete");
    assert.equal(first.translated, true);
    assert.equal(first.attempts.length, 0, "the native try is not a failed attempt");
    assert.deepEqual(a.calls.map((c) => c.endpoint), ["responses", "chat"]);
    assert.deepEqual(unlearned, ["a responses"]);
    assert.equal(executor.breaker("a").state, "closed");
    const second = await executor.execute([target(a.provider)], responsesRequest());
    assert.equal(second.kind, "complete");
    assert.deepEqual(a.calls.map((c) => c.endpoint), ["responses", "chat", "chat"]);
    assert.deepEqual(unlearned, ["a responses"]);
  } finally {
    executor.close();
  }
});

Deno.test("a 404 naming the model is the client's answer, not a missing endpoint", async () => {
  const executor = createExecutor(config.routing, {});
  try {
    const body = '{"error":{"message":"The model `m` does not exist","code":"model_not_found"}}';
    const a = tryingResponses(body);
    // A 404 moves a plan on to its next target; with none left, the request fails.
    await assert.rejects(
      executor.execute([target(a.provider)], responsesRequest()),
      (err: GatewayError) => /a\/m: HTTP 404/.test(err.message),
    );
    assert.ok(a.endpoints.has("responses"), "still native");
    assert.deepEqual(a.calls.map((c) => c.endpoint), ["responses"]);
  } finally {
    executor.close();
  }
});
