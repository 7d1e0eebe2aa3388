/** A JSON object (not an array, not null). */
export type JsonObject = Record<string, unknown>;

/** True for plain JSON objects. */
export function isRecord(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Parses JSON text; undefined when it is not JSON (error bodies may be anything). */
export function parseJsonOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** Joins byte chunks into one array (the chunk itself when there is only one). */
export function concatBytes(chunks: readonly Uint8Array[]): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  const all = new Uint8Array(chunks.reduce((n, c) => n + c.byteLength, 0));
  let offset = 0;
  for (const c of chunks) {
    all.set(c, offset);
    offset += c.byteLength;
  }
  return all;
}

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const OPEN_BRACKET = 0x5b;
const CLOSE_BRACKET = 0x5d;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/**
 * Whether JSON text nests arrays and objects more than `max` levels deep, found without parsing
 * (deep nesting makes `JSON.parse` and `JSON.stringify` many times slower per byte). Invalid JSON
 * may get either answer: the parser judges it afterwards.
 */
export function nestsDeeperThan(text: string, max: number): boolean {
  // A text with at most `max` openers cannot be deeper, and `indexOf` counts them with a call per
  // opener. Past SMALL_TEXT its two passes over the text cost more than the scan's one.
  if (text.length <= SMALL_TEXT && !moreOpenersThan(text, max)) return false;
  return scanDeeperThan(text, max);
}

/** Texts up to this length are counted before they are scanned. */
const SMALL_TEXT = 32 * 1024;

function moreOpenersThan(text: string, max: number): boolean {
  let count = 0;
  for (let i = text.indexOf("{"); i >= 0; i = text.indexOf("{", i + 1)) {
    if (++count > max) return true;
  }
  for (let i = text.indexOf("["); i >= 0; i = text.indexOf("[", i + 1)) {
    if (++count > max) return true;
  }
  return false;
}

/** Tracks the depth outside strings, stopping at the first level beyond `max`. */
function scanDeeperThan(text: string, max: number): boolean {
  let depth = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      i = stringEnd(text, i);
      if (i < 0) return false;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      if (++depth > max) return true;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      depth--;
    }
  }
  return false;
}

/** The index of the quote that closes the string opened at `open`, or -1 when none does. */
function stringEnd(text: string, open: number): number {
  let end = text.indexOf('"', open + 1);
  while (end > 0 && text.charCodeAt(end - 1) === BACKSLASH) {
    let before = end - 2;
    while (text.charCodeAt(before) === BACKSLASH) before--;
    // An even run of backslashes escapes itself, not the quote.
    if ((end - 1 - before) % 2 === 0) return end;
    end = text.indexOf('"', end + 1);
  }
  return end;
}
