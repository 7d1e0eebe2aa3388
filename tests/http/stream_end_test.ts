// A provider that closes a stream cleanly but early (no `data: [DONE]`): the client must see an
// error event, never a clean-looking end.
import assert from "node:assert/strict";
import { startGateway } from "../support/gateway.ts";

const CHUNK = (text: string) =>
  `data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"${text}"},"finish_reason":null}]}\n\n`;

Deno.test("a chat stream closed before data: [DONE] ends with a stream_interrupted error event", async () => {
  let whole = false;
  const upstream = Deno.serve({ port: 0, hostname: "127.0.0.1", onListen() {} }, () => {
    const body = CHUNK("Hel") + CHUNK("lo") + (whole ? "data: [DONE]\n\n" : "");
    return new Response(body, { headers: { "content-type": "text/event-stream" } });
  });
  const gw = await startGateway(`
providers:
  - name: "p"
    target_url: "http://127.0.0.1:${upstream.addr.port}"
    api_key: null
    max_retries: 0
`);
  try {
    const ask = () =>
      fetch(gw.url + "/v1/chat/completions", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({
          model: "p/m",
          stream: true,
          messages: [{ role: "user", content: "hi" }],
        }),
      }).then((r) => r.text());
    const cut = await ask();
    assert.match(cut, /"content":"lo"/);
    assert.match(
      cut,
      /data: \{"error":\{"message":"upstream stream from p\/m failed after it started: protocol: the stream ended before data: \[DONE\]"/,
    );
    assert.match(cut, /"code":"stream_interrupted"/);
    whole = true;
    const ok = await ask();
    assert.ok(ok.endsWith("data: [DONE]\n\n"));
    assert.doesNotMatch(ok, /"error"/);
  } finally {
    await gw.close();
    await upstream.shutdown();
  }
});
