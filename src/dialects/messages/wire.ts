/**
 * Small pieces of the Anthropic Messages wire format shared by the response and stream
 * translations: ids, stop reasons, usage, and the SSE event frame.
 */
import { isRecord } from "../../core/json.ts";

/** Token counts in a Messages `usage` object. */
export interface MessagesUsage {
  input_tokens: number;
  cache_creation_input_tokens: number;
  cache_read_input_tokens: number;
  output_tokens: number;
}

/** A Messages `stop_reason` with the stop sequence that caused it, if one did. */
export interface StopInfo {
  stop_reason: string;
  stop_sequence: string | null;
}

/** A fresh random id with `prefix`, shaped like the ones Anthropic hands out. */
export function randomId(prefix: string): string {
  return prefix + crypto.randomUUID().replaceAll("-", "");
}

/** The message id for an upstream completion id: `msg_` in front unless it is there already. */
export function messageIdFor(upstreamId: unknown): string {
  if (typeof upstreamId !== "string" || upstreamId === "") return randomId("msg_");
  return upstreamId.startsWith("msg_") ? upstreamId : "msg_" + upstreamId;
}

/** The tool_use id for an upstream tool call id: kept as it is, made up when there is none. */
export function toolUseIdFor(upstreamId: unknown): string {
  return typeof upstreamId === "string" && upstreamId !== "" ? upstreamId : randomId("toolu_");
}

/**
 * The Messages stop reason for a Chat `finish_reason`. `matched` is what the upstream said
 * stopped it (some OpenAI-compatible servers put the matched stop string in the choice's
 * `stop_reason`); only a string among the request's `stopSequences` counts as a stop sequence,
 * since Chat itself never says which one matched.
 */
export function stopInfoFor(
  finishReason: unknown,
  options: { matched?: unknown; stopSequences?: readonly string[]; usedTools?: boolean } = {},
): StopInfo {
  switch (finishReason) {
    case "length":
      return { stop_reason: "max_tokens", stop_sequence: null };
    case "tool_calls":
    case "function_call":
      return { stop_reason: "tool_use", stop_sequence: null };
    case "content_filter":
      return { stop_reason: "refusal", stop_sequence: null };
  }
  const { matched, stopSequences } = options;
  if (typeof matched === "string" && stopSequences?.includes(matched)) {
    return { stop_reason: "stop_sequence", stop_sequence: matched };
  }
  // Some servers answer "stop" after tool calls; a Messages client loops on "tool_use".
  if (options.usedTools) return { stop_reason: "tool_use", stop_sequence: null };
  return { stop_reason: "end_turn", stop_sequence: null };
}

/** Zero counts, for an answer that reports no usage. */
export function emptyUsage(): MessagesUsage {
  return {
    input_tokens: 0,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: 0,
    output_tokens: 0,
  };
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
}

/**
 * Messages usage for a Chat `usage` object, or undefined when there is none. Chat's
 * `prompt_tokens` includes the cached part; Messages counts it apart, in `cache_read_input_tokens`.
 */
export function usageFromChat(usage: unknown): MessagesUsage | undefined {
  if (!isRecord(usage)) return undefined;
  const prompt = count(usage.prompt_tokens);
  const details = usage.prompt_tokens_details;
  const cached = Math.min(prompt, isRecord(details) ? count(details.cached_tokens) : 0);
  return {
    input_tokens: prompt - cached,
    cache_creation_input_tokens: 0,
    cache_read_input_tokens: cached,
    output_tokens: count(usage.completion_tokens),
  };
}
