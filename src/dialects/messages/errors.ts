/**
 * The Messages API's error shape: `{"type": "error", "error": {"type", "message"}}` as a body,
 * and the same object as an `event: error` inside a stream.
 */
import { streamFailure } from "../../core/stream_relay.ts";
import { sseEvent } from "../hub.ts";

/** The error types a Messages client knows. */
export type MessagesErrorType =
  | "invalid_request_error"
  | "authentication_error"
  | "permission_error"
  | "not_found_error"
  | "request_too_large"
  | "rate_limit_error"
  | "api_error"
  | "overloaded_error";

/** A Messages error body. */
export interface MessagesErrorBody {
  type: "error";
  error: { type: MessagesErrorType; message: string };
  request_id?: string;
}

/** The Messages error type for an HTTP status. */
export function errorTypeForStatus(status: number): MessagesErrorType {
  switch (status) {
    case 401:
      return "authentication_error";
    case 403:
      return "permission_error";
    case 404:
      return "not_found_error";
    case 413:
      return "request_too_large";
    case 429:
      return "rate_limit_error";
    case 529:
      return "overloaded_error";
  }
  // Every other refusal is the request's fault, every other failure the server's.
  return status >= 500 ? "api_error" : "invalid_request_error";
}

/** The error body for an HTTP status and a message. */
export function messagesErrorBody(
  status: number,
  message: string,
  options: { requestId?: string } = {},
): MessagesErrorBody {
  const body: MessagesErrorBody = {
    type: "error",
    error: { type: errorTypeForStatus(status), message },
  };
  if (options.requestId !== undefined) body.request_id = options.requestId;
  return body;
}

/** The `event: error` that ends a Messages stream. */
export function messagesErrorEvent(message: string, type: MessagesErrorType = "api_error"): string {
  return sseEvent("error", { type: "error", error: { type, message } });
}

/**
 * The event that ends a Messages stream broken after it started, with the signature of the
 * stream relay's `errorEvent` option, so the relay can end a translated stream in this dialect.
 */
export function messagesStreamErrorEvent(
  error: unknown,
  label: string,
  redact: (text: string) => string = (text) => text,
): string {
  return messagesErrorEvent(redact(streamFailure(error, label)));
}

/** A Messages request the gateway refuses (HTTP 400): `field` names where, as a path. */
export class MessagesRequestError extends Error {
  /** The request field at fault, e.g. `messages[2].content[0].type`. */
  readonly field: string;
  /** Always 400: the request's fault. */
  readonly status = 400;
  /** The Messages error type to answer with. */
  readonly type: MessagesErrorType = "invalid_request_error";

  constructor(field: string, why: string) {
    super(`${field}: ${why}`);
    this.name = "MessagesRequestError";
    this.field = field;
  }

  /** The error body to answer with. */
  toBody(): MessagesErrorBody {
    return messagesErrorBody(this.status, this.message);
  }
}
