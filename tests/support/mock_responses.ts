// The mock upstream's Responses API: POST /v1/responses answered as its scenario says, and the
// responses it keeps (unless `store: false`) for `previous_response_id`, GET, DELETE and
// GET .../input_items.
import {
  type AnsweringScenario,
  checkModel,
  type Endpoint,
  invalid,
  isStreamRequest,
  jsonPlan,
  piecesOf,
  streamPlan,
} from "./mock_endpoints.ts";
import { countTokens, type ErrorInfo, isRecord, newId, unixNow } from "./mock_openai_wire.ts";
import {
  answerTokens,
  deletedBody,
  echoedFields,
  inputItemsPage,
  itemsText,
  normalizeInput,
  outputItem,
  responseObject,
  type ResponsesAnswer,
  responsesStreamEvents,
  responsesUsage,
} from "./mock_responses_wire.ts";

/** One response the mock keeps, by id. */
export interface StoredResponse {
  /** The `response` object as it ended (completed or failed). */
  response: Record<string, unknown>;
  /** The request's own input items, each with an id. */
  input: Record<string, unknown>[];
  /** Every item the answer was made from: earlier turns (via previous_response_id), then input. */
  context: Record<string, unknown>[];
}

/** An answer read from the store: a status and a JSON body. */
export interface StoredAnswer {
  status: number;
  body: unknown;
}

function answerOf(
  body: Record<string, unknown>,
  scenario: AnsweringScenario,
  name: string,
): ResponsesAnswer {
  const hasTools = Array.isArray(body.tools) && body.tools.length > 0;
  const call = scenario.type === "ok" ? scenario.toolCall : undefined;
  if (call === undefined || !hasTools) return { kind: "text", pieces: piecesOf(scenario, name) };
  const callId = newId("call_");
  if (call.custom === true) {
    return { kind: "custom", callId, name: call.name, input: call.arguments };
  }
  const { name: tool, arguments: args, namespace } = call;
  return { kind: "function", callId, name: tool, arguments: args, namespace };
}

function previousOf(
  store: ReadonlyMap<string, StoredResponse>,
  body: Record<string, unknown>,
): StoredResponse | undefined {
  const id = body.previous_response_id;
  return typeof id === "string" ? store.get(id) : undefined;
}

function notFound(message: string, param: string | null, code: string | null): StoredAnswer {
  return { status: 404, body: { error: { message, type: "invalid_request_error", param, code } } };
}

/** The POST /v1/responses endpoint of one mock, keeping its responses in `store`. */
export function responsesEndpoint(store: Map<string, StoredResponse>): Endpoint {
  return {
    validate(body): ErrorInfo | undefined {
      const problem = checkModel(body);
      if (problem || !isRecord(body)) return problem;
      const input = body.input;
      if (input !== undefined && typeof input !== "string" && !Array.isArray(input)) {
        return invalid("Invalid type for 'input': expected a string or an array.", "input");
      }
      const previous = body.previous_response_id;
      if (previous !== undefined && previous !== null && !previousOf(store, body)) {
        return invalid(
          `Previous response with id '${previous}' not found.`,
          "previous_response_id",
          "previous_response_not_found",
        );
      }
      return undefined;
    },
    plan(body, scenario, name) {
      const previous = previousOf(store, body);
      const input = normalizeInput(body.input);
      const earlier = previous
        ? [...previous.context, ...(previous.response.output as Record<string, unknown>[])]
        : [];
      const context = [...earlier, ...input];
      const answer = answerOf(body, scenario, name);
      const item = outputItem(answer);
      const reported = scenario.usage;
      const instructions = typeof body.instructions === "string" ? body.instructions : "";
      const usage = reported
        ? responsesUsage(reported.prompt, reported.completion, reported.cached)
        : responsesUsage(countTokens(instructions + itemsText(context)), answerTokens(answer));
      const failing = scenario.type === "stream" && scenario.failAfter !== undefined;
      const final = responseObject(newId("resp_"), unixNow(), echoedFields(body), {
        status: failing ? "failed" : "completed",
        output: failing ? [] : [item],
        usage: failing ? null : usage,
        error: failing
          ? (scenario.failure ??
            { code: "server_error", message: "The model failed to generate a response." })
          : null,
      });
      if (body.store !== false) store.set(String(final.id), { response: final, input, context });
      if (!isStreamRequest(body)) return jsonPlan(final, scenario);
      const failAfter = scenario.type === "stream" ? scenario.failAfter : undefined;
      return streamPlan(responsesStreamEvents(answer, item, final, failAfter), scenario);
    },
  };
}

/**
 * GET and DELETE /v1/responses/{id} and GET /v1/responses/{id}/input_items, answered from
 * `store`; undefined for any other request.
 */
export function answerStored(
  store: Map<string, StoredResponse>,
  request: { method: string; path: string; search: string },
): StoredAnswer | undefined {
  const match = /^\/v1\/responses\/([^/]+)(\/input_items)?$/.exec(request.path);
  if (!match) return undefined;
  const id = decodeURIComponent(match[1]!);
  const listing = match[2] !== undefined;
  if (request.method !== "GET" && (listing || request.method !== "DELETE")) return undefined;
  const stored = store.get(id);
  if (!stored) return notFound(`Response with id '${id}' not found.`, null, null);
  if (listing) {
    return { status: 200, body: inputItemsPage(stored.input, new URLSearchParams(request.search)) };
  }
  if (request.method === "DELETE") {
    store.delete(id);
    return { status: 200, body: deletedBody(id) };
  }
  return { status: 200, body: stored.response };
}
