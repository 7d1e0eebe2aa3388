import { GatewayError } from "../core/errors.ts";
import type { IdleWatch } from "../core/idle_watch.ts";
import { concatBytes, isRecord, type JsonObject, nestsDeeperThan } from "../core/json.ts";

/** Bodies up to this size are read in one native read with one deadline for the whole body. */
const WHOLE_READ_BYTES = 64 * 1024;

/** How a body is read. */
export interface BodyOptions {
  /** Longest wait for the next bytes of the body (server.body_timeout); none when absent. */
  timeoutMs?: number;
  /** Keeps the deadlines: one shared interval, where a timer per request would cost far more. */
  watch?: IdleWatch;
  /** Deepest nesting of arrays and objects (server.max_json_depth); unbounded when absent. */
  maxDepth?: number;
}

/** Reads and parses a JSON object body, refusing bodies over `limit` bytes before buffering them. */
export async function readJsonBody(
  request: Request,
  limit: number,
  options: BodyOptions = {},
): Promise<JsonObject> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  // With a small declared length, one native read is far cheaper than draining the body stream
  // chunk by chunk; otherwise the stream is read, cut off at the limit, with a deadline per read.
  const deadline = options.timeoutMs !== undefined && options.watch !== undefined
    ? { watch: options.watch, ms: options.timeoutMs }
    : undefined;
  let text: string;
  try {
    text = declared !== null && Number(declared) <= WHOLE_READ_BYTES
      ? await withDeadline(request.text(), deadline)
      : await readLimited(request, limit, deadline);
  } catch (err) {
    throw unreadable(err);
  }
  if (text.trim() === "") {
    throw new GatewayError("invalid_json", "request body is empty; expected a JSON object");
  }
  // Checked before parsing: deep nesting costs the parser (and any later serialisation) far
  // more per byte than flat JSON, for everyone waiting on the event loop.
  if (options.maxDepth !== undefined && nestsDeeperThan(text, options.maxDepth)) {
    throw new GatewayError(
      "invalid_request",
      `request body nests arrays and objects deeper than the gateway's limit of ${options.maxDepth} levels (server.max_json_depth)`,
    );
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    const detail = err instanceof Error ? err.message : String(err);
    throw new GatewayError("invalid_json", `request body is not valid JSON: ${detail}`);
  }
  if (!isRecord(parsed)) {
    throw new GatewayError("invalid_json", "request body must be a JSON object");
  }
  return parsed;
}

/** A body's deadline: `ms` without new bytes, kept by `watch`. */
interface Deadline {
  watch: IdleWatch;
  ms: number;
}

async function readLimited(
  request: Request,
  limit: number,
  deadline: Deadline | undefined,
): Promise<string> {
  if (request.body === null) return "";
  const reader = request.body.getReader();
  let stalled = false;
  // A stalled body cancels the reader: the pending read then ends, and the stall is reported.
  const entry = deadline?.watch.add(deadline.ms, () => {
    stalled = true;
    reader.cancel().catch(() => {});
  });
  const parts: Uint8Array[] = [];
  let size = 0;
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (stalled) throw stalledBody(deadline!.ms);
      if (done) break;
      if (entry !== undefined) deadline!.watch.touch(entry);
      size += value.byteLength;
      if (size > limit) {
        reader.cancel().catch(() => {});
        throw tooLarge(limit);
      }
      parts.push(value);
    }
  } finally {
    if (entry !== undefined) deadline!.watch.remove(entry);
  }
  return new TextDecoder().decode(concatBytes(parts));
}

/** Settles as `work` does, or fails with a 408 once the deadline passes first. */
function withDeadline<T>(work: Promise<T>, deadline: Deadline | undefined): Promise<T> {
  if (deadline === undefined) return work;
  const { watch, ms } = deadline;
  const outcome = Promise.withResolvers<T>();
  const entry = watch.add(ms, () => outcome.reject(stalledBody(ms)));
  work.then((value) => {
    watch.remove(entry);
    outcome.resolve(value);
  }, (err) => {
    watch.remove(entry);
    outcome.reject(err);
  });
  return outcome.promise;
}

function stalledBody(ms: number): GatewayError {
  return new GatewayError(
    "body_timeout",
    `the request body stalled for longer than the gateway's limit of ${ms} ms ` +
      "(server.body_timeout)",
  );
}

/** A body that could not be read (broken framing, say) is the client's fault: 400. */
function unreadable(err: unknown): GatewayError {
  if (err instanceof GatewayError) return err;
  const detail = err instanceof Error ? err.message : String(err);
  return new GatewayError("invalid_request", `could not read the request body: ${detail}`);
}

function tooLarge(limit: number): GatewayError {
  return new GatewayError(
    "body_too_large",
    `request body is larger than the gateway's limit of ${limit} bytes (server.max_body_size)`,
  );
}
