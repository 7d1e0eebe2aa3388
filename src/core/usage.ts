import { isRecord } from "./json.ts";

const encoder = new TextEncoder();
// Whole-buffer decoding keeps no state, so one decoder serves every call.
const decoder = new TextDecoder();
const EVENT_END = /\r?\n\r?\n/;
const USAGE_KEY = encoder.encode('"usage"');
const COLON = 0x3a;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

/** Token counts as providers report them (OpenAI's `usage`). */
export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  /** The part of `prompt_tokens` read from the provider's prompt cache; absent when none. */
  cached_tokens?: number;
}

/**
 * Reads a `usage` object, OpenAI's (`prompt_tokens` with `prompt_tokens_details.cached_tokens`,
 * `completion_tokens`), Anthropic's (`input_tokens` and its cache parts, `output_tokens`) or the
 * Responses API's (`input_tokens` with `input_tokens_details.cached_tokens`, `output_tokens`);
 * null when it carries no counts.
 */
export function toUsage(value: unknown): Usage | null {
  if (!isRecord(value)) return null;
  const anthropic = value.prompt_tokens === undefined && value.completion_tokens === undefined;
  const prompt = anthropic
    ? count(value.input_tokens) + count(value.cache_read_input_tokens) +
      count(value.cache_creation_input_tokens)
    : count(value.prompt_tokens);
  const completion = count(anthropic ? value.output_tokens : value.completion_tokens);
  const total = typeof value.total_tokens === "number" ? value.total_tokens : prompt + completion;
  if (total <= 0 && prompt <= 0 && completion <= 0) return null;
  const usage: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: total,
  };
  const cached = Math.min(
    prompt,
    anthropic ? count(value.cache_read_input_tokens) + responsesCached(value) : cachedOf(value),
  );
  if (cached > 0) usage.cached_tokens = cached;
  return usage;
}

/** Cached input tokens in a Responses API usage (part of its `input_tokens`). */
function responsesCached(usage: Record<string, unknown>): number {
  const details = usage.input_tokens_details;
  return isRecord(details) ? count(details.cached_tokens) : 0;
}

/**
 * Cached prompt tokens in an OpenAI-shaped usage: `prompt_tokens_details.cached_tokens` (OpenAI,
 * and the gateway's own translations), else DeepSeek's `prompt_cache_hit_tokens`.
 */
function cachedOf(usage: Record<string, unknown>): number {
  const details = usage.prompt_tokens_details;
  if (isRecord(details) && typeof details.cached_tokens === "number") {
    return count(details.cached_tokens);
  }
  return count(usage.prompt_cache_hit_tokens);
}

/**
 * Finds the last `"usage": {...}` in the end of a body (a JSON answer or an SSE stream) without
 * parsing the body: usage comes last in OpenAI's answers and in a stream's final chunk.
 */
export function usageFromTail(tail: Uint8Array): Usage | null {
  // Searched as bytes: only the usage object itself is decoded (this runs on every answer).
  return usageAt(tail, lastIndexOfBytes(tail, USAGE_KEY));
}

/**
 * Finds the first `"usage": {...}` in the start of a stream: Anthropic's `message_start` carries
 * the input tokens, and a first read that holds the whole stream ends with the output's usage.
 */
export function usageFromHead(head: Uint8Array): Usage | null {
  return usageAt(head, indexOfBytes(head, USAGE_KEY));
}

/** The usage object whose key starts at `at` (-1: none). */
function usageAt(bytes: Uint8Array, at: number): Usage | null {
  if (at < 0) return null;
  let open = at + USAGE_KEY.length;
  while (open < bytes.length && isSpace(bytes[open]!)) open++;
  if (bytes[open] !== COLON) return null;
  open++;
  while (open < bytes.length && isSpace(bytes[open]!)) open++;
  if (bytes[open] !== OPEN_BRACE) return null;
  let depth = 0;
  for (let i = open; i < bytes.length; i++) {
    const c = bytes[i];
    if (c === OPEN_BRACE) depth++;
    else if (c === CLOSE_BRACE && --depth === 0) {
      try {
        return toUsage(JSON.parse(decoder.decode(bytes.subarray(open, i + 1))));
      } catch {
        return null;
      }
    }
  }
  return null;
}

/**
 * One request's usage from a stream's first chunk and its tail: Anthropic reports input tokens
 * at the start and output tokens at the end.
 */
export function mergeUsage(head: Usage | null | undefined, tail: Usage | null): Usage | null {
  if (head === null || head === undefined) return tail;
  if (tail === null) return head;
  const prompt = Math.max(head.prompt_tokens, tail.prompt_tokens);
  const completion = Math.max(head.completion_tokens, tail.completion_tokens);
  const merged: Usage = {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
  };
  const cached = Math.max(head.cached_tokens ?? 0, tail.cached_tokens ?? 0);
  if (cached > 0) merged.cached_tokens = cached;
  return merged;
}

function count(value: unknown): number {
  return typeof value === "number" && value > 0 ? value : 0;
}

function isSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  const first = needle[0]!;
  outer: for (let i = 0; i <= haystack.length - needle.length; i++) {
    if (haystack[i] !== first) continue;
    for (let j = 1; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

function lastIndexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  const first = needle[0]!;
  outer: for (let i = haystack.length - needle.length; i >= 0; i--) {
    if (haystack[i] !== first) continue;
    for (let j = 1; j < needle.length; j++) {
      if (haystack[i + j] !== needle[j]) continue outer;
    }
    return i;
  }
  return -1;
}

/**
 * Removes the usage-only chunk (`choices: []`) from an OpenAI SSE stream: the gateway asked the
 * provider for it (a token budget needs it) and the client did not. Whole events are forwarded as
 * soon as they are complete; only a partial event, useless to a client anyway, is held.
 */
export function stripUsageChunk(stream: ReadableStream<Uint8Array>): ReadableStream<Uint8Array> {
  const decoder = new TextDecoder();
  let pending = "";

  function keep(event: string): boolean {
    if (!event.includes('"usage"') || !event.includes('"choices":[]')) return true;
    const data = event.split(/\r?\n/).filter((l) => l.startsWith("data:"))
      .map((l) => l.slice(5).trimStart()).join("\n");
    try {
      const json: unknown = JSON.parse(data);
      return !(isRecord(json) && Array.isArray(json.choices) && json.choices.length === 0 &&
        isRecord(json.usage));
    } catch {
      return true;
    }
  }

  function drain(final: boolean): string {
    let out = "";
    for (let match = EVENT_END.exec(pending); match !== null; match = EVENT_END.exec(pending)) {
      const end = match.index + match[0].length;
      const event = pending.slice(0, end);
      pending = pending.slice(end);
      if (keep(event)) out += event;
    }
    if (final && pending !== "") {
      if (keep(pending)) out += pending;
      pending = "";
    }
    return out;
  }

  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        pending += decoder.decode(chunk, { stream: true });
        const out = drain(false);
        if (out !== "") controller.enqueue(encoder.encode(out));
      },
      flush(controller) {
        pending += decoder.decode();
        const out = drain(true);
        if (out !== "") controller.enqueue(encoder.encode(out));
      },
    }),
  );
}
