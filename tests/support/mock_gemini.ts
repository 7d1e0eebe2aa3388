// A mock Gemini (Generative Language) API on a real socket, speaking the documented wire format:
// POST /{version}/models/{model}:generateContent, :streamGenerateContent (?alt=sse: one
// `data: <GenerateContentResponse>` event per piece; without it a JSON array), :batchEmbedContents,
// GET /{version}/models with pageToken pagination, and Google's error bodies
// `{error: {code, message, status, details}}`. Scripted per request with a scenario queue.
import { MockBreak, pacedBody, untilAborted } from "./mock_pacing.ts";
import { isRecord } from "./mock_openai_wire.ts";
import type { RecordedRequest } from "./mock_upstream.ts";

/** What the mock does with one generateContent / streamGenerateContent request. */
export type GeminiScenario =
  /** A text answer; streamed as `pieces` (default: three), `gapMs` apart. */
  | { type: "text"; text?: string; pieces?: string[]; finishReason?: string; gapMs?: number }
  /** A functionCall part (after optional text); streamed in the last event, whole. */
  | { type: "function_call"; name: string; args: Record<string, unknown>; text?: string }
  /** No candidates: the prompt was blocked (`promptFeedback.blockReason`). */
  | { type: "blocked"; blockReason?: string }
  /** An HTTP error in Google's shape; `reason` adds a google.rpc.ErrorInfo detail. */
  | {
    type: "error";
    status: number;
    googleStatus?: string;
    message?: string;
    reason?: string;
    headers?: Record<string, string>;
  }
  /** A 200 stream: `afterEvents` text events, then an event holding an `error` object. */
  | { type: "stream_error"; afterEvents: number; code?: number; message?: string }
  /** A 200 stream that ends cleanly after `afterEvents` events, never sending a finishReason. */
  | { type: "truncated"; afterEvents: number }
  /** Never answer. */
  | { type: "hang" };

/** A running mock Gemini API. */
export interface MockGemini {
  /** Base URL without trailing slash or version, e.g. "http://127.0.0.1:41234". */
  url: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Model ids (without `models/`) served by GET /{version}/models (mutable). */
  models: string[];
  /** Largest page GET /{version}/models returns, whatever `pageSize` asks (pagination tests). */
  maxPageSize: number;
  /** When set, a request whose `x-goog-api-key` differs gets Google's 400 API_KEY_INVALID. */
  apiKey?: string;
  /** Queue scenarios consumed one per generate request (FIFO); default: a text answer. */
  enqueue(...scenarios: GeminiScenario[]): void;
  /** Interrupt hanging and streaming responses and stop the server. */
  close(): Promise<void>;
}

/** Text of the default answer. */
export const DEFAULT_TEXT = "Hello from gemini";
/** Tokens the mock reports for every prompt. */
export const MOCK_PROMPT_TOKENS = 9;
/** Dimension of the mock's embeddings when `outputDimensionality` is not given. */
export const MOCK_EMBEDDING_DIMENSION = 8;

const GOOGLE_STATUS: Record<number, string> = {
  400: "INVALID_ARGUMENT",
  401: "UNAUTHENTICATED",
  403: "PERMISSION_DENIED",
  404: "NOT_FOUND",
  429: "RESOURCE_EXHAUSTED",
  500: "INTERNAL",
  503: "UNAVAILABLE",
  504: "DEADLINE_EXCEEDED",
};

/** A deterministic embedding of `text`: multiples of 1/64, exact in float32 (base64 round trip). */
export function embeddingValues(text: string, dimension = MOCK_EMBEDDING_DIMENSION): number[] {
  let seed = 7;
  for (const char of text) seed = (seed * 31 + char.charCodeAt(0)) % 9973;
  return Array.from({ length: dimension }, (_, i) => (((seed + i * 37) % 129) - 64) / 64);
}

/** Google's error body. */
export function googleErrorBody(
  code: number,
  message: string,
  options: { status?: string; reason?: string } = {},
): Record<string, unknown> {
  const details = options.reason === undefined ? [] : [{
    "@type": "type.googleapis.com/google.rpc.ErrorInfo",
    reason: options.reason,
    domain: "googleapis.com",
    metadata: { service: "generativelanguage.googleapis.com" },
  }];
  return {
    error: {
      code,
      message,
      status: options.status ?? GOOGLE_STATUS[code] ?? "UNKNOWN",
      ...(details.length > 0 ? { details } : {}),
    },
  };
}

function json(body: unknown, status = 200, init?: HeadersInit): Response {
  const headers = new Headers(init);
  headers.set("content-type", "application/json; charset=UTF-8");
  return new Response(JSON.stringify(body), { status, headers });
}

function googleError(
  code: number,
  message: string,
  options: { status?: string; reason?: string } = {},
) {
  return json(googleErrorBody(code, message, options), code);
}

function usage(candidateTokens: number): Record<string, number> {
  return {
    promptTokenCount: MOCK_PROMPT_TOKENS,
    candidatesTokenCount: candidateTokens,
    totalTokenCount: MOCK_PROMPT_TOKENS + candidateTokens,
  };
}

/** One GenerateContentResponse with a single candidate holding `parts`. */
function response(
  model: string,
  parts: unknown[],
  last: { finishReason?: string; tokens?: number },
): Record<string, unknown> {
  const candidate: Record<string, unknown> = { content: { role: "model", parts }, index: 0 };
  if (last.finishReason !== undefined) candidate.finishReason = last.finishReason;
  return {
    candidates: [candidate],
    ...(last.tokens === undefined ? {} : { usageMetadata: usage(last.tokens) }),
    modelVersion: model,
    responseId: crypto.randomUUID().slice(0, 12),
  };
}

/** The responses a scenario streams, in order (the whole answer when not streaming: merged). */
function plan(scenario: GeminiScenario, model: string): Record<string, unknown>[] {
  switch (scenario.type) {
    case "text": {
      const pieces = scenario.pieces ??
        (scenario.text !== undefined ? [scenario.text] : ["Hello", " from", " gemini"]);
      return pieces.map((text, i) =>
        response(
          model,
          [{ text }],
          i === pieces.length - 1
            ? { finishReason: scenario.finishReason ?? "STOP", tokens: pieces.length }
            : {},
        )
      );
    }
    case "function_call": {
      const call = { functionCall: { name: scenario.name, args: scenario.args } };
      const parts = scenario.text === undefined ? [call] : [{ text: scenario.text }, call];
      return [response(model, parts, { finishReason: "STOP", tokens: 5 })];
    }
    case "blocked":
      return [{
        promptFeedback: { blockReason: scenario.blockReason ?? "SAFETY" },
        usageMetadata: {
          promptTokenCount: MOCK_PROMPT_TOKENS,
          totalTokenCount: MOCK_PROMPT_TOKENS,
        },
        modelVersion: model,
      }];
    case "stream_error":
    case "truncated": {
      const events = Array.from(
        { length: scenario.afterEvents },
        (_, i) => response(model, [{ text: `piece ${i} ` }], {}),
      );
      if (scenario.type === "stream_error") {
        const code = scenario.code ?? 503;
        events.push(googleErrorBody(code, scenario.message ?? "The model is overloaded."));
      }
      return events;
    }
    default:
      return [];
  }
}

/** Merges streamed responses into the one non-streaming answer. */
function merge(responses: Record<string, unknown>[]): Record<string, unknown> {
  const last = responses.at(-1) ?? {};
  const candidates = responses.flatMap((r) => Array.isArray(r.candidates) ? r.candidates : []);
  if (candidates.length === 0) return last;
  const parts = candidates.flatMap((c) =>
    isRecord(c) && isRecord(c.content) && Array.isArray(c.content.parts) ? c.content.parts : []
  );
  const text = parts.filter((p) => isRecord(p) && typeof p.text === "string")
    .map((p) => (p as { text: string }).text).join("");
  const others = parts.filter((p) => !(isRecord(p) && typeof p.text === "string"));
  const merged = [...(text === "" ? [] : [{ text }]), ...others];
  const lastCandidate = (last.candidates as Record<string, unknown>[])[0]!;
  return { ...last, candidates: [{ ...lastCandidate, content: { role: "model", parts: merged } }] };
}

interface State {
  mock: MockGemini;
  queue: GeminiScenario[];
  closing: AbortController;
}

function sse(events: Record<string, unknown>[], options: {
  gapMs: number;
  signal: AbortSignal;
}): Response {
  // Google separates events with CRLF CRLF.
  const frames = events.map((e) => `data: ${JSON.stringify(e)}\r\n\r\n`);
  const body = pacedBody(frames, { ...options, stopMode: "break", onCancel() {} });
  return new Response(body, { headers: { "content-type": "text/event-stream" } });
}

/** Hangs until the mock closes (request.signal is left alone: Deno warns once it is read). */
async function hang(closing: AbortSignal): Promise<Response> {
  await untilAborted(closing);
  throw new MockBreak("mock gemini: hang interrupted");
}

function generate(state: State, request: Request, call: { model: string; method: string }) {
  const record = state.mock.requests.at(-1)!;
  const body = record.body;
  if (!isRecord(body) || !Array.isArray(body.contents) || body.contents.length === 0) {
    return googleError(400, "* GenerateContentRequest.contents: contents is not specified");
  }
  const scenario = state.queue.shift() ?? { type: "text" };
  if (scenario.type === "error") {
    const { status, googleStatus, reason } = scenario;
    const message = scenario.message ?? `mock error ${status}`;
    const res = googleError(status, message, { status: googleStatus, reason });
    for (const [k, v] of Object.entries(scenario.headers ?? {})) res.headers.set(k, v);
    return res;
  }
  if (scenario.type === "hang") return hang(state.closing.signal);
  const responses = plan(scenario, call.model);
  if (call.method === "generateContent") return json(merge(responses));
  const alt = new URL(request.url).searchParams.get("alt");
  if (alt !== "sse") return json(responses);
  const gapMs = scenario.type === "text" ? scenario.gapMs ?? 0 : 0;
  return sse(responses, { gapMs, signal: state.closing.signal });
}

function embed(state: State, call: { model: string }): Response {
  const body = state.mock.requests.at(-1)!.body;
  const requests = isRecord(body) ? body.requests : undefined;
  if (!Array.isArray(requests) || requests.length === 0) {
    return googleError(400, "* BatchEmbedContentsRequest.requests: requests is not specified");
  }
  const embeddings = [];
  for (const [i, r] of requests.entries()) {
    if (!isRecord(r) || r.model !== `models/${call.model}`) {
      const message = `* BatchEmbedContentsRequest.requests[${i}].model: unexpected model name`;
      return googleError(400, message);
    }
    const parts = isRecord(r.content) && Array.isArray(r.content.parts) ? r.content.parts : [];
    const text = parts.map((p) => (isRecord(p) && typeof p.text === "string" ? p.text : "")).join(
      "",
    );
    const dimension = typeof r.outputDimensionality === "number"
      ? r.outputDimensionality
      : MOCK_EMBEDDING_DIMENSION;
    embeddings.push({ values: embeddingValues(text, dimension) });
  }
  return json({ embeddings });
}

function listModels(mock: MockGemini, url: URL): Response {
  const asked = Number(url.searchParams.get("pageSize") ?? "50");
  const size = Math.max(1, Math.min(asked, mock.maxPageSize));
  const start = Number(url.searchParams.get("pageToken") ?? "0");
  const page = mock.models.slice(start, start + size).map((id) => ({
    name: `models/${id}`,
    version: "001",
    displayName: id,
    inputTokenLimit: 1048576,
    outputTokenLimit: 8192,
    supportedGenerationMethods: id.includes("embedding")
      ? ["embedContent", "batchEmbedContents"]
      : ["generateContent", "countTokens"],
  }));
  const next = start + size < mock.models.length ? String(start + size) : undefined;
  // Like Google, an empty page omits the repeated field.
  return json({
    ...(page.length > 0 ? { models: page } : {}),
    ...(next === undefined ? {} : { nextPageToken: next }),
  });
}

async function handle(state: State, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const text = await request.text();
  let body: unknown;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  state.mock.requests.push({
    method: request.method,
    path: url.pathname,
    search: url.search,
    headers: new Headers(request.headers),
    body,
    aborted: false,
  });
  const key = state.mock.apiKey;
  if (key !== undefined && request.headers.get("x-goog-api-key") !== key) {
    const message = "API key not valid. Please pass a valid API key.";
    return googleError(400, message, { reason: "API_KEY_INVALID" });
  }
  if (request.method === "GET" && /^\/v\w+\/models$/.test(url.pathname)) {
    return listModels(state.mock, url);
  }
  const match = /^\/v\w+\/models\/([^/:]+):(\w+)$/.exec(url.pathname);
  if (request.method === "POST" && match !== null) {
    const call = { model: decodeURIComponent(match[1]!), method: match[2]! };
    if (call.method === "batchEmbedContents") return embed(state, call);
    if (call.method === "generateContent" || call.method === "streamGenerateContent") {
      return await generate(state, request, call);
    }
  }
  return googleError(404, `Method not found: ${request.method} ${url.pathname}`);
}

function onServeError(error: unknown): Response {
  if (!(error instanceof MockBreak)) console.error("mock gemini: handler failed:", error);
  return new Response(null, { status: 500 });
}

/** Starts a mock Gemini API on 127.0.0.1 with a free port. */
export function startMockGemini(options: { models?: string[]; apiKey?: string } = {}): MockGemini {
  const closing = new AbortController();
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {}, onError: onServeError },
    (request) => handle(state, request),
  );
  let closed: Promise<void> | undefined;
  const mock: MockGemini = {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests: [],
    models: [...(options.models ?? ["gemini-2.0-flash", "text-embedding-004"])],
    maxPageSize: 1000,
    apiKey: options.apiKey,
    enqueue(...scenarios) {
      state.queue.push(...scenarios);
    },
    close() {
      closed ??= (async () => {
        closing.abort();
        await server.shutdown();
        await server.finished;
      })();
      return closed;
    },
  };
  const state: State = { mock, queue: [], closing };
  return mock;
}
