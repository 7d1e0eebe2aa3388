import { ProviderError } from "./errors.ts";
import type { ChunkSource } from "./chunk_reader.ts";
import type { IdleWatch } from "./idle_watch.ts";
import { type Usage, usageFromHead } from "./usage.ts";

const encoder = new TextEncoder();
const LF = 10;

/** How a relayed stream ended: cleanly, by upstream failure, or by the client leaving. */
export type RelayEnd = { kind: "done" } | { kind: "failed"; error: unknown } | {
  kind: "cancelled";
};

/** Bytes kept from the end of a stream: enough for the usage chunk and `[DONE]`. */
const TAIL_BYTES = 4096;

/** What a relay saw, reported when it ends. */
export interface RelaySummary {
  end: RelayEnd;
  /** Bytes sent to the client. */
  bytes: number;
  /** The stream's last bytes (up to TAIL_BYTES). */
  tail: Uint8Array;
  /** The whole body, when `keepBody` was asked for. */
  body?: Uint8Array[];
  /** The usage in the first chunk, when `headUsage` was asked for. */
  headUsage?: Usage | null;
}

/** Options for `relayStream`. */
export interface RelayOptions {
  idle: IdleWatch;
  idleTimeoutMs: number;
  /** Aborts the upstream request (with the given reason). */
  abort: (reason: unknown) => void;
  /** Called once when the relay ends. */
  onEnd: (summary: RelaySummary) => void;
  /** Keep every chunk for `onEnd` (a copy of the whole body stays in memory until the end). */
  keepBody?: boolean;
  /** Read the usage in the first chunk for `onEnd` (Anthropic's `message_start` has it). */
  headUsage?: boolean;
  /** Label used in the error event, e.g. "openai/gpt-4o". */
  label: string;
  /** Scrubs secrets from the error event's message (an upstream's words may echo a key). */
  redact?: (text: string) => string;
  /**
   * The event that ends a broken stream, in the client's API (default: `streamErrorEvent`). It
   * is given the stream's last bytes sent, for APIs whose events are numbered.
   */
  errorEvent?: (
    error: unknown,
    label: string,
    redact?: (text: string) => string,
    tail?: Uint8Array,
  ) => string;
  /**
   * Checks the tail of a stream the upstream closed cleanly: why it is not its API's end (its
   * last event missing), or undefined when it is. A stream cut short ends with the error event.
   */
  checkEnd?: (tail: Uint8Array) => string | undefined;
}

/**
 * Relays an upstream SSE body to the client chunk by chunk, as it arrives, starting with
 * `first` (already read: the attempt waits for it before it counts as served). A failure after
 * the first byte cannot fall back any more, so it ends the stream with an error event in the
 * client's API rather than a clean-looking end.
 */
export function relayStream(
  first: Uint8Array,
  reader: ChunkSource,
  options: RelayOptions,
): ReadableStream<Uint8Array> {
  let atEventBoundary = true;
  let ended = false;
  let bytes = 0;
  // The tail is copied into one fixed buffer: a chunk may be a view into a larger read
  // buffer, and keeping the view would keep all of it alive for the stream's lifetime.
  const tail = new Uint8Array(TAIL_BYTES);
  let tailLength = 0;
  const body: Uint8Array[] | undefined = options.keepBody ? [] : undefined;
  const errorEvent = options.errorEvent ?? streamErrorEvent;
  const headUsage = options.headUsage ? usageFromHead(first) : undefined;

  function sent(chunk: Uint8Array): void {
    bytes += chunk.byteLength;
    body?.push(chunk.slice());
    const n = chunk.byteLength;
    if (n >= TAIL_BYTES) {
      tail.set(chunk.subarray(n - TAIL_BYTES));
      tailLength = TAIL_BYTES;
    } else if (tailLength + n <= TAIL_BYTES) {
      tail.set(chunk, tailLength);
      tailLength += n;
    } else {
      const keep = TAIL_BYTES - n;
      tail.copyWithin(0, tailLength - keep, tailLength);
      tail.set(chunk, keep);
      tailLength = TAIL_BYTES;
    }
  }

  const idle = options.idle;
  const watch = idle.add(options.idleTimeoutMs, () => {
    options.abort(new ProviderError("idle_timeout", `no data for ${options.idleTimeoutMs}ms`));
  });

  function end(result: RelayEnd): void {
    if (ended) return;
    ended = true;
    idle.remove(watch);
    options.onEnd({ end: result, bytes, tail: tail.subarray(0, tailLength), body, headUsage });
  }

  let control!: ReadableStreamDefaultController<Uint8Array>;
  // One pair of callbacks per stream, not an async function's state per chunk.
  const onRead = (read: ReadableStreamReadResult<Uint8Array>): void => {
    if (read.done) {
      const missing = options.checkEnd?.(tail.subarray(0, tailLength));
      if (missing !== undefined) return onError(new ProviderError("protocol", missing));
      control.close();
      end({ kind: "done" });
      return;
    }
    idle.touch(watch);
    atEventBoundary = endsWithBlankLine(read.value, atEventBoundary);
    sent(read.value);
    control.enqueue(read.value);
  };
  const onError = (error: unknown): void => {
    if (ended) return;
    const prefix = atEventBoundary ? "" : "\n\n";
    const sentTail = tail.subarray(0, tailLength);
    const event = encoder.encode(
      prefix + errorEvent(error, options.label, options.redact, sentTail),
    );
    sent(event);
    control.enqueue(event);
    control.close();
    end({ kind: "failed", error });
  };

  return new ReadableStream<Uint8Array>({
    start(controller) {
      control = controller;
      atEventBoundary = endsWithBlankLine(first, true);
      sent(first);
      controller.enqueue(first);
    },
    pull() {
      return reader.read().then(onRead, onError);
    },
    cancel(reason) {
      end({ kind: "cancelled" });
      options.abort(reason);
      reader.cancel(reason).catch(() => {});
    },
  });
}

/** What a client is told when the stream from `label` broke after it started, in any dialect. */
export function streamFailure(error: unknown, label: string): string {
  const detail = error instanceof ProviderError
    ? (error.kind === "idle_timeout" ? error.message : `${error.kind}: ${error.message}`)
    : error instanceof Error
    ? error.message
    : String(error);
  return `upstream stream from ${label} failed after it started: ${detail}`;
}

/** The SSE event that tells an OpenAI client the stream broke: `data: {"error": {...}}`. */
export function streamErrorEvent(
  error: unknown,
  label: string,
  redact: (text: string) => string = (text) => text,
): string {
  const body = {
    error: {
      message: redact(streamFailure(error, label)),
      type: "upstream_error",
      param: null,
      code: error instanceof ProviderError && error.kind === "idle_timeout"
        ? "stream_idle_timeout"
        : "stream_interrupted",
    },
  };
  return `data: ${JSON.stringify(body)}\n\n`;
}

/** Whether the bytes seen so far end an SSE event (a blank line), given the previous answer. */
function endsWithBlankLine(chunk: Uint8Array, previous: boolean): boolean {
  const n = chunk.byteLength;
  if (n === 0) return previous;
  if (chunk[n - 1] !== LF) return false;
  if (n >= 2) return chunk[n - 2] === LF || (chunk[n - 2] === 13 && n >= 3 && chunk[n - 3] === LF);
  return false; // a lone "\n" chunk: can't tell cheaply; a prefix blank line is harmless
}
