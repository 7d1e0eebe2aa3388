import assert from "node:assert/strict";
import { CircuitBreaker } from "../../src/core/circuit_breaker.ts";

Deno.test("circuit opens after consecutive failures, lets one probe through after the cooldown", () => {
  let now = 0;
  const breaker = new CircuitBreaker({ failure_threshold: 3, cooldown_ms: 1000 }, () => now);
  for (let i = 0; i < 2; i++) breaker.onFailure();
  assert.equal(breaker.state, "closed");
  assert.ok(breaker.tryAcquire());
  breaker.onFailure();
  assert.equal(breaker.state, "open");
  assert.equal(breaker.tryAcquire(), false);
  now = 1000;
  assert.equal(breaker.state, "half_open");
  assert.ok(breaker.tryAcquire(), "one probe");
  assert.equal(breaker.tryAcquire(), false, "only one probe at a time");
  breaker.onFailure();
  assert.equal(breaker.state, "open", "a failed probe reopens");
  now = 2500;
  assert.ok(breaker.tryAcquire());
  breaker.onSuccess();
  assert.equal(breaker.state, "closed");
  assert.equal(breaker.consecutiveFailures, 0);
});

Deno.test("a success resets the failure count before the threshold", () => {
  const breaker = new CircuitBreaker({ failure_threshold: 2, cooldown_ms: 1000 });
  breaker.onFailure();
  breaker.onSuccess();
  breaker.onFailure();
  assert.equal(breaker.state, "closed");
});
