/**
 * Reading the hub (Chat Completions) for the dialects translated from it: a whole message's
 * reasoning, one stream payload, and the stream itself as a `TransformStream` that hands each
 * payload to a dialect's translator. Shared by the Messages and Responses dialects.
 */
import { createParser } from "eventsource-parser";
import { isRecord, type JsonObject } from "../core/json.ts";
import { isSet } from "./fields.ts";

/** One named SSE event, as the Messages and Responses APIs send them. */
export function sseEvent(type: string, data: unknown): string {
  return `event: ${type}\ndata: ${JSON.stringify(data)}\n\n`;
}

/** Reasoning text: `reasoning_content` (DeepSeek, vLLM) or else `reasoning` (OpenRouter, Ollama). */
export function reasoningOf(message: JsonObject): string {
  if (typeof message.reasoning_content === "string") return message.reasoning_content;
  return typeof message.reasoning === "string" ? message.reasoning : "";
}

/** The text of a hub message's `content`: a string, or its text parts joined. */
export function contentText(content: unknown): string {
  if (typeof content === "string") return content;
  let text = "";
  if (Array.isArray(content)) {
    for (const part of content) {
      if (isRecord(part) && part.type === "text" && typeof part.text === "string") {
        text += part.text;
      }
    }
  }
  return text;
}

/** One hub stream payload, read: the end, a failure to report, or a chunk with its first choice. */
export type HubPayload =
  | { kind: "done" }
  | { kind: "failed"; message: string }
  | { kind: "chunk"; chunk: JsonObject; choice: JsonObject | undefined };

/** Reads one SSE `data` payload of the hub's stream (`[DONE]` included). */
export function readHubPayload(data: string): HubPayload {
  if (data === "[DONE]") return { kind: "done" };
  let json: unknown;
  try {
    json = JSON.parse(data);
  } catch {
    return { kind: "failed", message: "the upstream sent a stream event that is not JSON" };
  }
  if (!isRecord(json)) {
    return { kind: "failed", message: "the upstream sent a stream event that is not an object" };
  }
  if (isSet(json.error)) return { kind: "failed", message: upstreamErrorMessage(json.error) };
  const choice = Array.isArray(json.choices)
    ? json.choices.find((c) => isRecord(c) && (c.index ?? 0) === 0)
    : undefined;
  return { kind: "chunk", chunk: json, choice: isRecord(choice) ? choice : undefined };
}

/** The message of an upstream `{"error": ...}` payload. */
function upstreamErrorMessage(error: unknown): string {
  if (typeof error === "string" && error !== "") return error;
  if (isRecord(error) && typeof error.message === "string" && error.message !== "") {
    return error.message;
  }
  return "the upstream reported an error in the stream";
}

/** A dialect's translator of one hub stream, payload by payload, into its own event text. */
export interface HubStreamTranslator {
  /** True once the dialect's last event (an end or a failure) was produced: nothing follows. */
  readonly ended: boolean;
  /** True once the answer ended whole (not by a failure). */
  readonly completed: boolean;
  /** The events for one SSE `data` payload. */
  onData(data: string): string;
  /** The closing events when the upstream's bytes end. */
  onEnd(): string;
  /** Ends the stream with the dialect's failure events carrying `message`. */
  fail(message: string): string;
}

/** Largest upstream SSE event accepted: a bound on what one event may buffer. */
const MAX_EVENT_CHARS = 4 * 1024 * 1024;

const encoder = new TextEncoder();

/**
 * The hub's SSE byte stream -> the dialect's, as a `TransformStream`. Events go out as the
 * upstream's chunks arrive, whatever their boundaries; `sent` is called after each write. A
 * failure to read the upstream itself passes through as the stream's error, for the relay to
 * report in the dialect.
 */
export function hubStreamTransform(
  translator: HubStreamTranslator,
  sent?: () => void,
): TransformStream<Uint8Array, Uint8Array> {
  const decoder = new TextDecoder();
  let out = "";
  const parser = createParser({
    maxBufferSize: MAX_EVENT_CHARS,
    onEvent(event) {
      out += translator.onData(event.data);
    },
    onError(error) {
      if (!translator.ended) out += translator.fail(`unreadable upstream stream: ${error.message}`);
    },
  });
  function send(controller: TransformStreamDefaultController<Uint8Array>): void {
    if (out !== "") controller.enqueue(encoder.encode(out));
    out = "";
    sent?.();
  }
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      // After the end the parser may refuse more input; whatever follows is not wanted.
      if (translator.ended) return;
      parser.feed(decoder.decode(chunk, { stream: true }));
      send(controller);
      // A failure is the last word: the rest of the upstream is not read. After a clean end it
      // is, so that the upstream connection finishes its answer and can be reused.
      if (translator.ended && !translator.completed) controller.terminate();
    },
    flush(controller) {
      if (!translator.ended) parser.feed(decoder.decode());
      // A last event without its closing blank line is still read: it parses whole or fails.
      if (!translator.ended) parser.reset({ consume: true });
      out += translator.onEnd();
      send(controller);
    },
  });
}
