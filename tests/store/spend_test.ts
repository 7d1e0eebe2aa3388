import assert from "node:assert/strict";
import { budgetPeriodStart, hourOf, spendIncrements } from "../../src/store/spend.ts";
import { usage } from "./contract.ts";

const at = (iso: string) => Date.parse(iso);

Deno.test("a budget's period starts a whole number of hours back, or on the 1st of the month", () => {
  const now = at("2025-03-15T10:30:00Z");
  assert.equal(budgetPeriodStart("1d", now), at("2025-03-14T10:00:00Z"));
  assert.equal(budgetPeriodStart("7d", now), at("2025-03-08T10:00:00Z"));
  assert.equal(budgetPeriodStart("30d", now), at("2025-02-13T10:00:00Z"));
  assert.equal(budgetPeriodStart("month", now), at("2025-03-01T00:00:00Z"));
  assert.equal(budgetPeriodStart("month", at("2025-01-01T00:00:00Z")), at("2025-01-01T00:00:00Z"));
  assert.equal(hourOf(at("2025-03-15T10:59:59.999Z")), at("2025-03-15T10:00:00Z"));
});

Deno.test("a batch's costs become one sorted increment per key, user, group and hour", () => {
  const t = at("2025-03-15T10:00:00Z");
  const increments = spendIncrements([
    usage({ time: t, key_id: "k1", user: "ann", groups: ["b", "a"], cost_usd: 1 }),
    usage({ time: t + 60_000, key_id: "k1", user: null, groups: [], cost_usd: 2 }),
    usage({ time: t + 3_600_000, key_id: null, key_name: "ci", cost_usd: 4 }),
    usage({ time: t, key_id: "k1", cost_usd: null }),
    usage({ time: t, key_id: "k1", cost_usd: 0 }),
  ]);
  assert.deepEqual(increments, [
    { scope: "group", id: "a", hour: t, cost_usd: 1 },
    { scope: "group", id: "b", hour: t, cost_usd: 1 },
    { scope: "key", id: "ci", hour: t + 3_600_000, cost_usd: 4 },
    { scope: "key", id: "k1", hour: t, cost_usd: 3 },
    { scope: "user", id: "ann", hour: t, cost_usd: 1 },
  ]);
});
