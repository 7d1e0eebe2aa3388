/**
 * OpenAI chat request -> Anthropic Messages request. Pure: no I/O, the input is never mutated.
 * A field that would change the shape or meaning of the answer and has no Anthropic counterpart
 * is refused with a 400 naming it; pure hints are dropped (see DROPPED_FIELDS).
 */
import { ProviderError } from "../../core/errors.ts";
import { isRecord, type JsonObject } from "../../core/json.ts";
import { unsupportedField } from "../http_util.ts";
import { openAIErrorBody } from "../openai_wire.ts";

/** What the translation needs besides the request. */
export interface AnthropicRequestOptions {
  /** `max_tokens` when the request sets none (Anthropic requires one). */
  defaultMaxTokens: number;
  /** Provider name, for error messages. */
  provider: string;
}

/** OpenAI fields that are hints only: dropped without a word (documented in the README). */
export const DROPPED_FIELDS: readonly string[] = [
  "seed",
  "presence_penalty",
  "frequency_penalty",
  "store",
  "metadata",
  "service_tier",
  "stream_options",
  "prediction",
  "reasoning_effort",
  "verbosity",
  "prompt_cache_key",
  "safety_identifier",
];

/** One Anthropic message: content is always a list of blocks. */
interface AnthropicMessage {
  role: "user" | "assistant";
  content: JsonObject[];
}

/** Translates a parsed OpenAI chat request (`model` already rewritten) into Anthropic's shape. */
export function toAnthropicRequest(
  body: Readonly<JsonObject>,
  options: AnthropicRequestOptions,
): JsonObject {
  const { provider } = options;
  refuseUnhonourable(body, provider);
  const { system, messages } = convertMessages(body.messages, provider);
  const out: JsonObject = {
    model: body.model,
    max_tokens: maxTokens(body, options),
    messages,
  };
  if (system !== "") out.system = system;
  copySampling(body, out, provider);
  const tools = convertTools(body.tools, provider);
  if (tools.length > 0) {
    out.tools = tools;
    const choice = convertToolChoice(body, provider);
    if (choice !== undefined) out.tool_choice = choice;
  }
  if (body.stream === true) out.stream = true;
  if (typeof body.user === "string" && body.user !== "") out.metadata = { user_id: body.user };
  return out;
}

/** A 400 for a value that is malformed (as opposed to well-formed but unsupported). */
function invalidField(provider: string, field: string, why: string): ProviderError {
  return new ProviderError("http", `${provider} cannot translate ${field}`, {
    status: 400,
    upstreamBody: openAIErrorBody(`${field}: ${why}`, { param: field, code: "invalid_value" }),
    upstreamContentType: "application/json",
  });
}

function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** Refuses the fields that would silently change the answer's shape if dropped. */
function refuseUnhonourable(body: Readonly<JsonObject>, provider: string): void {
  const refuse = (field: string, why: string) => {
    throw unsupportedField(provider, field, why);
  };
  if (isSet(body.n) && body.n !== 1) refuse("n", "Anthropic returns one choice; use n: 1");
  if (body.logprobs === true) refuse("logprobs", "Anthropic returns no log probabilities");
  if (typeof body.top_logprobs === "number" && body.top_logprobs > 0) {
    refuse("top_logprobs", "Anthropic returns no log probabilities");
  }
  if (isRecord(body.logit_bias) && Object.keys(body.logit_bias).length > 0) {
    refuse("logit_bias", "Anthropic has no token biasing");
  }
  if (isSet(body.audio)) refuse("audio", "Anthropic answers in text only");
  if (Array.isArray(body.modalities) && body.modalities.some((m) => m !== "text")) {
    refuse("modalities", "Anthropic answers in text only");
  }
  const format = body.response_format;
  if (isSet(format) && !(isRecord(format) && format.type === "text")) {
    refuse("response_format", 'only {"type": "text"} is supported by this Anthropic adapter');
  }
  if (isSet(body.functions)) refuse("functions", "the legacy functions API; send tools instead");
  if (isSet(body.function_call)) {
    refuse("function_call", "the legacy functions API; send tool_choice instead");
  }
  if (isSet(body.web_search_options)) {
    refuse("web_search_options", "web search is not available through this adapter");
  }
}

function maxTokens(body: Readonly<JsonObject>, options: AnthropicRequestOptions): number {
  for (const field of ["max_completion_tokens", "max_tokens"] as const) {
    const value = body[field];
    if (!isSet(value)) continue;
    if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
      throw invalidField(options.provider, field, "must be a positive integer");
    }
    return value;
  }
  return options.defaultMaxTokens;
}

function copySampling(body: Readonly<JsonObject>, out: JsonObject, provider: string): void {
  const { temperature, top_p: topP, stop } = body;
  if (isSet(temperature)) {
    if (typeof temperature !== "number") {
      throw invalidField(provider, "temperature", "not a number");
    }
    // OpenAI's scale ends at 2, Anthropic's at 1: rescaling would change what the client asked for.
    if (temperature > 1) {
      throw unsupportedField(
        provider,
        "temperature",
        `Anthropic accepts 0 to 1, got ${temperature}`,
      );
    }
    out.temperature = temperature;
  }
  if (isSet(topP)) out.top_p = topP;
  if (typeof stop === "string") out.stop_sequences = [stop];
  else if (Array.isArray(stop)) {
    if (!stop.every((s) => typeof s === "string")) {
      throw invalidField(provider, "stop", "must be a string or a list of strings");
    }
    if (stop.length > 0) out.stop_sequences = stop;
  } else if (isSet(stop)) throw invalidField(provider, "stop", "must be a string or a list");
}

/** System and developer messages become the top-level `system`; the rest alternate roles. */
function convertMessages(
  raw: unknown,
  provider: string,
): { system: string; messages: AnthropicMessage[] } {
  if (!Array.isArray(raw)) throw invalidField(provider, "messages", "must be a list");
  const system: string[] = [];
  const messages: AnthropicMessage[] = [];
  raw.forEach((message: unknown, i) => {
    const path = `messages[${i}]`;
    if (!isRecord(message)) throw invalidField(provider, path, "must be an object");
    switch (message.role) {
      case "system":
      case "developer":
        system.push(plainText(message.content, `${path}.content`, provider));
        break;
      case "user":
        append(messages, "user", userBlocks(message.content, path, provider));
        break;
      case "assistant":
        append(messages, "assistant", assistantBlocks(message, path, provider));
        break;
      case "tool":
        append(messages, "user", [toolResult(message, path, provider)]);
        break;
      default:
        throw unsupportedField(provider, `${path}.role`, `no Anthropic role for "${message.role}"`);
    }
  });
  for (const message of messages) toolResultsFirst(message);
  return { system: system.filter((s) => s !== "").join("\n\n"), messages };
}

/** Anthropic wants user and assistant turns to alternate: same-role neighbours are merged. */
function append(
  messages: AnthropicMessage[],
  role: AnthropicMessage["role"],
  blocks: JsonObject[],
) {
  // Anthropic rejects empty turns; an OpenAI message with nothing in it says nothing either.
  if (blocks.length === 0) return;
  const last = messages.at(-1);
  if (last?.role === role) last.content.push(...blocks);
  else messages.push({ role, content: blocks });
}

/** Anthropic requires a user turn's tool results before any other block in it. */
function toolResultsFirst(message: AnthropicMessage): void {
  if (message.role !== "user") return;
  const results = message.content.filter((b) => b.type === "tool_result");
  if (results.length === 0 || results.length === message.content.length) return;
  message.content = [...results, ...message.content.filter((b) => b.type !== "tool_result")];
}

/** Text of a string or a list of text parts (system and tool messages carry text only). */
function plainText(content: unknown, path: string, provider: string): string {
  if (content === undefined || content === null) return "";
  if (typeof content === "string") return content;
  if (!Array.isArray(content)) throw invalidField(provider, path, "must be a string or a list");
  return content.map((part: unknown, j) => {
    if (isRecord(part) && part.type === "text" && typeof part.text === "string") return part.text;
    throw unsupportedField(provider, `${path}[${j}]`, "only text parts are supported here");
  }).join("\n");
}

function textBlocks(text: string): JsonObject[] {
  // Anthropic rejects empty text blocks.
  return text === "" ? [] : [{ type: "text", text }];
}

function userBlocks(content: unknown, path: string, provider: string): JsonObject[] {
  if (typeof content === "string") return textBlocks(content);
  if (!Array.isArray(content)) {
    throw invalidField(provider, `${path}.content`, "must be a string or a list of parts");
  }
  return content.flatMap((part: unknown, j) => {
    const at = `${path}.content[${j}]`;
    if (!isRecord(part)) throw invalidField(provider, at, "must be an object");
    switch (part.type) {
      case "text":
        if (typeof part.text !== "string") throw invalidField(provider, `${at}.text`, "not text");
        return textBlocks(part.text);
      case "image_url":
        return [imageBlock(part.image_url, `${at}.image_url`, provider)];
      case "file":
        return [documentBlock(part.file, `${at}.file`, provider)];
      default:
        throw unsupportedField(provider, `${at}.type`, `Anthropic takes no "${part.type}" input`);
    }
  });
}

/** `data:<media type>;base64,<data>` */
const DATA_URL = /^data:([^;,]+)(?:;[^;,]*)*;base64,(.*)$/s;

function imageBlock(image: unknown, path: string, provider: string): JsonObject {
  const url = isRecord(image) ? image.url : image;
  if (typeof url !== "string") throw invalidField(provider, `${path}.url`, "must be a string");
  const data = DATA_URL.exec(url);
  if (data !== null) {
    return { type: "image", source: { type: "base64", media_type: data[1], data: data[2] } };
  }
  if (/^https?:\/\//i.test(url)) return { type: "image", source: { type: "url", url } };
  throw invalidField(provider, `${path}.url`, "must be an http(s) URL or a base64 data URL");
}

/** PDFs sent inline as `file_data`; uploaded `file_id`s live at OpenAI, out of Anthropic's reach. */
function documentBlock(file: unknown, path: string, provider: string): JsonObject {
  const data = isRecord(file) && typeof file.file_data === "string"
    ? DATA_URL.exec(file.file_data)
    : null;
  if (data === null || data[1] !== "application/pdf") {
    throw unsupportedField(provider, path, "only inline PDFs (file_data as a base64 data URL)");
  }
  return { type: "document", source: { type: "base64", media_type: data[1], data: data[2] } };
}

function assistantBlocks(message: JsonObject, path: string, provider: string): JsonObject[] {
  const blocks: JsonObject[] = [];
  const { content } = message;
  if (typeof content === "string") blocks.push(...textBlocks(content));
  else if (Array.isArray(content)) {
    content.forEach((part: unknown, j) => {
      // A refusal in the history is what the assistant said: it goes back as text.
      const text = !isRecord(part)
        ? undefined
        : part.type === "text"
        ? part.text
        : part.type === "refusal"
        ? part.refusal
        : undefined;
      if (typeof text !== "string") {
        throw unsupportedField(provider, `${path}.content[${j}]`, "only text and refusal parts");
      }
      blocks.push(...textBlocks(text));
    });
  } else if (isSet(content)) {
    throw invalidField(provider, `${path}.content`, "must be a string or a list of parts");
  }
  if (isSet(message.tool_calls)) {
    if (!Array.isArray(message.tool_calls)) {
      throw invalidField(provider, `${path}.tool_calls`, "must be a list");
    }
    message.tool_calls.forEach((call: unknown, j) => {
      blocks.push(toolUse(call, `${path}.tool_calls[${j}]`, provider));
    });
  }
  return blocks;
}

function toolUse(call: unknown, path: string, provider: string): JsonObject {
  if (!isRecord(call) || call.type !== "function" || !isRecord(call.function)) {
    throw unsupportedField(provider, path, "only function tool calls are supported");
  }
  const { id } = call;
  const { name, arguments: args } = call.function;
  if (typeof id !== "string") throw invalidField(provider, `${path}.id`, "must be a string");
  if (typeof name !== "string") {
    throw invalidField(provider, `${path}.function.name`, "must be a string");
  }
  return { type: "tool_use", id, name, input: parseArguments(args, `${path}.function`, provider) };
}

/** Anthropic wants the arguments as a JSON object, OpenAI sends them as JSON text. */
function parseArguments(args: unknown, path: string, provider: string): JsonObject {
  // Models answer "" for a function without parameters; it means "no arguments".
  if (args === undefined || args === "") return {};
  let input: unknown;
  try {
    input = typeof args === "string" ? JSON.parse(args) : undefined;
  } catch {
    throw invalidField(provider, `${path}.arguments`, "is not valid JSON");
  }
  if (!isRecord(input)) {
    throw invalidField(provider, `${path}.arguments`, "must be a JSON object in a string");
  }
  return input;
}

function toolResult(message: JsonObject, path: string, provider: string): JsonObject {
  if (typeof message.tool_call_id !== "string") {
    throw invalidField(provider, `${path}.tool_call_id`, "must be a string");
  }
  const block: JsonObject = { type: "tool_result", tool_use_id: message.tool_call_id };
  const text = plainText(message.content, `${path}.content`, provider);
  if (text !== "") block.content = text;
  return block;
}

function convertTools(raw: unknown, provider: string): JsonObject[] {
  if (!isSet(raw)) return [];
  if (!Array.isArray(raw)) throw invalidField(provider, "tools", "must be a list");
  return raw.map((tool: unknown, i) => {
    if (!isRecord(tool) || tool.type !== "function" || !isRecord(tool.function)) {
      throw unsupportedField(provider, `tools[${i}].type`, "only function tools are supported");
    }
    const fn = tool.function;
    if (typeof fn.name !== "string") {
      throw invalidField(provider, `tools[${i}].function.name`, "must be a string");
    }
    const out: JsonObject = {
      name: fn.name,
      // Anthropic requires a schema; OpenAI allows none for a function without parameters.
      input_schema: isRecord(fn.parameters) ? fn.parameters : { type: "object", properties: {} },
    };
    if (typeof fn.description === "string") out.description = fn.description;
    return out;
  });
}

function convertToolChoice(body: Readonly<JsonObject>, provider: string): JsonObject | undefined {
  const raw = body.tool_choice;
  let choice: JsonObject | undefined;
  if (raw === "auto") choice = { type: "auto" };
  else if (raw === "required") choice = { type: "any" };
  else if (raw === "none") choice = { type: "none" };
  else if (isRecord(raw) && raw.type === "function" && isRecord(raw.function)) {
    if (typeof raw.function.name !== "string") {
      throw invalidField(provider, "tool_choice.function.name", "must be a string");
    }
    choice = { type: "tool", name: raw.function.name };
  } else if (isSet(raw)) {
    throw unsupportedField(provider, "tool_choice", "use auto, required, none or one function");
  }
  if (body.parallel_tool_calls === false && choice?.type !== "none") {
    choice = { ...(choice ?? { type: "auto" }), disable_parallel_tool_use: true };
  }
  return choice;
}
