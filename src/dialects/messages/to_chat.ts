/**
 * Inbound Messages request -> Chat Completions request (the hub format). Pure: the body enters
 * as parsed JSON (`unknown`), is checked as it is translated, and is never mutated. A value the
 * target cannot honour is refused with a `MessagesRequestError` naming its path; a field with
 * no Chat counterpart that only tunes the answer is dropped and listed in `dropped`.
 */
import type { JsonObject } from "../../core/json.ts";
import { convertMessages, type Dropped, systemMessages } from "./content.ts";
import {
  fail,
  isSet,
  listAt,
  numberAt,
  positiveIntegerAt,
  recordAt,
  stringAt,
  typeOf,
} from "./fields.ts";
import { clampOutput, type TargetTraits } from "../targets.ts";

/** What the translation needs to know about the target. */
export type ToChatOptions = TargetTraits;

/** The Chat Completions body, and the names of what it left out (for a debug log). */
export interface ToChatResult {
  body: JsonObject;
  dropped: string[];
}

/** Top-level Messages fields with no Chat counterpart, dropped whenever they are set. */
export const DROPPED_FIELDS: readonly string[] = [
  "top_k",
  "context_management",
  "service_tier",
  "container",
  "mcp_servers",
];

/** Every top-level field this translation reads; any other is dropped and listed. */
const KNOWN_FIELDS = new Set([
  "model",
  "messages",
  "system",
  "max_tokens",
  "stop_sequences",
  "temperature",
  "top_p",
  "stream",
  "metadata",
  "tools",
  "tool_choice",
  "thinking",
  ...DROPPED_FIELDS,
]);

/** OpenAI refuses a longer `user` (observed, not documented): a longer id is dropped. */
export const MAX_USER_LENGTH = 64;

/** Translates a parsed Messages request body into a Chat Completions request body. */
export function messagesToChat(raw: unknown, options: ToChatOptions = {}): ToChatResult {
  const body = recordAt(raw, "body");
  const dropped: Dropped = new Set();
  const model = stringAt(body.model, "model");
  if (model === "") fail("model", "must not be empty");
  const out: JsonObject = {
    model,
    messages: [...systemMessages(body.system, dropped), ...convertMessages(body.messages, dropped)],
    max_tokens: clampOutput(positiveIntegerAt(body.max_tokens, "max_tokens"), options),
  };
  copySampling(body, out);
  copyTools(body, out, dropped);
  if (isSet(body.stream)) {
    if (typeof body.stream !== "boolean") fail("stream", "must be a boolean");
    // Usage arrives in a last chunk only when asked for; the Messages stream reports it.
    if (body.stream) Object.assign(out, { stream: true, stream_options: { include_usage: true } });
  }
  copyUser(body.metadata, out, dropped);
  copyThinking(body.thinking, out, dropped, options);
  for (const field of Object.keys(body)) {
    if (isSet(body[field]) && !KNOWN_FIELDS.has(field)) dropped.add(field);
  }
  for (const field of DROPPED_FIELDS) if (isSet(body[field])) dropped.add(field);
  return { body: out, dropped: [...dropped] };
}

function copySampling(body: JsonObject, out: JsonObject): void {
  if (isSet(body.temperature)) out.temperature = numberAt(body.temperature, "temperature");
  if (isSet(body.top_p)) out.top_p = numberAt(body.top_p, "top_p");
  if (isSet(body.stop_sequences)) {
    const stops = listAt(body.stop_sequences, "stop_sequences").map((stop, i) =>
      stringAt(stop, `stop_sequences[${i}]`)
    );
    if (stops.length > 0) out.stop = stops;
  }
}

function copyUser(raw: unknown, out: JsonObject, dropped: Dropped): void {
  if (!isSet(raw)) return;
  const userId = recordAt(raw, "metadata").user_id;
  if (!isSet(userId)) return;
  const user = stringAt(userId, "metadata.user_id");
  if (user.length <= MAX_USER_LENGTH) out.user = user;
  else dropped.add("metadata.user_id");
}

/**
 * The Chat `reasoning_effort` for a thinking budget: under 4,096 tokens low, under 16,384
 * medium, else high (Claude Code's "think", "think hard" and "ultrathink" land in each).
 */
export function reasoningEffortFor(budgetTokens: number): "low" | "medium" | "high" {
  if (budgetTokens < 4096) return "low";
  return budgetTokens < 16384 ? "medium" : "high";
}

function copyThinking(
  raw: unknown,
  out: JsonObject,
  dropped: Dropped,
  options: ToChatOptions,
): void {
  if (!isSet(raw)) return;
  const thinking = recordAt(raw, "thinking");
  const type = typeOf(thinking, "thinking");
  if (type === "disabled") return;
  if (type === "enabled") {
    const budget = positiveIntegerAt(thinking.budget_tokens, "thinking.budget_tokens");
    if (options.supportsReasoningEffort) {
      out.reasoning_effort = reasoningEffortFor(budget);
      return;
    }
  }
  dropped.add("thinking");
}

function copyTools(body: JsonObject, out: JsonObject, dropped: Dropped): void {
  const tools = isSet(body.tools)
    ? listAt(body.tools, "tools").map((tool, i) => functionTool(tool, `tools[${i}]`, dropped))
    : [];
  const choice = isSet(body.tool_choice) ? recordAt(body.tool_choice, "tool_choice") : undefined;
  if (tools.length === 0) {
    // Chat refuses tool_choice and parallel_tool_calls without tools: they would mean nothing.
    if (choice !== undefined) dropped.add("tool_choice");
    return;
  }
  out.tools = tools;
  if (choice === undefined) return;
  out.tool_choice = toolChoice(choice);
  if (isSet(choice.disable_parallel_tool_use)) {
    if (typeof choice.disable_parallel_tool_use !== "boolean") {
      fail("tool_choice.disable_parallel_tool_use", "must be a boolean");
    }
    if (choice.disable_parallel_tool_use) out.parallel_tool_calls = false;
  }
}

/** A custom tool -> a Chat function tool; a server tool is refused, the target cannot run it. */
function functionTool(raw: unknown, at: string, dropped: Dropped): JsonObject {
  const tool = recordAt(raw, at);
  if (isSet(tool.type) && tool.type !== "custom") {
    fail(
      `${at}.type`,
      `"${String(tool.type)}" is a server tool the target cannot run; only custom tools ` +
        "(name, input_schema) can be translated",
    );
  }
  const fn: JsonObject = {
    name: stringAt(tool.name, `${at}.name`),
    parameters: recordAt(tool.input_schema, `${at}.input_schema`),
  };
  if (isSet(tool.description)) fn.description = stringAt(tool.description, `${at}.description`);
  if (typeof tool.strict === "boolean") fn.strict = tool.strict;
  if (isSet(tool.cache_control)) dropped.add("cache_control");
  return { type: "function", function: fn };
}

function toolChoice(choice: JsonObject): unknown {
  const type = typeOf(choice, "tool_choice");
  switch (type) {
    case "auto":
      return "auto";
    case "any":
      return "required";
    case "none":
      return "none";
    case "tool":
      return { type: "function", function: { name: stringAt(choice.name, "tool_choice.name") } };
  }
  return fail("tool_choice.type", 'must be "auto", "any", "tool" or "none"');
}
