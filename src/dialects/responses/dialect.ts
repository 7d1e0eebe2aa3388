/**
 * The Responses dialect as the executor sees it: how a Responses request reaches a provider that
 * speaks only the hub (Chat Completions), and how the answer comes back.
 */
import type { Translation } from "../../core/attempt.ts";
import { GatewayError, ProviderError } from "../../core/errors.ts";
import type { JsonObject } from "../../core/json.ts";
import { traitsOf } from "../targets.ts";
import type { ResponseContext } from "./context.ts";
import { ResponsesRequestError } from "./errors.ts";
import { chatToResponse } from "./from_chat.ts";
import { chatToResponsesStream } from "./stream.ts";
import { responsesToChat } from "./to_chat.ts";

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Options for `responsesTranslation`. */
export interface ResponsesTranslationOptions {
  /** Items of the earlier turns (`previous_response_id`), oldest first. */
  history?: readonly unknown[];
  /** Given the whole response once it is known, streamed or not (to store it). */
  onResponse?(response: JsonObject): void;
  /** Given what the translation left out (built-in tools, fields without a hub counterpart). */
  onDropped?(dropped: readonly string[]): void;
}

/** The translation for one Responses request; `ctx` names the response the gateway gives. */
export function responsesTranslation(
  ctx: ResponseContext,
  options: ResponsesTranslationOptions = {},
): Translation {
  return {
    toHub(request, target) {
      try {
        const result = responsesToChat(request, { ...traitsOf(target), history: options.history });
        ctx.toolNames = result.toolNames;
        if (result.dropped.length > 0) options.onDropped?.(result.dropped);
        return result.body;
      } catch (err) {
        if (!(err instanceof ResponsesRequestError)) throw err;
        const message = `${err.message} (not supported by ${target.provider.name}/${target.model})`;
        throw new GatewayError("invalid_request", message, { param: err.field });
      }
    },
    complete(bytes, target) {
      let response: JsonObject;
      try {
        response = chatToResponse(JSON.parse(decoder.decode(bytes)), ctx);
      } catch {
        throw new ProviderError(
          "protocol",
          `${target.provider.name} answered with a body that is not a chat completion`,
        );
      }
      options.onResponse?.(response);
      return encoder.encode(JSON.stringify(response));
    },
    stream(upstream) {
      return upstream.pipeThrough(chatToResponsesStream(ctx, { onComplete: options.onResponse }));
    },
    contentType: (stream) => stream ? "text/event-stream" : "application/json",
  };
}
