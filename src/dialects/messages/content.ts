/**
 * Messages conversation turns -> Chat Completions messages. A user turn's tool results become
 * `role: "tool"` messages placed first (Chat wants them right after the assistant's tool calls),
 * then the rest of the turn as one user message; an assistant turn becomes one assistant message.
 */
import type { JsonObject } from "../../core/json.ts";
import { fail, isSet, listAt, recordAt, stringAt, typeOf } from "./fields.ts";

/** Names of what the translation left out, for a debug log. */
export type Dropped = Set<string>;

/** Converts the request's `messages` list. */
export function convertMessages(raw: unknown, dropped: Dropped): JsonObject[] {
  const turns = listAt(raw, "messages");
  if (turns.length === 0) fail("messages", "must not be empty");
  const out: JsonObject[] = [];
  turns.forEach((turn, i) => {
    const path = `messages[${i}]`;
    const message = recordAt(turn, path);
    const content = contentOf(message.content, `${path}.content`);
    if (message.role === "user") out.push(...userMessages(content, path, dropped));
    else if (message.role === "assistant") {
      const converted = assistantMessage(content, path, dropped);
      if (converted !== undefined) out.push(converted);
    } else if (message.role === "system") {
      // A system turn between the others (Claude Code sends them): a Chat system message there.
      out.push(...systemAt(content, `${path}.content`, dropped));
    } else fail(`${path}.role`, 'must be "user", "assistant" or "system"');
  });
  return out;
}

/** The system prompt as one Chat system message (none when it is empty). */
export function systemMessages(raw: unknown, dropped: Dropped): JsonObject[] {
  if (!isSet(raw)) return [];
  if (typeof raw !== "string" && !Array.isArray(raw)) {
    fail("system", "must be a string or a list of text blocks");
  }
  return systemAt(raw, "system", dropped);
}

/** Text blocks (or a string) at `path` as one Chat system message, none when empty. */
function systemAt(raw: string | unknown[], path: string, dropped: Dropped): JsonObject[] {
  const text = typeof raw === "string" ? raw : raw.map((block, i) => {
    const at = `${path}[${i}]`;
    const b = recordAt(block, at);
    if (typeOf(b, at) !== "text") fail(`${at}.type`, 'must be "text"');
    noteDropped(b, dropped);
    return stringAt(b.text, `${at}.text`);
  }).join("\n\n");
  return text === "" ? [] : [{ role: "system", content: text }];
}

function contentOf(raw: unknown, path: string): string | unknown[] {
  if (typeof raw === "string") return raw;
  if (!Array.isArray(raw)) fail(path, "must be a string or a list of content blocks");
  if (raw.length === 0) fail(path, "must not be empty");
  return raw;
}

/** Block fields a Chat request has no place for. */
function noteDropped(block: JsonObject, dropped: Dropped): void {
  if (isSet(block.cache_control)) dropped.add("cache_control");
  if (isSet(block.citations)) dropped.add("citations");
}

function userMessages(content: string | unknown[], path: string, dropped: Dropped): JsonObject[] {
  if (typeof content === "string") return [{ role: "user", content }];
  const tools: JsonObject[] = [];
  // Images and documents a tool returned: a Chat tool message carries text only.
  const attachments: JsonObject[] = [];
  const parts: JsonObject[] = [];
  content.forEach((raw, j) => {
    const at = `${path}.content[${j}]`;
    const block = recordAt(raw, at);
    const type = typeOf(block, at);
    noteDropped(block, dropped);
    switch (type) {
      case "text":
        parts.push({ type: "text", text: stringAt(block.text, `${at}.text`) });
        break;
      case "image":
        parts.push(imagePart(block, at));
        break;
      case "document":
        parts.push(documentPart(block, at));
        break;
      case "tool_result":
        tools.push(toolMessage(block, at, attachments, dropped));
        break;
      case "thinking":
      case "redacted_thinking":
        dropped.add(`${type} blocks`);
        break;
      default:
        fail(`${at}.type`, `"${type}" blocks cannot be translated in a user turn`);
    }
  });
  const rest = [...attachments, ...parts];
  if (rest.length === 0) return tools;
  const only = rest.length === 1 ? rest[0] : undefined;
  // A lone text part goes as a plain string, which every Chat server accepts.
  const userContent = only?.type === "text" ? only.text : rest;
  return [...tools, { role: "user", content: userContent }];
}

function imagePart(block: JsonObject, at: string): JsonObject {
  const source = recordAt(block.source, `${at}.source`);
  const type = typeOf(source, `${at}.source`);
  if (type === "base64") {
    const mediaType = stringAt(source.media_type, `${at}.source.media_type`);
    const data = stringAt(source.data, `${at}.source.data`);
    return { type: "image_url", image_url: { url: `data:${mediaType};base64,${data}` } };
  }
  if (type === "url") {
    return { type: "image_url", image_url: { url: stringAt(source.url, `${at}.source.url`) } };
  }
  return fail(`${at}.source.type`, `"${type}" image sources cannot be translated`);
}

/** A PDF goes as a Chat `file` part with inline data; a text document as plain text. */
function documentPart(block: JsonObject, at: string): JsonObject {
  const source = recordAt(block.source, `${at}.source`);
  const type = typeOf(source, `${at}.source`);
  if (type === "base64") {
    const mediaType = stringAt(source.media_type, `${at}.source.media_type`);
    if (mediaType !== "application/pdf") {
      fail(`${at}.source.media_type`, "only application/pdf documents can be translated");
    }
    const data = stringAt(source.data, `${at}.source.data`);
    // OpenAI asks for a file name beside inline data.
    const filename = typeof block.title === "string" && block.title !== ""
      ? block.title
      : "document.pdf";
    return { type: "file", file: { filename, file_data: `data:application/pdf;base64,${data}` } };
  }
  if (type === "text") {
    return { type: "text", text: stringAt(source.data, `${at}.source.data`) };
  }
  if (type === "content") {
    const inner = contentOf(source.content, `${at}.source.content`);
    const text = typeof inner === "string" ? inner : inner.map((raw, k) => {
      const where = `${at}.source.content[${k}]`;
      const b = recordAt(raw, where);
      if (typeOf(b, where) !== "text") fail(`${where}.type`, 'must be "text"');
      return stringAt(b.text, `${where}.text`);
    }).join("\n\n");
    return { type: "text", text };
  }
  return fail(
    `${at}.source.type`,
    `"${type}" document sources cannot be translated (inline PDF, text or content only)`,
  );
}

/** A `tool_result` block -> a Chat tool message; its images and documents go to `attachments`. */
function toolMessage(
  block: JsonObject,
  at: string,
  attachments: JsonObject[],
  dropped: Dropped,
): JsonObject {
  const id = stringAt(block.tool_use_id, `${at}.tool_use_id`);
  const texts: string[] = [];
  const content = block.content;
  let attached = 0;
  if (typeof content === "string") texts.push(content);
  else if (Array.isArray(content)) {
    content.forEach((raw, k) => {
      const where = `${at}.content[${k}]`;
      const part = recordAt(raw, where);
      const type = typeOf(part, where);
      noteDropped(part, dropped);
      if (type === "text") texts.push(stringAt(part.text, `${where}.text`));
      else if (type === "image") attachments.push(imagePart(part, where));
      else if (type === "document") attachments.push(documentPart(part, where));
      else fail(`${where}.type`, `"${type}" blocks cannot be translated in a tool result`);
      if (type !== "text") attached++;
    });
  } else if (isSet(content)) {
    fail(`${at}.content`, "must be a string or a list of content blocks");
  }
  if (attached > 0) {
    const what = attached === 1 ? "1 attachment follows" : `${attached} attachments follow`;
    texts.push(`(${what} in the next user message)`);
  }
  let text = texts.join("\n");
  // Chat has no error flag on a tool message: the model reads it in the text.
  if (block.is_error === true) text = text === "" ? "Error" : `Error: ${text}`;
  return { role: "tool", tool_call_id: id, content: text };
}

function assistantMessage(
  content: string | unknown[],
  path: string,
  dropped: Dropped,
): JsonObject | undefined {
  if (typeof content === "string") return { role: "assistant", content };
  let text = "";
  const calls: JsonObject[] = [];
  content.forEach((raw, j) => {
    const at = `${path}.content[${j}]`;
    const block = recordAt(raw, at);
    const type = typeOf(block, at);
    noteDropped(block, dropped);
    switch (type) {
      case "text":
        // Text blocks are consecutive pieces of one answer (citations split it mid-sentence).
        text += stringAt(block.text, `${at}.text`);
        break;
      case "tool_use":
        calls.push({
          id: stringAt(block.id, `${at}.id`),
          type: "function",
          function: {
            name: stringAt(block.name, `${at}.name`),
            arguments: JSON.stringify(recordAt(block.input, `${at}.input`)),
          },
        });
        break;
      case "thinking":
      case "redacted_thinking":
        // Signed reasoning only the model that wrote it can read back.
        dropped.add(`${type} blocks`);
        break;
      default:
        fail(`${at}.type`, `"${type}" blocks cannot be translated in an assistant turn`);
    }
  });
  if (text === "" && calls.length === 0) return undefined;
  const message: JsonObject = { role: "assistant", content: text === "" ? null : text };
  if (calls.length > 0) message.tool_calls = calls;
  return message;
}
