/**
 * Content parts of Responses messages and tool outputs -> Chat content parts. Only what a Chat
 * request can carry inline goes: a file id or a file URL names something only OpenAI can fetch.
 */
import type { JsonObject } from "../../core/json.ts";
import { fail, isSet, recordAt, stringAt, typeOf } from "./fields.ts";

/** The roles of a Responses message, as Chat sees them. */
export type Role = "user" | "system" | "assistant";

/** `data:<media type>[;params];base64,<data>` */
const DATA_URL = /^data:([^;,]+)(?:;[^;,]*)*;base64,/;

/**
 * A message's content as Chat content: a string as it is, a list of parts converted, a lone text
 * part as a plain string (which every Chat server accepts). Undefined when the list is empty.
 */
export function messageContent(
  raw: unknown,
  role: Role,
  path: string,
): string | JsonObject[] | undefined {
  if (typeof raw === "string") return raw;
  if (!Array.isArray(raw)) fail(path, "must be a string or a list of content parts");
  const parts = raw.map((part, j) => contentPart(part, role, `${path}[${j}]`));
  if (parts.length === 0) return undefined;
  const only = parts.length === 1 ? parts[0] : undefined;
  return only?.type === "text" ? only.text as string : parts;
}

function contentPart(raw: unknown, role: Role, at: string): JsonObject {
  const part = recordAt(raw, at);
  const type = typeOf(part, at);
  switch (type) {
    case "input_text":
      return { type: "text", text: stringAt(part.text, `${at}.text`) };
    case "output_text":
      if (role === "assistant") return { type: "text", text: stringAt(part.text, `${at}.text`) };
      break;
    case "refusal":
      // A refusal in the history is what the assistant said: it goes back as text.
      if (role === "assistant") {
        return { type: "text", text: stringAt(part.refusal, `${at}.refusal`) };
      }
      break;
    case "input_image":
      if (role === "user") return imagePart(part, at);
      break;
    case "input_file":
      if (role === "user") return filePart(part, at);
      break;
  }
  return fail(`${at}.type`, `"${type}" parts cannot be translated in a ${role} message`);
}

/** An `input_image` part -> a Chat `image_url` part. */
export function imagePart(part: JsonObject, at: string): JsonObject {
  if (isSet(part.file_id)) {
    fail(`${at}.file_id`, "a file id cannot be resolved here: send image_url (a URL or data URL)");
  }
  const image: JsonObject = { url: stringAt(part.image_url, `${at}.image_url`) };
  if (isSet(part.detail)) image.detail = detailOf(part.detail, `${at}.detail`);
  return { type: "image_url", image_url: image };
}

/** Chat knows `low`, `high` and `auto`; `original` asks for the most detail, Chat's `high`. */
function detailOf(raw: unknown, at: string): string {
  const detail = stringAt(raw, at);
  if (detail === "low" || detail === "high" || detail === "auto") return detail;
  if (detail === "original") return "high";
  return fail(at, 'must be "low", "high", "auto" or "original"');
}

/** An `input_file` part with inline data -> a Chat `file` part. */
export function filePart(part: JsonObject, at: string): JsonObject {
  if (isSet(part.file_id)) {
    fail(`${at}.file_id`, "a file id cannot be resolved here: send the file as file_data");
  }
  if (isSet(part.file_url)) {
    fail(`${at}.file_url`, "a file URL cannot be translated: send the file as file_data");
  }
  const data = stringAt(part.file_data, `${at}.file_data`);
  const filename = isSet(part.filename) ? stringAt(part.filename, `${at}.filename`) : undefined;
  const media = DATA_URL.exec(data)?.[1];
  if (media !== undefined) {
    // OpenAI asks for a file name beside inline data.
    const name = filename ?? (media === "application/pdf" ? "document.pdf" : "document");
    return { type: "file", file: { filename: name, file_data: data } };
  }
  // Bare base64 is taken for a PDF only when its name says so: Chat wants a data URL.
  if (filename !== undefined && /\.pdf$/i.test(filename)) {
    return { type: "file", file: { filename, file_data: `data:application/pdf;base64,${data}` } };
  }
  return fail(`${at}.file_data`, "must be a data URL (data:<media type>;base64,...)");
}

/**
 * A tool output (a string, or text, image and file parts) as the text of a Chat tool message;
 * images and files go to `attachments`, for a user message after the tool messages, since a
 * Chat tool message carries text only.
 */
export function toolOutputText(raw: unknown, at: string, attachments: JsonObject[]): string {
  if (typeof raw === "string") return raw;
  if (!Array.isArray(raw)) fail(at, "must be a string or a list of content parts");
  const texts: string[] = [];
  let attached = 0;
  raw.forEach((item, k) => {
    const where = `${at}[${k}]`;
    const part = recordAt(item, where);
    const type = typeOf(part, where);
    if (type === "input_text") texts.push(stringAt(part.text, `${where}.text`));
    else if (type === "input_image") attachments.push(imagePart(part, where));
    else if (type === "input_file") attachments.push(filePart(part, where));
    else fail(`${where}.type`, `"${type}" parts cannot be translated in a tool output`);
    if (type !== "input_text") attached++;
  });
  if (attached > 0) {
    const what = attached === 1 ? "1 attachment follows" : `${attached} attachments follow`;
    texts.push(`(${what} in the next user message)`);
  }
  return texts.join("\n");
}
