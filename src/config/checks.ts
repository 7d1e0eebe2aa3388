/**
 * Cross-field checks that need the whole validated config: unique names, and strategies and
 * aliases that refer to providers and strategies which exist.
 */

import type { PendingIssue } from "./errors.ts";
import { closestMatch } from "./suggest.ts";
import type { GatewayConfig, StrategyConfig } from "./types.ts";

/** Finds problems no single field can see: duplicates, dangling and ambiguous names. */
export function crossCheck(config: GatewayConfig): PendingIssue[] {
  const issues: PendingIssue[] = [];
  const providerIndex = new Map<string, number>();
  config.providers.forEach((provider, index) => {
    const first = providerIndex.get(provider.name);
    if (first === undefined) providerIndex.set(provider.name, index);
    else {
      issues.push({
        path: ["providers", index, "name"],
        message: `duplicate provider name "${provider.name}" (first at providers[${first}])`,
      });
    }
  });
  const providerNames = [...providerIndex.keys()];

  const strategyIndex = new Map<string, number>();
  config.strategies.forEach((strategy, index) => {
    const namePath = ["strategies", index, "name"];
    const first = strategyIndex.get(strategy.name);
    if (first !== undefined) {
      issues.push({
        path: namePath,
        message: `duplicate strategy name "${strategy.name}" (first at strategies[${first}])`,
      });
    } else strategyIndex.set(strategy.name, index);
    if (providerIndex.has(strategy.name)) {
      issues.push({
        path: namePath,
        // `"model": "<name>"` must mean exactly one thing.
        message: `strategy name "${strategy.name}" is also a provider name; rename one of them`,
      });
    }
    if (strategy.kind === "chain") {
      strategy.providers.forEach((provider, position) => {
        if (providerIndex.has(provider)) return;
        issues.push({
          path: ["strategies", index, "providers", position],
          message: unknownProvider(provider, providerNames),
        });
      });
    } else {
      strategy.targets.forEach((target, position) => {
        const provider = target.model.slice(0, target.model.indexOf("/"));
        if (providerIndex.has(provider)) return;
        issues.push({
          path: ["strategies", index, "targets", position, "model"],
          message: unknownProvider(provider, providerNames),
        });
      });
    }
  });
  issues.push(...aliasIssues(config, providerNames, strategyIndex));
  return issues;
}

/** An alias must name a known provider or a strategy with targets, and not shadow a strategy. */
function aliasIssues(
  config: GatewayConfig,
  providerNames: readonly string[],
  strategyIndex: ReadonlyMap<string, number>,
): PendingIssue[] {
  const issues: PendingIssue[] = [];
  const strategyOf = (name: string): StrategyConfig | undefined => {
    const index = strategyIndex.get(name);
    return index === undefined ? undefined : config.strategies[index];
  };
  const virtualNames = config.strategies.filter((s) => s.kind === "virtual").map((s) => s.name);
  const patterns = new Set(config.aliases.map((alias) => alias.pattern));
  for (const { pattern, target } of config.aliases) {
    const path = ["aliases", pattern];
    if (strategyOf(pattern) !== undefined) {
      issues.push({
        path,
        atKey: true,
        // The strategy would always win, leaving the alias unreachable.
        message: `alias "${pattern}" is also a strategy name; rename one of them`,
      });
    }
    const slash = target.indexOf("/");
    if (slash > 0) {
      const provider = target.slice(0, slash);
      if (!providerNames.includes(provider)) {
        issues.push({ path, message: unknownProvider(provider, providerNames) });
      }
      continue;
    }
    const strategy = strategyOf(target);
    if (strategy?.kind === "virtual") continue;
    issues.push({
      path,
      message: strategy?.kind === "chain"
        ? `"${target}" is a provider chain, not a model; an alias names "provider/model" or a strategy with targets`
        : unknownStrategy(target, virtualNames, patterns.has(target)),
    });
  }
  return issues;
}

function unknownStrategy(name: string, known: readonly string[], isAlias: boolean): string {
  const head = `unknown strategy "${name}"`;
  if (isAlias) return `${head}: it is an alias, and an alias cannot name another alias`;
  const hint = closestMatch(name, known);
  if (hint !== undefined) return `${head}; did you mean "${hint}"?`;
  return known.length > 0
    ? `${head}; strategies with targets: ${known.join(", ")}`
    : `${head}; no strategy has targets, so name a "provider/model"`;
}

function unknownProvider(provider: string, known: readonly string[]): string {
  const head = `unknown provider "${provider}"`;
  const hint = closestMatch(provider, known);
  if (hint !== undefined) return `${head}; did you mean "${hint}"?`;
  return known.length > 0
    ? `${head}; known providers: ${known.join(", ")}`
    : `${head}; no providers are configured`;
}
