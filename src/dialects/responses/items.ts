/**
 * Responses conversation items -> Chat Completions messages. Function calls join one assistant
 * message, with the assistant text just before them; each output becomes a `role: "tool"`
 * message; reasoning, which only the model that wrote it can read back, is left out.
 */
import type { JsonObject } from "../../core/json.ts";
import { messageContent, type Role, toolOutputText } from "./content.ts";
import { type Dropped, fail, isSet, recordAt, stringAt } from "./fields.ts";
import { callName, type HubTools } from "./tools.ts";

/** An item and the path a refusal names it by. */
export interface PlacedItem {
  item: unknown;
  path: string;
}

/** Where the conversion is. */
interface State {
  out: JsonObject[];
  /** The assistant message function calls join, until another kind of item comes. */
  assistant?: JsonObject;
  /** Images and files of tool outputs, sent in a user message once the tool messages end. */
  attachments: JsonObject[];
  tools: HubTools;
  dropped: Dropped;
}

/** Converts the items, oldest first, into Chat messages. */
export function convertItems(
  items: readonly PlacedItem[],
  tools: HubTools,
  dropped: Dropped,
): JsonObject[] {
  const state: State = { out: [], attachments: [], tools, dropped };
  for (const { item, path } of items) convertItem(recordAt(item, path), path, state);
  flushAttachments(state);
  return state.out;
}

function convertItem(item: JsonObject, path: string, state: State): void {
  // A message may come in the short form: `{role, content}` without a type.
  const type = !isSet(item.type) && isSet(item.role) ? "message" : item.type;
  if (typeof type !== "string") fail(`${path}.type`, "must be a string");
  switch (type) {
    case "message":
      return message(item, path, state);
    case "function_call":
    case "custom_tool_call":
      return toolCall(item, path, type === "custom_tool_call", state);
    case "function_call_output":
    case "custom_tool_call_output":
      return toolOutput(item, path, state);
    case "reasoning":
      state.dropped.add("reasoning items");
      return;
    case "web_search_call":
      // Left by a turn a native provider served: it holds no result, the answer after it does.
      state.dropped.add("web_search_call items");
      return;
    case "item_reference":
      return fail(`${path}.type`, "item references cannot be resolved here: send the item itself");
  }
  fail(`${path}.type`, `"${type}" items cannot be translated`);
}

const ROLES: Readonly<Record<string, Role>> = {
  user: "user",
  assistant: "assistant",
  system: "system",
  developer: "system",
};

function message(item: JsonObject, path: string, state: State): void {
  const role = typeof item.role === "string" ? ROLES[item.role] : undefined;
  if (role === undefined) {
    fail(`${path}.role`, 'must be "user", "assistant", "system" or "developer"');
  }
  const content = messageContent(item.content, role, `${path}.content`);
  flushAttachments(state);
  state.assistant = undefined;
  // A message with nothing in it says nothing: no empty message is sent.
  if (content === undefined) return;
  const converted: JsonObject = { role, content };
  state.out.push(converted);
  if (role === "assistant") state.assistant = converted;
}

function toolCall(item: JsonObject, path: string, custom: boolean, state: State): void {
  const id = stringAt(item.call_id, `${path}.call_id`);
  const name = stringAt(item.name, `${path}.name`);
  const namespace = isSet(item.namespace)
    ? stringAt(item.namespace, `${path}.namespace`)
    : undefined;
  const args = custom
    ? JSON.stringify({ input: stringAt(item.input, `${path}.input`) })
    : stringAt(item.arguments, `${path}.arguments`);
  flushAttachments(state);
  if (state.assistant === undefined) {
    state.assistant = { role: "assistant", content: null };
    state.out.push(state.assistant);
  }
  const calls = (state.assistant.tool_calls ??= []) as JsonObject[];
  calls.push({
    id,
    type: "function",
    function: { name: callName(state.tools, name, namespace), arguments: args },
  });
}

function toolOutput(item: JsonObject, path: string, state: State): void {
  const id = stringAt(item.call_id, `${path}.call_id`);
  const text = toolOutputText(item.output, `${path}.output`, state.attachments);
  state.assistant = undefined;
  state.out.push({ role: "tool", tool_call_id: id, content: text });
}

/** The user message with the tool outputs' images and files, after the tool messages. */
function flushAttachments(state: State): void {
  if (state.attachments.length === 0) return;
  state.out.push({ role: "user", content: state.attachments });
  state.attachments = [];
}
