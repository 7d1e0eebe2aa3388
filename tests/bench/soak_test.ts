import assert from "node:assert/strict";
import { GROWTH_RATIO_TARGET, growthRatio } from "../../bench/soak.ts";

Deno.test("soak growth: a second run back at the first run's starting level is not growth", () => {
  // Run W: the quiet gateway collected after soak 1 only.
  const ratio = growthRatio([
    { before_mb: 119.3, after_mb: 106.6 },
    { before_mb: 106.6, after_mb: 119.8 },
  ]);
  assert.equal(ratio, 1.004);
  assert.ok(ratio! <= GROWTH_RATIO_TARGET);
});

Deno.test("soak growth: memory kept by every run fails the check", () => {
  // 15 MB kept by each 60 s run, no collection in between.
  const ratio = growthRatio([
    { before_mb: 120, after_mb: 135 },
    { before_mb: 135, after_mb: 150 },
  ]);
  assert.equal(ratio, 1.111);
  assert.ok(ratio! > GROWTH_RATIO_TARGET);
});

Deno.test("soak growth: the last run is compared with the first, not the one before it", () => {
  const ratio = growthRatio([
    { before_mb: 100, after_mb: 100 },
    { before_mb: 100, after_mb: 108 },
    { before_mb: 108, after_mb: 116 },
  ]);
  assert.equal(ratio, 1.16);
});

Deno.test("soak growth: one run has nothing to compare", () => {
  assert.equal(growthRatio([{ before_mb: 100, after_mb: 101 }]), null);
});
