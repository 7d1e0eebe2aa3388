import type { Caller } from "../auth/caller.ts";
import type { GatewayConfig, VirtualStrategyConfig } from "../config/types.ts";
import { type AliasTable, createAliasTable } from "./aliases.ts";
import { GatewayError } from "./errors.ts";
import type { Target } from "./router.ts";

/** Decides which models a caller may use: `allowed_groups` per model, narrowed by a key's list. */
export interface AccessPolicy {
  /** Removes targets the caller may not use; throws 403 when the requested model itself is denied. */
  filterPlan(caller: Caller | null, requested: string, plan: readonly Target[]): Target[];
  /**
   * Whether a model-list entry (`provider/model`, a strategy or an alias name) is shown to the
   * caller. An alias is judged by what it stands for.
   */
  listed(caller: Caller | null, id: string): boolean;
}

/**
 * Builds the policy from the providers' static model lists and the strategies. An alias is
 * judged by its target: the rules of `provider/model` or of the strategy it names apply.
 */
export function createAccessPolicy(
  config: GatewayConfig,
  aliases: AliasTable = createAliasTable(config.aliases),
): AccessPolicy {
  const restricted = new Map<string, readonly string[]>();
  for (const p of config.providers) {
    for (const m of p.models) {
      if (m.allowed_groups !== null) restricted.set(`${p.name}/${m.name}`, m.allowed_groups);
    }
  }
  const virtual = new Map<string, VirtualStrategyConfig>();
  for (const s of config.strategies) if (s.kind === "virtual") virtual.set(s.name, s);

  function groupsAllow(caller: Caller | null, id: string): boolean {
    const groups = restricted.get(id);
    if (groups === undefined) return true;
    return caller !== null && caller.groups.some((g) => groups.includes(g));
  }

  function keyAllows(caller: Caller | null, id: string, via?: string): boolean {
    const models = caller?.models;
    if (models === null || models === undefined) return true;
    const provider = id.slice(0, id.indexOf("/") + 1);
    return models.some((m) =>
      m === id || (m.endsWith("/*") && provider === m.slice(0, -1)) ||
      (via !== undefined && m === via && virtual.has(via))
    );
  }

  function allowed(caller: Caller | null, target: Target): boolean {
    const id = `${target.provider.name}/${target.model}`;
    return groupsAllow(caller, id) && keyAllows(caller, id, target.via);
  }

  function deny(caller: Caller | null, requested: string): GatewayError {
    const who = caller === null ? "an unauthenticated caller" : `caller "${caller.name}"`;
    return new GatewayError(
      "model_not_allowed",
      `model "${requested}" is not available to ${who}`,
      {
        param: "model",
      },
    );
  }

  return {
    filterPlan(caller, requested, plan) {
      const first = plan[0];
      // The model the client asked for must itself be allowed: no silent substitution.
      if (first === undefined) return [];
      const named = virtual.has(requested) ? requested : aliases.resolve(requested) ?? requested;
      if (virtual.has(named) ? !keyAllows(caller, "", named) : !allowed(caller, first)) {
        throw deny(caller, requested);
      }
      const kept = plan.filter((t) => allowed(caller, t));
      if (kept.length === 0) throw deny(caller, requested);
      return kept;
    },
    listed(caller, name) {
      const id = virtual.has(name) ? name : aliases.resolve(name) ?? name;
      const strategy = virtual.get(id);
      if (strategy === undefined) return groupsAllow(caller, id) && keyAllows(caller, id);
      if (!keyAllows(caller, "", id)) return false;
      return strategy.targets.some((t) => groupsAllow(caller, t.model));
    },
  };
}
