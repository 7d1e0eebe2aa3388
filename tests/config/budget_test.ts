import assert from "node:assert/strict";
import { parseLines, rejectLines } from "./parse_helpers.ts";

Deno.test("budgets on a key, on groups and per user load as written", async () => {
  const config = await parseLines([
    "auth:",
    "  enabled: true",
    "  keys:",
    "    - name: ci",
    '      key: "gw-ci-0123456789abcdef"',
    "      groups: [team-a]",
    "      budget: {usd: 25, period: month}",
    "    - name: free",
    '      key: "gw-free-0123456789abcdef"',
    "budgets:",
    "  groups:",
    '    team-a: {usd: "100.5", period: 7d}',
    "    frozen: {usd: 0, period: 30d}",
    "  per_user: {usd: 5, period: 1d}",
  ]);
  assert.deepEqual(config.auth.keys[0]!.budget, { usd: 25, period: "month" });
  assert.equal(config.auth.keys[1]!.budget, null);
  assert.deepEqual(config.budgets, {
    groups: {
      "team-a": { usd: 100.5, period: "7d" },
      frozen: { usd: 0, period: "30d" },
    },
    per_user: { usd: 5, period: "1d" },
  });
});

Deno.test("without budgets the section defaults to none", async () => {
  const config = await parseLines(["server:", "  port: 8080"]);
  assert.deepEqual(config.budgets, { groups: {}, per_user: null });
});

Deno.test("a bad budget names the field and its line", async () => {
  const lines = await rejectLines([
    "auth:",
    "  keys:",
    "    - name: a",
    '      key: "gw-a-0123456789abcdef"',
    "      budget: {usd: -1, period: weekly}",
    "    - name: b",
    '      key: "gw-b-0123456789abcdef"',
    "      budget: {usd: 3}",
    "budgets:",
    "  groups:",
    '    team-b: {usd: "ten", period: 1d, limit: 1}',
    "  per_usr: {usd: 1, period: 1d}",
  ]);
  assert.deepEqual(lines, [
    "auth.keys[0].budget.usd: must not be negative (config.yaml:5)",
    'auth.keys[0].budget.period: expected one of "1d", "7d", "30d", "month", got "weekly" ' +
    "(config.yaml:5)",
    "auth.keys[1].budget.period: missing required key (config.yaml:8)",
    'budgets.groups.team-b.usd: expected a number, got "ten" (config.yaml:11)',
    "budgets.groups.team-b.limit: unknown key; expected one of: usd, period (config.yaml:11)",
    'budgets.per_usr: unknown key; did you mean "per_user"? (config.yaml:12)',
  ]);
});
