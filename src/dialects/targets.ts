/**
 * What a translation from another API needs to know about the hub target it reaches: its output
 * limit and whether it takes `reasoning_effort`. Shared by the Messages and Responses dialects.
 */
import type { Target } from "../core/router.ts";

/**
 * Output limits of well-known models (tokens): a client's `max_tokens` above the target's limit
 * is lowered to it rather than refused upstream. Claude Code asks for 32,000 whatever the model.
 * Longest prefix wins.
 */
const OUTPUT_LIMITS: readonly [prefix: string, tokens: number][] = [
  ["gpt-4o", 16_384],
  ["gpt-4.1", 32_768],
  ["gpt-4-turbo", 4_096],
  ["gpt-3.5-turbo", 4_096],
  ["gpt-5", 128_000],
  ["o1", 100_000],
  ["o3", 100_000],
  ["o4-mini", 100_000],
  ["gemini-1.5", 8_192],
  ["gemini-2.0", 8_192],
  ["gemini-2.5", 65_536],
  ["deepseek-chat", 8_192],
  ["deepseek-reasoner", 65_536],
  ["mistral-large", 131_072],
  ["llama-3.1", 8_192],
  ["llama-3.3", 32_768],
];

/** What a translation needs to know about the target it reaches. */
export interface TargetTraits {
  /** The target model's output limit: a larger requested maximum is lowered to it. */
  maxOutputTokens?: number;
  /** The target takes `reasoning_effort`: a request's reasoning maps to it instead of dropped. */
  supportsReasoningEffort?: boolean;
}

/** A target's traits, for `messagesToChat` and `responsesToChat`. */
export function traitsOf(target: Target): TargetTraits {
  return {
    maxOutputTokens: outputLimit(target),
    supportsReasoningEffort: takesReasoningEffort(target),
  };
}

/** A requested output maximum, lowered to the target's limit when above it. */
export function clampOutput(asked: number, traits: TargetTraits): number {
  const limit = traits.maxOutputTokens;
  return limit !== undefined && asked > limit ? limit : asked;
}

/** The output limit of a target model: its configured `max_output_tokens`, else a known one. */
function outputLimit(target: Target): number | undefined {
  const configured = target.provider.config.models.find((m) => m.name === target.model);
  if (configured?.max_output_tokens != null) return configured.max_output_tokens;
  let best: [string, number] | undefined;
  for (const entry of OUTPUT_LIMITS) {
    if (
      target.model.startsWith(entry[0]) && (best === undefined || entry[0].length > best[0].length)
    ) {
      best = entry;
    }
  }
  return best?.[1];
}

/** Targets that take `reasoning_effort`: OpenAI's reasoning models, on OpenAI or Azure. */
function takesReasoningEffort(target: Target): boolean {
  const type = target.provider.config.type;
  return (type === "openai" || type === "azure") && /^(o\d|gpt-5)/.test(target.model);
}
