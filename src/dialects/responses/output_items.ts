/**
 * Output items of a Responses answer, as the whole response lists them and as a stream's
 * `response.output_item.added` / `.done` events carry them. Their fields come in the order
 * OpenAI sends them.
 */
import type { JsonObject } from "../../core/json.ts";
import type { ClientToolName } from "./context.ts";
import type { ItemStatus } from "./wire.ts";

/** A `output_text` content part. */
export function outputText(text: string): JsonObject {
  return { type: "output_text", annotations: [], logprobs: [], text };
}

/** A `refusal` content part. */
export function refusalPart(refusal: string): JsonObject {
  return { type: "refusal", refusal };
}

/**
 * A `reasoning` item. The hub's reasoning goes out as the item's summary: the part of a
 * reasoning item every Responses client shows, where raw reasoning text is shown only on request.
 */
export function reasoningItem(id: string, text: string | undefined): JsonObject {
  const summary = text === undefined ? [] : [{ type: "summary_text", text }];
  return { id, type: "reasoning", summary };
}

/** An assistant `message` item. */
export function messageItem(id: string, status: ItemStatus, content: JsonObject[]): JsonObject {
  return { id, type: "message", status, content, role: "assistant" };
}

/** A tool call: what the hub said, with the name the client gave the tool. */
export interface CallFields {
  callId: string;
  tool: ClientToolName;
  /** The arguments (JSON text) of a function, or the input of a custom tool. */
  text: string;
}

/** A `function_call` item, or a `custom_tool_call` item for a custom tool. */
export function callItem(id: string, status: ItemStatus, call: CallFields): JsonObject {
  const { tool } = call;
  const item: JsonObject = tool.custom
    ? { id, type: "custom_tool_call", status, call_id: call.callId, input: call.text }
    : { id, type: "function_call", status, arguments: call.text, call_id: call.callId };
  item.name = tool.name;
  if (tool.namespace !== undefined) item.namespace = tool.namespace;
  return item;
}

/** The id prefix of a call item: `ctc_` for a custom tool's, `fc_` for a function's. */
export function callIdPrefix(tool: ClientToolName): string {
  return tool.custom ? "ctc_" : "fc_";
}
