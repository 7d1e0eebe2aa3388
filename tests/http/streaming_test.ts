import assert from "node:assert/strict";
import { providerYaml } from "../support/gateway.ts";
import { waitFor } from "../support/wait_for.ts";
import { chat, FAST_ROUTING, post, posts, withGateway } from "./harness.ts";

const twoProviders = ({ a, b }: { a: { url: string }; b: { url: string } }) =>
  FAST_ROUTING + `strategies:
  - name: main
    providers: [a, b]
providers:
${providerYaml("a", a.url, { max_retries: 0, timeout: "300ms" })}
${providerYaml("b", b.url, { max_retries: 0 })}
`;

const decoder = new TextDecoder();

/** Reads SSE `data:` payloads with the time each arrived. */
async function readEvents(res: Response): Promise<{ data: string; at: number }[]> {
  const events: { data: string; at: number }[] = [];
  let buffer = "";
  for await (const chunk of res.body!) {
    buffer += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffer.indexOf("\n\n")) >= 0) {
      const event = buffer.slice(0, end);
      buffer = buffer.slice(end + 2);
      for (const line of event.split("\n")) {
        if (line.startsWith("data: ")) events.push({ data: line.slice(6), at: Date.now() });
      }
    }
  }
  return events;
}

function contentOf(events: { data: string }[]): string {
  return events
    .filter((e) => e.data !== "[DONE]")
    .map((e) => JSON.parse(e.data).choices?.[0]?.delta?.content ?? "")
    .join("");
}

Deno.test("a stream passes through chunk by chunk as the upstream sends it", async () => {
  await withGateway(twoProviders, async ({ gw, a }) => {
    a.enqueue({ type: "stream", pieces: ["one", " two", " three"], gapMs: 150 });
    const res = await post(
      gw,
      "/v1/chat/completions",
      chat("a/gpt-4o", { stream: true, stream_options: { include_usage: true } }),
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "text/event-stream");
    assert.equal(res.headers.get("x-gateway-provider"), "a");
    const events = await readEvents(res);
    assert.equal(contentOf(events), "one two three");
    assert.equal(events.at(-1)!.data, "[DONE]");
    const first = events.find((e) => e.data.includes('"one"'))!;
    const last = events.find((e) => e.data.includes('" three"'))!;
    // The upstream spaced its pieces 150 ms apart; a buffering proxy would deliver them together.
    assert.ok(last.at - first.at >= 200, `pieces arrived ${last.at - first.at}ms apart`);
    const usage = events.find((e) => e.data.includes('"usage"') && e.data.includes('"choices":[]'));
    assert.ok(usage, "the usage chunk requested by stream_options is relayed");
    assert.deepEqual((a.requests[0]!.body as Record<string, unknown>).stream_options, {
      include_usage: true,
    });
  });
});

Deno.test("a stream that fails before its first byte falls back to the next provider", async () => {
  await withGateway(twoProviders, async ({ gw, a }) => {
    a.enqueue({ type: "error", status: 503 });
    const res = await post(gw, "/v1/chat/completions", chat("a/gpt-4o", { stream: true }));
    // The headers name the attempt that served, not the one that failed.
    assert.equal(res.headers.get("x-gateway-provider"), "b");
    assert.equal(res.headers.get("x-gateway-model"), "gpt-4o");
    assert.equal(res.headers.get("x-gateway-attempts"), "2");
    assert.equal(res.headers.get("cache-control"), "no-cache");
    assert.match(res.headers.get("x-request-id") ?? "", /^[\w.:-]+$/);
    assert.equal(contentOf(await readEvents(res)), "Hello from b");
  });
});

Deno.test("a stream keeps its upstream's content type, whichever it sent last time", async () => {
  await withGateway(twoProviders, async ({ gw, a }) => {
    const types = [
      "text/event-stream; charset=utf-8",
      "text/event-stream; charset=utf-8",
      "text/event-stream",
      "text/event-stream; charset=utf-8",
    ];
    for (const [i, contentType] of types.entries()) {
      a.enqueue({ type: "stream", pieces: ["n", String(i)], contentType });
      const res = await post(gw, "/v1/chat/completions", chat("a/gpt-4o", { stream: true }));
      assert.equal(res.headers.get("content-type"), contentType, `request ${i}`);
      assert.equal(res.headers.get("x-gateway-provider"), "a");
      assert.equal(res.headers.get("x-gateway-attempts"), "1");
      assert.equal(res.headers.get("x-accel-buffering"), "no");
      assert.equal(contentOf(await readEvents(res)), `n${i}`);
    }
  });
});

Deno.test("a stream whose first byte is later than the timeout falls back", async () => {
  await withGateway(twoProviders, async ({ gw, a }) => {
    a.enqueue({ type: "stream", firstByteDelayMs: 2000 });
    const res = await post(gw, "/v1/chat/completions", chat("a/gpt-4o", { stream: true }));
    assert.equal(res.headers.get("x-gateway-provider"), "b");
    assert.equal(contentOf(await readEvents(res)), "Hello from b");
    await waitFor(() => a.requests[0]!.aborted, { message: "the slow upstream was aborted" });
  });
});

Deno.test("a stream broken after its first byte ends with an error event, not [DONE]", async () => {
  await withGateway(twoProviders, async ({ gw, a, b }) => {
    a.enqueue({ type: "stream", pieces: ["partial", " more"], breakAfter: 1 });
    const res = await post(gw, "/v1/chat/completions", chat("a/gpt-4o", { stream: true }));
    const events = await readEvents(res);
    assert.equal(contentOf(events.slice(0, -1)), "partial");
    const last = JSON.parse(events.at(-1)!.data);
    assert.equal(last.error.type, "upstream_error");
    assert.equal(last.error.code, "stream_interrupted");
    assert.ok(!events.some((e) => e.data === "[DONE]"));
    assert.equal(posts(b), 0, "no fallback after the first byte");
  });
});

Deno.test("a stream that goes silent is ended by the idle timeout with an error event", async () => {
  await withGateway(twoProviders, async ({ gw, a }) => {
    a.enqueue({ type: "stream", pieces: ["hello", " world"], hangAfter: 1 });
    const res = await post(gw, "/v1/chat/completions", chat("a/gpt-4o", { stream: true }));
    const events = await readEvents(res);
    const last = JSON.parse(events.at(-1)!.data);
    assert.equal(last.error.code, "stream_idle_timeout");
    assert.equal(contentOf(events.slice(0, -1)), "hello");
    await waitFor(() => a.requests[0]!.aborted, { message: "the silent upstream was aborted" });
  });
});

Deno.test("a client that disconnects mid-stream aborts the upstream request", async () => {
  await withGateway(twoProviders, async ({ gw, a }) => {
    a.enqueue({ type: "stream", pieces: Array.from({ length: 50 }, (_, i) => `p${i}`), gapMs: 50 });
    const controller = new AbortController();
    const res = await post(gw, "/v1/chat/completions", chat("a/gpt-4o", { stream: true }), {
      signal: controller.signal,
    });
    const reader = res.body!.getReader();
    await reader.read();
    controller.abort();
    await reader.cancel().catch(() => {});
    await waitFor(() => a.requests[0]!.aborted, { message: "upstream saw the abort" });
    await waitFor(() => gw.server.engine.executor.activeStreams === 0, {
      message: "the relay was released",
    });
  });
});

Deno.test("a client that disconnects while the upstream is still thinking aborts it", async () => {
  await withGateway(twoProviders, async ({ gw, a, b }) => {
    // Longer than the gateway waits before it ties an attempt to the client.
    a.enqueue({ type: "stream", firstByteDelayMs: 10_000 });
    const controller = new AbortController();
    const pending = post(gw, "/v1/chat/completions", chat("a/gpt-4o", { stream: true }), {
      signal: controller.signal,
    }).catch((err) => err);
    await waitFor(() => a.requests.length === 1);
    controller.abort();
    assert.ok((await pending) instanceof Error);
    await waitFor(() => a.requests[0]!.aborted, { message: "upstream saw the abort" });
    assert.equal(posts(b), 0, "a client that left gets no fallback");
  });
});

Deno.test("a non-streaming request whose client leaves aborts the upstream call", async () => {
  await withGateway(twoProviders, async ({ gw, a }) => {
    a.enqueue({ type: "ok", delayMs: 10_000 });
    const controller = new AbortController();
    const pending = post(gw, "/v1/chat/completions", chat("a/gpt-4o"), {
      signal: controller.signal,
    }).catch((err) => err);
    await waitFor(() => a.requests.length === 1);
    controller.abort();
    await pending;
    await waitFor(() => a.requests[0]!.aborted, { message: "upstream saw the abort" });
  });
});
