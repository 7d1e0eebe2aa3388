import assert from "node:assert/strict";
import type { Caller } from "../../src/auth/caller.ts";
import { ConfigError } from "../../src/config/errors.ts";
import type { BudgetsConfig } from "../../src/config/types.ts";
import {
  budgetResetsAt,
  budgetsOf,
  type BudgetState,
  exceededMessage,
  nextMonthStart,
  remainingUsd,
  requireStoreForBudgets,
} from "../../src/middleware/budget.ts";
import { budgetPeriodStart } from "../../src/store/spend.ts";
import type { Budget } from "../../src/store/store.ts";
import { parseLines } from "../config/parse_helpers.ts";

const HOUR = 3_600_000;
const at = (iso: string) => Date.parse(iso);

const config: BudgetsConfig = {
  groups: { "team-a": { usd: 100, period: "month" }, "team-b": { usd: 50, period: "7d" } },
  per_user: { usd: 5, period: "1d" },
};

function caller(fields: Partial<Caller>): Caller {
  return { name: "ci", kind: "key", groups: [], models: null, ...fields };
}

Deno.test("a key is held to its own budget, by its store id when it has one", () => {
  const budget: Budget = { usd: 25, period: "month" };
  assert.deepEqual(budgetsOf(config, caller({ budget })), [
    { scope: "key", id: "ci", label: 'key "ci"', budget },
  ]);
  assert.deepEqual(budgetsOf(config, caller({ budget, keyId: "vk_1" }))[0]!.id, "vk_1");
});

Deno.test("a token's subject gets the per-user budget; a key does not", () => {
  assert.deepEqual(budgetsOf(config, caller({ kind: "jwt", name: "alice" })), [
    { scope: "user", id: "alice", label: 'user "alice"', budget: config.per_user },
  ]);
  assert.deepEqual(budgetsOf(config, caller({})), []);
});

Deno.test("each of a caller's groups with a budget applies once; other groups add none", () => {
  const applied = budgetsOf(
    config,
    caller({ groups: ["team-b", "other", "team-a", "team-b", "constructor"] }),
  );
  assert.deepEqual(applied.map((b) => b.label), ['group "team-b"', 'group "team-a"']);
});

Deno.test("remaining is the least left across budgets, never below zero", () => {
  const state = (usd: number, spent: number): BudgetState => ({
    scope: "key",
    id: "k",
    label: "k",
    budget: { usd, period: "month" },
    spent,
  });
  assert.equal(remainingUsd([state(25, 5), state(10, 7.5), state(100, 0)]), 2.5);
  assert.equal(remainingUsd([state(25, 5), state(1, 1.2)]), 0);
});

Deno.test("a calendar month starts again on the first of the next month, UTC", async () => {
  assert.equal(nextMonthStart(at("2026-12-31T23:59:59Z")), at("2027-01-01T00:00:00Z"));
  assert.equal(nextMonthStart(at("2026-02-01T00:00:00Z")), at("2026-03-01T00:00:00Z"));
  const month: Budget = { usd: 25, period: "month" };
  assert.equal(
    await budgetResetsAt(month, at("2026-06-15T10:30:00Z"), () => Promise.reject(new Error())),
    at("2026-07-01T00:00:00Z"),
    "a month needs no read",
  );
});

Deno.test("a budget of zero never recovers", async () => {
  assert.equal(
    await budgetResetsAt({ usd: 0, period: "7d" }, at("2026-06-15T10:30:00Z"), () => {
      throw new Error("no read needed");
    }),
    null,
  );
});

/** Spend per hour (epoch ms of the hour -> USD); `since` sums the hours from it on. */
function hourly(spend: Record<string, number>): (since: number) => Promise<number> {
  return (since) =>
    Promise.resolve(
      Object.entries(spend).reduce((sum, [iso, usd]) => at(iso) >= since ? sum + usd : sum, 0),
    );
}

/** The first hour boundary at which the spend left in the window is below the budget. */
async function bruteForce(budget: Budget, now: number, spentSince: (s: number) => Promise<number>) {
  for (let t = Math.floor(now / HOUR) * HOUR + HOUR;; t += HOUR) {
    if (await spentSince(budgetPeriodStart(budget.period, t)) < budget.usd) return t;
  }
}

Deno.test("a rolling window recovers when enough of its spend has left it", async () => {
  const now = at("2026-06-15T10:30:00Z");
  const spend = hourly({
    "2026-06-14T10:00:00Z": 2, // the window's first hour: it leaves at 11:00
    "2026-06-14T18:00:00Z": 3, // leaves at 2026-06-15T19:00
    "2026-06-15T09:00:00Z": 1,
  });
  const day: Budget = { usd: 5, period: "1d" };
  // 6 spent; 4 once the first hour has left: under 5 at 11:00.
  assert.equal(await budgetResetsAt(day, now, spend), at("2026-06-15T11:00:00Z"));
  // Under 2 only once the 18:00 hour has left too.
  const tight: Budget = { usd: 2, period: "1d" };
  assert.equal(await budgetResetsAt(tight, now, spend), at("2026-06-15T19:00:00Z"));
  // Under 1 only once everything has: the hour after the last spend, a day on.
  const tighter: Budget = { usd: 1, period: "1d" };
  assert.equal(await budgetResetsAt(tighter, now, spend), at("2026-06-16T10:00:00Z"));
  for (const budget of [day, tight, tighter]) {
    assert.equal(await budgetResetsAt(budget, now, spend), await bruteForce(budget, now, spend));
  }
});

Deno.test("a 30-day window is searched in about ten reads, to the same hour as hour by hour", async () => {
  const now = at("2026-06-15T10:30:00Z");
  const spend: Record<string, number> = {};
  for (let i = 0; i < 40; i++) {
    spend[new Date(now - (i * 17 + 3) * HOUR).toISOString().slice(0, 13) + ":00:00Z"] = i % 7;
  }
  const read = hourly(spend);
  let reads = 0;
  const counted = (since: number) => {
    reads++;
    return read(since);
  };
  for (const usd of [1, 20, 60, 100]) {
    const budget: Budget = { usd, period: "30d" };
    reads = 0;
    const found = await budgetResetsAt(budget, now, counted);
    assert.ok(reads <= 10, `${reads} reads`);
    assert.equal(found, await bruteForce(budget, now, read), `usd ${usd}`);
  }
});

Deno.test("the refusal names the budget, what was spent and when it resets", () => {
  const state: BudgetState = {
    scope: "key",
    id: "ci",
    label: 'key "ci"',
    budget: { usd: 25, period: "month" },
    spent: 25.0123456789,
  };
  assert.equal(
    exceededMessage(state, at("2026-07-01T00:00:00Z")),
    'budget exceeded: key "ci" has spent $25.012346 of its $25 budget per calendar month (UTC); ' +
      "it resets at 2026-07-01T00:00:00Z",
  );
  assert.equal(
    exceededMessage(
      { ...state, label: 'group "team-b"', budget: { usd: 0.5, period: "7d" }, spent: 0.5 },
      at("2026-06-20T11:00:00Z"),
    ),
    'budget exceeded: group "team-b" has spent $0.5 of its $0.5 budget per rolling 7 days; ' +
      "it is under budget again at 2026-06-20T11:00:00Z, as that spend leaves the window",
  );
  assert.match(
    exceededMessage({ ...state, budget: { usd: 0, period: "1d" }, spent: 0 }, null),
    /has a budget of \$0 per rolling day, which allows no spend$/,
  );
});

Deno.test("budgets without a store are a configuration error naming the budget", async () => {
  const parsed = await parseLines([
    "auth:",
    "  enabled: true",
    "  keys:",
    "    - name: free",
    '      key: "gw-free-0123456789abcdef"',
    "    - name: ci",
    '      key: "gw-ci-0123456789abcdef"',
    "      budget: {usd: 25, period: month}",
    "budgets:",
    "  per_user: {usd: 5, period: 1d}",
  ]);
  requireStoreForBudgets(parsed, true);
  assert.throws(() => requireStoreForBudgets(parsed, false), (err: unknown) => {
    assert.ok(err instanceof ConfigError);
    assert.match(
      err.message,
      /^auth\.keys\[1\]\.budget: a budget needs the store, .* \(and 1 more budgets\)/,
    );
    return true;
  });
  const none = await parseLines(["auth:", "  enabled: false"]);
  requireStoreForBudgets(none, false);
});
