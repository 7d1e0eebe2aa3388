/**
 * The Chat Completions SSE byte stream -> the Messages SSE byte stream, as a `TransformStream`:
 * `upstream.pipeThrough(chatToMessagesStream({ model }))`. Events go out as the upstream's
 * chunks arrive, whatever their boundaries. An upstream error event, unreadable data, or an end
 * before the answer was complete becomes an `event: error` that ends the stream; a failure to
 * read the upstream itself passes through as the stream's error, for the relay to report in
 * this dialect (`messagesStreamErrorEvent`).
 */
import { createParser } from "eventsource-parser";
import { ChatChunkTranslator, type ChunkTranslatorOptions } from "./stream_events.ts";
import { sseEvent } from "./wire.ts";

/** Options for `chatToMessagesStream`. */
export type MessagesStreamOptions = ChunkTranslatorOptions;

/** Largest upstream SSE event accepted: a bound on what one event may buffer. */
const MAX_EVENT_CHARS = 4 * 1024 * 1024;

const encoder = new TextEncoder();

/** A transformer from a Chat Completions SSE body to a Messages SSE body, for one stream. */
export function chatToMessagesStream(
  options: MessagesStreamOptions,
): TransformStream<Uint8Array, Uint8Array> {
  const translator = new ChatChunkTranslator(options);
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
  }
  return new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      // After the end the parser may refuse more input; whatever follows is not wanted.
      if (translator.ended) return;
      parser.feed(decoder.decode(chunk, { stream: true }));
      send(controller);
      // An error event is the last word: the rest of the upstream is not read. After a clean
      // end it is, so that the upstream connection finishes its answer and can be reused.
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

/** The `event: ping` the handler sends while the stream is quiet. */
export function pingEvent(): string {
  return sseEvent("ping", { type: "ping" });
}
