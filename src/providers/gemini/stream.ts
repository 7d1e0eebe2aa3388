/**
 * Gemini `streamGenerateContent?alt=sse` -> OpenAI `chat.completion.chunk` events. Each Gemini
 * event is a whole `GenerateContentResponse` holding the next piece of each candidate.
 */
import type { EventSourceMessage } from "eventsource-parser";
import { ProviderError } from "../../core/errors.ts";
import { isRecord, type JsonObject } from "../../core/json.ts";
import { chatChunk, type ChunkHead, completionId, unixSeconds, usage } from "../openai_wire.ts";
import type { StreamTranslator } from "../sse_translate.ts";
import {
  blockReasonOf,
  type CandidateParts,
  finishReasonOf,
  type GeminiUsage,
  readCandidates,
  toOpenAIError,
  usageOf,
} from "./response.ts";

/** Options for `geminiStreamTranslator`. */
export interface GeminiStreamOptions {
  /** Model name reported in the chunks. */
  model: string;
  /** The client asked for `stream_options.include_usage`: a usage chunk before `[DONE]`. */
  includeUsage: boolean;
}

/** Per-choice progress: tool calls are numbered per choice, and every choice must finish. */
interface ChoiceState {
  toolCalls: number;
  finished: boolean;
}

type Payload = Record<string, unknown> | string;

/** Everything one stream remembers between events. */
interface StreamState {
  head: ChunkHead;
  choices: Map<number, ChoiceState>;
  /** The latest `usageMetadata` (Gemini repeats it; the last one is the total). */
  usage?: GeminiUsage;
  /** The prompt was blocked: no candidate will come. */
  blocked: boolean;
}

/** Builds the translator for one Gemini stream. */
export function geminiStreamTranslator(options: GeminiStreamOptions): StreamTranslator {
  const state: StreamState = {
    head: { id: completionId(), model: options.model, created: unixSeconds() },
    choices: new Map(),
    blocked: false,
  };
  return {
    onEvent: (event) => translateEvent(state, event),
    onEnd: () => finish(state, options.includeUsage),
  };
}

function chunk(head: ChunkHead, index: number, delta: JsonObject, reason: string | null = null) {
  return {
    id: head.id,
    object: "chat.completion.chunk",
    created: head.created,
    model: head.model,
    choices: [{ index, delta, logprobs: null, finish_reason: reason }],
  };
}

function translateEvent(state: StreamState, event: EventSourceMessage): Payload[] {
  let json: unknown;
  try {
    json = JSON.parse(event.data);
  } catch {
    throw new ProviderError("protocol", "Gemini stream event is not JSON");
  }
  if (!isRecord(json)) throw new ProviderError("protocol", "Gemini stream event is not an object");
  if (json.error !== undefined) throw streamError(json);
  const out: Payload[] = [];
  state.usage = usageOf(json.usageMetadata) ?? state.usage;
  const candidates = readCandidates(json);
  for (const c of candidates) translateCandidate(state, c, out);
  if (candidates.length === 0 && !state.blocked && blockReasonOf(json) !== undefined) {
    // The prompt itself was blocked: one empty, filtered choice, as OpenAI reports it.
    state.blocked = true;
    out.push(chunk(state.head, 0, { role: "assistant", content: "" }));
    out.push(chunk(state.head, 0, {}, "content_filter"));
  }
  return out;
}

function translateCandidate(state: StreamState, c: CandidateParts, out: Payload[]): void {
  let choice = state.choices.get(c.index);
  if (choice === undefined) {
    choice = { toolCalls: 0, finished: false };
    state.choices.set(c.index, choice);
    // OpenAI streams open each choice with the role and an empty content.
    out.push(chunk(state.head, c.index, { role: "assistant", content: "" }));
  }
  if (c.text !== null && c.text !== "") out.push(chunk(state.head, c.index, { content: c.text }));
  if (c.toolCalls.length > 0) {
    // Gemini sends whole calls: each one is a single delta with complete arguments.
    const first = choice.toolCalls;
    const deltas = c.toolCalls.map((call, k) => ({ index: first + k, ...call }));
    choice.toolCalls += deltas.length;
    out.push(chunk(state.head, c.index, { tool_calls: deltas }));
  }
  if (c.finishReason !== undefined && !choice.finished) {
    choice.finished = true;
    const reason = finishReasonOf(c.finishReason, choice.toolCalls > 0);
    out.push(chunk(state.head, c.index, {}, reason));
  }
}

function finish(state: StreamState, includeUsage: boolean): Payload[] {
  const open = [...state.choices.values()].some((c) => !c.finished);
  if ((state.choices.size === 0 && !state.blocked) || open) {
    // Without a finishReason the answer may be cut short; never let that look complete.
    throw new ProviderError("protocol", "Gemini stream ended without a finishReason");
  }
  const out: Payload[] = [];
  if (includeUsage) {
    out.push(chatChunk(state.head, null, null, state.usage ?? usage(0, 0)));
  }
  out.push("[DONE]");
  return out;
}

/** An error object inside a stream event: classified like an HTTP error of that status. */
function streamError(json: JsonObject): ProviderError {
  const error = isRecord(json.error) ? json.error : {};
  const code = typeof error.code === "number" && error.code >= 400 ? error.code : 500;
  const translated = toOpenAIError(code, JSON.stringify(json));
  const message = typeof error.message === "string" ? error.message : "unknown error";
  return new ProviderError("http", `Gemini stream reported an error: ${message}`, {
    status: translated.status,
    upstreamBody: translated.body,
    upstreamContentType: "application/json",
  });
}
