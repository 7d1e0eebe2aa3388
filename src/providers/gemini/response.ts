/**
 * Gemini answers -> OpenAI wire format: chat completions, embeddings and error bodies.
 * Gemini JSON enters as `unknown` and is checked; a shape we cannot read is a protocol error.
 */
import { ProviderError } from "../../core/errors.ts";
import { isRecord, type JsonObject, parseJsonOrUndefined } from "../../core/json.ts";
import { completionId, openAIErrorBody, openAIErrorType, unixSeconds } from "../openai_wire.ts";

/** Gemini finish reasons that mean "the output was filtered". */
const FILTERED = new Set([
  "SAFETY",
  "RECITATION",
  "BLOCKLIST",
  "PROHIBITED_CONTENT",
  "SPII",
  "IMAGE_SAFETY",
]);

/** What one Gemini candidate (or one streamed piece of it) carries, in OpenAI terms. */
export interface CandidateParts {
  /** Index of the candidate, OpenAI's `choices[].index`. */
  index: number;
  /** Visible text (thought summaries left out), null when there is none. */
  text: string | null;
  toolCalls: JsonObject[];
  /** Gemini's `finishReason`, when this piece ends the candidate. */
  finishReason?: string;
}

/** OpenAI usage with the optional detail blocks Gemini can fill. */
export type GeminiUsage = JsonObject & {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
};

/** Maps Gemini's `finishReason` to OpenAI's `finish_reason`. */
export function finishReasonOf(reason: string, hasToolCalls: boolean): string {
  if (reason === "MAX_TOKENS") return "length";
  if (FILTERED.has(reason)) return "content_filter";
  return hasToolCalls ? "tool_calls" : "stop";
}

/** A fresh tool call id in OpenAI's style; Gemini's calls have none we can rely on. */
export function toolCallId(): string {
  return "call_" + crypto.randomUUID().replaceAll("-", "").slice(0, 24);
}

/** Reads the candidates of a `GenerateContentResponse`, in order. */
export function readCandidates(json: JsonObject): CandidateParts[] {
  const candidates = Array.isArray(json.candidates) ? json.candidates : [];
  return candidates.filter(isRecord).map((candidate, position) => {
    const content = isRecord(candidate.content) ? candidate.content : {};
    const parts = Array.isArray(content.parts) ? content.parts.filter(isRecord) : [];
    let text: string | null = null;
    const toolCalls: JsonObject[] = [];
    for (const part of parts) {
      // Thought summaries (`thought: true`) are the model's reasoning, not its answer.
      if (typeof part.text === "string" && part.thought !== true) text = (text ?? "") + part.text;
      if (isRecord(part.functionCall)) toolCalls.push(toolCallOf(part));
    }
    return {
      index: typeof candidate.index === "number" ? candidate.index : position,
      text,
      toolCalls,
      ...(typeof candidate.finishReason === "string"
        ? { finishReason: candidate.finishReason }
        : {}),
    };
  });
}

function toolCallOf(part: JsonObject): JsonObject {
  const call = part.functionCall as JsonObject;
  const args = isRecord(call.args) ? call.args : {};
  const toolCall: JsonObject = {
    id: toolCallId(),
    type: "function",
    function: {
      name: typeof call.name === "string" ? call.name : "",
      arguments: JSON.stringify(args),
    },
  };
  // Handed back by the client on the next turn, as Google's OpenAI-compatible endpoint does.
  if (typeof part.thoughtSignature === "string") {
    toolCall.extra_content = { google: { thought_signature: part.thoughtSignature } };
  }
  return toolCall;
}

/** Reads `usageMetadata` into OpenAI usage; thinking tokens count as completion tokens. */
export function usageOf(meta: unknown): GeminiUsage | undefined {
  if (!isRecord(meta)) return undefined;
  const count = (key: string) => typeof meta[key] === "number" ? meta[key] : 0;
  const prompt = count("promptTokenCount");
  const thoughts = count("thoughtsTokenCount");
  const completion = count("candidatesTokenCount") + thoughts;
  const usage: GeminiUsage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: typeof meta.totalTokenCount === "number"
      ? meta.totalTokenCount
      : prompt + completion,
  };
  if (typeof meta.cachedContentTokenCount === "number") {
    usage.prompt_tokens_details = { cached_tokens: meta.cachedContentTokenCount };
  }
  if (thoughts > 0) usage.completion_tokens_details = { reasoning_tokens: thoughts };
  return usage;
}

/** The reason Gemini blocked the prompt itself, if it did. */
export function blockReasonOf(json: JsonObject): string | undefined {
  const feedback = json.promptFeedback;
  return isRecord(feedback) && typeof feedback.blockReason === "string"
    ? feedback.blockReason
    : undefined;
}

/** Translates a `GenerateContentResponse` into an OpenAI `chat.completion`. */
export function fromGeminiResponse(json: unknown, model: string): JsonObject {
  if (!isRecord(json)) throw new ProviderError("protocol", "Gemini answer is not a JSON object");
  const candidates = readCandidates(json);
  const choices = candidates.map((c) => ({
    index: c.index,
    message: {
      role: "assistant",
      content: c.text,
      refusal: null,
      ...(c.toolCalls.length > 0 ? { tool_calls: c.toolCalls } : {}),
    },
    logprobs: null,
    finish_reason: finishReasonOf(c.finishReason ?? "STOP", c.toolCalls.length > 0),
  }));
  if (choices.length === 0) {
    if (blockReasonOf(json) === undefined) {
      throw new ProviderError("protocol", "Gemini answer has no candidates and no block reason");
    }
    // A blocked prompt is an answer, not an error: OpenAI reports filtering the same way.
    choices.push({
      index: 0,
      message: { role: "assistant", content: null, refusal: null },
      logprobs: null,
      finish_reason: "content_filter",
    });
  }
  const usage = usageOf(json.usageMetadata);
  return {
    id: completionId(),
    object: "chat.completion",
    created: unixSeconds(),
    model: typeof json.modelVersion === "string" ? json.modelVersion : model,
    choices,
    ...(usage === undefined ? {} : { usage }),
  };
}

/** Options for `fromGeminiEmbeddings`. */
export interface EmbeddingsOptions {
  /** The client asked for `encoding_format: "base64"` (the openai SDK's default). */
  base64?: boolean;
}

/** Translates a `BatchEmbedContentsResponse` into an OpenAI embeddings list. */
export function fromGeminiEmbeddings(
  json: unknown,
  model: string,
  options: EmbeddingsOptions = {},
): JsonObject {
  const embeddings = isRecord(json) ? json.embeddings : undefined;
  if (!Array.isArray(embeddings)) {
    throw new ProviderError("protocol", 'Gemini embeddings answer has no "embeddings" array');
  }
  const data = embeddings.map((item: unknown, index) => {
    const values = isRecord(item) ? item.values : undefined;
    if (!Array.isArray(values) || !values.every((v) => typeof v === "number")) {
      throw new ProviderError("protocol", `Gemini embedding ${index} has no numeric "values"`);
    }
    return {
      object: "embedding",
      index,
      embedding: options.base64 ? float32Base64(values) : values,
    };
  });
  // batchEmbedContents reports no token counts; zeros keep the OpenAI shape intact.
  return { object: "list", data, model, usage: { prompt_tokens: 0, total_tokens: 0 } };
}

/** OpenAI's base64 embedding encoding: float32 little-endian bytes, base64. */
export function float32Base64(values: readonly number[]): string {
  const bytes = new Uint8Array(values.length * 4);
  const view = new DataView(bytes.buffer);
  values.forEach((v, i) => view.setFloat32(i * 4, v, true));
  let binary = "";
  // Chunked: String.fromCharCode with one argument per byte overflows the stack on big vectors.
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}

/** What a Google error body (`{error: {code, message, status, details}}`) says. */
export interface GoogleError {
  code?: number;
  message: string;
  status?: string;
  /** `details[].reason` of a `google.rpc.ErrorInfo`, e.g. `API_KEY_INVALID`. */
  reason?: string;
}

/** Reads a Google error body (also the one-element array form); undefined if it is not one. */
export function parseGoogleError(body: unknown): GoogleError | undefined {
  const root = Array.isArray(body) ? body[0] : body;
  const error = isRecord(root) ? root.error : undefined;
  if (!isRecord(error) || typeof error.message !== "string") return undefined;
  const details = Array.isArray(error.details) ? error.details.filter(isRecord) : [];
  const reason = details.map((d) => d.reason).find((r) => typeof r === "string");
  return {
    message: error.message,
    ...(typeof error.code === "number" ? { code: error.code } : {}),
    ...(typeof error.status === "string" ? { status: error.status } : {}),
    ...(typeof reason === "string" ? { reason } : {}),
  };
}

/**
 * Google answers some provider-side problems with a 400, which the gateway would hand back to
 * the client as its own fault. Those are remapped so the gateway moves on to the next target:
 * an invalid key -> 401, a billing/region precondition -> 403.
 */
function statusFor(status: number, error: GoogleError): number {
  const keyInvalid = error.reason === "API_KEY_INVALID" ||
    error.message.includes("API_KEY_INVALID") || error.message.includes("API key not valid");
  if (keyInvalid || error.status === "UNAUTHENTICATED") return 401;
  if (status === 400 && error.status === "FAILED_PRECONDITION") return 403;
  return status;
}

/** `ErrorTranslator` for Gemini: Google's error body -> OpenAI's, status remapped where needed. */
export function toOpenAIError(status: number, body: string): { status: number; body: string } {
  const json = parseJsonOrUndefined(body);
  const error = parseGoogleError(json);
  if (error === undefined) {
    const message = body.trim().slice(0, 2000) || `Gemini answered HTTP ${status}`;
    return { status, body: openAIErrorBody(message, { type: openAIErrorType(status) }) };
  }
  const mapped = statusFor(status, error);
  const code = error.reason ?? error.status;
  return {
    status: mapped,
    body: openAIErrorBody(error.message, {
      type: openAIErrorType(mapped),
      code: code === undefined ? null : code.toLowerCase(),
    }),
  };
}
