import assert from "node:assert/strict";
import { providerYaml } from "../support/gateway.ts";
import { startRawUpstream, write } from "../support/raw_upstream.ts";
import { chat, FAST_ROUTING, post, readError, withGateway } from "./harness.ts";

/** A URL nothing listens on: a port just released. */
function refusedUrl(): string {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return `http://127.0.0.1:${port}`;
}

function requestLines(logText: string): Record<string, unknown>[] {
  return logText.trim().split("\n").map((l) => JSON.parse(l)).filter((e) =>
    e.message === "request"
  );
}

Deno.test("the access log says why each attempt failed: a garbage status line, a refused connection", async () => {
  const garbage = startRawUpstream((conn) => write(conn, "HTTP/1.1 abc\r\n\r\n"));
  const refused = refusedUrl();
  try {
    await withGateway(({ a }) =>
      FAST_ROUTING + `providers:
${providerYaml("garbage", garbage.url, { max_retries: 0 })}
${providerYaml("refused", refused, { max_retries: 0 })}
${providerYaml("a", a.url)}
`, async ({ gw }) => {
      const served = await post(
        gw,
        "/v1/chat/completions",
        chat("garbage/gpt-4o", {
          models: ["refused/gpt-4o", "a/gpt-4o"],
        }),
      );
      assert.equal(served.status, 200);
      await served.body?.cancel();
      const failed = await post(gw, "/v1/chat/completions", chat("garbage/gpt-4o"));
      assert.equal(failed.status, 502);
      const message = (await readError(failed)).message;
      assert.doesNotMatch(message, /status line/, "the cause is for the log, not the client");

      const logText = await gw.logText();
      const [first, second] = requestLines(logText);
      const path = first!["gateway.fallback_path"] as string[];
      assert.equal(path.length, 3, String(path));
      assert.match(path[0]!, /^garbage\/gpt-4o: network \(.*status line.*"HTTP\/1\.1 abc"/);
      assert.match(path[1]!, /^refused\/gpt-4o: network \(.*refused/i);
      assert.equal(path[2], "a/gpt-4o: served");
      const exhausted = second!["gateway.fallback_path"] as string[];
      assert.equal(exhausted.length, 1, "an exhausted request lists its attempts too");
      assert.match(exhausted[0]!, /status line/);
      for (const secret of ["sk-garbage-secret", "sk-refused-secret", "sk-a-secret"]) {
        assert.ok(!logText.includes(secret), `${secret} is not in the log`);
      }
    });
  } finally {
    await garbage.close();
  }
});

Deno.test("at debug level each failed attempt is logged as it happens, with its cause", async () => {
  const refused = refusedUrl();
  await withGateway(() =>
    FAST_ROUTING + `logging:
  level: debug
providers:
${providerYaml("refused", refused, { max_retries: 1 })}
`, async ({ gw }) => {
    const failed = await post(gw, "/v1/chat/completions", chat("refused/gpt-4o"));
    assert.equal(failed.status, 502);
    await failed.body?.cancel();
    const events = (await gw.logText()).trim().split("\n").map((l) => JSON.parse(l));
    const attempts = events.filter((e) => e.message === "upstream attempt failed");
    assert.equal(attempts.length, 2, "the try and its retry");
    for (const [i, e] of attempts.entries()) {
      assert.equal(e["log.level"], "debug");
      assert.equal(e["gateway.provider"], "refused");
      assert.equal(e["gateway.attempt"], i + 1);
      assert.equal(e["gateway.outcome"], "network");
      assert.match(e["error.message"], /refused/i);
    }
  });
});
