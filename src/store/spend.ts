/**
 * Spend bookkeeping shared by the engines: each usage record's cost is added to an hourly bucket
 * of its key, its user and each of its groups, so a budget check sums at most a few hundred rows
 * however many requests the period held.
 */

import type { BudgetPeriod, SpendScope, UsageRecord } from "./store.ts";

const HOUR_MS = 3_600_000;
const DAY_MS = 24 * HOUR_MS;

/** The start of the UTC hour holding `time`. */
export function hourOf(time: number): number {
  return Math.floor(time / HOUR_MS) * HOUR_MS;
}

/** Cost to add to one bucket. */
export interface SpendIncrement {
  scope: SpendScope;
  id: string;
  /** Start of the UTC hour, epoch ms. */
  hour: number;
  cost_usd: number;
}

/**
 * The bucket increments for a batch of records, one per (scope, id, hour), sorted so that every
 * writer takes row locks in the same order (two Postgres writers cannot deadlock on them).
 */
export function spendIncrements(records: readonly UsageRecord[]): SpendIncrement[] {
  const sums = new Map<string, SpendIncrement>();
  const add = (scope: SpendScope, id: string, hour: number, cost: number) => {
    const key = JSON.stringify([scope, id, hour]);
    const entry = sums.get(key);
    if (entry === undefined) sums.set(key, { scope, id, hour, cost_usd: cost });
    else entry.cost_usd += cost;
  };
  for (const record of records) {
    const cost = record.cost_usd;
    if (cost === null || cost === 0 || !Number.isFinite(cost)) continue;
    const hour = hourOf(record.time);
    const keyId = record.key_id ?? record.key_name;
    if (keyId !== null) add("key", keyId, hour, cost);
    if (record.user !== null) add("user", record.user, hour, cost);
    for (const group of new Set(record.groups)) add("group", group, hour, cost);
  }
  return [...sums.values()].sort(compareIncrements);
}

function compareIncrements(a: SpendIncrement, b: SpendIncrement): number {
  return compareText(a.scope, b.scope) || compareText(a.id, b.id) || a.hour - b.hour;
}

/** Code-unit order, the same in every engine and locale. */
export function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Where a budget's current period starts: for `1d`, `7d` and `30d` the hour that began that long
 * before `now` (so the window slides hourly and spend is counted in whole hours), for `month`
 * the first of the UTC month.
 */
export function budgetPeriodStart(period: BudgetPeriod, now: number): number {
  switch (period) {
    case "1d":
      return hourOf(now - DAY_MS);
    case "7d":
      return hourOf(now - 7 * DAY_MS);
    case "30d":
      return hourOf(now - 30 * DAY_MS);
    case "month": {
      const date = new Date(now);
      return Date.UTC(date.getUTCFullYear(), date.getUTCMonth(), 1);
    }
  }
}
