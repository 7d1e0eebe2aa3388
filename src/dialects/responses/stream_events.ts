/**
 * Chat Completions stream payloads -> Responses stream events, one payload at a time. Chat
 * deltas interleave reasoning, text and tool calls; Responses streams them as output items. The
 * reasoning item and the message item are open one at a time (a delta of the other kind, or a
 * tool call, closes the open one); tool calls stay open until the answer finishes, since the hub
 * interleaves their arguments by index.
 */
import { isRecord, type JsonObject } from "../../core/json.ts";
import { isSet } from "./fields.ts";
import { readHubPayload, reasoningOf, sseEvent } from "../hub.ts";
import type { ResponseContext } from "./context.ts";
import {
  callIdPrefix,
  callItem,
  type CallOutput,
  messageItem,
  type MessageOutput,
  type Output,
  type Part,
  partOf,
  reasoningItem,
  type ReasoningOutput,
  snapshot,
} from "./output_items.ts";
import {
  callIdFor,
  clientToolName,
  customInput,
  type EchoFields,
  echoFields,
  emptyUsage,
  endFor,
  itemId,
  type ItemStatus,
  responseObject,
  type ResponseState,
  type ResponsesUsage,
  usageFromChat,
} from "./wire.ts";

/** One upstream tool call, by its Chat `index`. */
interface HubCall {
  id: unknown;
  name?: string;
  /** Arguments that arrived before the name, held until the item can start. */
  held: string;
  item?: CallOutput;
}

/** Translates one stream's payloads into Responses event text; one instance per stream. */
export class ChatToResponsesTranslator {
  /** True once a terminal event (`response.completed`, `.incomplete`, `.failed`) was produced. */
  ended = false;
  /** The final response object, once `response.completed` or `.incomplete` was produced. */
  response: JsonObject | undefined;

  /** True once the answer ended whole (`response.completed` or `.incomplete`), not failed. */
  get completed(): boolean {
    return this.response !== undefined;
  }
  #ctx: ResponseContext;
  #fields: EchoFields;
  #sequence = 0;
  #started = false;
  #output: Output[] = [];
  #reasoning: ReasoningOutput | undefined;
  #message: MessageOutput | undefined;
  #calls = new Map<number, HubCall>();
  #finish: unknown;
  #usage: ResponsesUsage | undefined;

  constructor(ctx: ResponseContext) {
    this.#ctx = ctx;
    this.#fields = echoFields(ctx.request);
  }

  /** The events for one SSE `data` payload (`[DONE]` included). */
  onData(data: string): string {
    if (this.ended) return "";
    const payload = readHubPayload(data);
    if (payload.kind === "done") return this.#complete();
    if (payload.kind === "failed") return this.fail(payload.message);
    const { chunk, choice } = payload;
    let out = this.#start();
    this.#usage = usageFromChat(chunk.usage) ?? this.#usage;
    // Deltas after the finish would reopen items the client was told are done.
    if (choice === undefined || this.#finish !== undefined) return out;
    if (isRecord(choice.delta)) out += this.#delta(choice.delta);
    if (isSet(choice.finish_reason)) {
      this.#finish = choice.finish_reason;
      out += this.#closeAll(endFor(this.#finish).status);
    }
    return out;
  }

  /** The closing events when the upstream's bytes end: a failure unless the answer finished. */
  onEnd(): string {
    if (this.ended) return "";
    if (this.#finish !== undefined) return this.#complete();
    return this.fail("the upstream stream ended before the answer was complete");
  }

  /** Ends the stream with `error` and `response.failed` carrying `message` and the output so far. */
  fail(message: string): string {
    const out = this.#start();
    this.ended = true;
    for (const item of this.#output) {
      if (item.open && item.kind !== "reasoning") item.status = "incomplete";
      item.open = false;
    }
    const response = this.#response({
      status: "failed",
      output: this.#output.map(snapshot),
      usage: this.#usage ?? null,
      error: { code: "server_error", message },
    });
    // Both: Codex reads only response.failed, the openai SDK raises only on error.
    return out + this.#event("error", { code: "server_error", message, param: null }) +
      this.#event("response.failed", { response });
  }

  #response(state: ResponseState): JsonObject {
    return responseObject(this.#ctx, this.#fields, state);
  }

  #event(type: string, fields: JsonObject): string {
    return sseEvent(type, { type, ...fields, sequence_number: this.#sequence++ });
  }

  #start(): string {
    if (this.#started) return "";
    this.#started = true;
    const response = this.#response({ status: "in_progress", output: [], usage: null });
    return this.#event("response.created", { response }) +
      this.#event("response.in_progress", { response });
  }

  #delta(delta: JsonObject): string {
    let out = "";
    const reasoning = reasoningOf(delta);
    if (reasoning !== "") out += this.#reasoningDelta(reasoning);
    if (typeof delta.content === "string" && delta.content !== "") {
      out += this.#messageDelta("output_text", delta.content);
    }
    if (typeof delta.refusal === "string" && delta.refusal !== "") {
      out += this.#messageDelta("refusal", delta.refusal);
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls) {
        if (isRecord(call)) out += this.#toolDelta(call);
      }
    }
    return out;
  }

  #reasoningDelta(text: string): string {
    let out = "";
    let item = this.#reasoning;
    if (item === undefined) {
      out += this.#closeMessage();
      item = {
        kind: "reasoning",
        index: this.#output.length,
        id: itemId("rs_"),
        text: "",
        open: true,
      };
      this.#reasoning = item;
      this.#output.push(item);
      out += this.#event("response.output_item.added", {
        item: reasoningItem(item.id, undefined),
        output_index: item.index,
      });
      out += this.#event("response.reasoning_summary_part.added", {
        item_id: item.id,
        output_index: item.index,
        part: { type: "summary_text", text: "" },
        summary_index: 0,
      });
    }
    item.text += text;
    return out + this.#event("response.reasoning_summary_text.delta", {
      delta: text,
      item_id: item.id,
      output_index: item.index,
      summary_index: 0,
    });
  }

  #messageDelta(type: Part["type"], text: string): string {
    let out = this.#closeReasoning();
    let item = this.#message;
    if (item === undefined) {
      item = {
        kind: "message",
        index: this.#output.length,
        id: itemId("msg_"),
        parts: [],
        partOpen: false,
        open: true,
        status: "in_progress",
      };
      this.#message = item;
      this.#output.push(item);
      out += this.#event("response.output_item.added", {
        item: messageItem(item.id, "in_progress", []),
        output_index: item.index,
      });
    }
    let part = item.parts.at(-1);
    if (part === undefined || !item.partOpen || part.type !== type) {
      out += this.#closePart(item);
      part = { type, text: "" };
      item.parts.push(part);
      item.partOpen = true;
      out += this.#event("response.content_part.added", {
        ...this.#partPlace(item),
        part: partOf({ type, text: "" }),
      });
    }
    part.text += text;
    return out + (type === "output_text"
      ? this.#event("response.output_text.delta", {
        ...this.#partPlace(item),
        delta: text,
        logprobs: [],
      })
      : this.#event("response.refusal.delta", { ...this.#partPlace(item), delta: text }));
  }

  /** Where the message's last part is: `content_index`, `item_id`, `output_index`. */
  #partPlace(item: MessageOutput): JsonObject {
    return { content_index: item.parts.length - 1, item_id: item.id, output_index: item.index };
  }

  #toolDelta(call: JsonObject): string {
    const index = typeof call.index === "number" ? call.index : this.#indexWithoutOne(call);
    const fn = isRecord(call.function) ? call.function : {};
    const args = typeof fn.arguments === "string" ? fn.arguments : "";
    let hub = this.#calls.get(index);
    if (hub === undefined) {
      hub = { id: call.id, held: "" };
      this.#calls.set(index, hub);
    }
    if (!isSet(hub.id)) hub.id = call.id;
    if (hub.name === undefined && typeof fn.name === "string" && fn.name !== "") {
      hub.name = fn.name;
    }
    if (hub.item !== undefined) return this.#callArguments(hub.item, args);
    hub.held += args;
    return hub.name === undefined ? "" : this.#startCall(hub, hub.name);
  }

  /** A tool call delta without `index` (some servers): a new id is a new call, else the last. */
  #indexWithoutOne(call: JsonObject): number {
    for (const [index, hub] of this.#calls) if (isSet(call.id) && hub.id === call.id) return index;
    const last = this.#calls.size - 1;
    return typeof call.id === "string" || last < 0 ? this.#calls.size : last;
  }

  #startCall(hub: HubCall, name: string): string {
    let out = this.#closeReasoning() + this.#closeMessage();
    const tool = clientToolName(name, this.#ctx);
    const item: CallOutput = {
      kind: "call",
      index: this.#output.length,
      id: itemId(callIdPrefix(tool)),
      callId: callIdFor(hub.id),
      tool,
      text: "",
      open: true,
      status: "in_progress",
    };
    hub.item = item;
    this.#output.push(item);
    out += this.#event("response.output_item.added", {
      item: callItem(item.id, "in_progress", { callId: item.callId, tool, text: "" }),
      output_index: item.index,
    });
    out += this.#callArguments(item, hub.held);
    hub.held = "";
    return out;
  }

  /**
   * A piece of a call's arguments. A custom tool's input goes out whole when the call ends:
   * the hub's pieces are JSON text around it, not the input itself.
   */
  #callArguments(item: CallOutput, args: string): string {
    if (args === "") return "";
    item.text += args;
    if (item.tool.custom) return "";
    return this.#event("response.function_call_arguments.delta", {
      delta: args,
      item_id: item.id,
      output_index: item.index,
    });
  }

  #closeAll(status: ItemStatus): string {
    let out = "";
    for (const item of this.#output) {
      if (!item.open) continue;
      if (item.kind === "reasoning") out += this.#closeReasoning();
      else if (item.kind === "message") out += this.#closeMessage(status);
      else out += this.#closeCall(item, status);
    }
    return out;
  }

  #closeReasoning(): string {
    const item = this.#reasoning;
    if (item === undefined) return "";
    this.#reasoning = undefined;
    item.open = false;
    const place = { item_id: item.id, output_index: item.index };
    return this.#event("response.reasoning_summary_text.done", {
      ...place,
      summary_index: 0,
      text: item.text,
    }) +
      this.#event("response.reasoning_summary_part.done", {
        ...place,
        part: { type: "summary_text", text: item.text },
        summary_index: 0,
      }) +
      this.#event("response.output_item.done", { item: snapshot(item), output_index: item.index });
  }

  #closePart(item: MessageOutput): string {
    const part = item.parts.at(-1);
    if (part === undefined || !item.partOpen) return "";
    item.partOpen = false;
    const place = this.#partPlace(item);
    const done = part.type === "output_text"
      ? this.#event("response.output_text.done", { ...place, logprobs: [], text: part.text })
      : this.#event("response.refusal.done", { ...place, refusal: part.text });
    return done + this.#event("response.content_part.done", { ...place, part: partOf(part) });
  }

  #closeMessage(status: ItemStatus = "completed"): string {
    const item = this.#message;
    if (item === undefined) return "";
    this.#message = undefined;
    const out = this.#closePart(item);
    item.open = false;
    item.status = status;
    return out +
      this.#event("response.output_item.done", { item: snapshot(item), output_index: item.index });
  }

  #closeCall(item: CallOutput, status: ItemStatus): string {
    let out = "";
    const place = { item_id: item.id, output_index: item.index };
    if (item.tool.custom) {
      const input = customInput(item.text);
      if (input !== "") {
        out += this.#event("response.custom_tool_call_input.delta", { delta: input, ...place });
      }
      out += this.#event("response.custom_tool_call_input.done", { input, ...place });
    } else {
      // A function without parameters still gets arguments the client can parse.
      if (item.text === "") out += this.#callArguments(item, "{}");
      out += this.#event("response.function_call_arguments.done", {
        arguments: item.text,
        ...place,
        name: item.tool.name,
      });
    }
    item.open = false;
    item.status = status;
    return out +
      this.#event("response.output_item.done", { item: snapshot(item), output_index: item.index });
  }

  #complete(): string {
    let out = this.#start();
    for (const [index, hub] of this.#calls) {
      if (hub.item === undefined) {
        return out + this.fail(`the upstream's tool call ${index} never got a name`);
      }
    }
    const end = endFor(this.#finish);
    out += this.#closeAll(end.status);
    const response = this.#response({
      status: end.status,
      output: this.#output.map(snapshot),
      usage: this.#usage ?? emptyUsage(),
      incompleteDetails: end.incomplete_details,
    });
    this.ended = true;
    this.response = response;
    const type = end.status === "completed" ? "response.completed" : "response.incomplete";
    return out + this.#event(type, { response });
  }
}
