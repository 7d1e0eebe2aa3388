import assert from "node:assert/strict";
import { providerYaml } from "../support/gateway.ts";
import type { TestGateway } from "../support/gateway.ts";
import { chat, content, post, posts, withGateway } from "./harness.ts";

const yaml = ({ a }: { a: { url: string } }) =>
  `providers:
${providerYaml("a", a.url)}
`;

/** Sends raw pieces on a fresh connection, a pause between them, and reads the answer. */
async function raw(gw: TestGateway, pieces: string[]): Promise<string> {
  const { hostname, port } = new URL(gw.url);
  const conn = await Deno.connect({ hostname, port: Number(port) });
  try {
    for (const piece of pieces) {
      await conn.write(new TextEncoder().encode(piece));
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    let text = "";
    const buffer = new Uint8Array(16 * 1024);
    const decoder = new TextDecoder();
    for (;;) {
      const n = await conn.read(buffer);
      if (n === null) break;
      text += decoder.decode(buffer.subarray(0, n), { stream: true });
      // The answer is complete once its declared length has arrived.
      const split = text.indexOf("\r\n\r\n");
      const length = /\r\ncontent-length: *(\d+)/i.exec(text.slice(0, split))?.[1];
      if (split >= 0 && length !== undefined && text.length >= split + 4 + Number(length)) break;
    }
    return text;
  } finally {
    conn.close();
  }
}

Deno.test("a malformed chunked request body gets 400 in the OpenAI shape", async () => {
  await withGateway(yaml, async ({ gw, a }) => {
    // The head first, so that the handler is reading the body when the bad chunk arrives.
    const answer = await raw(gw, [
      "POST /v1/chat/completions HTTP/1.1\r\nHost: gw\r\ncontent-type: application/json\r\n" +
      "transfer-encoding: chunked\r\n\r\n",
      '9\r\n{"model":\r\n',
      "zz\r\n\r\n",
    ]);
    assert.match(answer, /^HTTP\/1\.1 400 /, answer);
    const error = JSON.parse(answer.slice(answer.indexOf("\r\n\r\n") + 4)).error;
    assert.equal(error.type, "invalid_request_error");
    assert.equal(error.code, "invalid_request");
    assert.match(error.message, /could not read the request body/);
    assert.equal(posts(a), 0);
    const ok = await post(gw, "/v1/chat/completions", chat("a/gpt-4o"));
    assert.equal(await content(ok), "Hello from a");
  });
});
