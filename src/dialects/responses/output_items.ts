/**
 * Output items of a Responses answer, as the whole response lists them and as a stream's
 * `response.output_item.added` / `.done` events carry them (their fields in the order OpenAI
 * sends them), and the items a stream builds as the hub's deltas arrive.
 */
import type { JsonObject } from "../../core/json.ts";
import type { ClientToolName } from "./context.ts";
import { customInput, type ItemStatus } from "./wire.ts";

/** An `output_text` content part. */
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

/** A reasoning item as a stream builds it, its summary written as the hub's reasoning arrives. */
export interface ReasoningOutput {
  kind: "reasoning";
  index: number;
  id: string;
  text: string;
  open: boolean;
}

/** A content part of the message item. */
export interface Part {
  type: "output_text" | "refusal";
  text: string;
}

/** A message item as a stream builds it, its parts written as the hub's text (or refusal) arrives. */
export interface MessageOutput {
  kind: "message";
  index: number;
  id: string;
  parts: Part[];
  /** Whether the last part still takes deltas. */
  partOpen: boolean;
  open: boolean;
  status: ItemStatus;
}

/** A function call or custom tool call item as a stream builds it. */
export interface CallOutput {
  kind: "call";
  index: number;
  id: string;
  callId: string;
  tool: ClientToolName;
  /** The hub's arguments so far (JSON text). */
  text: string;
  open: boolean;
  status: ItemStatus;
}

/** An output item as a stream builds it. */
export type Output = ReasoningOutput | MessageOutput | CallOutput;

/** An output item a stream builds, as it stands. */
export function snapshot(item: Output): JsonObject {
  switch (item.kind) {
    case "reasoning":
      return reasoningItem(item.id, item.text);
    case "message":
      return messageItem(item.id, item.status, item.parts.map(partOf));
    case "call": {
      const text = item.tool.custom ? customInput(item.text) : item.text;
      return callItem(item.id, item.status, { callId: item.callId, tool: item.tool, text });
    }
  }
}

/** A message part as a content part. */
export function partOf(part: Part): JsonObject {
  return part.type === "output_text" ? outputText(part.text) : refusalPart(part.text);
}
