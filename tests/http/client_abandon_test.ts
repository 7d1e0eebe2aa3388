// Requests whose clients leave: what reaches the upstream, and what the circuit breaker sees.
import assert from "node:assert/strict";
import { providerYaml } from "../support/gateway.ts";
import { waitFor } from "../support/wait_for.ts";
import { chat, content, FAST_ROUTING, post, posts, withGateway, type YamlFor } from "./harness.ts";

/** One provider `a` (no retries) whose breaker opens after two counted failures. */
const breakerOfTwo: YamlFor = ({ a }) =>
  FAST_ROUTING.replace(
    "routing:\n",
    'routing:\n  circuit_breaker:\n    failure_threshold: 2\n    cooldown: "1m"\n',
  ) + `providers:
${providerYaml("a", a.url, { max_retries: 0, timeout: "20s" })}
`;

/** Longer than the gateway waits before it ties an attempt to its client. */
const THINKING_MS = 10_000;

Deno.test("requests their clients abandon never count against the provider's breaker", async () => {
  await withGateway(breakerOfTwo, async ({ gw, a }) => {
    const breaker = gw.server.engine.executor.breaker("a");
    const rounds = 3;
    for (let i = 0; i < rounds; i++) {
      // Non-streamed, left while the upstream thinks.
      a.enqueue({ type: "ok", delayMs: THINKING_MS });
      const plain = new AbortController();
      const pending = post(gw, "/v1/chat/completions", chat("a/gpt-4o"), {
        signal: plain.signal,
      }).catch((err) => err);
      await waitFor(() => posts(a) === 3 * i + 1);
      await new Promise((resolve) => setTimeout(resolve, 200));
      plain.abort();
      assert.ok((await pending) instanceof Error);
      await waitFor(() => a.requests.at(-1)!.aborted, { message: "upstream saw the abort" });

      // Streamed, left before the first byte.
      a.enqueue({ type: "stream", firstByteDelayMs: THINKING_MS });
      const early = new AbortController();
      const waiting = post(gw, "/v1/chat/completions", chat("a/gpt-4o", { stream: true }), {
        signal: early.signal,
      }).catch((err) => err);
      await waitFor(() => posts(a) === 3 * i + 2);
      await new Promise((resolve) => setTimeout(resolve, 200));
      early.abort();
      assert.ok((await waiting) instanceof Error);
      await waitFor(() => a.requests.at(-1)!.aborted, { message: "upstream saw the abort" });

      // Streamed, left mid-stream.
      a.enqueue({
        type: "stream",
        pieces: Array.from({ length: 100 }, (_, n) => `p${n}`),
        gapMs: 50,
      });
      const late = new AbortController();
      const res = await post(gw, "/v1/chat/completions", chat("a/gpt-4o", { stream: true }), {
        signal: late.signal,
      });
      const reader = res.body!.getReader();
      await reader.read();
      await new Promise((resolve) => setTimeout(resolve, 200));
      late.abort();
      await reader.cancel().catch(() => {});
      await waitFor(() => a.requests.at(-1)!.aborted, { message: "upstream saw the abort" });
      await waitFor(() => gw.server.engine.executor.activeStreams === 0);
    }
    assert.equal(posts(a), 3 * rounds);
    assert.equal(breaker.consecutiveFailures, 0, "no abandoned request counted as a failure");
    assert.equal(breaker.state, "closed");
    const next = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"));
    assert.equal(await content(next), "Hello from a", "the provider still serves");
    assert.equal(posts(a), 3 * rounds + 1);
  });
});
