/**
 * Cross-field checks that need the whole validated config: unique names and
 * strategies that refer to providers which exist.
 */

import type { PendingIssue } from "./errors.ts";
import { closestMatch } from "./suggest.ts";
import type { GatewayConfig } from "./types.ts";

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
  return issues;
}

function unknownProvider(provider: string, known: readonly string[]): string {
  const head = `unknown provider "${provider}"`;
  const hint = closestMatch(provider, known);
  if (hint !== undefined) return `${head}; did you mean "${hint}"?`;
  return known.length > 0
    ? `${head}; known providers: ${known.join(", ")}`
    : `${head}; no providers are configured`;
}
