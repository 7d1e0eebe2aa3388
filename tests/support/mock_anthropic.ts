// A mock Anthropic Messages API on a real socket, speaking the documented wire format:
// POST /v1/messages (JSON or `event: X` SSE), POST /v1/messages/count_tokens, GET /v1/models
// with cursor pagination, and Anthropic's error bodies. Scripted per request with a scenario
// queue, like mock_upstream.ts.
import { MockBreak, pacedBody, untilAborted } from "./mock_pacing.ts";
import { isRecord } from "./mock_openai_wire.ts";
import type { RecordedRequest } from "./mock_upstream.ts";

/** What the mock does with one POST /v1/messages. */
export type AnthropicScenario =
  /**
   * A text answer (`pieces` are the stream's text deltas), `gapMs` apart; with `oneWrite` the
   * whole stream goes in one write, as a short answer read at once arrives.
   */
  | {
    type: "text";
    text?: string;
    pieces?: string[];
    stopReason?: string;
    gapMs?: number;
    oneWrite?: boolean;
  }
  /** A tool_use block (after an optional text block); streamed input is split in `pieces`. */
  | {
    type: "tool_use";
    name: string;
    input: Record<string, unknown>;
    text?: string;
    pieces?: number;
  }
  /** An HTTP error with Anthropic's body `{type: "error", error: {type, message}}`. */
  | {
    type: "error";
    status: number;
    errorType?: string;
    message?: string;
    headers?: Record<string, string>;
  }
  /** A 200 stream whose `afterEvents` first events are sent, then an `error` event. */
  | { type: "stream_error"; afterEvents: number; errorType?: string; message?: string }
  /** A 200 stream that ends cleanly after `afterEvents` events, without message_stop. */
  | { type: "truncated"; afterEvents: number }
  /** Never answer. */
  | { type: "hang" };

/** A running mock Anthropic API. */
export interface MockAnthropic {
  /** Base URL without trailing slash, e.g. "http://127.0.0.1:41234". */
  url: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Model ids served by GET /v1/models, newest first (mutable). */
  models: string[];
  /** Largest page GET /v1/models returns, whatever `limit` asks (to exercise pagination). */
  maxPageSize: number;
  /** Queue scenarios consumed one per POST /v1/messages (FIFO); default: a text answer. */
  enqueue(...scenarios: AnthropicScenario[]): void;
  /** Interrupt hanging and streaming responses and stop the server. */
  close(): Promise<void>;
}

/** Text of the default answer. */
export function defaultText(name: string): string {
  return `Hello from ${name}`;
}

/** Tokens the mock reports for the prompt (fixed, so tests can assert them). */
export const MOCK_INPUT_TOKENS = 12;

/** Tokens POST /v1/messages/count_tokens reports, whatever the request. */
export const MOCK_COUNTED_TOKENS = 321;

const ERROR_TYPES: Record<number, string> = {
  400: "invalid_request_error",
  401: "authentication_error",
  403: "permission_error",
  404: "not_found_error",
  413: "request_too_large",
  429: "rate_limit_error",
  500: "api_error",
  529: "overloaded_error",
};

function newId(prefix: string): string {
  return prefix + crypto.randomUUID().replaceAll("-", "").slice(0, 24);
}

function errorBody(type: string, message: string): Record<string, unknown> {
  return { type: "error", error: { type, message }, request_id: newId("req_") };
}

function json(body: unknown, status = 200, init?: HeadersInit): Response {
  const headers = new Headers(init);
  headers.set("content-type", "application/json");
  headers.set("request-id", newId("req_"));
  return new Response(JSON.stringify(body), { status, headers });
}

function fail(status: number, message: string, init?: HeadersInit): Response {
  return json(errorBody(ERROR_TYPES[status] ?? "api_error", message), status, init);
}

function sse(type: string, data: Record<string, unknown>): string {
  return `event: ${type}\ndata: ${JSON.stringify({ type, ...data })}\n\n`;
}

/** The blocks of an answer, as the non-streaming message carries them. */
function contentOf(scenario: AnthropicScenario, name: string): Record<string, unknown>[] {
  if (scenario.type === "tool_use") {
    const text = scenario.text === undefined ? [] : [{ type: "text", text: scenario.text }];
    const tool = {
      type: "tool_use",
      id: newId("toolu_"),
      name: scenario.name,
      input: scenario.input,
    };
    return [...text, tool];
  }
  const text = scenario.type === "text"
    ? scenario.text ?? scenario.pieces?.join("") ?? defaultText(name)
    : defaultText(name);
  return [{ type: "text", text }];
}

function stopReasonOf(scenario: AnthropicScenario): string {
  if (scenario.type === "tool_use") return "tool_use";
  return scenario.type === "text" ? scenario.stopReason ?? "end_turn" : "end_turn";
}

function messageBody(scenario: AnthropicScenario, model: string, name: string) {
  const content = contentOf(scenario, name);
  return {
    id: newId("msg_"),
    type: "message",
    role: "assistant",
    model,
    content,
    stop_reason: stopReasonOf(scenario),
    stop_sequence: null,
    usage: { input_tokens: MOCK_INPUT_TOKENS, output_tokens: JSON.stringify(content).length },
  };
}

/** Splits `text` in `count` pieces of about the same length. */
function split(text: string, count: number): string[] {
  const size = Math.ceil(text.length / Math.max(1, count));
  const pieces: string[] = [];
  for (let i = 0; i < text.length; i += size) pieces.push(text.slice(i, i + size));
  return pieces;
}

/** The documented event sequence of a streamed answer. */
function streamEvents(scenario: AnthropicScenario, model: string, name: string): string[] {
  const message = { ...messageBody(scenario, model, name), content: [], stop_reason: null };
  message.usage = { input_tokens: MOCK_INPUT_TOKENS, output_tokens: 1 };
  const events = [sse("message_start", { message })];
  let outputTokens = 0;
  contentOf(scenario, name).forEach((block, index) => {
    if (block.type === "text") {
      events.push(sse("content_block_start", { index, content_block: { type: "text", text: "" } }));
      if (index === 0) events.push(sse("ping", {}));
      const text = String(block.text);
      const pieces = scenario.type === "text" && scenario.pieces ? scenario.pieces : [text];
      for (const piece of pieces) {
        events.push(
          sse("content_block_delta", { index, delta: { type: "text_delta", text: piece } }),
        );
      }
      outputTokens += pieces.length;
    } else {
      const start = { ...block, input: {} };
      events.push(sse("content_block_start", { index, content_block: start }));
      const count = scenario.type === "tool_use" ? scenario.pieces ?? 3 : 1;
      // Anthropic opens a tool's input with an empty partial_json, then sends the pieces.
      for (const piece of ["", ...split(JSON.stringify(block.input), count)]) {
        const delta = { type: "input_json_delta", partial_json: piece };
        events.push(sse("content_block_delta", { index, delta }));
      }
      outputTokens += count;
    }
    events.push(sse("content_block_stop", { index }));
  });
  const delta = { stop_reason: stopReasonOf(scenario), stop_sequence: null };
  events.push(sse("message_delta", { delta, usage: { output_tokens: outputTokens } }));
  events.push(sse("message_stop", {}));
  return events;
}

/** Top-level fields the Messages API accepts; anything else is "Extra inputs are not permitted". */
const REQUEST_FIELDS = new Set([
  "model",
  "messages",
  "max_tokens",
  "system",
  "stop_sequences",
  "temperature",
  "top_p",
  "top_k",
  "stream",
  "tools",
  "tool_choice",
  "metadata",
  "thinking",
  "service_tier",
  // Beta fields, accepted with their `anthropic-beta` header.
  "context_management",
  "container",
  "mcp_servers",
  "output_config",
]);

/** Top-level fields a token count accepts: no max_tokens, sampling or stream. */
const COUNT_FIELDS = new Set([
  "model",
  "messages",
  "system",
  "tools",
  "tool_choice",
  "thinking",
  "context_management",
  "mcp_servers",
]);

/** The checks Anthropic makes that catch a sloppy translation; the message is Anthropic's style. */
function problemWith(body: unknown, fields = REQUEST_FIELDS): string | undefined {
  if (!isRecord(body)) return "request body: expected an object";
  for (const key of Object.keys(body)) {
    if (!fields.has(key)) return `${key}: Extra inputs are not permitted`;
  }
  if (typeof body.model !== "string") return "model: Field required";
  if (fields === REQUEST_FIELDS && !Number.isInteger(body.max_tokens)) {
    return "max_tokens: Field required";
  }
  if (!Array.isArray(body.messages)) return "messages: Field required";
  let previous: unknown[] = [];
  for (const [i, message] of body.messages.entries()) {
    if (!isRecord(message) || !Array.isArray(message.content)) continue;
    for (const block of message.content) {
      if (isRecord(block) && block.type === "text" && block.text === "") {
        return `messages.${i}: text content blocks must be non-empty`;
      }
      const used = previous.some((b) => isRecord(b) && b.id === block?.tool_use_id);
      if (isRecord(block) && block.type === "tool_result" && !used) {
        return `messages.${i}: unexpected tool_use_id found in tool_result blocks`;
      }
    }
    previous = message.content;
  }
  return undefined;
}

interface Exchange {
  request: Request;
  record: RecordedRequest;
  /** Aborts when the client leaves or the mock closes. */
  stop: AbortSignal;
  gone: AbortController;
  closing: AbortSignal;
}

function clientLeft(exchange: Exchange): void {
  if (!exchange.closing.aborted) exchange.record.aborted = true;
  exchange.gone.abort();
}

function streamResponse(events: string[], exchange: Exchange, gapMs: number): Response {
  const body = pacedBody(events, {
    gapMs,
    stopMode: "break",
    signal: exchange.stop,
    onCancel: () => clientLeft(exchange),
  });
  const headers = { "content-type": "text/event-stream", "request-id": newId("req_") };
  return new Response(body, { headers });
}

async function hang(exchange: Exchange): Promise<Response> {
  const onAbort = () => clientLeft(exchange);
  exchange.request.signal.addEventListener("abort", onAbort, { once: true });
  try {
    await untilAborted(exchange.stop);
  } finally {
    exchange.request.signal.removeEventListener("abort", onAbort);
  }
  throw new MockBreak("mock anthropic: hang interrupted");
}

function answer(scenario: AnthropicScenario, exchange: Exchange, name: string) {
  const body = exchange.record.body as Record<string, unknown>;
  const model = String(body.model);
  switch (scenario.type) {
    case "error": {
      const type = scenario.errorType ?? ERROR_TYPES[scenario.status] ?? "api_error";
      const message = scenario.message ?? `mock error ${scenario.status}`;
      return json(errorBody(type, message), scenario.status, scenario.headers);
    }
    case "hang":
      return hang(exchange);
    case "stream_error": {
      const events = streamEvents({ type: "text" }, model, name).slice(0, scenario.afterEvents);
      const error = errorBody(
        scenario.errorType ?? "overloaded_error",
        scenario.message ?? "Overloaded",
      );
      return streamResponse([...events, sse("error", error)], exchange, 0);
    }
    case "truncated": {
      const events = streamEvents({ type: "text" }, model, name).slice(0, scenario.afterEvents);
      return streamResponse(events, exchange, 0);
    }
    default: {
      if (body.stream !== true) return json(messageBody(scenario, model, name));
      const gapMs = scenario.type === "text" ? scenario.gapMs ?? 0 : 0;
      const events = streamEvents(scenario, model, name);
      const oneWrite = scenario.type === "text" && scenario.oneWrite === true;
      return streamResponse(oneWrite ? [events.join("")] : events, exchange, gapMs);
    }
  }
}

function listModels(mock: MockAnthropic, url: URL): Response {
  const limit = Number(url.searchParams.get("limit") ?? "20");
  const size = Math.min(Number.isInteger(limit) && limit > 0 ? limit : 20, mock.maxPageSize);
  const after = url.searchParams.get("after_id");
  const start = after === null ? 0 : mock.models.indexOf(after) + 1;
  const page = mock.models.slice(start, start + size);
  const data = page.map((id, i) => ({
    type: "model",
    id,
    display_name: id.replaceAll("-", " "),
    created_at: new Date(Date.UTC(2025, 0, 1 + i)).toISOString(),
  }));
  return json({
    data,
    has_more: start + size < mock.models.length,
    first_id: page[0] ?? null,
    last_id: page.at(-1) ?? null,
  });
}

async function record(request: Request): Promise<RecordedRequest> {
  const url = new URL(request.url);
  const text = await request.text();
  let body: unknown;
  try {
    body = text === "" ? undefined : JSON.parse(text);
  } catch {
    body = undefined;
  }
  const headers = new Headers(request.headers);
  return {
    method: request.method,
    path: url.pathname,
    search: url.search,
    headers,
    body,
    aborted: false,
  };
}

function onServeError(error: unknown): Response {
  if (!(error instanceof MockBreak)) console.error("mock anthropic: handler failed:", error);
  return new Response(null, { status: 500 });
}

/** Starts a mock Anthropic API on 127.0.0.1 with a free port. */
export function startMockAnthropic(
  options: { name?: string; models?: string[]; maxPageSize?: number } = {},
): MockAnthropic {
  const name = options.name ?? "claude";
  const closing = new AbortController();
  const queue: AnthropicScenario[] = [];
  let closed: Promise<void> | undefined;

  async function handle(request: Request): Promise<Response> {
    const entry = await record(request);
    mock.requests.push(entry);
    if (!entry.headers.get("x-api-key")) return fail(401, "x-api-key header is required");
    if (!entry.headers.get("anthropic-version")) {
      return fail(400, "anthropic-version: header is required");
    }
    const url = new URL(request.url);
    if (entry.method === "GET" && entry.path === "/v1/models") return listModels(mock, url);
    if (entry.method === "POST" && entry.path === "/v1/messages/count_tokens") {
      const problem = problemWith(entry.body, COUNT_FIELDS);
      return problem === undefined
        ? json({ input_tokens: MOCK_COUNTED_TOKENS })
        : fail(400, problem);
    }
    if (entry.method !== "POST" || entry.path !== "/v1/messages") {
      return fail(404, `Not found: ${entry.method} ${entry.path}`);
    }
    const problem = problemWith(entry.body);
    if (problem !== undefined) return fail(400, problem);
    const gone = new AbortController();
    const exchange = {
      request,
      record: entry,
      gone,
      closing: closing.signal,
      stop: AbortSignal.any([closing.signal, gone.signal]),
    };
    try {
      return await answer(queue.shift() ?? { type: "text" }, exchange, name);
    } catch (error) {
      if (!(error instanceof MockBreak)) throw error;
      return new Response(null, { status: closing.signal.aborted ? 503 : 499 });
    }
  }

  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {}, onError: onServeError },
    handle,
  );
  const mock: MockAnthropic = {
    url: `http://127.0.0.1:${server.addr.port}`,
    requests: [],
    models: [...(options.models ?? ["claude-sonnet-4-5", "claude-haiku-4-5"])],
    maxPageSize: options.maxPageSize ?? 1000,
    enqueue(...scenarios) {
      queue.push(...scenarios);
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
  return mock;
}
