/** How a response body is delimited (RFC 9112 section 6.3). */
export type Framing =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" };

/** A parsed response status line and header block. */
export interface ResponseHead {
  status: number;
  headers: Headers;
  framing: Framing;
  /** Whether the connection can carry another request once this body is read. */
  keepAlive: boolean;
}

/** The upstream broke the HTTP/1.1 wire format. */
export class HttpProtocolError extends Error {
  override name = "HttpProtocolError";
}

const CR = 13;
const LF = 10;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: |$)/;
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const DIGITS = /^\d{1,15}$/;
const decoder = new TextDecoder();

/** Index of the blank line ending a header block (the `\r\n\r\n`), or -1 while it is incomplete. */
export function headEnd(bytes: Uint8Array, from: number): number {
  for (let i = Math.max(0, from - 3); i + 3 < bytes.length; i++) {
    if (
      bytes[i + 3] === LF && bytes[i + 2] === CR && bytes[i + 1] === LF && bytes[i] === CR
    ) {
      return i;
    }
  }
  return -1;
}

/** Parses a header block (without its blank line) of a response to `method`. */
export function parseHead(bytes: Uint8Array, method: string): ResponseHead {
  const lines = headText(bytes).split("\r\n");
  const match = STATUS_LINE.exec(lines[0]!);
  if (match === null) {
    throw new HttpProtocolError(
      `not an HTTP/1.x status line: ${JSON.stringify(lines[0]!.slice(0, 80))}`,
    );
  }
  const status = Number(match[2]);
  const headers = new Headers();
  let name = "";
  let value = "";
  for (let i = 1; i <= lines.length; i++) {
    const line = lines[i];
    // An obsolete folded line continues the previous value (RFC 9112 section 5.2).
    if (line !== undefined && (line.startsWith(" ") || line.startsWith("\t")) && name !== "") {
      value += " " + trimOws(line);
      continue;
    }
    if (name !== "") appendHeader(headers, name, value);
    if (line === undefined) break;
    const colon = line.indexOf(":");
    name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN.test(name)) {
      throw new HttpProtocolError(`malformed header line: ${JSON.stringify(line.slice(0, 80))}`);
    }
    value = trimOws(line.slice(colon + 1));
  }
  const framing = framingOf(status, method, headers);
  const connection = headers.get("connection")?.toLowerCase() ?? "";
  const close = connection.split(",").some((option) => option.trim() === "close");
  const keepAlive = match[1] === "1" && framing.kind !== "close" && !close;
  return { status, headers, framing, keepAlive };
}

/** Strips HTTP's optional whitespace (spaces and tabs only, unlike `trim`). */
function trimOws(text: string): string {
  return text.replace(/^[ \t]+|[ \t]+$/g, "");
}

function headText(bytes: Uint8Array): string {
  // Header bytes are ISO-8859-1; the UTF-8 decoder reads the common all-ASCII block natively.
  let ascii = true;
  for (let i = 0; i < bytes.length; i++) {
    if (bytes[i]! > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return decoder.decode(bytes);
  let text = "";
  for (let i = 0; i < bytes.length; i++) text += String.fromCharCode(bytes[i]!);
  return text;
}

function appendHeader(headers: Headers, name: string, value: string): void {
  try {
    headers.append(name, value);
  } catch {
    throw new HttpProtocolError(`invalid value for header ${name}`);
  }
}

function framingOf(status: number, method: string, headers: Headers): Framing {
  if (method === "HEAD" || status < 200 || status === 204 || status === 304) {
    return { kind: "none" };
  }
  const coding = headers.get("transfer-encoding");
  if (coding !== null) {
    const last = coding.split(",").at(-1)!.trim().toLowerCase();
    return last === "chunked" ? { kind: "chunked" } : { kind: "close" };
  }
  const length = headers.get("content-length");
  if (length === null) return { kind: "close" };
  // Repeated fields arrive joined by ", "; they must all agree.
  const values = new Set(length.split(",").map((part) => part.trim()));
  const [only] = values;
  if (values.size !== 1 || !DIGITS.test(only!)) {
    throw new HttpProtocolError(`invalid content-length: ${JSON.stringify(length.slice(0, 40))}`);
  }
  return { kind: "length", length: Number(only) };
}

/** Parses a chunk-size line (hex digits, optional extensions); -1 when it is not one. */
export function chunkSize(line: string): number {
  const semicolon = line.indexOf(";");
  const hex = (semicolon === -1 ? line : line.slice(0, semicolon)).trim();
  return /^[0-9a-fA-F]{1,12}$/.test(hex) ? parseInt(hex, 16) : -1;
}
