import assert from "node:assert/strict";
import { chunkReader, READ_BUFFER_BYTES } from "../../src/core/chunk_reader.ts";

async function readAll(body: ReadableStream<Uint8Array>): Promise<Uint8Array[]> {
  const reader = chunkReader(body);
  const chunks: Uint8Array[] = [];
  for (;;) {
    const { done, value } = await reader.read();
    if (done) return chunks;
    chunks.push(value);
  }
}

Deno.test("a fetch body is read whole, in chunks that own their bytes", async () => {
  const big = "x".repeat(READ_BUFFER_BYTES * 2 + 100);
  await using server = Deno.serve({ port: 0, onListen: () => {} }, () => new Response(big));
  const res = await fetch(`http://127.0.0.1:${server.addr.port}/`);
  const chunks = await readAll(res.body!);
  const text = chunks.map((c) => new TextDecoder().decode(c)).join("");
  assert.equal(text, big);
  for (const chunk of chunks) {
    assert.ok(chunk.byteLength <= READ_BUFFER_BYTES);
    // A chunk sized to its bytes, not a view into a shared read buffer.
    assert.equal(chunk.buffer.byteLength, chunk.byteLength);
  }
});

Deno.test("a stream that is not a byte stream is read as it is", async () => {
  const parts = ["data: a\n\n", "data: b\n\n"].map((s) => new TextEncoder().encode(s));
  const body = ReadableStream.from(parts);
  assert.deepEqual(await readAll(body), parts);
});
