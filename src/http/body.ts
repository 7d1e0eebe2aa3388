import { GatewayError } from "../core/errors.ts";
import { concatBytes, isRecord, type JsonObject, nestsDeeperThan } from "../core/json.ts";

/** Bodies up to this size are read in one native read with one deadline for the whole body. */
const WHOLE_READ_BYTES = 64 * 1024;

/** How a body is read. */
export interface BodyOptions {
  /** Longest wait for the next bytes of the body (server.body_timeout); none when absent. */
  timeoutMs?: number;
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
  let text: string;
  try {
    text = declared !== null && Number(declared) <= WHOLE_READ_BYTES
      ? await withDeadline(request.text(), options.timeoutMs)
      : await readLimited(request, limit, options.timeoutMs);
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

async function readLimited(
  request: Request,
  limit: number,
  timeoutMs: number | undefined,
): Promise<string> {
  if (request.body === null) return "";
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    let read;
    try {
      read = await withDeadline(reader.read(), timeoutMs);
    } catch (err) {
      reader.cancel().catch(() => {});
      throw err;
    }
    const { done, value } = read;
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      reader.cancel().catch(() => {});
      throw tooLarge(limit);
    }
    parts.push(value);
  }
  return new TextDecoder().decode(concatBytes(parts));
}

/** Settles as `work` does, or fails with a 408 once `timeoutMs` passes first. */
function withDeadline<T>(work: Promise<T>, timeoutMs: number | undefined): Promise<T> {
  if (timeoutMs === undefined) return work;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() =>
      reject(
        new GatewayError(
          "body_timeout",
          `the request body stalled for longer than the gateway's limit of ${timeoutMs} ms ` +
            "(server.body_timeout)",
        ),
      ), timeoutMs);
  });
  work.catch(() => {});
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** A body that could not be read (bad chunked framing, a connection cut mid-body) is the client's. */
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
