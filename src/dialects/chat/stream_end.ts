/**
 * Whether a Chat Completions (or legacy completions) stream the provider closed was whole: OpenAI's
 * streams end with `data: [DONE]`, or with an error event. Without either, the client's SDK would
 * take a cut stream for a whole answer.
 */
const DONE = new TextEncoder().encode("[DONE]");
const ERROR_EVENT = /^data:\s*\{\s*"error"/m;
const decoder = new TextDecoder();

/** Why a stream the provider closed was cut short, given its last bytes; undefined when whole. */
export function chatStreamEnd(tail: Uint8Array): string | undefined {
  let end = tail.length;
  while (end > 0 && (tail[end - 1] === 10 || tail[end - 1] === 13 || tail[end - 1] === 32)) end--;
  if (end >= DONE.length && DONE.every((b, i) => tail[end - DONE.length + i] === b)) {
    return undefined;
  }
  if (ERROR_EVENT.test(decoder.decode(tail))) return undefined;
  return "the stream ended before data: [DONE]";
}
