import { GatewayError, type GatewayErrorCode } from "../core/errors.ts";
import { messagesErrorBody } from "../dialects/messages/errors.ts";

/** One status per gateway error code: the only status table of the gateway. */
const STATUS: Record<GatewayErrorCode, number> = {
  invalid_json: 400,
  invalid_request: 400,
  model_not_found: 404,
  invalid_api_key: 401,
  model_not_allowed: 403,
  forbidden: 403,
  key_name_taken: 409,
  store_unavailable: 503,
  rate_limit_exceeded: 429,
  rate_limit_unavailable: 503,
  body_too_large: 413,
  body_timeout: 408,
  not_found: 404,
  previous_response_not_found: 400,
  method_not_allowed: 405,
  all_providers_failed: 502,
  upstream_timeout: 504,
  client_closed: 499,
  shutting_down: 503,
  internal_error: 500,
};

/** Paths whose clients speak Anthropic's Messages API, and so expect its error shape. */
const MESSAGES_PATH = /^\/v1\/messages(\/|$)/;

/** The two error shapes: OpenAI's, and Anthropic's (`{"type": "error", "error": {...}}`). */
export type ErrorShape = "openai" | "anthropic";

/**
 * The error shape a request's client reads: Anthropic's on the Messages paths and for any
 * request that carries `anthropic-version` (an Anthropic SDK listing models, say).
 */
export function errorShapeOf(path: string, headers: Headers): ErrorShape {
  return MESSAGES_PATH.test(path) || headers.has("anthropic-version") ? "anthropic" : "openai";
}

/**
 * Builds an error response in the client's shape: OpenAI's
 * `{"error": {message, type, param, code}}`, or Anthropic's (see `errorShapeOf`).
 */
export function errorResponse(
  status: number,
  error: { message: string; type: string; param?: string | null; code: string | null },
  headers?: HeadersInit,
  shape: ErrorShape = "openai",
): Response {
  const body = shape === "anthropic"
    ? JSON.stringify(messagesErrorBody(status, error.message))
    : JSON.stringify({
      error: {
        message: error.message,
        type: error.type,
        param: error.param ?? null,
        code: error.code,
      },
    });
  const h = new Headers(headers);
  h.set("content-type", "application/json");
  return new Response(body, { status, headers: h });
}

/** Maps any thrown value to an error response in `shape`; unknown errors become a bare 500. */
export function responseForError(
  err: unknown,
  headers?: HeadersInit,
  shape: ErrorShape = "openai",
): Response {
  if (err instanceof GatewayError) {
    const status = STATUS[err.code];
    const type = status >= 500
      ? (status === 500 || status === 503 ? "server_error" : "upstream_error")
      : status === 429
      ? "rate_limit_error"
      : "invalid_request_error";
    return errorResponse(
      status,
      {
        message: err.message,
        type,
        param: err.param,
        code: err.code,
      },
      headers,
      shape,
    );
  }
  // The detail of an unexpected error stays in the log, not in the client's hands.
  return errorResponse(
    500,
    {
      message: "internal gateway error",
      type: "server_error",
      code: "internal_error",
    },
    headers,
    shape,
  );
}
