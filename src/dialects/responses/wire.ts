/**
 * Small pieces of the Responses wire format shared by the whole and the streamed translation:
 * item ids, usage, the answer's status, the response object with its echoed request fields, and
 * the SSE event frame.
 */
import { isRecord, type JsonObject } from "../../core/json.ts";
import type { ClientToolName, ResponseContext } from "./context.ts";

/** The Responses `usage` object. */
export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number; cache_write_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/** How a response ended: its `status` and, when incomplete, why. */
export interface ResponseEnd {
  status: "completed" | "incomplete";
  incomplete_details: { reason: "max_output_tokens" | "content_filter" } | null;
}

/** The status of an output item. */
export type ItemStatus = "in_progress" | "completed" | "incomplete";

/** A fresh item id with `prefix` and 48 hex digits, shaped like the ones OpenAI hands out. */
export function itemId(prefix: string): string {
  const bytes = crypto.getRandomValues(new Uint8Array(24));
  let hex = "";
  for (const b of bytes) hex += b.toString(16).padStart(2, "0");
  return prefix + hex;
}

/** The call id for an upstream tool call id: kept as it is, made up when there is none. */
export function callIdFor(upstreamId: unknown): string {
  return typeof upstreamId === "string" && upstreamId !== "" ? upstreamId : itemId("call_");
}

/** The status and incomplete details for a Chat `finish_reason`. */
export function endFor(finishReason: unknown): ResponseEnd {
  switch (finishReason) {
    case "length":
      return { status: "incomplete", incomplete_details: { reason: "max_output_tokens" } };
    case "content_filter":
      return { status: "incomplete", incomplete_details: { reason: "content_filter" } };
  }
  return { status: "completed", incomplete_details: null };
}

/** The client's name for a hub tool name: the flattened ones mapped back, others as they are. */
export function clientToolName(hubName: string, ctx: ResponseContext): ClientToolName {
  return ctx.toolNames.get(hubName) ?? { name: hubName };
}

/**
 * A custom tool's input from the hub's arguments, `{"input": "..."}` (`{}` or nothing for none).
 * Arguments of another shape are the input as the model wrote them, rather than a call lost.
 */
export function customInput(args: string): string {
  if (args === "") return "";
  try {
    const parsed: unknown = JSON.parse(args);
    if (isRecord(parsed) && typeof parsed.input === "string") return parsed.input;
    if (isRecord(parsed) && Object.keys(parsed).length === 0) return "";
  } catch {
    // Not JSON: the text itself is the input.
  }
  return args;
}

function count(value: unknown): number {
  return typeof value === "number" && Number.isFinite(value) && value > 0 ? value : 0;
}

/** Zero counts, for an answer that reports no usage (OpenAI reports zeros, never nothing). */
export function emptyUsage(): ResponsesUsage {
  return usageOf(0, 0, 0, 0, 0);
}

/**
 * Responses usage for a Chat `usage` object, or undefined when there is none. Both count cached
 * tokens as part of the input; DeepSeek names them `prompt_cache_hit_tokens`.
 */
export function usageFromChat(usage: unknown): ResponsesUsage | undefined {
  if (!isRecord(usage)) return undefined;
  const input = count(usage.prompt_tokens);
  const output = count(usage.completion_tokens);
  const prompt = usage.prompt_tokens_details;
  const cached = isRecord(prompt) && typeof prompt.cached_tokens === "number"
    ? count(prompt.cached_tokens)
    : count(usage.prompt_cache_hit_tokens);
  const completion = usage.completion_tokens_details;
  const reasoning = isRecord(completion) ? count(completion.reasoning_tokens) : 0;
  const total = typeof usage.total_tokens === "number" ? count(usage.total_tokens) : input + output;
  return usageOf(input, Math.min(cached, input), output, Math.min(reasoning, output), total);
}

function usageOf(
  input: number,
  cached: number,
  output: number,
  reasoning: number,
  total: number,
): ResponsesUsage {
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: cached, cache_write_tokens: 0 },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: reasoning },
    total_tokens: total,
  };
}

/** The request's value for `field`, or `fallback` when it is absent or null. */
function echo(request: JsonObject, field: string, fallback: unknown): unknown {
  const value = request[field];
  return value === undefined || value === null ? fallback : value;
}

/** The fields a response repeats from its request, with the defaults OpenAI reports. */
export interface EchoFields {
  instructions: unknown;
  max_output_tokens: unknown;
  parallel_tool_calls: unknown;
  previous_response_id: unknown;
  reasoning: unknown;
  store: unknown;
  temperature: unknown;
  text: unknown;
  tool_choice: unknown;
  tools: unknown;
  top_p: unknown;
  truncation: unknown;
  user: unknown;
  metadata: unknown;
}

/** The request fields a response echoes, read once per answer. */
export function echoFields(request: JsonObject): EchoFields {
  const reasoning = isRecord(request.reasoning) ? request.reasoning : {};
  const text = isRecord(request.text) ? request.text : {};
  return {
    instructions: echo(request, "instructions", null),
    max_output_tokens: echo(request, "max_output_tokens", null),
    parallel_tool_calls: echo(request, "parallel_tool_calls", true),
    previous_response_id: echo(request, "previous_response_id", null),
    reasoning: { effort: null, summary: null, ...reasoning },
    store: echo(request, "store", true),
    temperature: echo(request, "temperature", 1),
    text: { format: { type: "text" }, ...text },
    tool_choice: echo(request, "tool_choice", "auto"),
    tools: echo(request, "tools", []),
    top_p: echo(request, "top_p", 1),
    truncation: echo(request, "truncation", "disabled"),
    user: echo(request, "user", null),
    metadata: echo(request, "metadata", {}),
  };
}

/** What a response object says besides its context and echoed fields. */
export interface ResponseState {
  status: "in_progress" | "completed" | "incomplete" | "failed";
  output: JsonObject[];
  usage: ResponsesUsage | null;
  incompleteDetails?: ResponseEnd["incomplete_details"];
  error?: { code: string; message: string } | null;
}

/** A Responses `response` object, its fields in the order OpenAI documents them. */
export function responseObject(
  ctx: ResponseContext,
  fields: EchoFields,
  state: ResponseState,
): JsonObject {
  return {
    id: ctx.id,
    object: "response",
    created_at: ctx.createdAt,
    status: state.status,
    error: state.error ?? null,
    incomplete_details: state.incompleteDetails ?? null,
    instructions: fields.instructions,
    max_output_tokens: fields.max_output_tokens,
    model: ctx.model,
    output: state.output,
    parallel_tool_calls: fields.parallel_tool_calls,
    previous_response_id: fields.previous_response_id,
    reasoning: fields.reasoning,
    store: fields.store,
    temperature: fields.temperature,
    text: fields.text,
    tool_choice: fields.tool_choice,
    tools: fields.tools,
    top_p: fields.top_p,
    truncation: fields.truncation,
    usage: state.usage,
    user: fields.user,
    metadata: fields.metadata,
  };
}
