import assert from "node:assert/strict";
import { startGateway } from "../support/gateway.ts";
import { SKIP_NGINX, startNginx } from "../support/nginx_server.ts";
import { chat, post } from "./harness.ts";

const COMPLETION = JSON.stringify({
  id: "chatcmpl-nginx",
  object: "chat.completion",
  created: 1,
  model: "gpt-4o",
  choices: [{
    index: 0,
    message: { role: "assistant", content: "Hello from nginx" },
    finish_reason: "stop",
  }],
  usage: { prompt_tokens: 1, completion_tokens: 3, total_tokens: 4 },
});

/** nginx closes an idle keep-alive connection after this long. */
const KEEPALIVE_MS = 200;
const BURSTS = 50;
const BURST_SIZE = 8;

Deno.test({
  name: "bursts timed at nginx's keep-alive timeout all succeed and leave the breaker closed",
  ignore: SKIP_NGINX,
  async fn() {
    const nginx = await startNginx({
      http: `keepalive_timeout ${KEEPALIVE_MS}ms;`,
      server: `location / {
      default_type application/json;
      return 200 '${COMPLETION}';
    }`,
    });
    try {
      // No retries: a stale pooled connection would surface as a failed request at once.
      const gw = await startGateway(`providers:
  - name: "ng"
    target_url: "${nginx.url}"
    api_key: null
    max_retries: 0
`);
      try {
        let failures = 0;
        const statuses = new Map<number, number>();
        for (let burst = 0; burst < BURSTS; burst++) {
          const answers = await Promise.all(
            Array.from({ length: BURST_SIZE }, async () => {
              const res = await post(gw, "/v1/chat/completions", chat("ng/gpt-4o"));
              await res.body?.cancel();
              return res.status;
            }),
          );
          for (const status of answers) {
            statuses.set(status, (statuses.get(status) ?? 0) + 1);
            if (status !== 200) failures++;
          }
          // Gaps straddle nginx's timeout, so bursts land just before, at and after its close.
          await new Promise((resolve) => setTimeout(resolve, KEEPALIVE_MS - 10 + (burst % 5) * 8));
        }
        const info = await (await fetch(gw.url + "/v1/info")).json();
        const health = info.providers.find((p: { name: string }) => p.name === "ng");
        assert.equal(
          failures,
          0,
          `${failures} of ${BURSTS * BURST_SIZE} failed: ${JSON.stringify([...statuses])}`,
        );
        assert.equal(health.circuit, "closed");
        assert.equal(health.consecutive_failures, 0);
      } finally {
        await gw.close();
      }
    } finally {
      await nginx.stop();
    }
  },
});

Deno.test("routing.pool_idle_timeout decides when an idle upstream connection is reused", async () => {
  const ports: number[] = [];
  const upstream = Deno.serve({ hostname: "127.0.0.1", port: 0, onListen() {} }, (_, info) => {
    ports.push(info.remoteAddr.port);
    return new Response(COMPLETION, { headers: { "content-type": "application/json" } });
  });
  const connectionsFor = async (routing: string): Promise<number> => {
    ports.length = 0;
    const gw = await startGateway(`${routing}providers:
  - name: "up"
    target_url: "http://127.0.0.1:${upstream.addr.port}"
    api_key: null
`);
    try {
      for (let i = 0; i < 2; i++) {
        const res = await post(gw, "/v1/chat/completions", chat("up/gpt-4o"));
        assert.equal(res.status, 200);
        await res.body?.cancel();
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    } finally {
      await gw.close();
    }
    return new Set(ports).size;
  };
  try {
    assert.equal(await connectionsFor(""), 1, "reused within the default 4 s");
    assert.equal(await connectionsFor('routing:\n  pool_idle_timeout: "100ms"\n'), 2);
  } finally {
    await upstream.shutdown();
  }
});
