import type { AliasConfig } from "../config/types.ts";

/** The configured aliases, ready to resolve bare model names. */
export interface AliasTable {
  /**
   * The name `requested` stands for ("provider/model" or a strategy), or undefined when it has a
   * "/" or no alias matches. An exact pattern wins over a wildcard; among wildcards, the longest
   * literal prefix, then the longest literal suffix (two patterns that tie on both and match the
   * same name are the same pattern).
   */
  resolve(requested: string): string | undefined;
  /** Exact patterns and their targets, in config order: the aliases a model list can show. */
  readonly exact: ReadonlyMap<string, string>;
}

interface Wildcard {
  prefix: string;
  suffix: string;
  target: string;
}

/** Builds the table; the patterns and targets are the validated ones of the config. */
export function createAliasTable(aliases: readonly AliasConfig[]): AliasTable {
  const exact = new Map<string, string>();
  const wildcards: Wildcard[] = [];
  for (const { pattern, target } of aliases) {
    const star = pattern.indexOf("*");
    if (star === -1) exact.set(pattern, target);
    else {wildcards.push({
        prefix: pattern.slice(0, star),
        suffix: pattern.slice(star + 1),
        target,
      });}
  }
  // Sorted once, so the first match is the most specific.
  wildcards.sort((a, b) => b.prefix.length - a.prefix.length || b.suffix.length - a.suffix.length);

  function resolve(requested: string): string | undefined {
    if (requested.includes("/")) return undefined;
    const target = exact.get(requested);
    if (target !== undefined) return target;
    for (const w of wildcards) {
      // The pattern's `*` stands for at least one character.
      if (requested.length <= w.prefix.length + w.suffix.length) continue;
      if (!requested.startsWith(w.prefix) || !requested.endsWith(w.suffix)) continue;
      // The target's `*` is the requested name itself: `claude-*` -> `anthropic/*` keeps it whole.
      return w.target.replace("*", () => requested);
    }
    return undefined;
  }

  return { resolve, exact };
}
