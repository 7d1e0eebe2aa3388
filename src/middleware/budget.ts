import type { Caller } from "../auth/caller.ts";
import { ConfigError, formatPath } from "../config/errors.ts";
import type { BudgetsConfig, GatewayConfig } from "../config/types.ts";
import { formatUsd } from "../core/pricing.ts";
import type { Context, Middleware } from "../http/context.ts";
import { errorResponse, errorShapeOf } from "../http/errors.ts";
import { budgetPeriodStart, hourOf } from "../store/spend.ts";
import type { SpendCache } from "../store/spend_cache.ts";
import type { Budget, BudgetPeriod, SpendScope } from "../store/store.ts";
import { RequestTokens } from "./rate_limit.ts";

/** On every answer to a caller with budgets: the least left of them, in USD, before this request. */
export const BUDGET_REMAINING = "x-gateway-budget-remaining-usd";

const HOUR_MS = 3_600_000;
const PERIOD_HOURS: Record<Exclude<BudgetPeriod, "month">, number> = {
  "1d": 24,
  "7d": 7 * 24,
  "30d": 30 * 24,
};

/** A budget that applies to a caller: whose spend it limits, and how a message names it. */
export interface AppliedBudget {
  scope: SpendScope;
  /** The spend's id: a virtual key's id or a config key's name, the token subject, the group. */
  id: string;
  /** `key "ci"`, `user "alice"`, `group "team-a"`. */
  label: string;
  budget: Budget;
}

/** An applied budget with what has been spent of it in its current period. */
export interface BudgetState extends AppliedBudget {
  spent: number;
}

/**
 * The budgets a caller is held to: its key's own, the per-user budget for a token's subject, and
 * the budget of each of its groups that has one. Each is checked on its own.
 */
export function budgetsOf(config: BudgetsConfig, caller: Caller): AppliedBudget[] {
  const out: AppliedBudget[] = [];
  if (caller.kind === "key" && caller.budget) {
    out.push({
      scope: "key",
      id: caller.keyId ?? caller.name,
      label: `key "${caller.name}"`,
      budget: caller.budget,
    });
  }
  if (caller.kind === "jwt" && config.per_user !== null) {
    out.push({
      scope: "user",
      id: caller.name,
      label: `user "${caller.name}"`,
      budget: config.per_user,
    });
  }
  caller.groups.forEach((group, i) => {
    const budget = Object.hasOwn(config.groups, group) ? config.groups[group] : undefined;
    if (budget === undefined || caller.groups.indexOf(group) !== i) return;
    out.push({ scope: "group", id: group, label: `group "${group}"`, budget });
  });
  return out;
}

/** The config fields that set a budget, e.g. `auth.keys[0].budget`; empty when none does. */
export function budgetFields(config: GatewayConfig): string[] {
  const fields = config.auth.keys.flatMap((key, i) =>
    key.budget === null ? [] : [formatPath(["auth", "keys", i, "budget"])]
  );
  for (const group of Object.keys(config.budgets.groups)) {
    fields.push(formatPath(["budgets", "groups", group]));
  }
  if (config.budgets.per_user !== null) fields.push("budgets.per_user");
  return fields;
}

/**
 * Budgets are counted in the store: a configuration that sets one while the gateway has no store
 * is refused rather than served with its budgets silently unenforced.
 */
export function requireStoreForBudgets(config: GatewayConfig, hasStore: boolean): void {
  const fields = budgetFields(config);
  if (hasStore || fields.length === 0) return;
  const more = fields.length > 1 ? ` (and ${fields.length - 1} more budgets)` : "";
  throw new ConfigError([{
    path: fields[0]!,
    message: `a budget needs the store, where spend is counted, and this gateway has none open` +
      `${more}; set storage: (or make ./data writable), or remove the budgets`,
  }]);
}

/** What is left across budgets: the least, never below zero. */
export function remainingUsd(states: readonly BudgetState[]): number {
  let least = Infinity;
  for (const s of states) least = Math.min(least, s.budget.usd - s.spent);
  return Math.max(0, least);
}

/** Midnight UTC on the first of the month after `now`'s: when a `month` budget starts again. */
export function nextMonthStart(now: number): number {
  const date = new Date(now);
  return Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + 1, 1);
}

/**
 * When a spent budget lets requests through again; null for a budget of 0, which never does.
 * A calendar month starts again on the first of the next. A rolling window slides by the hour,
 * and spend leaves it a whole period after its hour: it recovers at the first hour when what is
 * left in the window is below the budget, found by a binary search over `spentSince` (the spend
 * since an hour: 5 reads for `1d`, 10 for `30d`).
 */
export async function budgetResetsAt(
  budget: Budget,
  now: number,
  spentSince: (since: number) => Promise<number>,
): Promise<number | null> {
  if (!(budget.usd > 0)) return null;
  if (budget.period === "month") return nextMonthStart(now);
  const periodMs = PERIOD_HOURS[budget.period] * HOUR_MS;
  const start = budgetPeriodStart(budget.period, now);
  // The window starting after the current hour holds no spend yet: the search ends there.
  let lo = 1;
  let hi = (hourOf(now) + HOUR_MS - start) / HOUR_MS;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    if (await spentSince(start + mid * HOUR_MS) < budget.usd) hi = mid;
    else lo = mid + 1;
  }
  return start + lo * HOUR_MS + periodMs;
}

/** How a message names a budget's period. */
export function describePeriod(period: BudgetPeriod): string {
  switch (period) {
    case "month":
      return "per calendar month (UTC)";
    case "1d":
      return "per rolling day";
    default:
      return `per rolling ${period.slice(0, -1)} days`;
  }
}

/** An RFC 3339 time in UTC, to the second. */
export function rfc3339(time: number): string {
  return new Date(time).toISOString().replace(/\.\d+Z$/, "Z");
}

/** The refusal's message: which budget, what was spent of it, and when it starts again. */
export function exceededMessage(state: BudgetState, resetsAt: number | null): string {
  const { label, budget } = state;
  const period = describePeriod(budget.period);
  if (resetsAt === null) {
    return `budget exceeded: ${label} has a budget of $0 ${period}, which allows no spend`;
  }
  const when = budget.period === "month"
    ? `it resets at ${rfc3339(resetsAt)}`
    : `it is under budget again at ${rfc3339(resetsAt)}, as that spend leaves the window`;
  return `budget exceeded: ${label} has spent $${dollars(state.spent)} of its $${
    dollars(budget.usd)
  } budget ${period}; ${when}`;
}

/** Dollars to the micro-dollar, without trailing zeros: `25`, `0.0123`. */
function dollars(usd: number): string {
  return usd.toFixed(6).replace(/\.?0+$/, "");
}

/** Options for `budgetCheck`. */
export interface BudgetCheckOptions {
  /** The spend the budgets are checked against. */
  spend: SpendCache;
  /** The paths whose requests spend (the proxied APIs); others are not checked. */
  spending: ReadonlySet<string>;
  /** Epoch milliseconds (default `Date.now`). */
  now?: () => number;
}

/**
 * Refuses a request whose caller has spent one of its budgets (429 `budget_exceeded`, with
 * `Retry-After`) before it is forwarded, and tells every caller with budgets what is left
 * (`x-gateway-budget-remaining-usd`). It only reads spend: a request's cost is added to the store
 * by its usage record. Callers without budgets pass without a read.
 */
export function budgetCheck(config: BudgetsConfig, options: BudgetCheckOptions): Middleware {
  const { spend, spending } = options;
  const now = options.now ?? Date.now;
  /** When a spent budget recovers, kept as long as a spend read is (searching it takes reads). */
  const resets = new Map<string, { at: number; value: number | null }>();

  async function resetOf(state: BudgetState, at: number): Promise<number | null> {
    const key = `${state.scope}:${state.id}:${state.budget.usd}:${state.budget.period}`;
    const known = resets.get(key);
    if (known !== undefined && at - known.at < spend.ttlMs) return known.value;
    let value: number | null;
    try {
      value = await budgetResetsAt(
        state.budget,
        at,
        (since) => spend.spentNow(state.scope, state.id, since),
      );
    } catch {
      // The store cannot say how a rolling window's spend is spread: the latest the budget can
      // recover is when all of it has left.
      const { period } = state.budget;
      value = period === "month"
        ? nextMonthStart(at)
        : hourOf(at) + HOUR_MS + PERIOD_HOURS[period] * HOUR_MS;
    }
    if (resets.size >= 10_000) resets.clear();
    resets.set(key, { at, value });
    return value;
  }

  async function refuse(ctx: Context, exceeded: BudgetState[], at: number): Promise<Response> {
    // The request waits for every spent budget: the one that recovers last is the one to name.
    let chosen = exceeded[0]!;
    let resetsAt = await resetOf(chosen, at);
    for (const state of exceeded.slice(1)) {
      const value = await resetOf(state, at);
      if (resetsAt !== null && (value === null || value > resetsAt)) {
        chosen = state;
        resetsAt = value;
      }
    }
    const message = exceededMessage(chosen, resetsAt);
    ctx.state["error.code"] = "budget_exceeded";
    ctx.state["error.message"] = message;
    const headers: Record<string, string> = { [BUDGET_REMAINING]: "0" };
    if (resetsAt !== null) {
      headers["retry-after"] = String(Math.max(1, Math.ceil((resetsAt - at) / 1000)));
    }
    return errorResponse(
      429,
      { message, type: "rate_limit_error", code: "budget_exceeded" },
      headers,
      errorShapeOf(ctx.path, ctx.request.headers),
    );
  }

  async function check(ctx: Context, next: () => Promise<Response>, applied: AppliedBudget[]) {
    const at = now();
    const states = await Promise.all(applied.map(async (b): Promise<BudgetState> => ({
      ...b,
      spent: await spend.spent(b.scope, b.id, budgetPeriodStart(b.budget.period, at)),
    })));
    const exceeded = states.filter((s) => s.spent >= s.budget.usd);
    if (exceeded.length > 0) return await refuse(ctx, exceeded, at);
    // A stream that does not report its usage would have no cost to count against the budget.
    ctx.tokenBudget ??= new RequestTokens();
    const res = await next();
    res.headers.set(BUDGET_REMAINING, formatUsd(remainingUsd(states)));
    return res;
  }

  return function budgetMiddleware(ctx: Context, next) {
    if (ctx.caller === null || !spending.has(routePath(ctx.path))) return next();
    const applied = budgetsOf(config, ctx.caller);
    return applied.length === 0 ? next() : check(ctx, next, applied);
  };
}

/** The path the router matches: without one trailing slash. */
function routePath(path: string): string {
  return path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
}
