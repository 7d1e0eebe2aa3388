/** How a response body is delimited (RFC 9112 section 6.3). */
export type Framing =
  | { kind: "none" }
  | { kind: "length"; length: number }
  | { kind: "chunked" }
  | { kind: "close" };

/**
 * A parsed response status line and header block. The fields are kept as a list: a `Headers`
 * object checks every field again as it is added, and most answers are relayed without anyone asking for one.
 */
export class ResponseHead {
  #headers: Headers | null = null;

  constructor(
    readonly status: number,
    /** Fields in arrival order: lowercase names, values as `Headers` keeps them. */
    readonly fields: readonly (readonly [string, string])[],
    readonly framing: Framing,
    /** Whether the connection can carry another request once this body is read. */
    public keepAlive: boolean,
  ) {}

  /** The fields as a `Headers` object, built when first asked for. */
  get headers(): Headers {
    return this.#headers ??= new Headers(this.fields as [string, string][]);
  }

  /** A field's value (`name` in lowercase); see `fieldOf`. */
  get(name: string): string | null {
    return fieldOf(this.fields, name);
  }
}

/** A field's value, repeated fields joined by ", " as `Headers.get` does; null when absent. */
function fieldOf(fields: ResponseHead["fields"], name: string): string | null {
  let value: string | null = null;
  for (const [field, text] of fields) {
    if (field === name) value = value === null ? text : `${value}, ${text}`;
  }
  return value;
}

/** The upstream broke the HTTP/1.1 wire format. */
export class HttpProtocolError extends Error {
  override name = "HttpProtocolError";
}

const CR = 13;
const LF = 10;
const SP = 32;
const HTAB = 9;
/** A header field name (RFC 9110 token). */
export const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** What a header field value must not contain, in either direction. */
export const UNSAFE_VALUE = /[\0\r\n]/;
const STATUS_LINE = /^HTTP\/1\.([01]) ([1-9]\d\d)(?: |$)/;
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
  const fields: [string, string][] = [];
  let name = "";
  let value = "";
  for (let i = 1; i <= lines.length; i++) {
    const line = lines[i];
    // An obsolete folded line continues the previous value (RFC 9112 section 5.2).
    if (line !== undefined && (line.startsWith(" ") || line.startsWith("\t")) && name !== "") {
      value += " " + trimOws(line);
      continue;
    }
    if (name !== "") fields.push([name.toLowerCase(), fieldValue(name, value)]);
    if (line === undefined) break;
    const colon = line.indexOf(":");
    name = colon > 0 ? line.slice(0, colon) : "";
    if (!TOKEN.test(name)) {
      throw new HttpProtocolError(`malformed header line: ${JSON.stringify(line.slice(0, 80))}`);
    }
    value = trimOws(line.slice(colon + 1));
  }
  const framing = framingOf(status, method, fields);
  const connection = fieldOf(fields, "connection")?.toLowerCase() ?? "";
  const close = connection.split(",").some((option) => option.trim() === "close");
  const keepAlive = match[1] === "1" && framing.kind !== "close" && !close;
  return new ResponseHead(status, fields, framing, keepAlive);
}

const isOws = (c: number): boolean => c === SP || c === HTAB;
const isHttpSpace = (c: number): boolean => c === SP || c === HTAB || c === CR || c === LF;

/** Strips HTTP's optional whitespace (spaces and tabs only, unlike `trim`). */
function trimOws(text: string): string {
  return trimWhere(text, isOws);
}

/**
 * A field value as `Headers` would keep it: HTTP whitespace (tab, space, CR, LF) stripped from
 * both ends; NUL, CR or LF left inside make the answer malformed.
 */
function fieldValue(name: string, text: string): string {
  const value = trimWhere(text, isHttpSpace);
  if (UNSAFE_VALUE.test(value)) throw new HttpProtocolError(`invalid value for header ${name}`);
  return value;
}

function trimWhere(text: string, strip: (code: number) => boolean): string {
  let start = 0;
  let end = text.length;
  while (start < end && strip(text.charCodeAt(start))) start++;
  while (end > start && strip(text.charCodeAt(end - 1))) end--;
  return start === 0 && end === text.length ? text : text.slice(start, end);
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

function framingOf(status: number, method: string, fields: ResponseHead["fields"]): Framing {
  if (method === "HEAD" || status < 200 || status === 204 || status === 304) {
    return { kind: "none" };
  }
  const coding = fieldOf(fields, "transfer-encoding");
  if (coding !== null) {
    const last = coding.split(",").at(-1)!.trim().toLowerCase();
    return last === "chunked" ? { kind: "chunked" } : { kind: "close" };
  }
  const length = fieldOf(fields, "content-length");
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
