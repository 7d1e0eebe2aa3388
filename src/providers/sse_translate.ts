import { createParser, type EventSourceMessage } from "eventsource-parser";
import { ProviderError } from "../core/errors.ts";

/** Largest SSE event accepted from an upstream (guards against an unbounded buffer). */
const MAX_EVENT_BYTES = 4 * 1024 * 1024;

/**
 * Turns one upstream SSE event into OpenAI `data:` payloads (objects are JSON-encoded,
 * strings such as "[DONE]" are sent as they are). Throwing ends the stream as a failure.
 */
export interface StreamTranslator {
  onEvent(event: EventSourceMessage): (Record<string, unknown> | string)[];
  /** Called once when the upstream ends cleanly; returns the closing payloads. */
  onEnd(): (Record<string, unknown> | string)[];
}

const encoder = new TextEncoder();

function frame(payloads: (Record<string, unknown> | string)[]): Uint8Array | undefined {
  if (payloads.length === 0) return undefined;
  let text = "";
  for (const p of payloads) text += `data: ${typeof p === "string" ? p : JSON.stringify(p)}\n\n`;
  return encoder.encode(text);
}

/**
 * Translates an upstream SSE body into an OpenAI SSE body, event by event as they arrive:
 * nothing is held back longer than it takes to parse one event.
 */
export function translateSse(
  body: ReadableStream<Uint8Array>,
  translator: StreamTranslator,
): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder();
  let pending: (Record<string, unknown> | string)[] = [];
  let failure: unknown;
  const parser = createParser({
    maxBufferSize: MAX_EVENT_BYTES,
    onEvent(event) {
      if (failure !== undefined) return;
      try {
        pending.push(...translator.onEvent(event));
      } catch (err) {
        failure = err;
      }
    },
    onError(err) {
      failure = new ProviderError("protocol", `unreadable event stream: ${err.message}`);
    },
  });
  return body.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        parser.feed(decoder.decode(chunk, { stream: true }));
        const out = frame(pending);
        pending = [];
        if (out !== undefined) controller.enqueue(out);
        if (failure !== undefined) throw failure;
      },
      flush(controller) {
        parser.feed(decoder.decode());
        pending.push(...translator.onEnd());
        const out = frame(pending);
        pending = [];
        if (out !== undefined) controller.enqueue(out);
        if (failure !== undefined) throw failure;
      },
    }),
  );
}
