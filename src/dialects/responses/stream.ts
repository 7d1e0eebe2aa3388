/**
 * The Chat Completions SSE byte stream -> the Responses SSE byte stream, as a `TransformStream`:
 * `upstream.pipeThrough(chatToResponsesStream(ctx))`. Events go out as the upstream's chunks
 * arrive, whatever their boundaries. An upstream error event, unreadable data, or an end before
 * the answer was complete becomes `response.failed`, which ends the stream; a failure to read
 * the upstream itself passes through as the stream's error, for the relay to report in this
 * dialect (`responsesStreamErrorEvent`).
 */
import { createParser } from "eventsource-parser";
import type { JsonObject } from "../../core/json.ts";
import type { ResponseContext } from "./context.ts";
import { ChatToResponsesTranslator } from "./stream_events.ts";

/** Options for `chatToResponsesStream`. */
export interface ResponsesStreamOptions {
  /**
   * Called once with the final response object, after the `response.completed` (or
   * `response.incomplete`) event that carries it was handed on; not called for a failed stream.
   */
  onComplete?(response: JsonObject): void;
}

/** Largest upstream SSE event accepted: a bound on what one event may buffer. */
const MAX_EVENT_CHARS = 4 * 1024 * 1024;

const encoder = new TextEncoder();

/** A transformer from a Chat Completions SSE body to a Responses SSE body, for one stream. */
export function chatToResponsesStream(
  ctx: ResponseContext,
  options: ResponsesStreamOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  const translator = new ChatToResponsesTranslator(ctx);
  const decoder = new TextDecoder();
  let out = "";
  let told = false;
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
    if (translator.response !== undefined && !told) {
      told = true;
      options.onComplete?.(translator.response);
    }
  }
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      // After the end the parser may refuse more input; whatever follows is not wanted.
      if (translator.ended) return;
      parser.feed(decoder.decode(chunk, { stream: true }));
      send(controller);
      // A failure is the last word: the rest of the upstream is not read. After a clean end
      // it is, so that the upstream connection finishes its answer and can be reused.
      if (translator.ended && translator.response === undefined) controller.terminate();
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
