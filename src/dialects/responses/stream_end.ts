/**
 * How a relayed Responses stream ends, translated or native: the event that ends one broken
 * after it started, and the check that one the provider closed reached its last event. Without
 * them a client's SDK would take a cut stream for a whole answer.
 */
import { ProviderError } from "../../core/errors.ts";
import type { JsonObject } from "../../core/json.ts";
import { streamFailure } from "../../core/stream_relay.ts";
import { sseEvent } from "../hub.ts";

const decoder = new TextDecoder();

/** The last sequence number in a stream's last bytes. */
const SEQUENCE_NUMBER = /"sequence_number"\s*:\s*(\d+)/g;

/**
 * The events that end a Responses stream broken after it started, with the signature of the
 * stream relay's `errorEvent` option (plus the response, when known): an `error` event, then
 * `response.failed` for `response` (Codex reads only the latter, the openai SDK raises only on the
 * former). Sequence numbers follow the last one in `tail`, the stream's last bytes sent (0 when
 * they show none).
 */
export function responsesStreamErrorEvent(
  error: unknown,
  label: string,
  redact: (text: string) => string = (text) => text,
  tail?: Uint8Array,
  response?: JsonObject,
): string {
  const message = redact(streamFailure(error, label));
  const idle = error instanceof ProviderError && error.kind === "idle_timeout";
  const code = idle ? "stream_idle_timeout" : "stream_interrupted";
  let next = 0;
  if (tail !== undefined) {
    for (const match of decoder.decode(tail).matchAll(SEQUENCE_NUMBER)) {
      next = Number(match[1]) + 1;
    }
  }
  const event = sseEvent("error", {
    type: "error",
    code,
    message,
    param: null,
    sequence_number: next,
  });
  if (response === undefined) return event;
  return event + sseEvent("response.failed", {
    type: "response.failed",
    response: { ...response, status: "failed", error: { code: "server_error", message } },
    sequence_number: next + 1,
  });
}

/** The events that end a Responses stream, by their `event:` line or their `type`. */
const TERMINAL_EVENT =
  /event:\s*(?:response\.(?:completed|incomplete|failed)|error)\s*$|"type"\s*:\s*"(?:response\.(?:completed|incomplete|failed)|error)"/m;

/** The start of an SSE event's lines. */
const EVENT_START = /(?:^|\n)(?:event|data):/;

/** A `usage` key outside a string: a response object's, which only terminal events close with. */
const RESPONSE_USAGE = /(?<!\\)"usage"\s*:\s*(?:\{|null)/;

/**
 * Why a Responses stream the provider closed was cut short, given its last bytes; undefined when
 * it ended with `response.completed`, `.incomplete`, `.failed` or an `error` event.
 */
export function responsesStreamEnd(tail: Uint8Array): string | undefined {
  const text = decoder.decode(tail);
  if (TERMINAL_EVENT.test(text)) return undefined;
  // A long answer's last event carries the whole response and may begin before the last bytes
  // kept; then they show the response object's own closing fields.
  if (!EVENT_START.test(text) && RESPONSE_USAGE.test(text)) return undefined;
  return "the stream ended before response.completed";
}
