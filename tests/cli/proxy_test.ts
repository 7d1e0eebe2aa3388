import assert from "node:assert/strict";
import { chatCompletionBody } from "../support/mock_openai_wire.ts";
import { startCli, withTempDir } from "./cli_support.ts";

Deno.test("with HTTP_PROXY set, upstream calls go through the proxy", async () => {
  // A forward proxy receives absolute-form requests; this one answers them itself.
  const seen: string[] = [];
  const proxy = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, async (req) => {
    seen.push(`${req.method} ${req.url}`);
    await req.body?.cancel();
    return Response.json(chatCompletionBody(
      { id: "chatcmpl-proxy", created: 1700000000, model: "gpt-4o" },
      { kind: "text", pieces: ["via the proxy"] },
      1,
    ));
  });
  try {
    await withTempDir(async (dir) => {
      const path = `${dir}/config.yaml`;
      // The upstream host does not resolve: only the proxy can reach it.
      await Deno.writeTextFile(
        path,
        `server:\n  host: "127.0.0.1"\n  port: 0\nproviders:\n  - name: up\n` +
          `    target_url: "http://upstream.invalid:8080"\n    max_retries: 0\n`,
      );
      const gw = await startCli(["--config", path], {
        cwd: dir,
        env: { HTTP_PROXY: `http://127.0.0.1:${proxy.addr.port}` },
      });
      try {
        const res = await fetch(gw.url + "/v1/chat/completions", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ model: "up/gpt-4o", messages: [{ role: "user", content: "hi" }] }),
        });
        assert.equal(res.status, 200);
        assert.equal((await res.json()).choices[0].message.content, "via the proxy");
        assert.ok(
          seen.includes("POST http://upstream.invalid:8080/v1/chat/completions"),
          `the proxy saw ${JSON.stringify(seen)}`,
        );
      } finally {
        await gw.stop();
      }
    });
  } finally {
    await proxy.shutdown();
  }
});
