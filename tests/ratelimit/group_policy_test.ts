import assert from "node:assert/strict";
import type { Caller } from "../../src/auth/caller.ts";
import type { LimitRule, RateLimitConfig } from "../../src/config/types.ts";
import { ruleFor } from "../../src/middleware/rate_limit.ts";

const MINUTE = 60_000;
const HOUR = 3_600_000;

function config(
  groups: Record<string, LimitRule>,
  policy: RateLimitConfig["group_policy"],
): RateLimitConfig {
  return {
    enabled: true,
    backend: "memory",
    redis_address: "localhost:6379",
    redis_password: null,
    redis_db: 0,
    on_backend_error: "allow",
    default: { requests: 1000, tokens: null, window_ms: MINUTE },
    groups,
    group_policy: policy,
  };
}

function caller(...groups: string[]): Caller {
  return { name: "alice", kind: "key", groups, models: null };
}

const rule = (requests: number, window_ms: number, tokens: number | null = null): LimitRule => ({
  requests,
  tokens,
  window_ms,
});

Deno.test("strictest picks the lowest request rate across windows, most_generous the highest", () => {
  // 100 per hour is a lower rate than 10 per minute (600 per hour), though its count is larger.
  const groups = { minute: rule(10, MINUTE), hour: rule(100, HOUR) };
  assert.deepEqual(ruleFor(config(groups, "strictest"), caller("minute", "hour")), groups.hour);
  assert.deepEqual(ruleFor(config(groups, "strictest"), caller("hour", "minute")), groups.hour);
  assert.deepEqual(
    ruleFor(config(groups, "most_generous"), caller("hour", "minute")),
    groups.minute,
  );
});

Deno.test("on equal request rates the token rate decides, and no token budget is the most generous", () => {
  const groups = {
    open: rule(10, MINUTE),
    capped: rule(10, MINUTE, 5000),
    tight: rule(600, HOUR, 60_000), // 1,000 tokens per minute
  };
  const all = caller("open", "capped", "tight");
  assert.equal(ruleFor(config(groups, "strictest"), all), groups.tight);
  assert.equal(ruleFor(config(groups, "most_generous"), all), groups.open);
});

Deno.test("a full tie goes to the first of the caller's groups; groups without a rule are skipped", () => {
  const groups = { first: rule(10, MINUTE), second: rule(600, HOUR) };
  for (const policy of ["strictest", "most_generous"] as const) {
    assert.equal(ruleFor(config(groups, policy), caller("none", "first", "second")), groups.first);
    assert.equal(ruleFor(config(groups, policy), caller("second", "first")), groups.second);
  }
  const cfg = config(groups, "strictest");
  assert.equal(ruleFor(cfg, caller("none")), cfg.default);
  assert.equal(ruleFor(cfg, null), cfg.default);
});
