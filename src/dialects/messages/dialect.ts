/**
 * The Messages dialect as the executor sees it: how a Messages request reaches a provider that
 * speaks only the hub (Chat Completions), and how the answer comes back.
 */
import type { Translation } from "../../core/executor.ts";
import { GatewayError, ProviderError } from "../../core/errors.ts";
import { isRecord, type JsonObject } from "../../core/json.ts";
import { traitsOf } from "../targets.ts";
import { messagesErrorBody, MessagesRequestError } from "./errors.ts";
import { chatToMessages } from "./from_chat.ts";
import { chatToMessagesStream } from "./stream.ts";
import { messagesToChat } from "./to_chat.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** The translation for one Messages request; `model` is the name the client asked for. */
export function messagesTranslation(model: string, body: JsonObject): Translation {
  const stopSequences = Array.isArray(body.stop_sequences)
    ? body.stop_sequences.filter((s): s is string => typeof s === "string")
    : undefined;
  return {
    toHub(request, target) {
      try {
        return messagesToChat(request, traitsOf(target)).body;
      } catch (err) {
        if (!(err instanceof MessagesRequestError)) throw err;
        const message = `${err.message} (not supported by ${target.provider.name}/${target.model})`;
        throw new GatewayError("invalid_request", message, { param: err.field });
      }
    },
    complete(bytes, target) {
      let json: unknown;
      try {
        json = JSON.parse(decoder.decode(bytes));
      } catch {
        throw new ProviderError(
          "protocol",
          `${target.provider.name} answered with a body that is not JSON`,
        );
      }
      return encoder.encode(JSON.stringify(chatToMessages(json, model, { stopSequences })));
    },
    stream(upstream) {
      return upstream.pipeThrough(chatToMessagesStream({ model, stopSequences }));
    },
    contentType: (stream) => stream ? "text/event-stream" : "application/json",
  };
}

/** How a whole Messages stream ends: message_stop, or the error event the upstream sent. */
const STREAM_END = /event:\s*(?:message_stop|error)\b|"type"\s*:\s*"(?:message_stop|error)"/;

/**
 * Why a Messages stream the provider closed was cut short (it sent no message_stop), given its
 * last bytes; undefined when it ended. A client's SDK would take a cut stream for a whole one.
 */
export function messagesStreamEnd(tail: Uint8Array): string | undefined {
  return STREAM_END.test(decoder.decode(tail)) ? undefined : "the stream ended before message_stop";
}

/**
 * A hub provider's refusal (OpenAI's error shape) in the Messages error shape, so a Messages
 * client reads the upstream's message whichever provider refused.
 */
export function refusalAsMessages(status: number, body: string): string {
  let message = body;
  try {
    const parsed: unknown = JSON.parse(body);
    if (isRecord(parsed) && isRecord(parsed.error) && typeof parsed.error.message === "string") {
      message = parsed.error.message;
    }
  } catch {
    // Not JSON: the text itself is the message.
  }
  return JSON.stringify(messagesErrorBody(status, message));
}
