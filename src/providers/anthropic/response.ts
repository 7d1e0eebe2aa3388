/**
 * Anthropic answers -> OpenAI shapes: the message, its usage and stop reason, error bodies,
 * and the model list. Pure functions; the upstream JSON enters as `unknown` and is checked.
 */
import { ProviderError } from "../../core/errors.ts";
import { isRecord, type JsonObject, parseJsonOrUndefined } from "../../core/json.ts";
import {
  chatCompletion,
  completionId,
  openAIErrorBody,
  openAIErrorType,
  type OpenAIToolCall,
  type OpenAIUsage,
} from "../openai_wire.ts";
import type { ProviderModel } from "../../core/provider.ts";

/** Anthropic's token counts; `input` excludes the cached part, which is counted apart. */
export interface TokenCounts {
  input: number;
  cacheCreation: number;
  cacheRead: number;
  output: number;
}

/** OpenAI usage with the cached share of the prompt, as OpenAI reports it. */
export type UsageWithCache = OpenAIUsage & { prompt_tokens_details: { cached_tokens: number } };

/** Fresh zero counts. */
export function emptyCounts(): TokenCounts {
  return { input: 0, cacheCreation: 0, cacheRead: 0, output: 0 };
}

/** Copies the counts present in an Anthropic `usage` object over `counts`. */
export function readCounts(raw: unknown, counts: TokenCounts): void {
  if (!isRecord(raw)) return;
  const take = (value: unknown, fallback: number) => typeof value === "number" ? value : fallback;
  counts.input = take(raw.input_tokens, counts.input);
  counts.cacheCreation = take(raw.cache_creation_input_tokens, counts.cacheCreation);
  counts.cacheRead = take(raw.cache_read_input_tokens, counts.cacheRead);
  counts.output = take(raw.output_tokens, counts.output);
}

/**
 * OpenAI usage from Anthropic counts. OpenAI's `prompt_tokens` covers the whole prompt, cached
 * or not, so the cache writes and reads are added in; reads are also `cached_tokens`.
 */
export function toOpenAIUsage(counts: TokenCounts): UsageWithCache {
  const prompt = counts.input + counts.cacheCreation + counts.cacheRead;
  return {
    prompt_tokens: prompt,
    completion_tokens: counts.output,
    total_tokens: prompt + counts.output,
    prompt_tokens_details: { cached_tokens: counts.cacheRead },
  };
}

/** OpenAI's `finish_reason` for an Anthropic `stop_reason`. */
export function finishReason(stopReason: unknown): string | null {
  switch (stopReason) {
    case null:
    case undefined:
      return null;
    case "max_tokens":
    case "model_context_window_exceeded":
      return "length";
    case "tool_use":
      return "tool_calls";
    case "refusal":
      return "content_filter";
    default: // end_turn, stop_sequence, pause_turn and reasons added later
      return "stop";
  }
}

/** A `chatcmpl-` id carrying Anthropic's message id, so a completion can be traced upstream. */
export function openAIId(messageId: unknown): string {
  if (typeof messageId !== "string" || messageId === "") return completionId();
  return "chatcmpl-" + messageId.replace(/^msg_/, "");
}

/** Translates a non-streaming Anthropic message into an OpenAI `chat.completion`. */
export function fromAnthropicResponse(json: unknown, model: string): JsonObject {
  if (!isRecord(json) || !Array.isArray(json.content)) {
    throw new ProviderError("protocol", "Anthropic answered something that is not a message");
  }
  let text = "";
  const toolCalls: OpenAIToolCall[] = [];
  for (const block of json.content) {
    if (!isRecord(block)) continue;
    if (block.type === "text" && typeof block.text === "string") text += block.text;
    else if (block.type === "tool_use" && typeof block.name === "string") {
      toolCalls.push({
        id: typeof block.id === "string" ? block.id : completionId("call_"),
        type: "function",
        function: { name: block.name, arguments: JSON.stringify(block.input ?? {}) },
      });
    }
    // thinking and redacted_thinking blocks have no place in an OpenAI message.
  }
  const counts = emptyCounts();
  readCounts(json.usage, counts);
  return chatCompletion({
    id: openAIId(json.id),
    model: typeof json.model === "string" ? json.model : model,
    // OpenAI sends null content beside tool calls when the model said nothing.
    content: text === "" && toolCalls.length > 0 ? null : text,
    toolCalls,
    finishReason: finishReason(json.stop_reason) ?? "stop",
    usage: toOpenAIUsage(counts),
  });
}

/** HTTP status for an Anthropic error type (for errors that arrive inside a stream). */
export function statusForErrorType(type: unknown): number {
  switch (type) {
    case "invalid_request_error":
      return 400;
    case "authentication_error":
      return 401;
    case "permission_error":
      return 403;
    case "not_found_error":
      return 404;
    case "request_too_large":
      return 413;
    case "rate_limit_error":
      return 429;
    case "overloaded_error":
      return 529;
    default: // api_error and types added later
      return 500;
  }
}

/** `{type, message}` of an Anthropic error body `{type: "error", error: {type, message}}`. */
function errorInfo(json: unknown): { type: string | null; message: string } | undefined {
  const error = isRecord(json) ? json.error : undefined;
  if (!isRecord(error) || typeof error.message !== "string") return undefined;
  return { type: typeof error.type === "string" ? error.type : null, message: error.message };
}

/**
 * Rewrites an Anthropic error body into the OpenAI shape, keeping Anthropic's message and its
 * error type as `code`. The status is kept: 529 stays retryable, 413 goes back to the client.
 */
export function toOpenAIError(status: number, body: string): { status: number; body: string } {
  const json = parseJsonOrUndefined(body);
  const info = errorInfo(json) ?? {
    type: null,
    message: body.trim() === ""
      ? `Anthropic answered HTTP ${status}`
      : `Anthropic answered HTTP ${status}: ${body.trim().slice(0, 500)}`,
  };
  return {
    status,
    body: openAIErrorBody(info.message, { type: openAIErrorType(status), code: info.type }),
  };
}

/** The `ProviderError` for an `error` event inside a stream (classified like an HTTP error). */
export function streamEventError(data: unknown): ProviderError {
  const info = errorInfo(data) ?? { type: null, message: "unreadable error event" };
  const status = statusForErrorType(info.type);
  return new ProviderError("http", `Anthropic stream error ${info.type}: ${info.message}`, {
    status,
    upstreamBody: openAIErrorBody(info.message, { type: openAIErrorType(status), code: info.type }),
    upstreamContentType: "application/json",
  });
}

/** One page of Anthropic's model list, and the cursor of the next page if there is one. */
export function parseModelPage(
  provider: string,
  json: unknown,
): { models: ProviderModel[]; next?: string } {
  const data = isRecord(json) ? json.data : undefined;
  if (!isRecord(json) || !Array.isArray(data)) {
    throw new ProviderError("protocol", `${provider} model list has no "data" array`);
  }
  const models: ProviderModel[] = [];
  for (const item of data) {
    if (!isRecord(item) || typeof item.id !== "string") continue;
    const created = typeof item.created_at === "string" ? Date.parse(item.created_at) : NaN;
    models.push({
      id: item.id,
      created: Number.isNaN(created) ? undefined : Math.floor(created / 1000),
      owned_by: "anthropic",
    });
  }
  const next = json.has_more === true && typeof json.last_id === "string"
    ? json.last_id
    : undefined;
  return next === undefined ? { models } : { models, next };
}
