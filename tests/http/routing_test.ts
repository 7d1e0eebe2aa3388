import assert from "node:assert/strict";
import { providerYaml } from "../support/gateway.ts";
import { chat, content, FAST_ROUTING, post, posts, readError, withGateway } from "./harness.ts";

const chain = FAST_ROUTING + `strategies:
  - name: main
    providers: [a, b, c]
`;

/** The chain a -> b -> c, where `a` retries twice; `head` replaces the routing part. */
const retryingChain = (
  mocks: { a: { url: string }; b: { url: string }; c: { url: string } },
  head = chain,
) =>
  head + `providers:
${providerYaml("a", mocks.a.url, { max_retries: 2 })}
${providerYaml("b", mocks.b.url)}
${providerYaml("c", mocks.c.url)}
`;

Deno.test("a namespaced model goes to its provider with the prefix stripped and the provider's key", async () => {
  await withGateway(({ a, b, c }) =>
    chain + `providers:
${providerYaml("a", a.url, { max_retries: 0 })}
    headers:
      X-Title: "gateway-test"
${providerYaml("b", b.url)}
${providerYaml("c", c.url)}
`, async ({ gw, a, b }) => {
    const res = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"), {
      headers: { authorization: "Bearer client-secret" },
    });
    assert.equal(res.status, 200);
    assert.equal(await content(res), "Hello from a");
    assert.equal(res.headers.get("x-gateway-provider"), "a");
    assert.equal(res.headers.get("x-gateway-model"), "gpt-4o");
    assert.equal(res.headers.get("x-gateway-attempts"), "1");
    const sent = a.requests[0]!;
    assert.equal((sent.body as { model: string }).model, "gpt-4o");
    assert.equal(sent.headers.get("authorization"), "Bearer sk-a-secret");
    assert.equal(sent.headers.get("x-title"), "gateway-test");
    assert.match(sent.headers.get("x-request-id") ?? "", /^[0-9a-f-]{36}$/);
    assert.equal(sent.headers.get("x-request-id"), res.headers.get("x-request-id"));
    assert.equal(posts(b), 0);
  });
});

Deno.test("only the first slash splits provider from model", async () => {
  await withGateway(({ a }) => `providers:\n${providerYaml("a", a.url)}\n`, async ({ gw, a }) => {
    const res = await post(gw, "/v1/chat/completions", chat("a/meta/llama-3"));
    assert.equal(res.status, 200);
    await res.body?.cancel();
    assert.equal((a.requests[0]!.body as { model: string }).model, "meta/llama-3");
  });
});

Deno.test("a target_url ending in /v1 does not get the version twice", async () => {
  await withGateway(
    ({ a }) => `providers:\n${providerYaml("a", a.url + "/v1")}\n`,
    async ({ gw, a }) => {
      const res = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"));
      assert.equal(res.status, 200);
      await res.body?.cancel();
      assert.equal(a.requests[0]!.path, "/v1/chat/completions");
    },
  );
});

Deno.test("a chain continues from the requested provider onward with the same model", async () => {
  await withGateway(({ a, b, c }) =>
    chain + `providers:
${providerYaml("a", a.url, { max_retries: 0 })}
${providerYaml("b", b.url, { max_retries: 0 })}
${providerYaml("c", c.url, { max_retries: 0 })}
`, async ({ gw, a, b, c }) => {
    b.enqueue({ type: "error", status: 503 });
    const res = await post(gw, "/v1/chat/completions", chat("b/some-model"));
    assert.equal(res.status, 200);
    assert.equal(await content(res), "Hello from c");
    assert.equal(res.headers.get("x-gateway-provider"), "c");
    assert.equal(res.headers.get("x-gateway-attempts"), "2");
    assert.equal((c.requests[0]!.body as { model: string }).model, "some-model");
    assert.equal(posts(a), 0, "the chain never goes back to providers before the requested one");
  });
});

Deno.test("retryable statuses are retried max_retries times, then the next provider serves", async () => {
  await withGateway((mocks) => retryingChain(mocks), async ({ gw, a, b }) => {
    a.enqueue(
      { type: "error", status: 500 },
      { type: "error", status: 429 },
      { type: "error", status: 502 },
    );
    const res = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"));
    assert.equal(await content(res), "Hello from b");
    assert.equal(posts(a), 3);
    assert.equal(posts(b), 1);
    assert.equal(res.headers.get("x-gateway-attempts"), "4");
  });
});

Deno.test("a retry that succeeds stays at the same provider", async () => {
  await withGateway((mocks) => retryingChain(mocks), async ({ gw, a, b }) => {
    a.enqueue({ type: "error", status: 529 });
    const res = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"));
    assert.equal(await content(res), "Hello from a");
    assert.equal(posts(a), 2);
    assert.equal(posts(b), 0);
  });
});

Deno.test("401, 403 and 404 move on to the next provider without a retry", async () => {
  for (const status of [401, 403, 404]) {
    await withGateway(({ a, b, c }) =>
      chain + `providers:
${providerYaml("a", a.url, { max_retries: 3 })}
${providerYaml("b", b.url)}
${providerYaml("c", c.url)}
`, async ({ gw, a }) => {
      a.enqueue({ type: "error", status });
      const res = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"));
      assert.equal(await content(res), "Hello from b", `status ${status}`);
      assert.equal(posts(a), 1, `status ${status} must not be retried`);
    });
  }
});

Deno.test("an upstream 400 reaches the client unchanged and no other provider is tried", async () => {
  await withGateway(({ a, b, c }) =>
    chain + `providers:
${providerYaml("a", a.url, { max_retries: 3 })}
${providerYaml("b", b.url)}
${providerYaml("c", c.url)}
`, async ({ gw, a, b }) => {
    a.enqueue({ type: "error", status: 422, message: "temperature is too hot", code: "bad_temp" });
    const res = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"));
    assert.equal(res.status, 422);
    const err = await readError(res);
    assert.equal(err.message, "temperature is too hot");
    assert.equal(err.code, "bad_temp");
    assert.equal(res.headers.get("x-gateway-provider"), "a");
    assert.equal(posts(a), 1);
    assert.equal(posts(b), 0);
  });
});

Deno.test("a provider in no chain has no fallback; the 502 lists every attempt and no key", async () => {
  await withGateway(({ a, b }) =>
    FAST_ROUTING + `providers:
${providerYaml("a", a.url, { max_retries: 1 })}
${providerYaml("b", b.url)}
`, async ({ gw, a, b }) => {
    a.enqueue({ type: "error", status: 500 }, { type: "error", status: 503 });
    const res = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"));
    assert.equal(res.status, 502);
    const err = await readError(res);
    assert.match(err.message, /a\/gpt-4o: HTTP 500; a\/gpt-4o: HTTP 503/);
    assert.equal(err.code, "all_providers_failed");
    assert.equal(posts(b), 0);
    assert.doesNotMatch(err.message, /sk-a-secret/);
    assert.doesNotMatch(await gw.logText(), /sk-a-secret/);
  });
});

Deno.test("a provider that hangs past its timeout falls back; all timing out gives 504", async () => {
  await withGateway(({ a, b, c }) =>
    chain + `providers:
${providerYaml("a", a.url, { max_retries: 0, timeout: "200ms" })}
${providerYaml("b", b.url, { max_retries: 0, timeout: "200ms" })}
${providerYaml("c", c.url, { max_retries: 0, timeout: "200ms" })}
`, async ({ gw, a, b, c }) => {
    a.enqueue({ type: "hang" });
    const ok = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"));
    assert.equal(await content(ok), "Hello from b");
    a.enqueue({ type: "hang" });
    b.enqueue({ type: "hang" });
    c.enqueue({ type: "hang" });
    const res = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"));
    assert.equal(res.status, 504);
    const err = await readError(res);
    assert.equal(err.code, "upstream_timeout");
    assert.match(err.message, /a\/gpt-4o: timeout; b\/gpt-4o: timeout; c\/gpt-4o: timeout/);
  });
});

Deno.test("a provider whose port is closed falls back to the next one", async () => {
  await withGateway(({ b, c }) =>
    chain + `providers:
${providerYaml("a", "http://127.0.0.1:9", { max_retries: 1 })}
${providerYaml("b", b.url)}
${providerYaml("c", c.url)}
`, async ({ gw }) => {
    const res = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"));
    assert.equal(await content(res), "Hello from b");
    assert.equal(res.headers.get("x-gateway-attempts"), "3");
  });
});

Deno.test("Retry-After within the cap is waited for; beyond the cap the next provider serves at once", async () => {
  await withGateway(
    (mocks) =>
      retryingChain(mocks, chain.replace("routing:\n", 'routing:\n  retry_after_cap: "2s"\n')),
    async ({ gw, a }) => {
      a.enqueue({ type: "error", status: 429, headers: { "retry-after": "1" } });
      let started = Date.now();
      const waited = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"));
      assert.equal(await content(waited), "Hello from a");
      assert.ok(Date.now() - started >= 900, "the gateway waited for Retry-After");

      a.enqueue({ type: "error", status: 429, headers: { "retry-after": "120" } });
      started = Date.now();
      const moved = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"));
      assert.equal(await content(moved), "Hello from b");
    },
  );
});

Deno.test("a virtual model tries its targets in order", async () => {
  await withGateway(({ a, b }) =>
    FAST_ROUTING + `strategies:
  - name: smart
    targets: ["a/gpt-4o", "b/llama-3"]
providers:
${providerYaml("a", a.url, { max_retries: 0 })}
${providerYaml("b", b.url)}
`, async ({ gw, a, b }) => {
    const first = await post(gw, "/v1/chat/completions", chat("smart"));
    assert.equal(await content(first), "Hello from a");
    a.enqueue({ type: "error", status: 500 });
    const second = await post(gw, "/v1/chat/completions", chat("smart"));
    assert.equal(await content(second), "Hello from b");
    assert.equal((b.requests.at(-1)!.body as { model: string }).model, "llama-3");
  });
});

Deno.test("a load-balanced virtual model spreads by weight and falls back to the others", async () => {
  await withGateway(({ a, b }) =>
    FAST_ROUTING + `strategies:
  - name: lb
    mode: loadbalance
    targets:
      - model: "a/gpt-4o"
        weight: 3
      - model: "b/llama-3"
        weight: 1
providers:
${providerYaml("a", a.url, { max_retries: 0 })}
${providerYaml("b", b.url, { max_retries: 0 })}
`, async ({ gw, a, b }) => {
    for (let i = 0; i < 40; i++) {
      const res = await post(gw, "/v1/chat/completions", chat("lb"));
      await res.body?.cancel();
    }
    assert.ok(posts(a) > posts(b), `weight 3 served ${posts(a)}, weight 1 served ${posts(b)}`);
    assert.ok(posts(b) > 0, "the lighter target still gets traffic");
    a.setDefault(() => ({ type: "error", status: 500 }));
    for (let i = 0; i < 5; i++) {
      const res = await post(gw, "/v1/chat/completions", chat("lb"));
      assert.equal(await content(res), "Hello from b");
    }
  });
});

Deno.test("a request-level models list is tried after the model and stripped before forwarding", async () => {
  await withGateway(({ a, b }) =>
    FAST_ROUTING + `providers:
${providerYaml("a", a.url, { max_retries: 0 })}
${providerYaml("b", b.url)}
`, async ({ gw, a, b }) => {
    a.enqueue({ type: "error", status: 503 });
    const res = await post(
      gw,
      "/v1/chat/completions",
      chat("a/gpt-4o", { models: ["b/llama-3"] }),
    );
    assert.equal(await content(res), "Hello from b");
    const forwarded = b.requests[0]!.body as Record<string, unknown>;
    assert.equal(forwarded.model, "llama-3");
    assert.equal("models" in forwarded, false);
    assert.equal("models" in (a.requests[0]!.body as Record<string, unknown>), false);
  });
});

Deno.test("the circuit breaker skips a failing provider and /v1/info shows it open", async () => {
  await withGateway(
    ({ a, b, c }) =>
      chain.replace(
        "routing:\n",
        'routing:\n  circuit_breaker:\n    failure_threshold: 2\n    cooldown: "1m"\n',
      ) +
      `providers:
${providerYaml("a", a.url, { max_retries: 0 })}
${providerYaml("b", b.url)}
${providerYaml("c", c.url)}
`,
    async ({ gw, a }) => {
      a.setDefault(() => ({ type: "error", status: 500 }));
      for (let i = 0; i < 2; i++) {
        const res = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"));
        assert.equal(await content(res), "Hello from b");
      }
      assert.equal(posts(a), 2);
      const skipped = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"));
      assert.equal(await content(skipped), "Hello from b");
      assert.equal(posts(a), 2, "an open circuit sends nothing to the provider");
      const info = await (await fetch(gw.url + "/v1/info")).json();
      const health = info.providers.find((p: { name: string }) => p.name === "a");
      assert.equal(health.circuit, "open");
      assert.equal(info.status, "ok");
    },
  );
});

Deno.test("completions and embeddings are routed like chat", async () => {
  await withGateway(({ a }) => `providers:\n${providerYaml("a", a.url)}\n`, async ({ gw, a }) => {
    const comp = await post(gw, "/v1/completions", {
      model: "a/gpt-3.5-turbo-instruct",
      prompt: "Say",
    });
    assert.equal(comp.status, 200);
    assert.equal((await comp.json()).object, "text_completion");
    const emb = await post(gw, "/v1/embeddings", {
      model: "a/text-embedding-3-small",
      input: ["x", "y"],
    });
    assert.equal(emb.status, 200);
    const json = await emb.json();
    assert.equal(json.data.length, 2);
    assert.deepEqual(a.requests.map((r) => r.path), ["/v1/completions", "/v1/embeddings"]);
  });
});

Deno.test("a preset type with no key sends no Authorization header", async () => {
  await withGateway(({ a }) =>
    `providers:
  - name: local
    type: ollama
    target_url: "${a.url}/v1"
`, async ({ gw, a }) => {
    const res = await post(gw, "/v1/chat/completions", chat("local/llama3.2"));
    assert.equal(await content(res), "Hello from a");
    assert.equal(a.requests[0]!.path, "/v1/chat/completions");
    assert.equal(a.requests[0]!.headers.get("authorization"), null);
  });
});
