// OpenAI wire shapes the mock upstream answers with, as documented in OpenAI's API reference.

/** Token usage in OpenAI's shape. */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** The cached part of `prompt_tokens`, when the prompt cache was hit. */
  prompt_tokens_details?: { cached_tokens: number };
}

/** The fields every completion object and chunk of one response shares. */
export interface ResponseMeta {
  id: string;
  created: number;
  model: string;
}

/** What a chat answer carries: text pieces, or one function tool call. */
export type ChatAnswer =
  | { kind: "text"; pieces: string[] }
  | { kind: "tool"; id: string; name: string; arguments: string };

/** SSE events of a streamed answer; the first `lead` events carry no content (the role chunk). */
export interface StreamEvents {
  events: string[];
  lead: number;
}

/** The `error` member of OpenAI's error body. */
export interface ErrorInfo {
  message: string;
  type: string;
  param?: string | null;
  code: string | null;
}

/** Whether `value` is a plain JSON object. */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** A rough, deterministic token count (about four characters a token), enough for usage fields. */
export function countTokens(text: string): number {
  return Math.ceil(text.length / 4);
}

/** OpenAI's usage object for the given counts. */
export function usageOf(promptTokens: number, completionTokens: number): Usage {
  return {
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    total_tokens: promptTokens + completionTokens,
  };
}

/** A fresh id with OpenAI's prefix, e.g. "chatcmpl-3f2a...". */
export function newId(prefix: string): string {
  return prefix + crypto.randomUUID().replaceAll("-", "").slice(0, 24);
}

/** Seconds since the epoch, as in `created`. */
export function unixNow(): number {
  return Math.floor(Date.now() / 1000);
}

/** One SSE event: `data: <json>\n\n`, or the `data: [DONE]\n\n` terminator. */
export function sseEvent(data: unknown): string {
  return `data: ${data === "[DONE]" ? data : JSON.stringify(data)}\n\n`;
}

/** The text of a chat request's messages (string content and text parts), for prompt token counts. */
export function chatPromptText(body: Record<string, unknown>): string {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  return messages.map((message) => {
    const content = isRecord(message) ? message.content : undefined;
    if (typeof content === "string") return content;
    if (!Array.isArray(content)) return "";
    return content.map((part) => isRecord(part) && typeof part.text === "string" ? part.text : "")
      .join("");
  }).join("\n");
}

/** The text of a legacy completion request's prompt (string or array of strings). */
export function completionPromptText(body: Record<string, unknown>): string {
  const prompt = body.prompt;
  if (typeof prompt === "string") return prompt;
  return Array.isArray(prompt) ? prompt.filter((p) => typeof p === "string").join("\n") : "";
}

function answerText(answer: ChatAnswer): string {
  return answer.kind === "text" ? answer.pieces.join("") : answer.name + answer.arguments;
}

/** A non-streaming `chat.completion` object. */
export function chatCompletionBody(
  meta: ResponseMeta,
  answer: ChatAnswer,
  promptTokens: number,
  reported?: Usage,
): Record<string, unknown> {
  const message = answer.kind === "text"
    ? { role: "assistant", content: answer.pieces.join(""), refusal: null }
    : {
      role: "assistant",
      content: null,
      tool_calls: [{
        id: answer.id,
        type: "function",
        function: { name: answer.name, arguments: answer.arguments },
      }],
      refusal: null,
    };
  return {
    id: meta.id,
    object: "chat.completion",
    created: meta.created,
    model: meta.model,
    choices: [{
      index: 0,
      message,
      logprobs: null,
      finish_reason: answer.kind === "text" ? "stop" : "tool_calls",
    }],
    usage: reported ?? usageOf(promptTokens, countTokens(answerText(answer))),
    system_fingerprint: null,
  };
}

function splitInTwo(text: string): string[] {
  const half = Math.ceil(text.length / 2);
  return [text.slice(0, half), text.slice(half)].filter((piece) => piece !== "");
}

function chatDeltas(answer: ChatAnswer): Record<string, unknown>[] {
  if (answer.kind === "text") {
    return [
      { role: "assistant", content: "" },
      ...answer.pieces.map((content) => ({ content })),
    ];
  }
  const start = {
    role: "assistant",
    content: null,
    tool_calls: [{
      index: 0,
      id: answer.id,
      type: "function",
      function: { name: answer.name, arguments: "" },
    }],
  };
  const rest = splitInTwo(answer.arguments).map((args) => ({
    tool_calls: [{ index: 0, function: { arguments: args } }],
  }));
  return [start, ...rest];
}

/** The SSE events of a streamed chat completion, `[DONE]` included. */
export function chatStreamEvents(
  meta: ResponseMeta,
  answer: ChatAnswer,
  options: { includeUsage: boolean; promptTokens: number; usage?: Usage },
): StreamEvents {
  // With include_usage, OpenAI sends `usage: null` on every chunk but the last.
  const tail = options.includeUsage ? { usage: null } : {};
  const chunk = (delta: Record<string, unknown>, finishReason: string | null) =>
    sseEvent({
      id: meta.id,
      object: "chat.completion.chunk",
      created: meta.created,
      model: meta.model,
      choices: [{ index: 0, delta, logprobs: null, finish_reason: finishReason }],
      ...tail,
    });
  const events = chatDeltas(answer).map((delta) => chunk(delta, null));
  events.push(chunk({}, answer.kind === "text" ? "stop" : "tool_calls"));
  if (options.includeUsage) {
    const usage = options.usage ??
      usageOf(options.promptTokens, countTokens(answerText(answer)));
    events.push(sseEvent({
      id: meta.id,
      object: "chat.completion.chunk",
      created: meta.created,
      model: meta.model,
      choices: [],
      usage,
    }));
  }
  events.push(sseEvent("[DONE]"));
  return { events, lead: 1 };
}

/** A non-streaming legacy `text_completion` object. */
export function textCompletionBody(
  meta: ResponseMeta,
  text: string,
  promptTokens: number,
): Record<string, unknown> {
  return {
    id: meta.id,
    object: "text_completion",
    created: meta.created,
    model: meta.model,
    choices: [{ text, index: 0, logprobs: null, finish_reason: "stop" }],
    usage: usageOf(promptTokens, countTokens(text)),
  };
}

/** The SSE events of a streamed legacy completion, `[DONE]` included. */
export function textStreamEvents(
  meta: ResponseMeta,
  pieces: string[],
  options: { includeUsage: boolean; promptTokens: number },
): StreamEvents {
  const chunk = (choices: unknown[], usage?: Usage) =>
    sseEvent({
      id: meta.id,
      object: "text_completion",
      created: meta.created,
      model: meta.model,
      choices,
      ...(usage ? { usage } : {}),
    });
  const choice = (text: string, finishReason: string | null) => ({
    text,
    index: 0,
    logprobs: null,
    finish_reason: finishReason,
  });
  const events = pieces.map((piece) => chunk([choice(piece, null)]));
  events.push(chunk([choice("", "stop")]));
  if (options.includeUsage) {
    events.push(chunk([], usageOf(options.promptTokens, countTokens(pieces.join("")))));
  }
  events.push(sseEvent("[DONE]"));
  return { events, lead: 0 };
}

/** Embedding inputs as texts (token arrays become their comma-joined ids) and their token count. */
export interface EmbeddingInputs {
  texts: string[];
  tokens: number;
}

function isTokenArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.length > 0 && value.every((t) => Number.isInteger(t));
}

/** Parses `input` (string, string[], token array or array of token arrays); undefined if invalid. */
export function parseEmbeddingInput(input: unknown): EmbeddingInputs | undefined {
  if (typeof input === "string") {
    return input === "" ? undefined : { texts: [input], tokens: countTokens(input) };
  }
  if (isTokenArray(input)) return { texts: [input.join(",")], tokens: input.length };
  if (!Array.isArray(input) || input.length === 0) return undefined;
  if (input.every((item) => typeof item === "string" && item !== "")) {
    const texts = input as string[];
    return { texts, tokens: texts.reduce((sum, text) => sum + countTokens(text), 0) };
  }
  if (input.every(isTokenArray)) {
    const arrays = input as number[][];
    return {
      texts: arrays.map((ids) => ids.join(",")),
      tokens: arrays.reduce((sum, ids) => sum + ids.length, 0),
    };
  }
  return undefined;
}

/** A deterministic vector for `text`: same text, same vector; values are exact float32 numbers. */
export function embeddingVector(text: string, dimensions: number): number[] {
  let state = 0x811c9dc5; // FNV-1a seed
  for (let i = 0; i < text.length; i++) {
    state = Math.imul(state ^ text.charCodeAt(i), 0x01000193) >>> 0;
  }
  const vector: number[] = [];
  for (let i = 0; i < dimensions; i++) {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    vector.push(Math.fround(state / 0xffffffff * 2 - 1));
  }
  return vector;
}

/** Base64 of the values as little-endian float32, as OpenAI sends for `encoding_format: "base64"`. */
export function float32Base64(values: readonly number[]): string {
  const view = new DataView(new ArrayBuffer(values.length * 4));
  values.forEach((value, i) => view.setFloat32(i * 4, value, true));
  let binary = "";
  for (const byte of new Uint8Array(view.buffer)) binary += String.fromCharCode(byte);
  return btoa(binary);
}

/** An embeddings `list` object for the given inputs. */
export function embeddingListBody(
  model: string,
  inputs: EmbeddingInputs,
  options: { dimensions: number; base64: boolean },
): Record<string, unknown> {
  const data = inputs.texts.map((text, index) => {
    const vector = embeddingVector(text, options.dimensions);
    return {
      object: "embedding",
      index,
      embedding: options.base64 ? float32Base64(vector) : vector,
    };
  });
  return {
    object: "list",
    data,
    model,
    usage: { prompt_tokens: inputs.tokens, total_tokens: inputs.tokens },
  };
}

/** A `model` object as listed by GET /v1/models. */
export function modelBody(id: string, ownedBy: string): Record<string, unknown> {
  return { id, object: "model", created: 1_700_000_000, owned_by: ownedBy };
}

/** The GET /v1/models `list` object. */
export function modelListBody(ids: readonly string[], ownedBy: string): Record<string, unknown> {
  return { object: "list", data: ids.map((id) => modelBody(id, ownedBy)) };
}

/** OpenAI's error body: `{"error":{"message","type","param","code"}}`. */
export function errorBody(info: ErrorInfo): Record<string, unknown> {
  return {
    error: {
      message: info.message,
      type: info.type,
      param: info.param ?? null,
      code: info.code,
    },
  };
}

/** The message, type and code OpenAI typically sends with an HTTP status. */
export function errorDefaults(status: number, model: string): ErrorInfo {
  switch (status) {
    case 400:
      return { message: "Invalid request.", type: "invalid_request_error", code: null };
    case 401:
      return {
        message: "Incorrect API key provided.",
        type: "invalid_request_error",
        code: "invalid_api_key",
      };
    case 403:
      return {
        message: "You are not allowed to sample from this model.",
        type: "invalid_request_error",
        code: null,
      };
    case 404:
      return {
        message: `The model \`${model}\` does not exist or you do not have access to it.`,
        type: "invalid_request_error",
        code: "model_not_found",
      };
    case 429:
      return {
        message: `Rate limit reached for ${model} on requests per min (RPM).`,
        type: "requests",
        code: "rate_limit_exceeded",
      };
  }
  if (status >= 500) {
    return {
      message: "The server had an error while processing your request. Sorry about that!",
      type: "server_error",
      code: null,
    };
  }
  return {
    message: `Request failed with status ${status}.`,
    type: "invalid_request_error",
    code: null,
  };
}
