/** Marks a response the mock upstream cut short on purpose; the server's onError swallows it. */
export class MockBreak extends Error {
  override name = "MockBreak";
}

/** Resolves true after `ms`, or false as soon as `signal` aborts; never leaves a timer behind. */
export function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener("abort", onAbort);
      resolve(true);
    }, ms);
    signal.addEventListener("abort", onAbort, { once: true });
  });
}

/** Resolves once `signal` aborts (immediately if it already has). */
export function untilAborted(signal: AbortSignal): Promise<void> {
  if (signal.aborted) return Promise.resolve();
  return new Promise((resolve) =>
    signal.addEventListener("abort", () => resolve(), { once: true })
  );
}

/** How a paced body is sent: the gap between events and where, if anywhere, it stops early. */
export interface PacingOptions {
  /** Milliseconds between two events (none before the first). */
  gapMs: number;
  /** Number of events sent before stopping early; undefined sends them all. */
  stopAfter?: number;
  /** "break" errors the body (an abrupt upstream failure); "hang" sends nothing more until aborted. */
  stopMode: "break" | "hang";
  /** Aborts when the client has left or the mock is closing. */
  signal: AbortSignal;
  /** Called when the client cancels the body before it ended. */
  onCancel(): void;
}

/** A response body that enqueues each event as its own chunk, `gapMs` apart, so each is flushed alone. */
export function pacedBody(
  events: readonly string[],
  options: PacingOptions,
): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let sent = 0;
  let ended = false;
  const fail = (controller: ReadableStreamDefaultController<Uint8Array>, why: string) => {
    ended = true;
    // A no-op when the client already cancelled the stream.
    controller.error(new MockBreak(`mock upstream: ${why}`));
  };
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (sent > 0 && options.gapMs > 0 && !(await sleep(options.gapMs, options.signal))) {
        return fail(controller, "stream interrupted");
      }
      if (sent === options.stopAfter) {
        if (options.stopMode === "break") {
          return fail(controller, "abrupt stream failure (breakAfter)");
        }
        await untilAborted(options.signal);
        return fail(controller, "hanging stream interrupted");
      }
      const event = events[sent];
      if (event !== undefined) controller.enqueue(encoder.encode(event));
      sent++;
      if (sent >= events.length) {
        ended = true;
        controller.close();
      }
    },
    cancel() {
      if (!ended) options.onCancel();
    },
  }, { highWaterMark: 0 });
}
