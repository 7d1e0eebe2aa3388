// OpenAI Responses API wire shapes the mock upstream answers with, as documented in OpenAI's API
// reference: the `response` object, its output items, its usage and its stream events.
import { countTokens, isRecord, newId } from "./mock_openai_wire.ts";

/** Token usage in the Responses API's shape. */
export interface ResponsesUsage {
  input_tokens: number;
  input_tokens_details: { cached_tokens: number };
  output_tokens: number;
  output_tokens_details: { reasoning_tokens: number };
  total_tokens: number;
}

/**
 * What one answer carries: text pieces, a function call (`namespace` when the tool sits in a
 * `{"type": "namespace"}` group) or a call to a free-form `custom` tool.
 */
export type ResponsesAnswer =
  | { kind: "text"; pieces: string[] }
  | { kind: "function"; callId: string; name: string; arguments: string; namespace?: string }
  | { kind: "custom"; callId: string; name: string; input: string };

/** SSE events of a streamed answer; the first `lead` events carry no content. */
export interface ResponsesStreamEvents {
  events: string[];
  lead: number;
}

/** The Responses usage object for the given counts. */
export function responsesUsage(input: number, output: number, cached = 0): ResponsesUsage {
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: cached },
    output_tokens: output,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + output,
  };
}

function textOf(value: unknown): string {
  if (typeof value === "string") return value;
  if (!Array.isArray(value)) return "";
  return value.map((part) => isRecord(part) && typeof part.text === "string" ? part.text : "")
    .join("");
}

/** The text of input items (message content, call arguments and outputs), for token counts. */
export function itemsText(items: readonly Record<string, unknown>[]): string {
  return items.map((item) =>
    [item.content, item.arguments, item.input, item.output].map(textOf).join("")
  ).join("\n");
}

function idPrefix(type: unknown): string {
  switch (type) {
    case "message":
      return "msg_";
    case "function_call":
      return "fc_";
    case "function_call_output":
      return "fco_";
    case "custom_tool_call":
      return "ctc_";
    case "custom_tool_call_output":
      return "ctco_";
  }
  return "item_";
}

function inputMessage(role: string, content: unknown): Record<string, unknown> {
  const parts = typeof content === "string" ? [{ type: "input_text", text: content }] : content;
  return { type: "message", role, content: parts };
}

/**
 * The request's `input` as stored items, as GET /v1/responses/{id}/input_items lists them: a
 * string is one user message, an easy message (`{role, content}`) gets `type: "message"`, and
 * every item gets an id.
 */
export function normalizeInput(input: unknown): Record<string, unknown>[] {
  const items = typeof input === "string"
    ? [inputMessage("user", input)]
    : Array.isArray(input)
    ? input.filter(isRecord).map((item) =>
      item.type === undefined && typeof item.role === "string"
        ? inputMessage(item.role, item.content)
        : { ...item }
    )
    : [];
  return items.map((item) => {
    const withId = typeof item.id === "string" ? item : { id: newId(idPrefix(item.type)), ...item };
    return withId.type === "message" && withId.status === undefined
      ? { ...withId, status: "completed" }
      : withId;
  });
}

/** The fields of the request a `response` object echoes, with OpenAI's defaults. */
export function echoedFields(body: Record<string, unknown>): Record<string, unknown> {
  const pick = (key: string, fallback: unknown) => body[key] ?? fallback;
  return {
    instructions: pick("instructions", null),
    max_output_tokens: pick("max_output_tokens", null),
    max_tool_calls: pick("max_tool_calls", null),
    model: String(body.model),
    parallel_tool_calls: pick("parallel_tool_calls", true),
    previous_response_id: pick("previous_response_id", null),
    prompt_cache_key: pick("prompt_cache_key", null),
    reasoning: pick("reasoning", { effort: null, summary: null }),
    safety_identifier: pick("safety_identifier", null),
    service_tier: pick("service_tier", "default"),
    store: pick("store", true),
    temperature: pick("temperature", 1),
    text: pick("text", { format: { type: "text" }, verbosity: "medium" }),
    tool_choice: pick("tool_choice", "auto"),
    tools: pick("tools", []),
    top_logprobs: pick("top_logprobs", 0),
    top_p: pick("top_p", 1),
    truncation: pick("truncation", "disabled"),
    user: pick("user", null),
    metadata: pick("metadata", {}),
  };
}

/** A `response` object with `status` and `output`; `usage` is null until it completes. */
export function responseObject(
  id: string,
  createdAt: number,
  echoed: Record<string, unknown>,
  state: { status: string; output: unknown[]; usage: ResponsesUsage | null; error?: unknown },
): Record<string, unknown> {
  return {
    id,
    object: "response",
    created_at: createdAt,
    status: state.status,
    background: false,
    error: state.error ?? null,
    incomplete_details: null,
    output: state.output,
    usage: state.usage,
    ...echoed,
  };
}

/** The output item of an answer, `completed`, with a fresh item id. */
export function outputItem(answer: ResponsesAnswer): Record<string, unknown> {
  switch (answer.kind) {
    case "text":
      return {
        id: newId("msg_"),
        type: "message",
        status: "completed",
        content: [outputText(answer.pieces.join(""))],
        role: "assistant",
      };
    case "function":
      return {
        id: newId("fc_"),
        type: "function_call",
        status: "completed",
        arguments: answer.arguments,
        call_id: answer.callId,
        name: answer.name,
        ...(answer.namespace === undefined ? {} : { namespace: answer.namespace }),
      };
    case "custom":
      return {
        id: newId("ctc_"),
        type: "custom_tool_call",
        status: "completed",
        call_id: answer.callId,
        name: answer.name,
        input: answer.input,
      };
  }
}

function outputText(text: string): Record<string, unknown> {
  return { type: "output_text", annotations: [], logprobs: [], text };
}

/** Tokens the answer counts as output. */
export function answerTokens(answer: ResponsesAnswer): number {
  switch (answer.kind) {
    case "text":
      return countTokens(answer.pieces.join(""));
    case "function":
      return countTokens(answer.name + answer.arguments);
    case "custom":
      return countTokens(answer.name + answer.input);
  }
}

/** One named SSE event, `event: <type>` then its JSON, as OpenAI streams the Responses API. */
function namedEvent(data: Record<string, unknown>): string {
  return `event: ${data.type}\ndata: ${JSON.stringify(data)}\n\n`;
}

function splitInTwo(text: string): string[] {
  const half = Math.ceil(text.length / 2);
  return [text.slice(0, half), text.slice(half)].filter((piece) => piece !== "");
}

/** The events between `output_item.added` and `output_item.done` of one item. */
function itemEvents(
  answer: ResponsesAnswer,
  item: Record<string, unknown>,
): {
  opening: Record<string, unknown>[];
  deltas: Record<string, unknown>[];
  closing: Record<string, unknown>[];
} {
  const at = { item_id: item.id, output_index: 0 };
  switch (answer.kind) {
    case "text": {
      const part = { ...at, content_index: 0 };
      const text = answer.pieces.join("");
      return {
        opening: [{ type: "response.content_part.added", ...part, part: outputText("") }],
        deltas: answer.pieces.map((delta) => ({
          type: "response.output_text.delta",
          ...part,
          delta,
          logprobs: [],
        })),
        closing: [
          { type: "response.output_text.done", ...part, text, logprobs: [] },
          { type: "response.content_part.done", ...part, part: outputText(text) },
        ],
      };
    }
    case "function":
      return {
        opening: [],
        deltas: splitInTwo(answer.arguments).map((delta) => ({
          type: "response.function_call_arguments.delta",
          ...at,
          delta,
        })),
        closing: [{
          type: "response.function_call_arguments.done",
          ...at,
          name: answer.name,
          arguments: answer.arguments,
        }],
      };
    case "custom":
      return {
        opening: [],
        deltas: splitInTwo(answer.input).map((delta) => ({
          type: "response.custom_tool_call_input.delta",
          ...at,
          delta,
        })),
        closing: [{ type: "response.custom_tool_call_input.done", ...at, input: answer.input }],
      };
  }
}

/** The item as `output_item.added` shows it: in progress, with nothing generated yet. */
function startedItem(item: Record<string, unknown>): Record<string, unknown> {
  const started: Record<string, unknown> = { ...item, status: "in_progress" };
  if (item.type === "message") started.content = [];
  if (item.type === "function_call") started.arguments = "";
  if (item.type === "custom_tool_call") started.input = "";
  return started;
}

/**
 * The SSE events of a streamed response, each with its `sequence_number`: created, in_progress,
 * the item's added, delta and done events, then `response.completed`. When `final` has failed,
 * `response.failed` comes after `failAfter` deltas instead of the rest.
 */
export function responsesStreamEvents(
  answer: ResponsesAnswer,
  item: Record<string, unknown>,
  final: Record<string, unknown>,
  failAfter = 0,
): ResponsesStreamEvents {
  const pending = { ...final, status: "in_progress", error: null, output: [], usage: null };
  const { opening, deltas, closing } = itemEvents(answer, item);
  const head = [
    { type: "response.created", response: pending },
    { type: "response.in_progress", response: pending },
    { type: "response.output_item.added", output_index: 0, item: startedItem(item) },
    ...opening,
  ];
  const events = final.status === "failed"
    ? [...head, ...deltas.slice(0, Math.max(0, failAfter)), {
      type: "response.failed",
      response: final,
    }]
    : [
      ...head,
      ...deltas,
      ...closing,
      { type: "response.output_item.done", output_index: 0, item },
      { type: "response.completed", response: final },
    ];
  return {
    events: events.map((event, sequence) => namedEvent({ ...event, sequence_number: sequence })),
    lead: head.length,
  };
}

/** The DELETE /v1/responses/{id} answer. */
export function deletedBody(id: string): Record<string, unknown> {
  return { id, object: "response", deleted: true };
}

/** A cursor-paged `list` of input items, as GET /v1/responses/{id}/input_items answers. */
export function inputItemsPage(
  items: readonly Record<string, unknown>[],
  query: URLSearchParams,
): Record<string, unknown> {
  const ordered = query.get("order") === "asc" ? [...items] : [...items].reverse();
  const after = query.get("after");
  const start = after === null ? 0 : ordered.findIndex((item) => item.id === after) + 1;
  const limit = Math.min(100, Math.max(1, Number(query.get("limit") ?? 20) || 20));
  const data = ordered.slice(start, start + limit);
  return {
    object: "list",
    data,
    first_id: data[0]?.id ?? null,
    last_id: data.at(-1)?.id ?? null,
    has_more: start + limit < ordered.length,
  };
}
