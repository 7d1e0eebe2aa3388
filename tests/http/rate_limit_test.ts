import assert from "node:assert/strict";
import { parseConfig } from "../../src/config/load.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";
import { providerYaml, startGateway, type TestGateway } from "../support/gateway.ts";
import { redisTest, startRedis } from "../support/redis_server.ts";
import { chat, post, readError, withGateway } from "./harness.ts";

const KEY = "gw-rate-key-0123456789";
const GOLD = "gw-gold-key-0123456789";
const BOTH = "gw-both-key-0123456789";

function limitedYaml(url: string, ratelimit: string): string {
  return `auth:
  enabled: true
  keys:
    - name: plain
      key: "${KEY}"
    - name: gold
      key: "${GOLD}"
      groups: [gold]
    - name: both
      key: "${BOTH}"
      groups: [gold, slow]
ratelimit:
  enabled: true
${ratelimit}
providers:
${providerYaml("a", url)}
`;
}

/**
 * Waits out the last seconds of the current one-minute window. Just past a boundary the sliding
 * estimate weighs the previous window a hair under full (3 requests count as 2.9998), so one more
 * request fits than the limit: a test counting exact allowances must not straddle a boundary.
 */
async function clearOfWindowEdge(windowMs = 60_000, marginMs = 15_000): Promise<void> {
  const left = windowMs - (Date.now() % windowMs);
  if (left < marginMs) await new Promise((resolve) => setTimeout(resolve, left + 50));
}

function ask(gw: TestGateway, key: string, extra: Record<string, unknown> = {}) {
  return post(gw, "/v1/chat/completions", chat("a/gpt-4o", extra), {
    headers: { authorization: `Bearer ${key}` },
  });
}

Deno.test("over the request limit: 429 with Retry-After and x-ratelimit headers; groups get their rule", async () => {
  await withGateway(({ a }) =>
    limitedYaml(
      a.url,
      `  backend: memory
  default:
    requests: 2
    window: "1m"
  groups:
    gold:
      requests: 5
      window: "1m"`,
    ), async ({ gw }) => {
    await clearOfWindowEdge();
    const first = await ask(gw, KEY);
    assert.equal(first.status, 200);
    assert.equal(first.headers.get("x-ratelimit-limit"), "2");
    assert.equal(first.headers.get("x-ratelimit-remaining"), "1");
    await first.body?.cancel();
    await (await ask(gw, KEY)).body?.cancel();
    const refused = await ask(gw, KEY);
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get("retry-after"));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `retry-after ${retryAfter}`);
    assert.equal(refused.headers.get("x-ratelimit-remaining"), "0");
    assert.ok(Number(refused.headers.get("x-ratelimit-reset")) >= 1);
    const err = await readError(refused);
    assert.equal(err.code, "rate_limit_exceeded");
    assert.equal(err.type, "rate_limit_error");

    for (let i = 0; i < 5; i++) {
      const res = await ask(gw, GOLD);
      assert.equal(res.status, 200, `gold request ${i + 1}`);
      assert.equal(res.headers.get("x-ratelimit-limit"), "5");
      await res.body?.cancel();
    }
    assert.equal((await ask(gw, GOLD)).status, 429);
    const info = await fetch(gw.url + "/v1/info");
    assert.equal(info.status, 200, "/v1/info is never rate limited");
    await info.body?.cancel();
  });
});

for (const [policy, limit] of [["strictest", 2], ["most_generous", 5]] as const) {
  Deno.test(`a caller in two groups gets the ${policy} group's rule under group_policy: ${policy}`, async () => {
    await withGateway(({ a }) =>
      limitedYaml(
        a.url,
        `  backend: memory
  group_policy: ${policy}
  default:
    requests: 100
    window: "1m"
  groups:
    gold:
      requests: 5
      window: "1m"
    slow:
      requests: 2
      window: "1m"`,
      ), async ({ gw }) => {
      await clearOfWindowEdge();
      for (let i = 0; i < limit; i++) {
        const res = await ask(gw, BOTH);
        assert.equal(res.status, 200, `request ${i + 1}`);
        assert.equal(res.headers.get("x-ratelimit-limit"), String(limit));
        await res.body?.cancel();
      }
      const refused = await ask(gw, BOTH);
      assert.equal(refused.status, 429);
      assert.match((await readError(refused)).message, new RegExp(`${limit} requests per 60s`));
    });
  });
}

Deno.test("a token budget counts reported usage, streams included, without showing the client a usage chunk it did not ask for", async () => {
  await withGateway(({ a }) =>
    limitedYaml(
      a.url,
      `  backend: memory
  default:
    requests: 100
    tokens: 1
    window: "1m"`,
    ), async ({ gw, a }) => {
    // A budget of 1 token: the first answer is allowed, and the usage it reports spends it.
    const streamed = await ask(gw, KEY, { stream: true });
    const text = await streamed.text();
    assert.doesNotMatch(text, /"choices":\[\]/, "the gateway's usage chunk is hidden");
    assert.match(text, /data: \[DONE\]/);
    const sent = a.requests.at(-1)!.body as { stream_options?: { include_usage?: boolean } };
    assert.equal(sent.stream_options?.include_usage, true, "usage was requested upstream");
    const refused = await ask(gw, KEY);
    assert.equal(refused.status, 429, "the streamed answer's tokens were counted");
    assert.match((await readError(refused)).message, /1 tokens/);
  });
});

Deno.test("under a token budget a client that asks for stream usage still gets its usage chunk", async () => {
  await withGateway(({ a }) =>
    limitedYaml(
      a.url,
      `  backend: memory
  default:
    requests: 100
    tokens: 100000
    window: "1m"`,
    ), async ({ gw, a }) => {
    const streamed = await ask(gw, KEY, {
      stream: true,
      stream_options: { include_usage: true },
    });
    assert.match(await streamed.text(), /"usage":\{/);
    const sent = a.requests.at(-1)!.body as { stream_options?: { include_usage?: boolean } };
    assert.equal(sent.stream_options?.include_usage, true);
  });
});

Deno.test("a reload keeps the counts while the ratelimit settings are unchanged, and starts anew when they change", async () => {
  const yaml = (url: string, requests: number) =>
    limitedYaml(
      url,
      `  backend: memory
  default:
    requests: ${requests}
    window: "1m"`,
    );
  await withGateway(({ a }) => yaml(a.url, 2), async ({ gw, a }) => {
    await clearOfWindowEdge();
    await (await ask(gw, KEY)).body?.cancel();
    // Only the routing changes: the same limiter serves the new generation.
    const routed = `routing:\n  backoff_base: "5ms"\n` + yaml(a.url, 2);
    await gw.server.reload(await parseConfig(routed, { filename: "test.yaml", env: {} }));
    const second = await ask(gw, KEY);
    assert.equal(second.headers.get("x-ratelimit-remaining"), "0", "the first request counted");
    await second.body?.cancel();
    await gw.server.reload(await parseConfig(yaml(a.url, 3), { filename: "test.yaml", env: {} }));
    const fresh = await ask(gw, KEY);
    assert.equal(fresh.status, 200);
    assert.equal(fresh.headers.get("x-ratelimit-remaining"), "2", "new settings, new counts");
    await fresh.body?.cancel();
  });
});

async function twoGateways(
  yaml: string,
  fn: (one: TestGateway, two: TestGateway) => Promise<void>,
): Promise<void> {
  const one = await startGateway(yaml);
  const two = await startGateway(yaml);
  try {
    await fn(one, two);
  } finally {
    await one.close();
    await two.close();
  }
}

redisTest("two gateway instances sharing one Redis enforce one combined limit", async () => {
  const redis = await startRedis();
  const mock: MockUpstream = await startMockUpstream({ name: "a" });
  try {
    const yaml = limitedYaml(
      mock.url,
      `  backend: redis
  redis_address: "${redis.address}"
  default:
    requests: 5
    window: "1m"`,
    );
    await twoGateways(yaml, async (one, two) => {
      await clearOfWindowEdge();
      const statuses: number[] = [];
      for (let i = 0; i < 4; i++) {
        for (const gw of [one, two]) {
          const res = await ask(gw, KEY);
          statuses.push(res.status);
          await res.body?.cancel();
        }
      }
      assert.equal(statuses.filter((s) => s === 200).length, 5, `statuses ${statuses}`);
      assert.equal(statuses.filter((s) => s === 429).length, 3);
    });
  } finally {
    await mock.close();
    await redis.stop();
  }
});

redisTest(
  "with Redis unreachable, on_backend_error decides and the outage is logged once",
  async () => {
    const redis = await startRedis();
    const address = redis.address;
    await redis.stop();
    const mock = await startMockUpstream({ name: "a" });
    try {
      for (const policy of ["allow", "deny"]) {
        const gw = await startGateway(limitedYaml(
          mock.url,
          `  backend: redis
  redis_address: "${address}"
  on_backend_error: ${policy}`,
        ));
        try {
          const statuses = [];
          for (let i = 0; i < 3; i++) {
            const res = await ask(gw, KEY);
            statuses.push(res.status);
            await res.body?.cancel();
          }
          assert.deepEqual(statuses, policy === "allow" ? [200, 200, 200] : [503, 503, 503]);
          const logs = await gw.logText();
          assert.equal(logs.match(/rate limit backend unreachable/g)?.length, 1, logs);
        } finally {
          await gw.close();
        }
      }
    } finally {
      await mock.close();
    }
  },
);
