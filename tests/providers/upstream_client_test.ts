import assert from "node:assert/strict";
import zlib from "node:zlib";
import { ProviderError } from "../../src/core/errors.ts";
import type { UpstreamClient } from "../../src/providers/upstream_client.ts";
import { createUpstreamClient } from "../../src/providers/upstream_client.ts";

const SETTINGS = { poolIdleTimeoutMs: 4_000, maxResponseBytes: 1024 };

/** Both ways the gateway calls upstreams: its own HTTP/1.1 client, and `fetch` (proxy or OTel). */
function clients(): [string, () => UpstreamClient][] {
  return [
    ["the HTTP/1.1 client", () => createUpstreamClient(SETTINGS)],
    ["fetch", () => {
      // The client is chosen when it is made; Deno's OpenTelemetry switch selects fetch.
      Deno.env.set("OTEL_DENO", "1");
      try {
        return createUpstreamClient(SETTINGS);
      } finally {
        Deno.env.delete("OTEL_DENO");
      }
    }],
  ];
}

/** An upstream answering `/<name>` with the response `ANSWERS[name]` builds. */
const ANSWERS: Record<string, () => Response> = {
  declared: () => new Response(new Uint8Array(2048)),
  streamed: () =>
    new Response(
      new ReadableStream({
        start(controller) {
          for (let i = 0; i < 4; i++) controller.enqueue(new Uint8Array(512));
          controller.close();
        },
      }),
    ),
  exact: () => new Response(new Uint8Array(1024)),
  gzip: () =>
    new Response(new Uint8Array(zlib.gzipSync('{"ok":true}')), {
      headers: { "content-encoding": "gzip" },
    }),
  zstd: () => new Response("zzzz", { headers: { "content-encoding": "zstd" } }),
  sse: () =>
    new Response(
      new ReadableStream({
        start(controller) {
          controller.enqueue(new TextEncoder().encode("data: 1\n\n"));
          controller.enqueue(new TextEncoder().encode("data: 2\n\n"));
          controller.close();
        },
      }),
      { headers: { "content-type": "text/event-stream", "x-part": "a" } },
    ),
  empty: () => new Response(null, { status: 204, headers: { "x-part": "b" } }),
};

async function withUpstream(fn: (url: string) => Promise<void>): Promise<void> {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    (request) => ANSWERS[new URL(request.url).pathname.slice(1)]!(),
  );
  try {
    await fn(`http://127.0.0.1:${server.addr.port}`);
  } finally {
    await server.shutdown();
  }
}

function get() {
  return { method: "GET", headers: {}, signal: new AbortController().signal };
}

function isTooLarge(err: unknown): boolean {
  assert.ok(err instanceof ProviderError, `expected ProviderError, got ${err}`);
  assert.equal(err.kind, "protocol");
  assert.equal(
    err.detail,
    "upstream answer larger than the gateway's limit of 1024 bytes (server.max_response_size)",
  );
  assert.equal(err.countsAgainstBreaker, true);
  return true;
}

for (const [name, make] of clients()) {
  Deno.test(`${name}: a whole-body read beyond maxResponseBytes fails naming the limit`, async () => {
    const client = make();
    try {
      await withUpstream(async (url) => {
        await assert.rejects((await client.request(`${url}/declared`, get())).bytes(), isTooLarge);
        await assert.rejects((await client.request(`${url}/streamed`, get())).text(), isTooLarge);
        const exact = await (await client.request(`${url}/exact`, get())).bytes();
        assert.equal(exact.length, 1024);
      });
    } finally {
      client.close();
    }
  });

  Deno.test(`${name}: a gzip answer is decoded, an undecodable one refused sparing the breaker`, async () => {
    const client = make();
    try {
      await withUpstream(async (url) => {
        assert.equal(await (await client.request(`${url}/gzip`, get())).text(), '{"ok":true}');
        await assert.rejects(client.request(`${url}/zstd`, get()), (err) => {
          assert.ok(err instanceof ProviderError);
          assert.equal(
            err.detail,
            'upstream answered with content-encoding "zstd", which the gateway cannot decode',
          );
          assert.equal(err.countsAgainstBreaker, false);
          return true;
        });
      });
    } finally {
      client.close();
    }
  });

  Deno.test(`${name}: header() gives a field and chunks() the body, then done`, async () => {
    const client = make();
    try {
      await withUpstream(async (url) => {
        const res = await client.request(`${url}/sse`, get());
        assert.equal(res.header("content-type"), "text/event-stream");
        assert.equal(res.header("x-part"), "a");
        assert.equal(res.header("x-absent"), null);
        const chunks = res.chunks();
        let text = "";
        for (let read = await chunks.read(); !read.done; read = await chunks.read()) {
          text += new TextDecoder().decode(read.value);
        }
        assert.equal(text, "data: 1\n\ndata: 2\n\n");
        const empty = await client.request(`${url}/empty`, get());
        assert.equal(empty.header("x-part"), "b");
        assert.equal((await empty.chunks().read()).done, true);
      });
    } finally {
      client.close();
    }
  });
}
