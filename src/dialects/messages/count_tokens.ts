/**
 * An estimate of a Messages request's input tokens, for targets that cannot count them: about
 * four characters of text per token (the usual figure for English prose and code with
 * byte-pair tokenizers), over everything the model reads: the system prompt, every message's
 * text, tool calls and results, and the tool definitions. Images and documents count a fixed
 * amount each.
 */
import { isRecord, type JsonObject } from "../../core/json.ts";

const CHARS_PER_TOKEN = 4;
/** Tokens counted for an image or a document block, whose size the estimate does not read. */
const ATTACHMENT_TOKENS = 1_600;
/** Tokens of framing per message (role and separators). */
const MESSAGE_TOKENS = 4;

/** Estimated input tokens of a Messages request body. */
export function estimateInputTokens(body: JsonObject): number {
  let chars = 0;
  let fixed = 0;
  const add = (value: unknown): void => {
    if (typeof value === "string") chars += value.length;
    else if (Array.isArray(value)) { for (const item of value) add(item); }
    else if (isRecord(value)) {
      if (value.type === "image" || value.type === "document") {
        fixed += ATTACHMENT_TOKENS;
        return;
      }
      if (typeof value.text === "string") chars += value.text.length;
      if (typeof value.thinking === "string") chars += value.thinking.length;
      if (value.input !== undefined) chars += JSON.stringify(value.input).length;
      if (typeof value.name === "string") chars += value.name.length;
      if (value.content !== undefined) add(value.content);
    }
  };
  add(body.system);
  if (Array.isArray(body.messages)) {
    for (const message of body.messages) {
      fixed += MESSAGE_TOKENS;
      if (isRecord(message)) add(message.content);
    }
  }
  if (Array.isArray(body.tools)) chars += JSON.stringify(body.tools).length;
  return Math.max(1, Math.ceil(chars / CHARS_PER_TOKEN) + fixed);
}
