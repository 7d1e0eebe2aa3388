/**
 * Builders for the OpenAI wire format, shared by the adapters that translate into it.
 * The OpenAI shape is the gateway's lingua franca: clients never see another one.
 */

/** An OpenAI error body: `{"error": {message, type, param, code}}`. */
export function openAIErrorBody(
  message: string,
  options: { type?: string; param?: string | null; code?: string | null } = {},
): string {
  return JSON.stringify({
    error: {
      message,
      type: options.type ?? "invalid_request_error",
      param: options.param ?? null,
      code: options.code ?? null,
    },
  });
}

/** The OpenAI error `type` for an HTTP status. */
export function openAIErrorType(status: number): string {
  if (status === 401) return "authentication_error";
  if (status === 403) return "permission_error";
  if (status === 404) return "not_found_error";
  if (status === 429) return "rate_limit_error";
  if (status >= 500) return "server_error";
  return "invalid_request_error";
}

/** A fresh completion id, `chatcmpl-...`. */
export function completionId(prefix = "chatcmpl-"): string {
  return prefix + crypto.randomUUID().replaceAll("-", "");
}

/** Seconds since the epoch, as OpenAI's `created`. */
export function unixSeconds(): number {
  return Math.floor(Date.now() / 1000);
}

/** One OpenAI tool call as it appears in a message. */
export interface OpenAIToolCall {
  id: string;
  type: "function";
  function: { name: string; arguments: string };
}

/** OpenAI usage block. */
export interface OpenAIUsage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
}

/** Builds OpenAI usage from input/output token counts. */
export function usage(prompt: number, completion: number): OpenAIUsage {
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
}

/** A non-streaming `chat.completion` with one choice. */
export function chatCompletion(fields: {
  id: string;
  model: string;
  content: string | null;
  toolCalls?: OpenAIToolCall[];
  finishReason: string | null;
  usage?: OpenAIUsage;
  created?: number;
}): Record<string, unknown> {
  const message: Record<string, unknown> = {
    role: "assistant",
    content: fields.content,
    refusal: null,
  };
  if (fields.toolCalls !== undefined && fields.toolCalls.length > 0) {
    message.tool_calls = fields.toolCalls;
  }
  return {
    id: fields.id,
    object: "chat.completion",
    created: fields.created ?? unixSeconds(),
    model: fields.model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: fields.finishReason }],
    ...(fields.usage ? { usage: fields.usage } : {}),
  };
}

/** Fixed fields of every chunk of one stream. */
export interface ChunkHead {
  id: string;
  model: string;
  created: number;
}

/** One `chat.completion.chunk` with a delta (or an empty choices list with usage). */
export function chatChunk(
  head: ChunkHead,
  delta: Record<string, unknown> | null,
  finishReason: string | null = null,
  chunkUsage?: OpenAIUsage | null,
): Record<string, unknown> {
  const chunk: Record<string, unknown> = {
    id: head.id,
    object: "chat.completion.chunk",
    created: head.created,
    model: head.model,
    choices: delta === null
      ? []
      : [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
  };
  if (chunkUsage !== undefined) chunk.usage = chunkUsage;
  return chunk;
}
