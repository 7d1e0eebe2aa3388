// What each POST endpoint of the mock upstream answers for an "ok" or "stream" scenario.
import type { MockUsage, Scenario } from "./mock_upstream.ts";
import {
  type ChatAnswer,
  chatCompletionBody,
  chatPromptText,
  chatStreamEvents,
  completionPromptText,
  countTokens,
  embeddingListBody,
  type ErrorInfo,
  isRecord,
  newId,
  parseEmbeddingInput,
  type ResponseMeta,
  type StreamEvents,
  textCompletionBody,
  textStreamEvents,
  unixNow,
  type Usage,
  usageOf,
} from "./mock_openai_wire.ts";

/** A scenario that produces an answer (as opposed to an error or a hang). */
export type AnsweringScenario = Extract<Scenario, { type: "ok" | "stream" }>;

/** How to deliver an answer: one JSON body after a delay, or a paced chunked body. */
export type Plan =
  | { kind: "json"; body: unknown; delayMs: number }
  | {
    kind: "stream";
    contentType: string;
    events: string[];
    firstByteDelayMs: number;
    gapMs: number;
    stopAfter?: number;
    stopMode: "break" | "hang";
  };

/** One POST endpoint: request validation (OpenAI-shaped 400s) and the answer plan. */
export interface Endpoint {
  validate(body: unknown): ErrorInfo | undefined;
  plan(body: Record<string, unknown>, scenario: AnsweringScenario, name: string): Plan;
}

/** An `invalid_request_error` naming the parameter at fault. */
export function invalid(
  message: string,
  param: string | null,
  code: string | null = null,
): ErrorInfo {
  return { message, type: "invalid_request_error", param, code };
}

/** The 400 OpenAI answers a body that is not an object or has no model; undefined when fine. */
export function checkModel(body: unknown): ErrorInfo | undefined {
  if (body !== undefined && !isRecord(body)) {
    return invalid("Invalid type for request body: expected an object.", null);
  }
  if (typeof body?.model !== "string" || body.model === "") {
    return invalid("you must provide a model parameter", null);
  }
  return undefined;
}

/** Whether the request asks for a stream. */
export function isStreamRequest(body: Record<string, unknown>): boolean {
  return body.stream === true;
}

function includesUsage(body: Record<string, unknown>): boolean {
  return isRecord(body.stream_options) && body.stream_options.include_usage === true;
}

function metaOf(body: Record<string, unknown>, prefix: string): ResponseMeta {
  return { id: newId(prefix), created: unixNow(), model: String(body.model) };
}

/** The text pieces of an answer: the scenario's, else "Hello from <name>" in three. */
export function piecesOf(scenario: AnsweringScenario, name: string): string[] {
  if (scenario.type === "ok") return [scenario.content ?? `Hello from ${name}`];
  return scenario.pieces ?? ["Hello", " from", ` ${name}`];
}

/** A streamed answer paced as the scenario says; break/hang counts content chunks. */
export function streamPlan(stream: StreamEvents, scenario: AnsweringScenario): Plan {
  const base = { kind: "stream" as const, contentType: "text/event-stream", events: stream.events };
  if (scenario.type === "ok") {
    return { ...base, firstByteDelayMs: scenario.delayMs ?? 0, gapMs: 0, stopMode: "break" };
  }
  const stopAt = scenario.breakAfter ?? scenario.hangAfter;
  return {
    ...base,
    contentType: scenario.contentType ?? base.contentType,
    firstByteDelayMs: scenario.firstByteDelayMs ?? 0,
    gapMs: scenario.gapMs ?? 0,
    // Never past the last event, so a stop always happens before `[DONE]`.
    stopAfter: stopAt === undefined
      ? undefined
      : Math.min(stream.lead + Math.max(0, stopAt), stream.events.length - 1),
    stopMode: scenario.breakAfter !== undefined ? "break" : "hang",
  };
}

/**
 * A non-streamed answer. A "stream" scenario with breakAfter/hangAfter sends the headers and half
 * the JSON, then breaks or hangs: a body that stops mid-way.
 */
export function jsonPlan(body: unknown, scenario: AnsweringScenario): Plan {
  if (scenario.type === "ok") return { kind: "json", body, delayMs: scenario.delayMs ?? 0 };
  const firstByteDelayMs = scenario.firstByteDelayMs ?? 0;
  if (scenario.breakAfter === undefined && scenario.hangAfter === undefined) {
    return { kind: "json", body, delayMs: firstByteDelayMs };
  }
  const text = JSON.stringify(body);
  const half = Math.floor(text.length / 2);
  return {
    kind: "stream",
    contentType: "application/json",
    events: [text.slice(0, half), text.slice(half)],
    firstByteDelayMs,
    gapMs: scenario.gapMs ?? 0,
    stopAfter: 1,
    stopMode: scenario.breakAfter !== undefined ? "break" : "hang",
  };
}

function chatAnswer(
  body: Record<string, unknown>,
  scenario: AnsweringScenario,
  name: string,
): ChatAnswer {
  const hasTools = Array.isArray(body.tools) && body.tools.length > 0;
  if (scenario.type === "ok" && scenario.toolCall && hasTools) {
    return { kind: "tool", id: newId("call_"), ...scenario.toolCall };
  }
  return { kind: "text", pieces: piecesOf(scenario, name) };
}

/** A scenario's usage in OpenAI's shape. */
function reportedUsage(usage: MockUsage): Usage {
  return {
    ...usageOf(usage.prompt, usage.completion),
    ...(usage.cached === undefined
      ? {}
      : { prompt_tokens_details: { cached_tokens: usage.cached } }),
  };
}

const chat: Endpoint = {
  validate(body) {
    const problem = checkModel(body);
    if (problem) return problem;
    if (!isRecord(body) || !Array.isArray(body.messages) || body.messages.length === 0) {
      return invalid(
        "Missing required parameter: 'messages'.",
        "messages",
        "missing_required_parameter",
      );
    }
    return undefined;
  },
  plan(body, scenario, name) {
    const meta = metaOf(body, "chatcmpl-");
    const answer = chatAnswer(body, scenario, name);
    const promptTokens = countTokens(chatPromptText(body));
    const reported = scenario.usage && reportedUsage(scenario.usage);
    if (!isStreamRequest(body)) {
      return jsonPlan(chatCompletionBody(meta, answer, promptTokens, reported), scenario);
    }
    const options = { includeUsage: includesUsage(body), promptTokens, usage: reported };
    return streamPlan(chatStreamEvents(meta, answer, options), scenario);
  },
};

const completions: Endpoint = {
  validate: checkModel,
  plan(body, scenario, name) {
    const meta = metaOf(body, "cmpl-");
    const pieces = piecesOf(scenario, name);
    const promptTokens = countTokens(completionPromptText(body));
    if (!isStreamRequest(body)) {
      return jsonPlan(textCompletionBody(meta, pieces.join(""), promptTokens), scenario);
    }
    const options = { includeUsage: includesUsage(body), promptTokens };
    return streamPlan(textStreamEvents(meta, pieces, options), scenario);
  },
};

const embeddings: Endpoint = {
  validate(body) {
    const problem = checkModel(body);
    if (problem) return problem;
    if (!isRecord(body) || parseEmbeddingInput(body.input) === undefined) {
      return invalid(
        "'$.input' is invalid. Please check the API reference: https://platform.openai.com/docs/api-reference.",
        null,
      );
    }
    return undefined;
  },
  plan(body, scenario) {
    const inputs = parseEmbeddingInput(body.input) ?? { texts: [], tokens: 0 };
    const dimensions = Number.isInteger(body.dimensions) && Number(body.dimensions) > 0
      ? Math.min(Number(body.dimensions), 4096)
      : 8;
    const base64 = body.encoding_format === "base64";
    return jsonPlan(
      embeddingListBody(String(body.model), inputs, { dimensions, base64 }),
      scenario,
    );
  },
};

/** The POST endpoint served at `path`, if any. */
export function endpointFor(path: string): Endpoint | undefined {
  switch (path) {
    case "/v1/chat/completions":
      return chat;
    case "/v1/completions":
      return completions;
    case "/v1/embeddings":
      return embeddings;
  }
  return undefined;
}
