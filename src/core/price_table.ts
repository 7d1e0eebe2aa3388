/**
 * The built-in list prices, in USD per million tokens, of well-known models under the names their
 * own APIs use (the model part of "provider/model"). A provider's `models[].price` overrides them;
 * `src/core/pricing.ts` looks them up. Only standard, pay-as-you-go text prices are listed: batch,
 * priority, regional and long-prompt rates are not. Where a provider bills more than one rate for
 * the same tokens (DeepSeek's peak and off-peak hours), the higher one is listed.
 */

import type { ModelPrice } from "../config/types.ts";

/** The day the table was read from the providers' pricing pages (ISO date). */
export const PRICES_TAKEN_ON = "2026-12-03";

/** `input`, `output` and, when the provider bills cache reads apart, `cached_input`. */
function usd(input: number, output: number, cached_input: number | null = null): ModelPrice {
  return { input, output, cached_input };
}

// Sources: developers.openai.com/api/docs/pricing, platform.claude.com/docs/en/about-claude/pricing,
// ai.google.dev/gemini-api/docs/pricing, mistral.ai/pricing, api-docs.deepseek.com (Models &
// Pricing), groq.com/pricing, docs.x.ai/developers/models.
const TABLE: Record<string, ModelPrice> = {
  // OpenAI
  "gpt-4o": usd(2.5, 10, 1.25),
  // The first GPT-4o snapshot kept its launch price.
  "gpt-4o-2024-05-13": usd(5, 15),
  "gpt-4o-mini": usd(0.15, 0.6, 0.075),
  "gpt-4.1": usd(2, 8, 0.5),
  "gpt-4.1-mini": usd(0.4, 1.6, 0.1),
  "gpt-4.1-nano": usd(0.1, 0.4, 0.025),
  "o1": usd(15, 60, 7.5),
  "o3": usd(2, 8, 0.5),
  "o3-mini": usd(1.1, 4.4, 0.55),
  "o3-pro": usd(20, 80),
  "o4-mini": usd(1.1, 4.4, 0.275),
  "gpt-5": usd(1.25, 10, 0.125),
  "gpt-5-mini": usd(0.25, 2, 0.025),
  "gpt-5-nano": usd(0.05, 0.4, 0.005),
  "gpt-5-pro": usd(15, 120),
  "gpt-5.1": usd(1.25, 10, 0.125),
  "gpt-5.2": usd(1.75, 14, 0.175),
  "gpt-5.2-pro": usd(21, 168),
  "gpt-5.4": usd(2.5, 15, 0.25),
  "gpt-5.4-mini": usd(0.75, 4.5, 0.075),
  "gpt-5.4-nano": usd(0.2, 1.25, 0.02),
  "gpt-5.5": usd(5, 30, 0.5),
  "gpt-5.5-pro": usd(30, 180),

  // Anthropic: cache writes are billed above the input price; the gateway counts them as input.
  "claude-opus-5-5": usd(4, 20, 0.2),
  "claude-opus-5": usd(5, 25, 0.5),
  "claude-sonnet-5-5": usd(2, 10, 0.1),
  "claude-sonnet-5": usd(2, 10, 0.2),
  "claude-opus-4-8": usd(5, 25, 0.5),
  "claude-opus-4-7": usd(5, 25, 0.5),
  "claude-opus-4-6": usd(5, 25, 0.5),
  "claude-opus-4-5": usd(5, 25, 0.5),
  "claude-opus-4-1": usd(15, 75, 1.5),
  "claude-opus-4": usd(15, 75, 1.5),
  "claude-opus-4-0": usd(15, 75, 1.5),
  "claude-sonnet-4-6": usd(3, 15, 0.3),
  "claude-sonnet-4-5": usd(3, 15, 0.3),
  "claude-sonnet-4": usd(3, 15, 0.3),
  "claude-sonnet-4-0": usd(3, 15, 0.3),
  "claude-haiku-4-5": usd(1, 5, 0.1),
  "claude-3-7-sonnet": usd(3, 15, 0.3),
  "claude-3-5-sonnet": usd(3, 15, 0.3),
  "claude-3-5-haiku": usd(0.8, 4, 0.08),
  "claude-3-haiku": usd(0.25, 1.25, 0.03),

  // Google Gemini (2.5 Pro: prompts up to 200k tokens)
  "gemini-2.5-pro": usd(1.25, 10, 0.125),
  "gemini-2.5-flash": usd(0.3, 2.5, 0.03),
  "gemini-2.5-flash-lite": usd(0.1, 0.4, 0.01),
  "gemini-2.0-flash": usd(0.1, 0.4, 0.025),
  "gemini-2.0-flash-lite": usd(0.075, 0.3),

  // Mistral: dated names only, since a "-latest" alias moves to newer, differently priced models.
  "mistral-large-2411": usd(2, 6),
  "mistral-large-2407": usd(2, 6),
  "mistral-medium-2508": usd(0.4, 2),
  "mistral-medium-2505": usd(0.4, 2),
  "mistral-small-2506": usd(0.1, 0.3),
  "mistral-small-2503": usd(0.1, 0.3),
  "codestral-2508": usd(0.3, 0.9),
  "ministral-8b-2410": usd(0.1, 0.1),
  "ministral-3b-2410": usd(0.04, 0.04),
  "open-mistral-nemo": usd(0.15, 0.15),

  // DeepSeek: peak-hour rates (off-peak hours cost half); deepseek-v4-flash is billed as Flash.
  "deepseek-flash": usd(0.3, 1.2, 0.006),
  "deepseek-v4-flash": usd(0.3, 1.2, 0.006),
  "deepseek-v4-pro": usd(1.32, 3.96, 0.044),

  // Llama on Groq
  "llama-3.1-8b-instant": usd(0.05, 0.08),
  "llama-3.3-70b-versatile": usd(0.59, 0.79),
  "meta-llama/llama-4-scout-17b-16e-instruct": usd(0.11, 0.34),
  "meta-llama/llama-4-maverick-17b-128e-instruct": usd(0.2, 0.6),

  // xAI (prompts below the long-context threshold)
  "grok-4.5": usd(2, 6, 0.5),
  "grok-4.3": usd(1.25, 2.5, 0.2),
  "grok-4-0709": usd(3, 15, 0.75),
  "grok-4-1-fast-reasoning": usd(0.2, 0.5, 0.05),
  "grok-4-1-fast-non-reasoning": usd(0.2, 0.5, 0.05),
  "grok-4-fast-reasoning": usd(0.2, 0.5, 0.05),
  "grok-4-fast-non-reasoning": usd(0.2, 0.5, 0.05),
  "grok-code-fast-1": usd(0.2, 1.5, 0.02),
  "grok-3": usd(3, 15, 0.75),
  "grok-3-mini": usd(0.3, 0.5, 0.075),
};

/** Model name (as its provider's API spells it) -> price. */
export const BUILTIN_PRICES: ReadonlyMap<string, ModelPrice> = new Map(Object.entries(TABLE));
