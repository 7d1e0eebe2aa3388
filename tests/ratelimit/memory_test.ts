import assert from "node:assert/strict";
import { createMemoryLimiter } from "../../src/ratelimit/memory.ts";
import { limiterContract } from "./limiter_contract.ts";

limiterContract("memory", { ignore: false }, (now) => {
  const limiter = createMemoryLimiter({ now });
  return Promise.resolve({ limiter, cleanup: () => limiter.close() });
});

const rule = { requests: 5, tokens: null, window_ms: 1_000 };

Deno.test("memory limiter never holds more than maxKeys keys under a flood of callers", async () => {
  let t = 0;
  const limiter = createMemoryLimiter({ now: () => t, maxKeys: 100 });
  for (let i = 0; i < 1_000; i++) {
    t++;
    await limiter.check(`caller-${i}`, rule);
  }
  assert.equal(limiter.size, 100);
  // The most recent callers are the ones kept.
  for (let i = 0; i < 5; i++) await limiter.check("caller-999", rule);
  assert.equal((await limiter.check("caller-999", rule)).allowed, false);
});

Deno.test("memory limiter drops keys whose windows have expired", async () => {
  let t = 0;
  const limiter = createMemoryLimiter({ now: () => t, sweepIntervalMs: 500 });
  for (let i = 0; i < 50; i++) await limiter.check(`caller-${i}`, rule);
  assert.equal(limiter.size, 50);
  t = 1_500; // one window on, their counts still weigh
  await limiter.check("later", rule);
  assert.equal(limiter.size, 51);
  t = 2_000; // two windows on, nothing left to remember about the first 50
  await limiter.check("latest", rule);
  assert.equal(limiter.size, 2);
  await limiter.close();
  assert.equal(limiter.size, 0);
});
