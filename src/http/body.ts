import { GatewayError } from "../core/errors.ts";
import { concatBytes, isRecord, type JsonObject } from "../core/json.ts";

/** Reads and parses a JSON object body, refusing bodies over `limit` bytes before buffering them. */
export async function readJsonBody(request: Request, limit: number): Promise<JsonObject> {
  const declared = request.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) throw tooLarge(limit);
  // With a declared length within the limit, one native read is far cheaper than draining the
  // body stream chunk by chunk; without one, the stream is read and cut off at the limit.
  const text = declared !== null ? await request.text() : await readLimited(request, limit);
  if (text.trim() === "") {
    throw new GatewayError("invalid_json", "request body is empty; expected a JSON object");
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

async function readLimited(request: Request, limit: number): Promise<string> {
  if (request.body === null) return "";
  const reader = request.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
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

function tooLarge(limit: number): GatewayError {
  return new GatewayError(
    "body_too_large",
    `request body is larger than the gateway's limit of ${limit} bytes (server.max_body_size)`,
  );
}
