/**
 * A minimal HTTP/1.1 client for one SSE stream per TCP connection, written on `Deno.connect` so
 * the bench sees what the socket delivers: every `read()` is timed, chunked transfer coding is
 * decoded by hand, and SSE events are counted per read. `fetch` would hide coalescing (it hands
 * out decoded frames) and pools connections, which the concurrency test must not do.
 */

const CRLF_CRLF = [13, 10, 13, 10];
const READ_SIZE = 16 * 1024;

/** What one stream looked like from the client. */
export interface StreamTrace {
  /** HTTP status, 0 when no response head arrived. */
  status: number;
  /** Milliseconds from writing the request to the response head. */
  headersMs: number | null;
  /** Milliseconds from writing the request to the arrival of each complete SSE event. */
  eventMs: number[];
  /** Socket reads that completed at least one event. */
  reads: number;
  /** Socket reads that completed more than one event: events that arrived coalesced. */
  coalescedReads: number;
  /** `data: [DONE]` arrived. */
  done: boolean;
  /** An OpenAI-shaped error event arrived (`data: {"error": ...}`). */
  errorEvent: boolean;
  /** Why the stream ended abnormally (connection error, deadline, bad status). */
  error?: string;
}

/** Options for `traceStream`. */
export interface TraceOptions {
  /** Aborting closes the connection; the trace records the reason. */
  signal?: AbortSignal;
  /** Called when the first event arrives. */
  onFirstEvent?: () => void;
}

/** POSTs `body` to `url` on a fresh connection and records when each SSE event arrives. */
export async function traceStream(
  url: URL,
  body: string,
  options: TraceOptions = {},
): Promise<StreamTrace> {
  const trace: StreamTrace = {
    status: 0,
    headersMs: null,
    eventMs: [],
    reads: 0,
    coalescedReads: 0,
    done: false,
    errorEvent: false,
  };
  let conn: Deno.TcpConn;
  try {
    conn = await Deno.connect({ hostname: url.hostname, port: Number(url.port) });
  } catch (err) {
    trace.error = `connect: ${err instanceof Error ? err.message : String(err)}`;
    return trace;
  }
  const onAbort = () => {
    trace.error ??= `aborted: ${String(options.signal?.reason)}`;
    try {
      conn.close();
    } catch {
      // Already closed.
    }
  };
  options.signal?.addEventListener("abort", onAbort, { once: true });
  try {
    conn.setNoDelay(true);
    await readStream(conn, url, body, trace, options);
  } catch (err) {
    trace.error ??= err instanceof Error ? err.message : String(err);
  } finally {
    options.signal?.removeEventListener("abort", onAbort);
    try {
      conn.close();
    } catch {
      // Closed by an abort.
    }
  }
  return trace;
}

async function readStream(
  conn: Deno.TcpConn,
  url: URL,
  body: string,
  trace: StreamTrace,
  options: TraceOptions,
): Promise<void> {
  const payload = new TextEncoder().encode(body);
  const head = `POST ${url.pathname}${url.search} HTTP/1.1\r\nhost: ${url.host}\r\n` +
    `content-type: application/json\r\naccept: text/event-stream\r\n` +
    `content-length: ${payload.byteLength}\r\nconnection: close\r\n\r\n`;
  const request = concat(new TextEncoder().encode(head), payload);
  const start = performance.now();
  await writeAll(conn, request);

  const sse = new SseCounter();
  let decoder: BodyDecoder | null = null;
  let headBuf: Uint8Array = new Uint8Array(0);
  const buf = new Uint8Array(READ_SIZE);
  for (;;) {
    const n = await conn.read(buf);
    const now = performance.now() - start;
    if (n === null) break;
    let bytes: Uint8Array = buf.subarray(0, n);
    if (decoder === null) {
      headBuf = concat(headBuf, bytes);
      const end = indexOf(headBuf, CRLF_CRLF);
      if (end < 0) continue;
      trace.headersMs = now;
      decoder = parseHead(new TextDecoder().decode(headBuf.subarray(0, end)), trace);
      bytes = headBuf.subarray(end + 4);
    }
    const events = sse.push(decoder.decode(bytes));
    if (events.length > 0) {
      if (trace.eventMs.length === 0) options.onFirstEvent?.();
      trace.reads++;
      if (events.length > 1) trace.coalescedReads++;
      for (const data of events) {
        trace.eventMs.push(now);
        if (data === "[DONE]") trace.done = true;
        else if (data.startsWith('{"error"')) trace.errorEvent = true;
      }
    }
    if (decoder.finished) break;
  }
  if (trace.status !== 200) trace.error ??= `HTTP ${trace.status}`;
  else if (!trace.done) trace.error ??= "stream ended without [DONE]";
}

function parseHead(head: string, trace: StreamTrace): BodyDecoder {
  const lines = head.split("\r\n");
  trace.status = Number(lines[0]?.split(" ")[1] ?? 0);
  let chunked = false;
  let length: number | null = null;
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(":");
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim().toLowerCase();
    if (name === "transfer-encoding" && value.includes("chunked")) chunked = true;
    if (name === "content-length") length = Number(value);
  }
  return chunked ? new ChunkedDecoder() : new PlainDecoder(length);
}

interface BodyDecoder {
  decode(bytes: Uint8Array): Uint8Array;
  readonly finished: boolean;
}

/** A body delimited by content-length, or by the connection closing. */
class PlainDecoder implements BodyDecoder {
  #left: number | null;
  constructor(length: number | null) {
    this.#left = length;
  }
  get finished(): boolean {
    return this.#left !== null && this.#left <= 0;
  }
  decode(bytes: Uint8Array): Uint8Array {
    if (this.#left !== null) this.#left -= bytes.byteLength;
    return bytes;
  }
}

/** Decodes `transfer-encoding: chunked`, across reads that split it anywhere. */
class ChunkedDecoder implements BodyDecoder {
  #state: "size" | "data" | "data_end" | "trailer" | "done" = "size";
  #line = "";
  #left = 0;
  get finished(): boolean {
    return this.#state === "done";
  }
  decode(bytes: Uint8Array): Uint8Array {
    const out: Uint8Array[] = [];
    let i = 0;
    while (i < bytes.byteLength && this.#state !== "done") {
      if (this.#state === "data") {
        const take = Math.min(this.#left, bytes.byteLength - i);
        out.push(bytes.subarray(i, i + take));
        i += take;
        this.#left -= take;
        if (this.#left === 0) this.#state = "data_end";
        continue;
      }
      const byte = bytes[i++]!;
      if (byte === 13) continue;
      if (byte !== 10) {
        this.#line += String.fromCharCode(byte);
        continue;
      }
      const line = this.#line;
      this.#line = "";
      if (this.#state === "data_end") {
        this.#state = "size";
      } else if (this.#state === "size") {
        this.#left = parseInt(line.split(";")[0]!, 16);
        this.#state = this.#left > 0 ? "data" : "trailer";
      } else if (line === "") {
        this.#state = "done";
      }
    }
    return out.length === 1 ? out[0]! : concat(...out);
  }
}

/** Splits decoded body bytes into SSE events (blank-line terminated), returning each one's data. */
class SseCounter {
  #text = "";
  #decoder = new TextDecoder();
  push(bytes: Uint8Array): string[] {
    if (bytes.byteLength === 0) return [];
    this.#text += this.#decoder.decode(bytes, { stream: true });
    const events: string[] = [];
    for (;;) {
      const match = /\r?\n\r?\n/.exec(this.#text);
      if (match === null) break;
      const block = this.#text.slice(0, match.index);
      this.#text = this.#text.slice(match.index + match[0].length);
      const data = block.split(/\r?\n/).filter((l) => l.startsWith("data:"))
        .map((l) => l.slice(5).trimStart()).join("\n");
      // Comment-only blocks (": keep-alive") are not events.
      if (block.split(/\r?\n/).some((l) => l.startsWith("data:"))) events.push(data);
    }
    return events;
  }
}

async function writeAll(conn: Deno.Conn, bytes: Uint8Array): Promise<void> {
  let rest = bytes;
  while (rest.byteLength > 0) rest = rest.subarray(await conn.write(rest));
}

function indexOf(haystack: Uint8Array, needle: readonly number[]): number {
  outer: for (let i = 0; i + needle.length <= haystack.byteLength; i++) {
    for (let j = 0; j < needle.length; j++) if (haystack[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const all = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0));
  let offset = 0;
  for (const p of parts) {
    all.set(p, offset);
    offset += p.byteLength;
  }
  return all;
}
