import type { Http1Init } from "./client.ts";
import { TOKEN, UNSAFE_VALUE } from "./head.ts";

/** Where an upstream request goes, as the request line and `host` header need it. */
export interface RequestTarget {
  /** `host` header value. */
  host: string;
  /** Path and query, as sent on the request line. */
  path: string;
}

/** Encoded request bytes; `release()` hands their buffer back once they are written. */
export interface RequestBytes {
  readonly bytes: Uint8Array;
  release(): void;
}

const encoder = new TextEncoder();
/**
 * Per header record, its names and values as they were when last checked (name, value, name, ...).
 * A caller usually sends the same record on every call: compared with this as the head is built,
 * it is checked once, and again only after it changed.
 */
const checked = new WeakMap<Record<string, string>, string[]>();
/** Headers the client writes itself from the request. */
const OWN_HEADERS = new Set(["host", "content-length", "transfer-encoding", "accept-encoding"]);

/**
 * Requests whose text fits this many bytes are encoded into a reused buffer. A request is
 * written as soon as it is encoded, so a handful of buffers serve any load.
 */
const SCRATCH_BYTES = 16 * 1024;
/** Buffers kept for reuse; more are made when that many requests are being written at once. */
const MAX_SPARE = 8;
const spare: Uint8Array[] = [];

class ScratchBytes implements RequestBytes {
  readonly bytes: Uint8Array;
  #buffer: Uint8Array | null;

  constructor(buffer: Uint8Array, length: number) {
    this.#buffer = buffer;
    this.bytes = buffer.subarray(0, length);
  }

  release(): void {
    if (this.#buffer !== null && spare.length < MAX_SPARE) spare.push(this.#buffer);
    this.#buffer = null;
  }
}

class OwnBytes implements RequestBytes {
  constructor(readonly bytes: Uint8Array) {}

  release(): void {}
}

/**
 * The request line, headers and body as one buffer, for one write. A small request is encoded
 * straight into a reused buffer: one `encodeInto` where it took two encodes, an allocation and
 * two copies.
 */
export function requestBytes(target: RequestTarget, init: Http1Init): RequestBytes {
  const head = headText(target, init);
  const body = init.body;
  if (body === undefined) return new OwnBytes(encoder.encode(head + "\r\n"));
  // A UTF-16 code unit takes at most 3 bytes in UTF-8.
  if ((head.length + body.length) * 3 + 64 > SCRATCH_BYTES) {
    const bytes = encoder.encode(body);
    const start = encoder.encode(`${head}content-length: ${bytes.length}\r\n\r\n`);
    const out = new Uint8Array(start.length + bytes.length);
    out.set(start);
    out.set(bytes, start.length);
    return new OwnBytes(out);
  }
  const text = `${head}content-length: ${utf8Length(body)}\r\n\r\n${body}`;
  const buffer = spare.pop() ?? new Uint8Array(SCRATCH_BYTES);
  return new ScratchBytes(buffer, encoder.encodeInto(text, buffer).written);
}

function headText(target: RequestTarget, init: Http1Init): string {
  const headers = init.headers;
  const last = checked.get(headers);
  let unchanged = last !== undefined;
  let at = 0;
  let head = `${init.method} ${target.path} HTTP/1.1\r\nhost: ${target.host}\r\n`;
  for (const name in headers) {
    const value = headers[name]!;
    if (unchanged && (last![at] !== name || last![at + 1] !== value)) unchanged = false;
    at += 2;
    if (OWN_HEADERS.has(name) || (name === "x-request-id" && init.requestId !== undefined)) {
      continue;
    }
    head += `${name}: ${value}\r\n`;
  }
  if (!unchanged || at !== last!.length) checked.set(headers, checkedFields(headers));
  if (init.requestId !== undefined) {
    if (UNSAFE_VALUE.test(init.requestId)) throw new TypeError("invalid upstream request id");
    head += `x-request-id: ${init.requestId}\r\n`;
  }
  if (!("user-agent" in headers)) head += "user-agent: llm-gateway\r\n";
  if (!("accept" in headers)) head += "accept: */*\r\n";
  // Bodies are relayed as they come: a compressed one would reach clients undecoded.
  return head + "accept-encoding: identity\r\n";
}

/** `headers` as a list of names and values, once every name and value is safe to send. */
function checkedFields(headers: Record<string, string>): string[] {
  const fields: string[] = [];
  for (const name in headers) {
    const value = headers[name]!;
    if (!TOKEN.test(name) || UNSAFE_VALUE.test(value)) {
      throw new TypeError(`invalid upstream header: ${JSON.stringify(name)}`);
    }
    fields.push(name, value);
  }
  return fields;
}

/** Bytes of `text` in UTF-8, as `TextEncoder` writes it (a lone surrogate becomes U+FFFD, 3 bytes). */
export function utf8Length(text: string): number {
  let length = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) {
      length += 1;
    } else if (
      c >= 0xd800 && c <= 0xdbff && i + 1 < text.length &&
      (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00
    ) {
      // A surrogate pair: two code units, four bytes.
      length += 2;
      i++;
    } else {
      length += 2;
    }
  }
  return length;
}
