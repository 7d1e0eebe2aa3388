/**
 * Inbound Responses request -> Chat Completions request (the hub format). Pure: the body enters
 * as parsed JSON (`unknown`), is checked as it is translated, and is never mutated. A value the
 * target cannot honour is refused with a `ResponsesRequestError` naming its path; a field with
 * no Chat counterpart that only tunes the answer is dropped and listed in `dropped`.
 */
import type { JsonObject } from "../../core/json.ts";
import { MAX_USER_LENGTH } from "../messages/to_chat.ts";
import type { ToolNames } from "./context.ts";
import {
  booleanAt,
  type Dropped,
  fail,
  isSet,
  numberAt,
  positiveIntegerAt,
  recordAt,
  stringAt,
  typeOf,
} from "./fields.ts";
import { convertItems, type PlacedItem } from "./items.ts";
import { clampOutput, type TargetTraits } from "../targets.ts";
import { copyTools } from "./tool_choice.ts";
import { convertTools, toolNamesOf } from "./tools.ts";

/** What the translation needs to know about the target and the conversation so far. */
export interface ToChatOptions extends TargetTraits {
  /** Items of earlier turns (from previous_response_id), oldest first, placed before `input`. */
  history?: readonly unknown[];
}

/** The Chat Completions body, the tool names it flattened, and what it left out. */
export interface ToChatResult {
  /** The Chat Completions request, `model` as the client sent it. */
  body: JsonObject;
  /** Flattened hub tool names -> the client's names. */
  toolNames: ToolNames;
  /** Fields and built-in tools left out (for the access log). */
  dropped: string[];
}

/** Top-level Responses fields with no Chat counterpart, dropped whenever they are set. */
export const DROPPED_FIELDS: readonly string[] = [
  "store",
  "metadata",
  "include",
  "prompt_cache_key",
  "client_metadata",
  "truncation",
  "service_tier",
  "top_logprobs",
  "max_tool_calls",
  "stream_options",
];

/** Every top-level field this translation reads; any other is dropped and listed. */
const KNOWN_FIELDS = new Set([
  "model",
  "input",
  "instructions",
  "previous_response_id",
  "tools",
  "tool_choice",
  "parallel_tool_calls",
  "temperature",
  "top_p",
  "max_output_tokens",
  "reasoning",
  "text",
  "user",
  "safety_identifier",
  "stream",
  "background",
  "conversation",
  "prompt",
  ...DROPPED_FIELDS,
]);

/**
 * Translates a parsed Responses request body into a Chat Completions request body.
 * `previous_response_id` is the caller's to resolve: its items come in `options.history`.
 */
export function responsesToChat(raw: unknown, options: ToChatOptions = {}): ToChatResult {
  const body = recordAt(raw, "body");
  const dropped: Dropped = new Set();
  refuseUnserved(body);
  const model = stringAt(body.model, "model");
  if (model === "") fail("model", "must not be empty");
  const tools = convertTools(body.tools, dropped);
  const conversation = convertItems(placedItems(body.input, options.history), tools, dropped);
  if (conversation.length === 0) {
    fail("input", isSet(body.input) ? "must not be empty" : "is required");
  }
  const out: JsonObject = {
    model,
    messages: [...instructions(body.instructions), ...conversation],
  };
  copyTools(body, tools, out, dropped);
  copySampling(body, out, options);
  copyReasoning(body.reasoning, out, dropped, options);
  copyText(body.text, out, dropped);
  copyUser(body, out, dropped);
  if (isSet(body.stream) && booleanAt(body.stream, "stream")) {
    // Usage arrives in a last chunk only when asked for; the Responses stream reports it.
    Object.assign(out, { stream: true, stream_options: { include_usage: true } });
  }
  for (const field of Object.keys(body)) {
    if (isSet(body[field]) && !KNOWN_FIELDS.has(field)) dropped.add(field);
  }
  for (const field of DROPPED_FIELDS) if (isSet(body[field])) dropped.add(field);
  return { body: out, toolNames: toolNamesOf(tools.tools), dropped: [...dropped] };
}

/** Features a translation cannot offer: refused rather than quietly answered otherwise. */
function refuseUnserved(body: JsonObject): void {
  if (isSet(body.background) && booleanAt(body.background, "background")) {
    fail("background", "background mode is not offered by the translation to this target");
  }
  if (isSet(body.conversation)) {
    fail("conversation", "stored conversations are not offered by the translation to this target");
  }
  if (isSet(body.prompt)) {
    fail("prompt", "stored prompt templates are not offered by the translation to this target");
  }
}

/** The history's items, then the input's, each with the path a refusal names it by. */
function placedItems(input: unknown, history: readonly unknown[] = []): PlacedItem[] {
  const placed = history.map((item, i) => ({ item, path: `previous_response_id.items[${i}]` }));
  if (typeof input === "string") {
    placed.push({ item: { type: "message", role: "user", content: input }, path: "input" });
  } else if (Array.isArray(input)) {
    input.forEach((item, i) => placed.push({ item, path: `input[${i}]` }));
  } else if (isSet(input)) {
    fail("input", "must be a string or a list of items");
  }
  return placed;
}

/** `instructions` as the first, system, message; none when it is empty. */
function instructions(raw: unknown): JsonObject[] {
  if (!isSet(raw)) return [];
  const text = stringAt(raw, "instructions");
  return text === "" ? [] : [{ role: "system", content: text }];
}

function copySampling(body: JsonObject, out: JsonObject, options: ToChatOptions): void {
  if (isSet(body.temperature)) out.temperature = numberAt(body.temperature, "temperature");
  if (isSet(body.top_p)) out.top_p = numberAt(body.top_p, "top_p");
  if (isSet(body.max_output_tokens)) {
    const asked = positiveIntegerAt(body.max_output_tokens, "max_output_tokens");
    out.max_tokens = clampOutput(asked, options);
  }
}

function copyReasoning(
  raw: unknown,
  out: JsonObject,
  dropped: Dropped,
  options: ToChatOptions,
): void {
  if (!isSet(raw)) return;
  const reasoning = recordAt(raw, "reasoning");
  if (isSet(reasoning.effort)) {
    const effort = stringAt(reasoning.effort, "reasoning.effort");
    if (options.supportsReasoningEffort) out.reasoning_effort = effort;
    else dropped.add("reasoning.effort");
  }
  // Chat streams no reasoning summary; `generate_summary` is its older name.
  if (isSet(reasoning.summary) || isSet(reasoning.generate_summary)) {
    dropped.add("reasoning.summary");
  }
}

/** `text.format` -> `response_format`; plain text needs none. */
function copyText(raw: unknown, out: JsonObject, dropped: Dropped): void {
  if (!isSet(raw)) return;
  const text = recordAt(raw, "text");
  if (isSet(text.verbosity)) dropped.add("text.verbosity");
  if (!isSet(text.format)) return;
  const format = recordAt(text.format, "text.format");
  const type = typeOf(format, "text.format");
  if (type === "text") return;
  if (type === "json_object") {
    out.response_format = { type: "json_object" };
    return;
  }
  if (type !== "json_schema") {
    fail("text.format.type", 'must be "text", "json_object" or "json_schema"');
  }
  const schema: JsonObject = {
    name: stringAt(format.name, "text.format.name"),
    schema: recordAt(format.schema, "text.format.schema"),
  };
  if (isSet(format.description)) {
    schema.description = stringAt(format.description, "text.format.description");
  }
  if (isSet(format.strict)) schema.strict = booleanAt(format.strict, "text.format.strict");
  out.response_format = { type: "json_schema", json_schema: schema };
}

/** `safety_identifier`, else `user`, as Chat's `user`; one longer than Chat takes is dropped. */
function copyUser(body: JsonObject, out: JsonObject, dropped: Dropped): void {
  for (const field of ["safety_identifier", "user"]) {
    if (!isSet(body[field])) continue;
    const user = stringAt(body[field], field);
    if (out.user === undefined && user.length <= MAX_USER_LENGTH) out.user = user;
    else dropped.add(field);
  }
}
