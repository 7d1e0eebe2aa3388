/**
 * Chat Completions response (non-streaming) -> Messages response. Pure: the upstream JSON enters
 * as `unknown` and is checked; an answer that is not a completion is a protocol failure.
 */
import { ProviderError } from "../../core/errors.ts";
import { isRecord, type JsonObject } from "../../core/json.ts";
import {
  emptyUsage,
  messageIdFor,
  type MessagesUsage,
  stopInfoFor,
  toolUseIdFor,
  usageFromChat,
} from "./wire.ts";
import { contentText, reasoningOf } from "../hub.ts";

/** Options for `chatToMessages`. */
export interface FromChatOptions {
  /** The request's `stop_sequences`: a match the upstream reports becomes `stop_sequence`. */
  stopSequences?: readonly string[];
}

/** A Messages response. */
export interface MessagesResponse {
  id: string;
  type: "message";
  role: "assistant";
  model: string;
  content: JsonObject[];
  stop_reason: string;
  stop_sequence: string | null;
  usage: MessagesUsage;
}

/** Translates a Chat completion into a Messages response; `model` is what the client asked for. */
export function chatToMessages(
  json: unknown,
  model: string,
  options: FromChatOptions = {},
): MessagesResponse {
  const choice = isRecord(json) && Array.isArray(json.choices) ? json.choices[0] : undefined;
  if (!isRecord(json) || !isRecord(choice) || !isRecord(choice.message)) {
    throw new ProviderError("protocol", "the upstream answered something that is not a completion");
  }
  const message = choice.message;
  const content: JsonObject[] = [];
  const reasoning = reasoningOf(message);
  // Chat reasoning carries no signature; an empty one tells the client it cannot be verified.
  if (reasoning !== "") content.push({ type: "thinking", thinking: reasoning, signature: "" });
  const text = textOf(message);
  if (text !== "") content.push({ type: "text", text });
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  calls.forEach((call, i) => content.push(toolUse(call, i)));
  const stop = stopInfoFor(choice.finish_reason, {
    matched: choice.stop_reason,
    stopSequences: options.stopSequences,
    usedTools: calls.length > 0,
  });
  return {
    id: messageIdFor(json.id),
    type: "message",
    role: "assistant",
    model,
    content,
    ...stop,
    usage: usageFromChat(json.usage) ?? emptyUsage(),
  };
}

/** The answer's text: a string, or text parts; a refusal is what the model said, so text too. */
function textOf(message: JsonObject): string {
  const text = contentText(message.content);
  return text === "" && typeof message.refusal === "string" ? message.refusal : text;
}

function toolUse(call: unknown, i: number): JsonObject {
  const fn = isRecord(call) ? call.function : undefined;
  if (!isRecord(call) || !isRecord(fn) || typeof fn.name !== "string") {
    throw new ProviderError("protocol", `the upstream's tool call ${i} has no function name`);
  }
  return { type: "tool_use", id: toolUseIdFor(call.id), name: fn.name, input: input(fn, i) };
}

/** Messages wants the input as an object; Chat sends the arguments as JSON text. */
function input(fn: JsonObject, i: number): JsonObject {
  const args = fn.arguments;
  // Servers answer "" (or nothing) for a function without parameters.
  if (args === undefined || args === null || args === "") return {};
  if (isRecord(args)) return args;
  let parsed: unknown;
  try {
    parsed = typeof args === "string" ? JSON.parse(args) : undefined;
  } catch {
    parsed = undefined;
  }
  if (!isRecord(parsed)) {
    throw new ProviderError(
      "protocol",
      `the upstream's tool call ${i} (${fn.name}) has arguments that are not a JSON object`,
    );
  }
  return parsed;
}
