import type { GatewayConfig, StrategyTarget, VirtualStrategyConfig } from "../config/types.ts";
import { type Endpoint, type Provider, unservedReason } from "./provider.ts";
import { type AliasTable, createAliasTable } from "./aliases.ts";
import { GatewayError } from "./errors.ts";

/** One place a request may be served: a provider and the model name it knows. */
export interface Target {
  provider: Provider;
  model: string;
  /**
   * The requested name that led here, an alias replaced by its target: `"a/m"` (also for its
   * chain), or a strategy's name.
   */
  via: string;
}

/** Turns a requested model (plus an optional request-level fallback list) into an ordered plan. */
export interface Router {
  /** Ordered, de-duplicated targets; throws `GatewayError` for names that resolve to nothing. */
  plan(model: string, fallbacks?: readonly string[]): Target[];
  /** Virtual model names (strategies with targets), for the model list. */
  readonly virtualModels: readonly string[];
  /** The configured aliases, for the model list and the access policy. */
  readonly aliases: AliasTable;
}

/** Builds the router for a configuration and its enabled providers. */
export function createRouter(
  config: GatewayConfig,
  providers: ReadonlyMap<string, Provider>,
  options: { random?: () => number } = {},
): Router {
  const random = options.random ?? Math.random;
  const aliases = createAliasTable(config.aliases);
  const disabled = new Set(config.providers.filter((p) => !p.enabled).map((p) => p.name));
  const virtual = new Map<string, VirtualStrategyConfig>();
  const chains = new Set<string>();
  // For each provider, the providers after it in the first chain that names it.
  const chainRest = new Map<string, string[]>();
  for (const strategy of config.strategies) {
    if (strategy.kind === "virtual") {
      virtual.set(strategy.name, strategy);
      continue;
    }
    chains.add(strategy.name);
    strategy.providers.forEach((name, i) => {
      if (!chainRest.has(name)) chainRest.set(name, strategy.providers.slice(i + 1));
    });
  }

  function provider(name: string, requested: string, resolved: string): Provider {
    const found = providers.get(name);
    if (found !== undefined) return found;
    const why = disabled.has(name) ? "is disabled" : "is not configured";
    throw new GatewayError(
      "model_not_found",
      `model ${describe(requested, resolved)}: provider "${name}" ${why} (enabled providers: ${
        [...providers.keys()].join(", ") || "none"
      })`,
      { param: "model" },
    );
  }

  // A name the request spells out ("provider/model", a strategy) wins over any alias.
  function resolve(requested: string): Target[] {
    const slash = requested.indexOf("/");
    if (slash > 0 && slash < requested.length - 1) return providerTargets(requested, requested);
    const strategy = virtual.get(requested);
    if (strategy !== undefined) return strategyTargets(strategy, requested);
    const target = aliases.resolve(requested);
    if (target === undefined) {
      throw new GatewayError("model_not_found", bareModelMessage(requested), { param: "model" });
    }
    if (target.includes("/")) return providerTargets(target, requested);
    const aliased = virtual.get(target);
    if (aliased !== undefined) return strategyTargets(aliased, requested);
    // Config validation rules this out; a hand-built config may still get here.
    throw new GatewayError(
      "model_not_found",
      `model ${describe(requested, target)}: no strategy has that name`,
      { param: "model" },
    );
  }

  /** `name` is "provider/model": the requested name, or what the alias `requested` stands for. */
  function providerTargets(name: string, requested: string): Target[] {
    const slash = name.indexOf("/");
    const providerName = name.slice(0, slash);
    const model = name.slice(slash + 1);
    const targets = [{ provider: provider(providerName, requested, name), model, via: name }];
    for (const next of chainRest.get(providerName) ?? []) {
      const p = providers.get(next);
      if (p !== undefined) targets.push({ provider: p, model, via: name });
    }
    return targets;
  }

  function strategyTargets(strategy: VirtualStrategyConfig, requested: string): Target[] {
    const ordered = strategy.mode === "loadbalance"
      ? weightedOrder(strategy.targets, random)
      : strategy.targets;
    const targets: Target[] = [];
    for (const t of ordered) {
      const slash = t.model.indexOf("/");
      const p = providers.get(t.model.slice(0, slash));
      if (p !== undefined) {
        targets.push({ provider: p, model: t.model.slice(slash + 1), via: strategy.name });
      }
    }
    if (targets.length === 0) {
      throw new GatewayError(
        "model_not_found",
        `model ${describe(requested, strategy.name)}: none of its targets' providers is enabled`,
        { param: "model" },
      );
    }
    return targets;
  }

  function bareModelMessage(requested: string): string {
    const hint = chains.has(requested)
      ? `"${requested}" is a provider chain, not a model; request "provider/model" with a provider in it`
      : `name it as "provider/model" (providers: ${[...providers.keys()].join(", ") || "none"})${
        virtual.size > 0 ? ` or use a strategy (${[...virtual.keys()].join(", ")})` : ""
      }`;
    return `model "${requested}" has no provider prefix and no strategy or alias matches it: ${hint}`;
  }

  function plan(model: string, fallbacks: readonly string[] = []): Target[] {
    const seen = new Set<string>();
    const targets: Target[] = [];
    for (const requested of [model, ...fallbacks]) {
      for (const t of resolve(requested)) {
        const key = `${t.provider.name}/${t.model}`;
        if (seen.has(key)) continue;
        seen.add(key);
        targets.push(t);
      }
    }
    return targets;
  }

  return { plan, virtualModels: [...virtual.keys()], aliases };
}

/** How an error names the requested model: `"fast"`, or `"fast" (an alias of "a/m")`. */
function describe(requested: string, resolved: string): string {
  return requested === resolved ? `"${requested}"` : `"${requested}" (an alias of "${resolved}")`;
}

/**
 * The targets whose provider serves `endpoint`. When none does, no attempt could succeed: the
 * request is refused with the adapters' reasons instead of failing at every provider.
 */
export function servingTargets(plan: Target[], endpoint: Endpoint): Target[] {
  // A plan kept whole, the common case, is returned as it is: no copy.
  let serving: Target[] | undefined;
  for (let i = 0; i < plan.length; i++) {
    const target = plan[i]!;
    if (unservedReason(target.provider, endpoint) === undefined) serving?.push(target);
    else serving ??= plan.slice(0, i);
  }
  if (serving === undefined) return plan;
  if (serving.length > 0) return serving;
  const reasons = new Set(plan.map((t) => unservedReason(t.provider, endpoint)));
  throw new GatewayError("invalid_request", [...reasons].join("; "), { param: "model" });
}

/** Weighted random order without replacement: heavier targets tend to come first. */
function weightedOrder(targets: readonly StrategyTarget[], random: () => number): StrategyTarget[] {
  const pool = [...targets];
  const out: StrategyTarget[] = [];
  while (pool.length > 0) {
    const total = pool.reduce((sum, t) => sum + t.weight, 0);
    let pick = random() * total;
    let index = pool.length - 1;
    for (let i = 0; i < pool.length; i++) {
      pick -= pool[i]!.weight;
      if (pick < 0) {
        index = i;
        break;
      }
    }
    out.push(...pool.splice(index, 1));
  }
  return out;
}
