/**
 * Anthropic Messages stream events -> OpenAI `chat.completion.chunk`s, one event at a time.
 * A stream that ends without `message_stop`, or with an `error` event, ends as a failure:
 * a cut-off answer must never look complete to the client.
 */
import type { EventSourceMessage } from "eventsource-parser";
import { ProviderError } from "../../core/errors.ts";
import { isRecord, type JsonObject } from "../../core/json.ts";
import { chatChunk, type ChunkHead, unixSeconds } from "../openai_wire.ts";
import type { StreamTranslator } from "../sse_translate.ts";
import {
  emptyCounts,
  finishReason,
  openAIId,
  readCounts,
  streamEventError,
  type TokenCounts,
  toOpenAIUsage,
} from "./response.ts";

/** Options for `anthropicStreamTranslator`. */
export interface AnthropicStreamOptions {
  /** Model name reported until `message_start` names the upstream's. */
  model: string;
  /** The client asked for `stream_options.include_usage`: a closing usage chunk. */
  includeUsage: boolean;
}

type Payload = Record<string, unknown> | string;

function parseEvent(event: EventSourceMessage): JsonObject {
  let data: unknown;
  try {
    data = JSON.parse(event.data);
  } catch {
    throw new ProviderError(
      "protocol",
      `Anthropic sent an event that is not JSON (${event.event})`,
    );
  }
  if (!isRecord(data)) {
    throw new ProviderError("protocol", `Anthropic sent an event that is not an object`);
  }
  // The data's own `type` is authoritative; the SSE event name repeats it.
  if (typeof data.type !== "string" && event.event !== undefined) data.type = event.event;
  return data;
}

/** What one stream remembers between events. */
interface StreamState {
  head: ChunkHead;
  includeUsage: boolean;
  /** Anthropic content block index -> OpenAI tool call index (OpenAI counts tools only). */
  toolIndex: Map<number, number>;
  counts: TokenCounts;
  stopped: boolean;
}

function chunk(state: StreamState, delta: JsonObject, finish: string | null = null): Payload {
  // With include_usage, OpenAI puts `usage: null` on every chunk before the usage chunk.
  return chatChunk(state.head, delta, finish, state.includeUsage ? null : undefined);
}

function messageStart(state: StreamState, data: JsonObject): Payload[] {
  const message = isRecord(data.message) ? data.message : {};
  if (typeof message.id === "string") state.head.id = openAIId(message.id);
  if (typeof message.model === "string") state.head.model = message.model;
  readCounts(message.usage, state.counts);
  return [chunk(state, { role: "assistant", content: "" })];
}

function blockStart(state: StreamState, data: JsonObject): Payload[] {
  const block = data.content_block;
  if (!isRecord(block) || typeof data.index !== "number") return [];
  if (block.type === "text" && typeof block.text === "string" && block.text !== "") {
    return [chunk(state, { content: block.text })];
  }
  if (block.type !== "tool_use") return []; // thinking blocks stay upstream
  const index = state.toolIndex.size;
  state.toolIndex.set(data.index, index);
  const call = {
    index,
    id: block.id,
    type: "function",
    function: { name: block.name, arguments: "" },
  };
  return [chunk(state, { tool_calls: [call] })];
}

function blockDelta(state: StreamState, data: JsonObject): Payload[] {
  const delta = data.delta;
  if (!isRecord(delta)) return [];
  if (delta.type === "text_delta" && typeof delta.text === "string" && delta.text !== "") {
    return [chunk(state, { content: delta.text })];
  }
  if (delta.type === "input_json_delta" && typeof delta.partial_json === "string") {
    const index = typeof data.index === "number" ? state.toolIndex.get(data.index) : undefined;
    if (index === undefined) {
      throw new ProviderError("protocol", "Anthropic sent tool input for an unknown block");
    }
    if (delta.partial_json === "") return [];
    const call = { index, function: { arguments: delta.partial_json } };
    return [chunk(state, { tool_calls: [call] })];
  }
  return []; // thinking, signature and citation deltas have no OpenAI counterpart
}

function messageDelta(state: StreamState, data: JsonObject): Payload[] {
  readCounts(data.usage, state.counts);
  const delta = isRecord(data.delta) ? data.delta : {};
  const finish = finishReason(delta.stop_reason);
  return finish === null ? [] : [chunk(state, {}, finish)];
}

function messageStop(state: StreamState): Payload[] {
  state.stopped = true;
  const out: Payload[] = [];
  if (state.includeUsage) {
    out.push(chatChunk(state.head, null, null, toOpenAIUsage(state.counts)));
  }
  out.push("[DONE]");
  return out;
}

/** Builds the translator for one Anthropic stream. */
export function anthropicStreamTranslator(options: AnthropicStreamOptions): StreamTranslator {
  const state: StreamState = {
    head: { id: openAIId(undefined), model: options.model, created: unixSeconds() },
    includeUsage: options.includeUsage,
    toolIndex: new Map(),
    counts: emptyCounts(),
    stopped: false,
  };
  return {
    onEvent(event) {
      if (state.stopped) return [];
      const data = parseEvent(event);
      switch (data.type) {
        case "message_start":
          return messageStart(state, data);
        case "content_block_start":
          return blockStart(state, data);
        case "content_block_delta":
          return blockDelta(state, data);
        case "message_delta":
          return messageDelta(state, data);
        case "message_stop":
          return messageStop(state);
        case "error":
          throw streamEventError(data);
        default: // ping, content_block_stop, and event types Anthropic may add
          return [];
      }
    },
    onEnd() {
      if (!state.stopped) {
        throw new ProviderError("protocol", "Anthropic ended the stream before message_stop");
      }
      return [];
    },
  };
}
