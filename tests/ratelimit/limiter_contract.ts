// Behaviours every RateLimiter backend must share; memory_test.ts and redis_test.ts run them.
import assert from "node:assert/strict";
import type { LimitRule } from "../../src/config/types.ts";
import type { RateLimiter } from "../../src/ratelimit/limiter.ts";

/** A limiter under test and how to tear it (and whatever backs it) down. */
export interface LimiterFixture {
  limiter: RateLimiter;
  cleanup(): Promise<void>;
}

/** Builds a fresh limiter reading the given clock. */
export type LimiterFactory = (now: () => number) => Promise<LimiterFixture>;

const WINDOW = 60_000;
/** A window boundary, so offsets below read as "ms into the window". */
const T0 = 1_000 * WINDOW;

/** A settable clock starting at `T0`. */
class FakeClock {
  t = T0;
  readonly now = (): number => this.t;
}

function rule(requests: number, tokens: number | null = null): LimitRule {
  return { requests, tokens, window_ms: WINDOW };
}

async function allowedCount(limiter: RateLimiter, key: string, r: LimitRule, n: number) {
  let allowed = 0;
  for (let i = 0; i < n; i++) if ((await limiter.check(key, r)).allowed) allowed++;
  return allowed;
}

/** Registers the shared behaviour tests for one backend, named `<name> limiter ...`. */
export function limiterContract(
  name: string,
  options: { ignore: boolean },
  factory: LimiterFactory,
): void {
  const test = (title: string, body: (limiter: RateLimiter, clock: FakeClock) => Promise<void>) =>
    Deno.test({ name: `${name} limiter ${title}`, ignore: options.ignore }, async () => {
      const clock = new FakeClock();
      const fixture = await factory(clock.now);
      try {
        await body(fixture.limiter, clock);
      } finally {
        await fixture.cleanup();
      }
    });

  test(
    "counts remaining down and refuses once the request limit is reached",
    async (limiter, clock) => {
      clock.t = T0 + 10_000;
      const r = rule(3);
      for (const remaining of [2, 1, 0]) {
        assert.deepEqual(await limiter.check("alice", r), {
          allowed: true,
          limit: 3,
          remaining,
          reset_ms: 50_000, // until the fixed window ends
        });
      }
      const refused = await limiter.check("alice", r);
      assert.equal(refused.allowed, false);
      assert.equal(refused.exceeded, "requests");
      assert.equal(refused.remaining, 0);
      // The window's 3 requests must fade below the limit: just past the window's end.
      assert.equal(refused.reset_ms, 50_001);
      clock.t += refused.reset_ms;
      assert.equal((await limiter.check("alice", r)).allowed, true, "allowed after reset_ms");
    },
  );

  test(
    "slides: half a window later the previous window still weighs half",
    async (limiter, clock) => {
      const r = rule(10);
      // 15 attempts, 5 refused: refused requests must not count against the next window.
      assert.equal(await allowedCount(limiter, "alice", r, 15), 10);
      clock.t = T0 + WINDOW + WINDOW / 2;
      assert.equal(await allowedCount(limiter, "alice", r, 8), 5, "10 * 0.5 already used");
      const refused = await limiter.check("alice", r);
      assert.equal(refused.exceeded, "requests");
      assert.equal(refused.reset_ms, 1, "the previous window keeps fading");
    },
  );

  test("frees the whole limit two windows later", async (limiter, clock) => {
    const r = rule(10);
    assert.equal(await allowedCount(limiter, "alice", r, 10), 10);
    clock.t = T0 + 2 * WINDOW;
    const first = await limiter.check("alice", r);
    assert.equal(first.allowed, true);
    assert.equal(first.remaining, 9);
    assert.equal(await allowedCount(limiter, "alice", r, 12), 9);
  });

  test(
    "refuses with exceeded tokens once addTokens reaches the token budget",
    async (limiter, clock) => {
      clock.t = T0 + 1_000;
      const r = rule(100, 1_000);
      assert.equal((await limiter.check("alice", r)).allowed, true);
      await limiter.addTokens("alice", r, 600);
      assert.equal((await limiter.check("alice", r)).allowed, true, "600 < 1000");
      await limiter.addTokens("alice", r, 400);
      const refused = await limiter.check("alice", r);
      assert.equal(refused.allowed, false);
      assert.equal(refused.exceeded, "tokens");
      assert.equal(refused.remaining, 98, "requests left are still reported");
      assert.equal(refused.reset_ms, WINDOW - 1_000 + 1);
      clock.t = T0 + WINDOW + WINDOW / 2;
      assert.equal((await limiter.check("alice", r)).allowed, true, "half of 1000 still weighs");
      await limiter.addTokens("alice", r, 500);
      assert.equal((await limiter.check("alice", r)).exceeded, "tokens");
    },
  );

  test("ignores tokens when the rule has no token budget", async (limiter) => {
    const r = rule(2);
    await limiter.addTokens("alice", r, 1_000_000);
    assert.equal((await limiter.check("alice", r)).allowed, true);
  });

  test("keeps keys, and the same key under another window, independent", async (limiter) => {
    const r = rule(2);
    assert.equal(await allowedCount(limiter, "alice", r, 3), 2);
    assert.equal((await limiter.check("bob", r)).allowed, true);
    assert.equal((await limiter.check("alice", { ...r, window_ms: 1_000 })).allowed, true);
  });

  test("allows exactly the limit out of 20 parallel checks", async (limiter) => {
    const r = rule(10);
    const decisions = await Promise.all(
      Array.from({ length: 20 }, () => limiter.check("alice", r)),
    );
    assert.equal(decisions.filter((d) => d.allowed).length, 10);
  });
}
