/**
 * The Chat Completions SSE byte stream -> the Responses SSE byte stream, as a `TransformStream`:
 * `upstream.pipeThrough(chatToResponsesStream(ctx))`. Events go out as the upstream's chunks
 * arrive, whatever their boundaries. An upstream error event, unreadable data, or an end before
 * the answer was complete becomes `response.failed`, which ends the stream; a failure to read
 * the upstream itself passes through as the stream's error, for the relay to report in this
 * dialect (`responsesStreamErrorEvent`).
 */
import { hubStreamTransform } from "../hub.ts";
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

/** A transformer from a Chat Completions SSE body to a Responses SSE body, for one stream. */
export function chatToResponsesStream(
  ctx: ResponseContext,
  options: ResponsesStreamOptions = {},
): TransformStream<Uint8Array, Uint8Array> {
  const translator = new ChatToResponsesTranslator(ctx);
  let told = false;
  return hubStreamTransform(translator, () => {
    if (translator.response !== undefined && !told) {
      told = true;
      options.onComplete?.(translator.response);
    }
  });
}
