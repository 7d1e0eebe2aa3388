/**
 * The Chat Completions SSE byte stream -> the Messages SSE byte stream, as a `TransformStream`:
 * `upstream.pipeThrough(chatToMessagesStream({ model }))`. Events go out as the upstream's
 * chunks arrive, whatever their boundaries. An upstream error event, unreadable data, or an end
 * before the answer was complete becomes an `event: error` that ends the stream; a failure to
 * read the upstream itself passes through as the stream's error, for the relay to report in
 * this dialect (`messagesStreamErrorEvent`).
 */
import { hubStreamTransform, sseEvent } from "../hub.ts";
import { ChatChunkTranslator, type ChunkTranslatorOptions } from "./stream_events.ts";

/** Options for `chatToMessagesStream`. */
export type MessagesStreamOptions = ChunkTranslatorOptions;

/** A transformer from a Chat Completions SSE body to a Messages SSE body, for one stream. */
export function chatToMessagesStream(
  options: MessagesStreamOptions,
): TransformStream<Uint8Array, Uint8Array> {
  return hubStreamTransform(new ChatChunkTranslator(options));
}

/** The `event: ping` the handler sends while the stream is quiet. */
export function pingEvent(): string {
  return sseEvent("ping", { type: "ping" });
}
