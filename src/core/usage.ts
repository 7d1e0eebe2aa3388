import { isRecord } from "./json.ts";

const decoder = new TextDecoder();
const encoder = new TextEncoder();
const EVENT_END = /\r?\n\r?\n/;

/** Tokens reported in an OpenAI `usage` object (total, else prompt + completion), or null. */
export function usageTokens(value: unknown): number | null {
  if (!isRecord(value) || !isRecord(value.usage)) return null;
  const u = value.usage;
  if (typeof u.total_tokens === "number") return u.total_tokens;
  const prompt = typeof u.prompt_tokens === "number" ? u.prompt_tokens : 0;
  const completion = typeof u.completion_tokens === "number" ? u.completion_tokens : 0;
  return prompt + completion > 0 ? prompt + completion : null;
}

/** Tokens reported by a complete JSON response body, or null when it reports none. */
export function usageFromBody(body: Uint8Array): number | null {
  try {
    return usageTokens(JSON.parse(decoder.decode(body)));
  } catch {
    return null;
  }
}

/** Options for `observeUsage`. */
export interface ObserveUsageOptions {
  /** Drop the usage-only chunk (`choices: []`): the gateway asked for it, the client did not. */
  strip: boolean;
  /** Called once with the tokens the stream reported (not called when it reported none). */
  onTokens: (tokens: number) => void;
}

/**
 * Reads token usage out of an OpenAI SSE stream on its way to the client. Without `strip`,
 * chunks pass through untouched as they arrive; with it, whole events are forwarded as soon as
 * they are complete (only a partial event, useless to a client anyway, is held).
 */
export function observeUsage(
  stream: ReadableStream<Uint8Array>,
  options: ObserveUsageOptions,
): ReadableStream<Uint8Array> {
  // Per stream: a streaming decoder keeps state between chunks.
  const streamDecoder = new TextDecoder();
  let pending = "";
  let tokens: number | null = null;

  function inspect(event: string): boolean {
    if (!event.includes('"usage"')) return true;
    const data = event.split(/\r?\n/).filter((l) => l.startsWith("data:")).map((l) =>
      l.slice(5).trimStart()
    ).join("\n");
    let json: unknown;
    try {
      json = JSON.parse(data);
    } catch {
      return true;
    }
    const found = usageTokens(json);
    if (found !== null) tokens = found;
    const usageOnly = isRecord(json) && Array.isArray(json.choices) && json.choices.length === 0;
    return !(options.strip && found !== null && usageOnly);
  }

  function drain(final: boolean): string {
    let out = "";
    for (;;) {
      const match = EVENT_END.exec(pending);
      if (match === null) break;
      const end = match.index + match[0].length;
      const event = pending.slice(0, end);
      pending = pending.slice(end);
      if (inspect(event)) out += event;
    }
    if (final && pending !== "") {
      if (inspect(pending)) out += pending;
      pending = "";
    }
    return out;
  }

  return stream.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        pending += streamDecoder.decode(chunk, { stream: true });
        if (!options.strip) {
          controller.enqueue(chunk);
          drain(false);
          return;
        }
        const out = drain(false);
        if (out !== "") controller.enqueue(encoder.encode(out));
      },
      flush(controller) {
        pending += streamDecoder.decode();
        const out = drain(true);
        if (options.strip && out !== "") controller.enqueue(encoder.encode(out));
        if (tokens !== null) options.onTokens(tokens);
      },
    }),
  );
}
