/**
 * Chat Completions stream payloads -> Messages stream events, one payload at a time. Chat deltas
 * interleave text, reasoning and tool calls freely; Messages has one content block open at a
 * time, so a delta of another kind closes the open block and starts the next.
 */
import { isRecord, type JsonObject } from "../../core/json.ts";
import { messagesErrorEvent } from "./errors.ts";
import { isSet } from "./fields.ts";
import { readHubPayload, reasoningOf, sseEvent } from "../hub.ts";
import {
  messageIdFor,
  type MessagesUsage,
  stopInfoFor,
  toolUseIdFor,
  usageFromChat,
} from "./wire.ts";

/** What the stream translation needs besides the upstream's payloads. */
export interface ChunkTranslatorOptions {
  /** The model name the client asked for, reported in `message_start`. */
  model: string;
  /** Input tokens known before the answer starts, for `message_start` (default 0). */
  inputTokens?: number;
  /** The request's `stop_sequences`: a match the upstream reports becomes `stop_sequence`. */
  stopSequences?: readonly string[];
}

/** One upstream tool call, by its Chat `index`. */
interface ToolCall {
  id: unknown;
  name?: string;
  /** Arguments that arrived before the name, held until the block can start. */
  held: string;
  /** Its Messages block index once started. */
  block?: number;
  closed: boolean;
}

/** The open Messages content block. */
interface OpenBlock {
  index: number;
  kind: "text" | "thinking" | "tool";
  /** The Chat tool call index, for a tool block. */
  tool?: number;
}

/** Translates one stream's payloads into Messages event text; one instance per stream. */
export class ChatChunkTranslator {
  /** True once `message_stop` or an `error` event was produced: nothing follows. */
  ended = false;
  /** True once `message_stop` was produced: the answer is whole. */
  completed = false;
  #options: ChunkTranslatorOptions;
  #started = false;
  #nextBlock = 0;
  #open: OpenBlock | undefined;
  #tools = new Map<number, ToolCall>();
  #finish: unknown;
  #matched: unknown;
  #usage: MessagesUsage | undefined;

  constructor(options: ChunkTranslatorOptions) {
    this.#options = options;
  }

  /** The events for one SSE `data` payload (`[DONE]` included). */
  onData(data: string): string {
    if (this.ended) return "";
    const payload = readHubPayload(data);
    if (payload.kind === "done") return this.#complete();
    if (payload.kind === "failed") return this.fail(payload.message);
    const { chunk, choice } = payload;
    let out = this.#start(chunk);
    this.#usage = usageFromChat(chunk.usage) ?? this.#usage;
    if (choice === undefined) return out;
    if (isRecord(choice.delta)) out += this.#delta(choice.delta);
    if (this.ended) return out;
    if (isSet(choice.finish_reason)) {
      this.#finish = choice.finish_reason;
      this.#matched = choice.stop_reason;
      out += this.#closeOpen();
    }
    return out;
  }

  /** The closing events when the upstream's bytes end: an error unless the answer was done. */
  onEnd(): string {
    if (this.ended) return "";
    if (this.#finish !== undefined) return this.#complete();
    return this.fail("the upstream stream ended before the answer was complete");
  }

  /** Ends the stream with an `error` event carrying `message`. */
  fail(message: string): string {
    this.ended = true;
    return messagesErrorEvent(message);
  }

  #start(chunk: JsonObject): string {
    if (this.#started) return "";
    this.#started = true;
    const known = usageFromChat(chunk.usage);
    const usage = {
      input_tokens: known?.input_tokens ?? this.#options.inputTokens ?? 0,
      cache_creation_input_tokens: 0,
      cache_read_input_tokens: known?.cache_read_input_tokens ?? 0,
      output_tokens: 0,
    };
    return sseEvent("message_start", {
      type: "message_start",
      message: {
        id: messageIdFor(chunk.id),
        type: "message",
        role: "assistant",
        model: this.#options.model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage,
      },
      // A ping follows, as in Anthropic's own streams, before the first block.
    }) + sseEvent("ping", { type: "ping" });
  }

  #delta(delta: JsonObject): string {
    let out = "";
    const reasoning = reasoningOf(delta);
    if (reasoning !== "") {
      out += this.#ensureOpen("thinking");
      out += this.#blockDelta({ type: "thinking_delta", thinking: reasoning });
    }
    const text = typeof delta.content === "string" && delta.content !== ""
      ? delta.content
      : typeof delta.refusal === "string"
      ? delta.refusal
      : "";
    if (text !== "") {
      out += this.#ensureOpen("text");
      out += this.#blockDelta({ type: "text_delta", text });
    }
    if (Array.isArray(delta.tool_calls)) {
      for (const call of delta.tool_calls) {
        if (isRecord(call)) out += this.#toolDelta(call);
        if (this.ended) break;
      }
    }
    return out;
  }

  #toolDelta(call: JsonObject): string {
    const index = typeof call.index === "number" ? call.index : this.#indexWithoutOne(call);
    const fn = isRecord(call.function) ? call.function : {};
    const args = typeof fn.arguments === "string" ? fn.arguments : "";
    let tool = this.#tools.get(index);
    if (tool === undefined) {
      tool = { id: call.id, held: "", closed: false };
      this.#tools.set(index, tool);
    }
    if (tool.id === undefined) tool.id = call.id;
    if (tool.name === undefined && typeof fn.name === "string" && fn.name !== "") {
      tool.name = fn.name;
    }
    if (tool.closed) {
      if (args === "") return "";
      return this.fail(`the upstream sent arguments for tool call ${index} after its block ended`);
    }
    if (tool.block === undefined) {
      tool.held += args;
      if (tool.name === undefined) return "";
      return this.#startTool(index, tool);
    }
    return args === "" ? "" : this.#blockDelta({ type: "input_json_delta", partial_json: args });
  }

  /** A tool call delta without `index` (some servers): a new id is a new call, else the last. */
  #indexWithoutOne(call: JsonObject): number {
    const known = [...this.#tools.entries()].find(([, tool]) => tool.id === call.id);
    if (known !== undefined) return known[0];
    const last = this.#tools.size - 1;
    return typeof call.id === "string" || last < 0 ? this.#tools.size : last;
  }

  #startTool(index: number, tool: ToolCall): string {
    let out = this.#closeOpen();
    tool.block = this.#nextBlock++;
    this.#open = { index: tool.block, kind: "tool", tool: index };
    out += sseEvent("content_block_start", {
      type: "content_block_start",
      index: tool.block,
      content_block: { type: "tool_use", id: toolUseIdFor(tool.id), name: tool.name, input: {} },
    });
    if (tool.held !== "") {
      out += this.#blockDelta({ type: "input_json_delta", partial_json: tool.held });
      tool.held = "";
    }
    return out;
  }

  #ensureOpen(kind: "text" | "thinking"): string {
    if (this.#open?.kind === kind) return "";
    let out = this.#closeOpen();
    const index = this.#nextBlock++;
    this.#open = { index, kind };
    const block = kind === "text"
      ? { type: "text", text: "" }
      : { type: "thinking", thinking: "", signature: "" };
    out += sseEvent("content_block_start", {
      type: "content_block_start",
      index,
      content_block: block,
    });
    return out;
  }

  #blockDelta(delta: JsonObject): string {
    const index = this.#open?.index ?? 0;
    return sseEvent("content_block_delta", { type: "content_block_delta", index, delta });
  }

  #closeOpen(): string {
    const open = this.#open;
    if (open === undefined) return "";
    this.#open = undefined;
    if (open.tool !== undefined) {
      const tool = this.#tools.get(open.tool);
      if (tool !== undefined) tool.closed = true;
    }
    return sseEvent("content_block_stop", { type: "content_block_stop", index: open.index });
  }

  #complete(): string {
    let out = this.#start({}) + this.#closeOpen();
    for (const [index, tool] of this.#tools) {
      if (tool.block === undefined) {
        return out + this.fail(`the upstream's tool call ${index} never got a name`);
      }
    }
    const stop = stopInfoFor(this.#finish, {
      matched: this.#matched,
      stopSequences: this.#options.stopSequences,
      usedTools: this.#tools.size > 0,
    });
    const usage = this.#usage === undefined ? { output_tokens: 0 } : this.#usage;
    out += sseEvent("message_delta", { type: "message_delta", delta: stop, usage });
    out += sseEvent("message_stop", { type: "message_stop" });
    this.ended = true;
    this.completed = true;
    return out;
  }
}
