import assert from "node:assert/strict";
import { Redis } from "ioredis";
import type { LimitRule } from "../../src/config/types.ts";
import { RateLimitBackendError, type RateLimiter } from "../../src/ratelimit/limiter.ts";
import { createMemoryLimiter } from "../../src/ratelimit/memory.ts";
import { createRedisLimiter } from "../../src/ratelimit/redis.ts";
import {
  freePort,
  redisTest,
  SKIP_REDIS,
  startRedis,
  type TestRedis,
} from "../support/redis_server.ts";
import { limiterContract } from "./limiter_contract.ts";

limiterContract("redis", { ignore: SKIP_REDIS }, async (now) => {
  const redis = await startRedis();
  const limiter = createRedisLimiter({ address: redis.address, password: null, db: 0, now });
  return {
    limiter,
    cleanup: async () => {
      await limiter.close();
      await redis.stop();
    },
  };
});

const rule: LimitRule = { requests: 5, tokens: null, window_ms: 60_000 };

/** Runs `body` against a fresh redis-server, always stopping it and closing the limiters. */
async function withRedis(
  body: (redis: TestRedis, open: (now?: () => number) => RateLimiter) => Promise<void>,
): Promise<void> {
  const redis = await startRedis();
  const limiters: RateLimiter[] = [];
  const open = (now?: () => number) => {
    const limiter = createRedisLimiter({ address: redis.address, password: null, db: 0, now });
    limiters.push(limiter);
    return limiter;
  };
  try {
    await body(redis, open);
  } finally {
    for (const limiter of limiters) await limiter.close();
    await redis.stop();
  }
}

redisTest("redis limiters of two gateway instances enforce one combined limit", async () => {
  await withRedis(async (_redis, open) => {
    const a = open();
    const b = open();
    let allowed = 0;
    for (const limiter of [a, a, a, b, b, b]) {
      if ((await limiter.check("alice", rule)).allowed) allowed++;
    }
    assert.equal(allowed, 5);
  });
});

redisTest("redis limiter stays exact under parallel checks from two instances", async () => {
  await withRedis(async (_redis, open) => {
    const a = open();
    const b = open();
    const r = { ...rule, requests: 10 };
    const decisions = await Promise.all(
      Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? a : b).check("alice", r)),
    );
    assert.equal(decisions.filter((d) => d.allowed).length, 10);
  });
});

redisTest("redis and memory limiters give identical decisions for the same traffic", async () => {
  await withRedis(async (_redis, open) => {
    let t = 7_777_777;
    const now = () => t;
    const viaRedis = open(now);
    const inMemory = createMemoryLimiter({ now });
    const r: LimitRule = { requests: 7, tokens: 500, window_ms: 1_000 };
    // A fixed pseudo-random walk, so a failure reproduces.
    let seed = 42;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    for (let i = 0; i < 300; i++) {
      t += Math.floor(random() * 150);
      const key = random() < 0.5 ? "alice" : "bob";
      const [fromRedis, fromMemory] = [await viaRedis.check(key, r), await inMemory.check(key, r)];
      assert.deepEqual(fromRedis, fromMemory, `step ${i} at t=${t}`);
      if (fromRedis.allowed) {
        const tokens = Math.floor(random() * 120);
        await viaRedis.addTokens(key, r, tokens);
        await inMemory.addTokens(key, r, tokens);
      }
    }
    await inMemory.close();
  });
});

redisTest(
  "redis limiter keys carry the prefix and window and expire after two windows",
  async () => {
    await withRedis(async (redis, open) => {
      await open(() => 5 * 60_000 + 1).check("alice", rule);
      const inspect = new Redis({ port: redis.port, lazyConnect: true });
      try {
        await inspect.connect();
        assert.deepEqual(await inspect.keys("*"), ["llmgw:rl:{60000:alice}:5"]);
        const ttl = await inspect.pttl("llmgw:rl:{60000:alice}:5");
        assert.ok(ttl > 60_000 && ttl <= 120_000, `ttl ${ttl}`);
      } finally {
        await inspect.quit();
      }
    });
  },
);

redisTest(
  "redis limiter rejects with RateLimitBackendError at once when Redis is unreachable",
  async () => {
    const limiter = createRedisLimiter({
      address: `127.0.0.1:${freePort()}`,
      password: null,
      db: 0,
    });
    try {
      const started = Date.now();
      await assert.rejects(limiter.check("alice", rule), RateLimitBackendError);
      await assert.rejects(limiter.check("alice", rule), RateLimitBackendError);
      await assert.rejects(
        limiter.addTokens("alice", { ...rule, tokens: 100 }, 5),
        RateLimitBackendError,
      );
      // Fail-fast, not a timing measurement: the bound is far above the expected few ms.
      assert.ok(Date.now() - started < 5_000, "calls must not wait for Redis");
    } finally {
      await limiter.close();
    }
  },
);

redisTest("redis limiter fails fast while Redis is down and recovers when it is back", async () => {
  let redis = await startRedis();
  const limiter = createRedisLimiter({ address: redis.address, password: null, db: 0 });
  try {
    assert.equal((await limiter.check("alice", rule)).allowed, true);
    await redis.stop();
    const started = Date.now();
    await assert.rejects(limiter.check("alice", rule), RateLimitBackendError);
    assert.ok(Date.now() - started < 5_000, "calls must not wait for Redis");

    redis = await startRedis({ port: redis.port });
    // ioredis reconnects in the background with a backoff capped at 2 s.
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        assert.equal((await limiter.check("alice", rule)).allowed, true);
        break;
      } catch (error) {
        if (!(error instanceof RateLimitBackendError) || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
  } finally {
    await limiter.close();
    await redis.stop();
  }
});

redisTest("redis limiter authenticates with the password and uses the configured db", async () => {
  const redis = await startRedis({ args: ["--requirepass", "s3cret"] });
  const good = createRedisLimiter({ address: redis.address, password: "s3cret", db: 3 });
  const bad = createRedisLimiter({ address: redis.address, password: "wrong", db: 0 });
  const inspect = new Redis({ port: redis.port, password: "s3cret", db: 3, lazyConnect: true });
  try {
    assert.equal((await good.check("alice", rule)).allowed, true);
    await inspect.connect();
    assert.equal((await inspect.keys("*")).length, 1, "the key is in db 3");
    await assert.rejects(bad.check("alice", rule), RateLimitBackendError);
  } finally {
    await good.close();
    await bad.close();
    await inspect.quit().catch(() => {});
    await redis.stop();
  }
});
