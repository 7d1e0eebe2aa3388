/**
 * Chat Completions response (non-streaming) -> Responses `response` object. Pure: the upstream
 * JSON enters as `unknown` and is checked; an answer that is not a completion is a protocol
 * failure.
 */
import { ProviderError } from "../../core/errors.ts";
import { isRecord, type JsonObject } from "../../core/json.ts";
import { contentText, reasoningOf } from "../hub.ts";
import type { ResponseContext } from "./context.ts";
import {
  callIdPrefix,
  callItem,
  messageItem,
  outputText,
  reasoningItem,
  refusalPart,
} from "./output_items.ts";
import {
  callIdFor,
  clientToolName,
  customInput,
  echoFields,
  emptyUsage,
  endFor,
  itemId,
  type ItemStatus,
  responseObject,
  usageFromChat,
} from "./wire.ts";

/** Translates a Chat completion into a Responses `response` object for the request in `ctx`. */
export function chatToResponse(chat: unknown, ctx: ResponseContext): JsonObject {
  const choice = isRecord(chat) && Array.isArray(chat.choices) ? chat.choices[0] : undefined;
  if (!isRecord(chat) || !isRecord(choice) || !isRecord(choice.message)) {
    throw new ProviderError("protocol", "the upstream answered something that is not a completion");
  }
  const message = choice.message;
  const end = endFor(choice.finish_reason);
  // An item the answer was still writing when it stopped shares the answer's end, as in a
  // stream: the calls, which come last, and the message unless calls follow it.
  const last: ItemStatus = end.status;
  const calls = Array.isArray(message.tool_calls) ? message.tool_calls : [];
  const output: JsonObject[] = [];
  const reasoning = reasoningOf(message);
  if (reasoning !== "") output.push(reasoningItem(itemId("rs_"), reasoning));
  const content = contentOf(message);
  if (content.length > 0) {
    output.push(messageItem(itemId("msg_"), calls.length > 0 ? "completed" : last, content));
  }
  calls.forEach((call, i) => output.push(toolCall(call, i, ctx, last)));
  return responseObject(ctx, echoFields(ctx.request), {
    status: end.status,
    output,
    usage: usageFromChat(chat.usage) ?? emptyUsage(),
    incompleteDetails: end.incomplete_details,
  });
}

/** The message's content parts: its text (a string, or text parts), then its refusal. */
function contentOf(message: JsonObject): JsonObject[] {
  const { refusal } = message;
  const text = contentText(message.content);
  const parts: JsonObject[] = [];
  if (text !== "") parts.push(outputText(text));
  if (typeof refusal === "string" && refusal !== "") parts.push(refusalPart(refusal));
  return parts;
}

function toolCall(call: unknown, i: number, ctx: ResponseContext, status: ItemStatus): JsonObject {
  const fn = isRecord(call) ? call.function : undefined;
  if (!isRecord(call) || !isRecord(fn) || typeof fn.name !== "string" || fn.name === "") {
    throw new ProviderError("protocol", `the upstream's tool call ${i} has no function name`);
  }
  const tool = clientToolName(fn.name, ctx);
  const args = argumentsOf(fn.arguments);
  return callItem(itemId(callIdPrefix(tool)), status, {
    callId: callIdFor(call.id),
    tool,
    text: tool.custom ? customInput(args) : args,
  });
}

/** The arguments as JSON text; servers answer "" (or nothing) for a function without any. */
function argumentsOf(args: unknown): string {
  if (typeof args === "string") return args === "" ? "{}" : args;
  if (isRecord(args)) return JSON.stringify(args);
  return "{}";
}
