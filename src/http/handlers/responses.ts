/**
 * What the Responses API adds to the proxy: conversation state (`previous_response_id`, stored
 * responses) and the stored-response routes (`GET`/`DELETE /v1/responses/{id}`, its input items).
 *
 * A response translated by the gateway is kept by the gateway (its input items and the response);
 * one a provider served natively is kept by that provider, and the gateway remembers only which
 * provider and whose it is, so that follow-ups and reads go there. Either way a response belongs
 * to the caller that created it: anyone else gets the 404 an unknown id gets.
 */
import type { Caller } from "../../auth/caller.ts";
import type { Engine } from "../../core/engine.ts";
import type { ExecuteRequest, Outcome } from "../../core/executor.ts";
import { GatewayError } from "../../core/errors.ts";
import { isRecord, type JsonObject } from "../../core/json.ts";
import { servesNatively } from "../../core/provider.ts";
import type { Target } from "../../core/router.ts";
import type { ResponseContext } from "../../dialects/responses/context.ts";
import { responsesTranslation } from "../../dialects/responses/dialect.ts";
import { outputText } from "../../dialects/responses/output_items.ts";
import { echoFields, itemId, responseObject } from "../../dialects/responses/wire.ts";
import {
  responsesStreamEnd,
  responsesStreamErrorEvent,
} from "../../dialects/responses/stream_end.ts";
import {
  ConversationLimitError,
  NativeResponseError,
  ResponseNotFoundError,
} from "../../store/response_errors.ts";
import { type ResponseState, storedResponseSize } from "../../store/responses.ts";
import type { StoredResponse } from "../../store/store.ts";
import { REQUEST_ID_HEADER } from "../entry.ts";
import type { Context, Handler } from "../context.ts";

const decoder = new TextDecoder();

/** Who owns a stored response: the caller's key (a virtual key by id), token subject, or nobody. */
export function ownerOf(caller: Caller | null): string {
  if (caller === null) return "anonymous";
  if (caller.kind === "jwt") return `user:${caller.name}`;
  return caller.keyId !== undefined ? `vkey:${caller.keyId}` : `key:${caller.name}`;
}

/** What the proxy runs for one Responses request: its plan, executor options and last step. */
export interface PreparedResponses {
  plan: Target[];
  options: Partial<ExecuteRequest>;
  /** Called with the outcome: remembers a natively served response. May wrap a stream. */
  finish(outcome: Outcome): void;
}

/**
 * Resolves `previous_response_id` and sets up the translation. A follow-up to a response a
 * provider holds goes to that provider only (no other could know the id); a follow-up to one the
 * gateway holds is translated for every target, with the earlier turns put back in front.
 */
export async function prepareResponses(
  ctx: Context,
  state: ResponseState | null,
  retentionMs: number,
  body: JsonObject,
  model: string,
  plan: Target[],
): Promise<PreparedResponses> {
  const owner = ownerOf(ctx.caller);
  const previousId = typeof body.previous_response_id === "string"
    ? body.previous_response_id
    : null;
  let history: unknown[] | undefined;
  if (previousId !== null && state === null) {
    // Nothing is kept here: only a provider that keeps its own responses can know the id.
    plan = plan.filter((t) => servesNatively(t.provider, "responses"));
    if (plan.length === 0) {
      throw new GatewayError(
        "invalid_request",
        "previous_response_id: this gateway keeps no responses (it runs without a store), and " +
          `no target of "${model}" keeps them itself`,
        { param: "previous_response_id" },
      );
    }
  } else if (previousId !== null && state !== null) {
    const previous = await findPrevious(state, previousId, owner);
    if (previous.provider !== null) {
      plan = pinnedPlan(plan, previous, model);
    } else {
      history = await historyOf(state, previousId, owner);
    }
  }
  const keep = state !== null && body.store !== false;
  const ctxResponse: ResponseContext = {
    id: itemId("resp_"),
    createdAt: Math.floor(Date.now() / 1000),
    model,
    request: body,
    toolNames: new Map(),
  };
  const input = inputItems(body.input);
  // The response a stream broken midway reports as failed: the translated one, or the native
  // one once its id was seen. Built only if it fails.
  let failing: (() => JsonObject) | undefined;
  const translation = responsesTranslation(ctxResponse, {
    history,
    onResponse: keep
      ? (response) =>
        state!.save(
          record(ctxResponse.id, owner, null, model, previousId, retentionMs, input, response),
        )
      : undefined,
    // `store` is the gateway's to honour, not the target's: not reported as dropped.
    onDropped: (dropped) => {
      const left = dropped.filter((field) => field !== "store");
      if (left.length > 0) ctx.state["gateway.dropped"] = left.join(",");
    },
  });
  return {
    plan,
    options: {
      translation,
      // Earlier turns the gateway holds are unknown to any provider: every target translates.
      throughHub: history !== undefined,
      streamError: (error, label, redact, tail) =>
        responsesStreamErrorEvent(error, label, redact, tail, failing?.()),
      streamEnd: responsesStreamEnd,
    },
    finish(outcome) {
      if (outcome.kind === "rejected") return;
      if (outcome.translated) {
        if (outcome.kind === "stream") {
          failing = () =>
            responseObject(ctxResponse, echoFields(body), {
              status: "failed",
              output: [],
              usage: null,
            });
        }
        return;
      }
      const { provider, model: served } = outcome.target;
      const remember = (id: string) =>
        state!.save(record(id, owner, provider.name, served, previousId, retentionMs, null));
      if (outcome.kind === "complete") {
        if (!keep) return;
        const id = responseIdOfBody(outcome.body);
        if (id !== undefined) remember(id);
        return;
      }
      outcome.body = outcome.body.pipeThrough(responseIdTap((id) => {
        failing = () => ({
          id,
          object: "response",
          created_at: ctxResponse.createdAt,
          model: served,
          output: [],
        });
        if (keep) remember(id);
      }));
    },
  };
}

/** The stored record of a response; `input` and `response` only where the gateway holds it. */
function record(
  id: string,
  owner: string,
  provider: string | null,
  model: string,
  previousId: string | null,
  retentionMs: number,
  input: unknown[] | null,
  response: JsonObject | null = null,
): StoredResponse {
  const now = Date.now();
  return {
    id,
    owner,
    provider,
    model,
    created_at: now,
    expires_at: now + retentionMs,
    previous_response_id: previousId,
    input,
    response,
    size: storedResponseSize(input, response),
  };
}

/** `input` as a list of items (a string is one user message). */
function inputItems(input: unknown): unknown[] {
  if (typeof input === "string") {
    return [{ type: "message", role: "user", content: [{ type: "input_text", text: input }] }];
  }
  return Array.isArray(input) ? input : [];
}

async function findPrevious(
  state: ResponseState,
  id: string,
  owner: string,
): Promise<StoredResponse> {
  try {
    const found = await state.get(id, owner);
    if (found === null) throw previousNotFound(id);
    return found;
  } catch (err) {
    if (err instanceof ResponseNotFoundError) throw previousNotFound(id, err.message);
    throw err;
  }
}

async function historyOf(state: ResponseState, id: string, owner: string): Promise<unknown[]> {
  try {
    return await state.history(id, owner);
  } catch (err) {
    if (err instanceof ResponseNotFoundError) throw previousNotFound(id, err.message);
    if (err instanceof NativeResponseError || err instanceof ConversationLimitError) {
      throw new GatewayError("invalid_request", err.message, { param: "previous_response_id" });
    }
    throw err;
  }
}

/** An unknown (or someone else's) previous response: OpenAI's 400 `previous_response_not_found`. */
function previousNotFound(id: string, why?: string): GatewayError {
  return new GatewayError(
    "previous_response_not_found",
    why ?? `previous_response_id: previous response with id '${id}' not found`,
    { param: "previous_response_id" },
  );
}

/** The plan narrowed to the provider holding the previous response (natively). */
function pinnedPlan(plan: Target[], previous: StoredResponse, model: string): Target[] {
  const pinned = plan.filter((t) =>
    t.provider.name === previous.provider && servesNatively(t.provider, "responses")
  );
  if (pinned.length === 0) {
    throw new GatewayError(
      "invalid_request",
      `previous_response_id: response '${previous.id}' is held by provider ` +
        `"${previous.provider}", which "${model}" does not route to natively`,
      { param: "previous_response_id" },
    );
  }
  return pinned;
}

/** A response object that starts with its `id`, as OpenAI's do. */
const LEADING_ID = /^\s*\{\s*"id"\s*:\s*"([^"\\]+)"/;
/** How much of a body `LEADING_ID` is looked for in. */
const ID_HEAD_BYTES = 256;

/**
 * The `id` of a natively served, whole response: read from its first bytes when it leads, as it
 * does in OpenAI's answers, else by parsing the body.
 */
function responseIdOfBody(bytes: Uint8Array): string | undefined {
  const lead = LEADING_ID.exec(decoder.decode(bytes.subarray(0, ID_HEAD_BYTES)));
  if (lead !== null) return lead[1];
  try {
    const json: unknown = JSON.parse(decoder.decode(bytes));
    return isRecord(json) && typeof json.id === "string" ? json.id : undefined;
  } catch {
    return undefined;
  }
}

/** Where a Responses stream names its response: `"response": {"id": ...` in its first event. */
const STREAM_RESPONSE_ID = /"response"\s*:\s*\{[^{}]*?"id"\s*:\s*"([^"\\]+)"/;
/** How far into a stream its response id is looked for. */
const ID_SEARCH_LIMIT = 16 * 1024;

/** Passes a native stream through untouched, telling `found` its response id once seen. */
function responseIdTap(found: (id: string) => void): TransformStream<Uint8Array, Uint8Array> {
  const textDecoder = new TextDecoder();
  let head = "";
  let done = false;
  return new TransformStream({
    transform(chunk, controller) {
      controller.enqueue(chunk);
      if (done) return;
      head += textDecoder.decode(chunk, { stream: true });
      const match = STREAM_RESPONSE_ID.exec(head);
      if (match !== null) found(match[1]!);
      if (match !== null || head.length > ID_SEARCH_LIMIT) {
        done = true;
        head = "";
      }
    },
  });
}

/** Options for the stored-response routes. */
export interface ResponseRoutes {
  /** `GET /v1/responses/{id}` and `GET /v1/responses/{id}/input_items`. */
  get: Handler;
  /** `DELETE /v1/responses/{id}`. */
  delete: Handler;
}

const INPUT_ITEMS = "/input_items";

/** The stored-response routes; `state` null (no store) makes every id unknown. */
export function responseRoutes(engine: Engine, state: ResponseState | null): ResponseRoutes {
  async function lookup(ctx: Context, id: string): Promise<StoredResponse> {
    let found: StoredResponse | null | undefined;
    try {
      found = await state?.get(id, ownerOf(ctx.caller));
    } catch (err) {
      // Answered once, but too large to keep: the message says so.
      if (err instanceof ResponseNotFoundError) throw new GatewayError("not_found", err.message);
      throw err;
    }
    if (found === null || found === undefined) {
      throw new GatewayError("not_found", `no response found with id '${id}'`);
    }
    return found;
  }

  /** Relays the request to the provider holding the response natively. */
  async function atProvider(ctx: Context, stored: StoredResponse): Promise<Response> {
    const provider = engine.providers.get(stored.provider!);
    if (provider?.resource === undefined) {
      throw new GatewayError(
        "not_found",
        `response '${stored.id}' is held by provider "${stored.provider}", which is no longer ` +
          "configured",
      );
    }
    const answer = await provider.resource({
      method: ctx.request.method === "DELETE" ? "DELETE" : "GET",
      path: ctx.path + new URL(ctx.request.url).search,
      signal: ctx.request.signal,
      requestId: ctx.requestId,
    });
    if (ctx.request.method === "DELETE" && answer.status < 300) {
      await state?.delete(stored.id, stored.owner);
    }
    ctx.state["gateway.provider"] = provider.name;
    return json(ctx, engine.redact(decoder.decode(answer.body)), answer.status);
  }

  return {
    async get(ctx) {
      const [id, items] = splitId(ctx.params.id ?? "");
      const stored = await lookup(ctx, id);
      if (stored.provider !== null) return atProvider(ctx, stored);
      if (!items) return json(ctx, JSON.stringify(stored.response));
      return json(ctx, JSON.stringify(inputItemList(stored, new URL(ctx.request.url))));
    },
    async delete(ctx) {
      const [id, items] = splitId(ctx.params.id ?? "");
      if (items) throw new GatewayError("method_not_allowed", "input items cannot be deleted");
      const stored = await lookup(ctx, id);
      if (stored.provider !== null) return atProvider(ctx, stored);
      await state?.delete(id, stored.owner);
      return json(ctx, JSON.stringify({ id, object: "response", deleted: true }));
    },
  };
}

/** `resp_1/input_items` -> `["resp_1", true]`. */
function splitId(rest: string): [string, boolean] {
  return rest.endsWith(INPUT_ITEMS) ? [rest.slice(0, -INPUT_ITEMS.length), true] : [rest, false];
}

/** A stored response's input items as OpenAI lists them: newest first unless `order=asc`. */
function inputItemList(stored: StoredResponse, url: URL): JsonObject {
  const order = url.searchParams.get("order") ?? "desc";
  if (order !== "asc" && order !== "desc") {
    throw new GatewayError("invalid_request", "order: expected asc or desc", { param: "order" });
  }
  const limitText = url.searchParams.get("limit") ?? "20";
  const limit = Number(limitText);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
    throw new GatewayError("invalid_request", "limit: expected a whole number from 1 to 100", {
      param: "limit",
    });
  }
  let items = (stored.input ?? []).map((item: unknown, i: number) => withId(item, stored.id, i));
  if (order === "desc") items = items.reverse();
  const after = url.searchParams.get("after");
  if (after !== null) {
    const at = items.findIndex((item) => item.id === after);
    items = at < 0 ? [] : items.slice(at + 1);
  }
  const page = items.slice(0, limit);
  return {
    object: "list",
    data: page,
    first_id: page[0]?.id ?? null,
    last_id: page.at(-1)?.id ?? null,
    has_more: items.length > page.length,
  };
}

/**
 * An input item as OpenAI lists it: with an `id` (items sent without one get a stable one from
 * their position), and a message's text given as a string made a content part.
 */
function withId(item: unknown, responseId: string, index: number): JsonObject & { id: string } {
  const object: JsonObject = isRecord(item) ? { ...item } : { value: item };
  if (object.type === undefined && object.role !== undefined) object.type = "message";
  if (object.type === "message" && typeof object.content === "string") {
    // An assistant message is listed as the output message it was; any other as input text.
    object.content = [
      object.role === "assistant"
        ? outputText(object.content)
        : { type: "input_text", text: object.content },
    ];
  }
  if (typeof object.id !== "string") {
    object.id = `msg_${responseId.slice(5, 29)}${index.toString(16).padStart(4, "0")}`;
  }
  return object as JsonObject & { id: string };
}

function json(ctx: Context, body: string, status = 200): Response {
  ctx.requestIdSent = true;
  return new Response(body, {
    status,
    headers: { "content-type": "application/json", [REQUEST_ID_HEADER]: ctx.requestId },
  });
}
