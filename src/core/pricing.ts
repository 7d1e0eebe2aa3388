/**
 * What an answer cost, from the usage its provider reported and the price of the model that
 * served it: the provider's `models[].price` in the config, else the built-in table
 * (`price_table.ts`). A model without a price has no cost (null), never a made-up zero.
 */

import type { ModelPrice, ProviderConfig } from "../config/types.ts";
import { BUILTIN_PRICES } from "./price_table.ts";
import type { Usage } from "./usage.ts";

export { PRICES_TAKEN_ON } from "./price_table.ts";

/**
 * A version suffix the lookup drops when the full name has no price: a date (`-2024-08-06`,
 * `-20251001`), a three- or four-digit version (`-001`, `-0709`) or `-latest`.
 */
const VERSION_SUFFIX = /-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{3,4}|latest)$/;

/** Provider/model pairs warned about; beyond this many, unknown prices are no longer reported. */
const MAX_WARNED = 1_000;
const warned = new Set<string>();

/** Options for `costOf`. */
export interface CostOptions {
  /** Told, once per process for each provider and model, that the model has no price. */
  onUnknownPrice?: (provider: string, model: string) => void;
}

/**
 * The built-in price of a model: its exact name, else the name without one version suffix
 * (`claude-haiku-4-5-20251001` -> `claude-haiku-4-5`, `gpt-4o-2024-08-06` -> `gpt-4o`); null when
 * neither is listed.
 */
export function builtinPrice(model: string): ModelPrice | null {
  const exact = BUILTIN_PRICES.get(model);
  if (exact !== undefined) return exact;
  const suffix = VERSION_SUFFIX.exec(model);
  return suffix === null ? null : BUILTIN_PRICES.get(model.slice(0, suffix.index)) ?? null;
}

// Per provider config (one per configuration generation): model name -> configured price.
const overrides = new WeakMap<ProviderConfig, ReadonlyMap<string, ModelPrice>>();

/** The price of `model` at `provider`: its `models[].price` (exact name), else the built-in one. */
export function priceOf(provider: ProviderConfig, model: string): ModelPrice | null {
  let configured = overrides.get(provider);
  if (configured === undefined) {
    configured = new Map(
      provider.models.flatMap((m) => m.price === null ? [] : [[m.name, m.price] as const]),
    );
    overrides.set(provider, configured);
  }
  return configured.get(model) ?? builtinPrice(model);
}

/**
 * The cost in USD of `usage` at a price. Cached prompt tokens are part of `prompt_tokens` and
 * billed once, at `cached_input` (else at `input`). Rounded to 1e-10 USD.
 */
export function costAt(price: ModelPrice, usage: Usage): number {
  const cached = Math.min(usage.cached_tokens ?? 0, usage.prompt_tokens);
  const micros = (usage.prompt_tokens - cached) * price.input +
    cached * (price.cached_input ?? price.input) +
    usage.completion_tokens * price.output;
  return Math.round(micros * 1e4) / 1e10;
}

/**
 * The cost in USD of an answer of `model` at `provider`; null when the model has no price (the
 * first time for a provider/model, `options.onUnknownPrice` is told).
 */
export function costOf(
  provider: ProviderConfig,
  model: string,
  usage: Usage,
  options: CostOptions = {},
): number | null {
  const price = priceOf(provider, model);
  if (price !== null) return costAt(price, usage);
  const key = `${provider.name}/${model}`;
  if (options.onUnknownPrice !== undefined && !warned.has(key) && warned.size < MAX_WARNED) {
    warned.add(key);
    options.onUnknownPrice(provider.name, model);
  }
  return null;
}

/** A cost as a plain decimal (no exponent) for a header: `0.0000125`, `3.2`. */
export function formatUsd(cost: number): string {
  return cost.toFixed(10).replace(/\.?0+$/, "");
}
