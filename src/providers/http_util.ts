import { ProviderError } from "../core/errors.ts";

/** Longest upstream error body kept for the client; the rest is dropped. */
const MAX_ERROR_BODY_BYTES = 64 * 1024;

/** Joins a base URL and an API path, dropping the path's `/v1` when the base already ends in a version. */
export function joinUrl(base: string, path: string): string {
  const trimmed = base.endsWith("/") ? base.slice(0, -1) : base;
  if (/\/v\d+(?:alpha|beta)?\d*$/.test(trimmed) && /^\/v\d+\//.test(path)) {
    return trimmed + path.slice(path.indexOf("/", 1));
  }
  return trimmed + path;
}

/** Parses `Retry-After` (seconds or an HTTP date) and `retry-after-ms` into milliseconds. */
export function parseRetryAfter(headers: Headers, now = Date.now()): number | undefined {
  const ms = headers.get("retry-after-ms");
  if (ms !== null && /^\d+(\.\d+)?$/.test(ms.trim())) return Math.ceil(Number(ms));
  const value = headers.get("retry-after");
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.ceil(Number(trimmed) * 1000);
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? undefined : Math.max(0, date - now);
}

/** Reads a non-2xx upstream response into a classified `ProviderError`. */
export async function errorFromResponse(provider: string, res: Response): Promise<ProviderError> {
  let body = "";
  try {
    body = await readLimitedText(res, MAX_ERROR_BODY_BYTES);
  } catch {
    // The error body is a courtesy; the status alone classifies the failure.
  }
  return new ProviderError("http", `${provider} answered HTTP ${res.status}`, {
    status: res.status,
    upstreamBody: body,
    upstreamContentType: res.headers.get("content-type") ?? "application/json",
    retryAfterMs: parseRetryAfter(res.headers),
  });
}

/** Turns a fetch rejection into a `ProviderError` (or rethrows when the caller aborted). */
export function errorFromFetch(provider: string, err: unknown, signal: AbortSignal): ProviderError {
  if (signal.aborted) {
    const reason: unknown = signal.reason;
    if (reason instanceof ProviderError) return reason;
    throw reason ?? err;
  }
  const detail = err instanceof Error ? err.message : String(err);
  return new ProviderError("network", `${provider} unreachable: ${detail}`, { cause: err });
}

async function readLimitedText(res: Response, limit: number): Promise<string> {
  if (res.body === null) return "";
  const reader = res.body.getReader();
  const parts: Uint8Array[] = [];
  let size = 0;
  while (size < limit) {
    const { done, value } = await reader.read();
    if (done) break;
    parts.push(value);
    size += value.byteLength;
  }
  await reader.cancel().catch(() => {});
  const all = new Uint8Array(Math.min(size, limit));
  let offset = 0;
  for (const part of parts) {
    const take = Math.min(part.byteLength, all.byteLength - offset);
    all.set(part.subarray(0, take), offset);
    offset += take;
  }
  return new TextDecoder().decode(all);
}
