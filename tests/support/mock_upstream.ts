// A mock OpenAI-compatible upstream on a real socket, scripted per request with scenarios:
// Chat Completions, legacy completions, embeddings, models and the Responses API.
import { type AnsweringScenario, type Endpoint, endpointFor, type Plan } from "./mock_endpoints.ts";
import { MockBreak, pacedBody, sleep, untilAborted } from "./mock_pacing.ts";
import {
  errorBody,
  errorDefaults,
  type ErrorInfo,
  isRecord,
  modelBody,
  modelListBody,
  newId,
} from "./mock_openai_wire.ts";
import { answerStored, responsesEndpoint, type StoredResponse } from "./mock_responses.ts";

export type { StoredResponse } from "./mock_responses.ts";

/** One request the mock upstream received. */
export interface RecordedRequest {
  method: string;
  path: string;
  search: string;
  headers: Headers;
  /** Parsed JSON body, or undefined when empty or not JSON. */
  body: unknown;
  /** True when the client aborted while the mock was still responding (waiting or streaming). */
  aborted: boolean;
}

/** What the mock upstream does with one request. */
export type Scenario =
  /**
   * Answer normally after `delayMs`; `toolCall` applies to chat and Responses requests that
   * carry `tools`.
   */
  | {
    type: "ok";
    content?: string;
    delayMs?: number;
    toolCall?: MockToolCall;
    /** Chat and Responses: the usage reported instead of the counted one. */
    usage?: MockUsage;
  }
  /** Answer with an OpenAI-shaped error (or `rawBody` verbatim). */
  | {
    type: "error";
    status: number;
    message?: string;
    errorType?: string;
    code?: string | null;
    headers?: Record<string, string>;
    rawBody?: string;
  }
  /** Never answer; the request is marked aborted when the client gives up. */
  | { type: "hang" }
  /**
   * Stream `pieces` `gapMs` apart after `firstByteDelayMs` (before the headers). After
   * `breakAfter` content chunks the body errors (abrupt failure); after `hangAfter` it stalls.
   */
  | {
    type: "stream";
    pieces?: string[];
    gapMs?: number;
    firstByteDelayMs?: number;
    breakAfter?: number;
    hangAfter?: number;
    /** Sent as the stream's content type (OpenAI's own is "text/event-stream; charset=utf-8"). */
    contentType?: string;
    /** Chat: the usage reported (when the request asks for it) instead of the counted one. */
    usage?: MockUsage;
    /**
     * Responses: after `failAfter` text deltas a `response.failed` event (with `failure`, else
     * a server_error) ends the stream, as OpenAI reports a response that failed mid-way.
     */
    failAfter?: number;
    failure?: { code: string; message: string };
  };

/**
 * The tool call an "ok" scenario answers with. Responses only: `namespace` puts the call's
 * group in the `function_call` item's `namespace` field (Codex's `{"type": "namespace"}` tools);
 * `custom` makes it a `custom_tool_call` whose free-form `input` is `arguments`.
 */
export interface MockToolCall {
  name: string;
  arguments: string;
  namespace?: string;
  custom?: boolean;
}

/** Token counts a scenario reports; `cached` goes in `prompt_tokens_details.cached_tokens`. */
export interface MockUsage {
  prompt: number;
  completion: number;
  cached?: number;
}

/** A running mock upstream. */
export interface MockUpstream {
  /** Base URL without trailing slash or /v1, e.g. "http://127.0.0.1:41234". */
  url: string;
  port: number;
  /** The name used in default answers ("Hello from <name>") and as `owned_by`. */
  name: string;
  /** Every request received, in order. */
  requests: RecordedRequest[];
  /** Model ids served by GET /v1/models (mutable). */
  models: string[];
  /** Responses kept by POST /v1/responses (all but `store: false` ones), by id. */
  responses: Map<string, StoredResponse>;
  /** When set, GET /v1/models answers with it ("ok" delays, "error" fails, "hang" hangs). */
  modelsScenario?: Scenario;
  /** Queue scenarios consumed one per POST request (FIFO); when empty, the default decides. */
  enqueue(...scenarios: Scenario[]): void;
  /** Replace the default used when the queue is empty. */
  setDefault(fn: (req: RecordedRequest) => Scenario): void;
  /** Clear the queue, the recorded requests, the kept responses, the default and `modelsScenario`. */
  reset(): void;
  /** Interrupt hanging and streaming responses and stop the server. */
  close(): Promise<void>;
}

/** The default scenario: "stream" for `stream: true` requests, "ok" otherwise. */
export function defaultScenario(req: RecordedRequest): Scenario {
  return isRecord(req.body) && req.body.stream === true ? { type: "stream" } : { type: "ok" };
}

interface MockState {
  upstream: MockUpstream;
  closing: AbortController;
  /** POST /v1/responses, or undefined when the mock speaks only the older APIs. */
  responses?: Endpoint;
  /** The next scenario: the queue's head, else the default. */
  next(record: RecordedRequest): Scenario;
}

/** One request in flight; `stop` aborts when the client leaves or the mock closes. */
interface Exchange {
  request: Request;
  record: RecordedRequest;
  gone: AbortController;
  stop: AbortSignal;
  closing: AbortSignal;
}

function jsonResponse(body: unknown, status = 200, init?: HeadersInit): Response {
  const headers = new Headers(init);
  if (!headers.has("content-type")) headers.set("content-type", "application/json");
  headers.set("x-request-id", newId("req_"));
  return new Response(JSON.stringify(body), { status, headers });
}

function errorResponse(status: number, info: ErrorInfo): Response {
  return jsonResponse(errorBody(info), status);
}

function scenarioErrorResponse(scenario: Extract<Scenario, { type: "error" }>, model: string) {
  const headers = new Headers(scenario.headers);
  if (scenario.rawBody !== undefined) {
    if (!headers.has("content-type")) headers.set("content-type", "text/plain; charset=utf-8");
    return new Response(scenario.rawBody, { status: scenario.status, headers });
  }
  const defaults = errorDefaults(scenario.status, model);
  const info = {
    message: scenario.message ?? defaults.message,
    type: scenario.errorType ?? defaults.type,
    code: scenario.code === undefined ? defaults.code : scenario.code,
  };
  return jsonResponse(errorBody(info), scenario.status, headers);
}

function clientLeft(exchange: Exchange): void {
  if (!exchange.closing.aborted) exchange.record.aborted = true;
  exchange.gone.abort();
}

/**
 * Watches `request.signal` while the mock is waiting to answer. Only touched when waiting:
 * Deno aborts it after successful responses too and warns once per process when it was read.
 */
function watchClient(exchange: Exchange): () => void {
  const signal = exchange.request.signal;
  const onAbort = () => clientLeft(exchange);
  signal.addEventListener("abort", onAbort, { once: true });
  if (signal.aborted) onAbort();
  return () => signal.removeEventListener("abort", onAbort);
}

async function pause(exchange: Exchange, ms: number): Promise<void> {
  if (ms <= 0) return;
  const unwatch = watchClient(exchange);
  try {
    if (!(await sleep(ms, exchange.stop))) throw new MockBreak("mock upstream: wait interrupted");
  } finally {
    unwatch();
  }
}

async function hang(exchange: Exchange): Promise<Response> {
  const unwatch = watchClient(exchange);
  try {
    await untilAborted(exchange.stop);
  } finally {
    unwatch();
  }
  throw new MockBreak("mock upstream: hang interrupted");
}

async function deliver(plan: Plan, exchange: Exchange): Promise<Response> {
  if (plan.kind === "json") {
    await pause(exchange, plan.delayMs);
    return jsonResponse(plan.body);
  }
  await pause(exchange, plan.firstByteDelayMs);
  const body = pacedBody(plan.events, {
    gapMs: plan.gapMs,
    stopAfter: plan.stopAfter,
    stopMode: plan.stopMode,
    signal: exchange.stop,
    onCancel: () => clientLeft(exchange),
  });
  return new Response(body, {
    headers: {
      "content-type": plan.contentType,
      "cache-control": "no-cache",
      "x-request-id": newId("req_"),
    },
  });
}

function play(
  scenario: Scenario,
  exchange: Exchange,
  answer: (scenario: AnsweringScenario) => Response | Promise<Response>,
): Response | Promise<Response> {
  const body = exchange.record.body;
  const model = isRecord(body) && typeof body.model === "string" ? body.model : "unknown";
  switch (scenario.type) {
    case "error":
      return scenarioErrorResponse(scenario, model);
    case "hang":
      return hang(exchange);
    default:
      return answer(scenario);
  }
}

function serveModels(state: MockState, exchange: Exchange, id?: string) {
  const { models, name } = state.upstream;
  return play(state.upstream.modelsScenario ?? { type: "ok" }, exchange, async (scenario) => {
    await pause(exchange, scenario.type === "ok" ? scenario.delayMs ?? 0 : 0);
    if (id === undefined) return jsonResponse(modelListBody(models, name));
    if (models.includes(id)) return jsonResponse(modelBody(id, name));
    return errorResponse(404, {
      message: `The model '${id}' does not exist`,
      type: "invalid_request_error",
      param: "model",
      code: "model_not_found",
    });
  });
}

function route(state: MockState, exchange: Exchange, parsed: boolean) {
  const { method, path, body } = exchange.record;
  if (method === "GET" && path === "/v1/models") return serveModels(state, exchange);
  if (method === "GET" && path.startsWith("/v1/models/")) {
    return serveModels(state, exchange, decodeURIComponent(path.slice("/v1/models/".length)));
  }
  if (state.responses) {
    const stored = answerStored(state.upstream.responses, exchange.record);
    if (stored) return jsonResponse(stored.body, stored.status);
  }
  const endpoint = method !== "POST"
    ? undefined
    : path === "/v1/responses"
    ? state.responses
    : endpointFor(path);
  if (!endpoint) {
    const message = `Invalid URL (${method} ${path})`;
    return errorResponse(404, { message, type: "invalid_request_error", code: null });
  }
  const problem = parsed ? endpoint.validate(body) : {
    message: "We could not parse the JSON body of your request.",
    type: "invalid_request_error",
    code: null,
  };
  if (problem) return errorResponse(400, problem);
  const scenario = state.next(exchange.record);
  return play(scenario, exchange, (answering) => {
    const plan = endpoint.plan(isRecord(body) ? body : {}, answering, state.upstream.name);
    return deliver(plan, exchange);
  });
}

async function readJson(request: Request): Promise<{ parsed: boolean; body: unknown }> {
  try {
    const text = await request.text();
    return { parsed: true, body: text === "" ? undefined : JSON.parse(text) };
  } catch {
    return { parsed: false, body: undefined };
  }
}

async function handle(state: MockState, request: Request): Promise<Response> {
  const url = new URL(request.url);
  const { parsed, body } = await readJson(request);
  const record: RecordedRequest = {
    method: request.method,
    path: url.pathname,
    search: url.search,
    headers: new Headers(request.headers),
    body,
    aborted: false,
  };
  state.upstream.requests.push(record);
  const gone = new AbortController();
  const closing = state.closing.signal;
  const exchange = {
    request,
    record,
    gone,
    closing,
    stop: AbortSignal.any([closing, gone.signal]),
  };
  try {
    return await route(state, exchange, parsed);
  } catch (error) {
    if (!(error instanceof MockBreak)) throw error;
    if (!closing.aborted) return new Response(null, { status: 499 }); // nobody is listening
    const message = "mock upstream is shutting down";
    return errorResponse(503, { message, type: "server_error", code: null });
  }
}

function onServeError(error: unknown): Response {
  // Intentional breaks (breakAfter, interrupted streams) are expected; anything else is a bug.
  if (!(error instanceof MockBreak)) console.error("mock upstream: handler failed:", error);
  return new Response(null, { status: 500 });
}

/** Options for `startMockUpstream`. */
export interface MockUpstreamOptions {
  models?: string[];
  name?: string;
  /** False answers every /v1/responses path with 404, as a server with only Chat Completions. */
  responsesApi?: boolean;
}

/** Starts a mock OpenAI-compatible upstream on 127.0.0.1 with a free port. */
export function startMockUpstream(options: MockUpstreamOptions = {}): Promise<MockUpstream> {
  const closing = new AbortController();
  // The handler only runs after `state` below exists.
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {}, onError: onServeError },
    (request) => handle(state, request),
  );
  const port = server.addr.port;
  const queue: Scenario[] = [];
  let fallback = defaultScenario;
  let closed: Promise<void> | undefined;
  const upstream: MockUpstream = {
    url: `http://127.0.0.1:${port}`,
    port,
    name: options.name ?? "mock",
    requests: [],
    models: [...(options.models ?? ["gpt-4o-mini", "text-embedding-3-small"])],
    responses: new Map(),
    modelsScenario: undefined,
    enqueue(...scenarios) {
      queue.push(...scenarios);
    },
    setDefault(fn) {
      fallback = fn;
    },
    reset() {
      queue.length = 0;
      upstream.requests.length = 0;
      upstream.responses.clear();
      fallback = defaultScenario;
      upstream.modelsScenario = undefined;
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
  const state: MockState = {
    upstream,
    closing,
    responses: options.responsesApi === false ? undefined : responsesEndpoint(upstream.responses),
    next: (record) => queue.shift() ?? fallback(record),
  };
  return Promise.resolve(upstream);
}
