/**
 * OpenAI request -> Gemini `generateContent` / `batchEmbedContents` request. Pure functions:
 * the OpenAI body is shared across attempts, so it is only read, never changed.
 *
 * Fields Gemini cannot honour are refused with a 400 naming the field, rather than silently
 * dropped; fields without any effect on the answer (`user`, `store`, `metadata`, ...) are dropped.
 */
import { isRecord, type JsonObject } from "../../core/json.ts";
import { unsupportedField } from "../http_util.ts";
import { toGeminiSchema } from "./schema.ts";

/** Options of the request translators. */
export interface GeminiRequestOptions {
  /** Provider name, for error messages. */
  provider: string;
}

/** One Gemini `Content`: a turn of the conversation. */
interface Turn {
  role: "user" | "model";
  parts: JsonObject[];
}

/** Refused fields and why; a field is "set" unless undefined, null or false. */
const REFUSED: Record<string, string> = {
  logprobs: "Gemini log probabilities are not translated by this gateway",
  top_logprobs: "Gemini log probabilities are not translated by this gateway",
  logit_bias: "Gemini has no token biasing",
  audio: "audio output is not available through this gateway's Gemini adapter",
  prediction: "Gemini has no predicted outputs",
  web_search_options: "Gemini search grounding is not translated by this gateway",
  functions: "the legacy functions field is not translated; use tools",
  function_call: "the legacy function_call field is not translated; use tool_choice",
};

/** OpenAI `reasoning_effort` -> Gemini thinking budget (the budgets Google's own mapping uses). */
const THINKING_BUDGETS: Record<string, number> = {
  none: 0,
  minimal: 1024,
  low: 1024,
  medium: 8192,
  high: 24576,
};

/** Numeric OpenAI fields copied into `generationConfig` under Gemini's name. */
const NUMERIC_FIELDS: [string, string][] = [
  ["temperature", "temperature"],
  ["top_p", "topP"],
  ["n", "candidateCount"],
  ["seed", "seed"],
  ["presence_penalty", "presencePenalty"],
  ["frequency_penalty", "frequencyPenalty"],
];

/** Matches `data:<mime>[;params];base64,<data>`. */
const DATA_URL = /^data:([^;,]+)(?:;[^;,]*)*;base64,(.*)$/s;
/** A file uploaded through the Gemini Files API: the only remote URI Gemini reads itself. */
const FILES_API_URI = /^https:\/\/generativelanguage\.googleapis\.com\/[^/]+\/files\/[^/?#]+$/;

/** Translates an OpenAI chat request into a Gemini `GenerateContentRequest`. */
export function toGeminiRequest(
  body: Readonly<JsonObject>,
  options: GeminiRequestOptions,
): JsonObject {
  const provider = options.provider;
  refuseFields(body, provider);
  const { contents, system } = toContents(body.messages, provider);
  const out: JsonObject = { contents };
  if (system.length > 0) out.systemInstruction = { parts: system };
  const tools = toTools(body.tools, provider);
  if (tools !== undefined) out.tools = tools;
  const toolConfig = toToolConfig(body.tool_choice, provider);
  if (toolConfig !== undefined) out.toolConfig = toolConfig;
  const generationConfig = toGenerationConfig(body, provider);
  if (Object.keys(generationConfig).length > 0) out.generationConfig = generationConfig;
  return out;
}

/** Translates an OpenAI embeddings request into a Gemini `BatchEmbedContentsRequest`. */
export function toGeminiEmbedRequest(
  body: Readonly<JsonObject>,
  options: GeminiRequestOptions & { model: string },
): JsonObject {
  const { provider } = options;
  const input = body.input;
  const texts = typeof input === "string" ? [input] : input;
  if (!Array.isArray(texts) || !texts.every((t) => typeof t === "string")) {
    throw unsupportedField(provider, "input", "Gemini embeds text only: a string or strings");
  }
  const format = body.encoding_format;
  if (format !== undefined && format !== null && format !== "float" && format !== "base64") {
    throw unsupportedField(provider, "encoding_format", 'must be "float" or "base64"');
  }
  const dimensions = optionalNumber(body, "dimensions", provider);
  const model = options.model.startsWith("models/") ? options.model : `models/${options.model}`;
  return {
    requests: texts.map((text) => ({
      model,
      content: { parts: [{ text }] },
      ...(dimensions === undefined ? {} : { outputDimensionality: dimensions }),
    })),
  };
}

function refuseFields(body: Readonly<JsonObject>, provider: string): void {
  for (const [field, why] of Object.entries(REFUSED)) {
    const value = body[field];
    if (value !== undefined && value !== null && value !== false) {
      throw unsupportedField(provider, field, why);
    }
  }
  const modalities = body.modalities;
  if (Array.isArray(modalities) && modalities.some((m) => m !== "text")) {
    throw unsupportedField(provider, "modalities", "only text output is available");
  }
}

function toContents(
  messages: unknown,
  provider: string,
): { contents: Turn[]; system: JsonObject[] } {
  if (!Array.isArray(messages)) throw unsupportedField(provider, "messages", "must be an array");
  const contents: Turn[] = [];
  const system: JsonObject[] = [];
  // Gemini's functionResponse needs the function's name; OpenAI's tool message only has the id.
  const toolNames = new Map<string, string>();
  messages.forEach((message: unknown, i) => {
    const path = `messages[${i}]`;
    if (!isRecord(message)) throw unsupportedField(provider, path, "must be an object");
    switch (message.role) {
      case "system":
      case "developer":
        // Gemini has one system instruction; every system message joins it, in order.
        system.push(...textParts(message.content, `${path}.content`, provider));
        break;
      case "user":
        addTurn(contents, "user", userParts(message.content, `${path}.content`, provider));
        break;
      case "assistant":
        addTurn(contents, "model", assistantParts(message, { path, provider, toolNames }));
        break;
      case "tool":
        addTurn(contents, "user", [functionResponse(message, { path, provider, toolNames })]);
        break;
      default:
        throw unsupportedField(provider, `${path}.role`, `Gemini has no "${message.role}" role`);
    }
  });
  if (contents.length === 0) {
    throw unsupportedField(provider, "messages", "needs at least one user or assistant message");
  }
  return { contents, system };
}

/** Gemini wants alternating turns: consecutive turns of one role become one. */
function addTurn(contents: Turn[], role: Turn["role"], parts: JsonObject[]): void {
  if (parts.length === 0) return;
  const last = contents.at(-1);
  if (last !== undefined && last.role === role) last.parts.push(...parts);
  else contents.push({ role, parts });
}

/** Text-only content (system, assistant, tool): a string or text/refusal parts. */
function textParts(content: unknown, path: string, provider: string): JsonObject[] {
  if (content === undefined || content === null) return [];
  if (typeof content === "string") return content === "" ? [] : [{ text: content }];
  if (!Array.isArray(content)) {
    throw unsupportedField(provider, path, "must be a string or an array of parts");
  }
  return content.flatMap((part: unknown, j) => {
    if (isRecord(part) && (part.type === "text" || part.type === "refusal")) {
      const text = part.type === "text" ? part.text : part.refusal;
      if (typeof text === "string") return text === "" ? [] : [{ text }];
    }
    throw unsupportedField(provider, `${path}[${j}]`, "only text parts are allowed here");
  });
}

function userParts(content: unknown, path: string, provider: string): JsonObject[] {
  if (!Array.isArray(content)) return textParts(content, path, provider);
  return content.flatMap((part: unknown, j) => {
    const at = `${path}[${j}]`;
    if (!isRecord(part)) throw unsupportedField(provider, at, "must be an object");
    switch (part.type) {
      case "text":
        if (typeof part.text !== "string") {
          throw unsupportedField(provider, `${at}.text`, "must be a string");
        }
        return part.text === "" ? [] : [{ text: part.text }];
      case "image_url": {
        const image = part.image_url;
        const url = isRecord(image) ? image.url : image;
        return [mediaPart(url, `${at}.image_url`, provider)];
      }
      case "input_audio": {
        const audio = isRecord(part.input_audio) ? part.input_audio : {};
        if (typeof audio.data !== "string" || typeof audio.format !== "string") {
          throw unsupportedField(provider, `${at}.input_audio`, "needs data and format");
        }
        return [{ inlineData: { mimeType: `audio/${audio.format}`, data: audio.data } }];
      }
      case "file": {
        const file = isRecord(part.file) ? part.file : {};
        return [mediaPart(file.file_data, `${at}.file.file_data`, provider)];
      }
      default:
        throw unsupportedField(provider, `${at}.type`, `unsupported content part "${part.type}"`);
    }
  });
}

/**
 * An image or file reference. Gemini's `inlineData` carries bytes, not URLs, and the gateway
 * does not fetch URLs on a client's behalf (latency, SSRF); so base64 `data:` URLs become
 * `inlineData`, Gemini Files API URIs become `fileData`, and anything else is refused.
 */
function mediaPart(url: unknown, path: string, provider: string): JsonObject {
  if (typeof url === "string") {
    const data = DATA_URL.exec(url);
    if (data !== null) return { inlineData: { mimeType: data[1], data: data[2] } };
    if (FILES_API_URI.test(url)) return { fileData: { fileUri: url } };
  }
  throw unsupportedField(
    provider,
    path,
    "Gemini cannot fetch URLs; send a base64 data: URL or a Gemini Files API URI",
  );
}

interface MessageContext {
  path: string;
  provider: string;
  toolNames: Map<string, string>;
}

function assistantParts(message: JsonObject, ctx: MessageContext): JsonObject[] {
  const parts = textParts(message.content, `${ctx.path}.content`, ctx.provider);
  const calls = message.tool_calls;
  if (calls === undefined || calls === null) return parts;
  if (!Array.isArray(calls)) {
    throw unsupportedField(ctx.provider, `${ctx.path}.tool_calls`, "must be an array");
  }
  calls.forEach((call: unknown, k) => {
    const at = `${ctx.path}.tool_calls[${k}]`;
    const fn = isRecord(call) ? call.function : undefined;
    if (!isRecord(call) || !isRecord(fn) || typeof fn.name !== "string") {
      throw unsupportedField(ctx.provider, at, "must be a function call with a name");
    }
    if (typeof call.id === "string") ctx.toolNames.set(call.id, fn.name);
    const part: JsonObject = {
      functionCall: { name: fn.name, args: parseArguments(fn.arguments, at, ctx.provider) },
    };
    // Gemini 2.5+/3 ask for their thought signature back; it rides along as Google's own
    // OpenAI-compatible endpoint carries it (`extra_content.google.thought_signature`).
    const google = isRecord(call.extra_content) ? call.extra_content.google : undefined;
    if (isRecord(google) && typeof google.thought_signature === "string") {
      part.thoughtSignature = google.thought_signature;
    }
    parts.push(part);
  });
  return parts;
}

function parseArguments(args: unknown, path: string, provider: string): JsonObject {
  if (args === undefined || args === null || args === "") return {};
  if (typeof args === "string") {
    try {
      const parsed: unknown = JSON.parse(args);
      if (isRecord(parsed)) return parsed;
    } catch {
      // Falls through to the refusal: Gemini's args must be an object.
    }
  }
  throw unsupportedField(provider, `${path}.function.arguments`, "must be a JSON object");
}

function functionResponse(message: JsonObject, ctx: MessageContext): JsonObject {
  const id = message.tool_call_id;
  const name = typeof id === "string" ? ctx.toolNames.get(id) : undefined;
  if (name === undefined) {
    throw unsupportedField(
      ctx.provider,
      `${ctx.path}.tool_call_id`,
      "matches no tool call of an earlier assistant message",
    );
  }
  const parts = textParts(message.content, `${ctx.path}.content`, ctx.provider);
  const text = parts.map((p) => p.text).join("");
  let response: JsonObject = { content: text };
  try {
    const parsed: unknown = JSON.parse(text);
    if (isRecord(parsed)) response = parsed;
  } catch {
    // Not JSON: the text is the result, wrapped because Gemini's response must be an object.
  }
  return { functionResponse: { name, response } };
}

function toTools(tools: unknown, provider: string): JsonObject[] | undefined {
  if (tools === undefined || tools === null) return undefined;
  if (!Array.isArray(tools)) throw unsupportedField(provider, "tools", "must be an array");
  if (tools.length === 0) return undefined;
  const declarations = tools.map((tool: unknown, i) => {
    const fn = isRecord(tool) ? tool.function : undefined;
    if (!isRecord(tool) || tool.type !== "function" || !isRecord(fn)) {
      throw unsupportedField(provider, `tools[${i}].type`, 'only "function" tools are supported');
    }
    if (typeof fn.name !== "string") {
      throw unsupportedField(provider, `tools[${i}].function.name`, "must be a string");
    }
    const declaration: JsonObject = { name: fn.name };
    if (typeof fn.description === "string") declaration.description = fn.description;
    const field = `tools[${i}].function.parameters`;
    const parameters = toGeminiSchema(fn.parameters, { provider, field });
    // Gemini refuses an OBJECT schema without properties; a function without them takes none.
    const properties = parameters.properties;
    if (isRecord(properties) && Object.keys(properties).length > 0) {
      declaration.parameters = parameters;
    }
    return declaration;
  });
  return [{ functionDeclarations: declarations }];
}

function toToolConfig(choice: unknown, provider: string): JsonObject | undefined {
  if (choice === undefined || choice === null) return undefined;
  const modes: Record<string, string> = { auto: "AUTO", required: "ANY", none: "NONE" };
  if (typeof choice === "string" && choice in modes) {
    return { functionCallingConfig: { mode: modes[choice] } };
  }
  const fn = isRecord(choice) ? choice.function : undefined;
  if (isRecord(fn) && typeof fn.name === "string") {
    return { functionCallingConfig: { mode: "ANY", allowedFunctionNames: [fn.name] } };
  }
  throw unsupportedField(
    provider,
    "tool_choice",
    'must be "auto", "required", "none" or {"type": "function", "function": {"name": ...}}',
  );
}

function toGenerationConfig(body: Readonly<JsonObject>, provider: string): JsonObject {
  const config: JsonObject = {};
  for (const [field, name] of NUMERIC_FIELDS) {
    const value = optionalNumber(body, field, provider);
    if (value !== undefined) config[name] = value;
  }
  const maxTokens = optionalNumber(body, "max_completion_tokens", provider) ??
    optionalNumber(body, "max_tokens", provider);
  if (maxTokens !== undefined) config.maxOutputTokens = maxTokens;
  const stop = body.stop;
  if (typeof stop === "string") config.stopSequences = [stop];
  else if (Array.isArray(stop) && stop.every((s) => typeof s === "string")) {
    if (stop.length > 0) config.stopSequences = stop;
  } else if (stop !== undefined && stop !== null) {
    throw unsupportedField(provider, "stop", "must be a string or an array of strings");
  }
  Object.assign(config, responseFormat(body.response_format, provider));
  const effort = body.reasoning_effort;
  if (typeof effort === "string" && effort in THINKING_BUDGETS) {
    config.thinkingConfig = { thinkingBudget: THINKING_BUDGETS[effort] };
  } else if (effort !== undefined && effort !== null) {
    throw unsupportedField(provider, "reasoning_effort", "must be none, low, medium or high");
  }
  return config;
}

function responseFormat(format: unknown, provider: string): JsonObject {
  if (format === undefined || format === null) return {};
  const type = isRecord(format) ? format.type : undefined;
  if (type === "text") return {};
  if (type === "json_object") return { responseMimeType: "application/json" };
  if (type === "json_schema" && isRecord(format)) {
    const spec = isRecord(format.json_schema) ? format.json_schema : {};
    if (!isRecord(spec.schema)) return { responseMimeType: "application/json" };
    const field = "response_format.json_schema.schema";
    return {
      responseMimeType: "application/json",
      responseSchema: toGeminiSchema(spec.schema, { provider, field }),
    };
  }
  throw unsupportedField(provider, "response_format", "must be text, json_object or json_schema");
}

function optionalNumber(
  body: Readonly<JsonObject>,
  field: string,
  provider: string,
): number | undefined {
  const value = body[field];
  if (value === undefined || value === null) return undefined;
  if (typeof value !== "number" || !Number.isFinite(value)) {
    throw unsupportedField(provider, field, "must be a number");
  }
  return value;
}
