import assert from "node:assert/strict";
import { ProviderError } from "../../../src/core/errors.ts";
import type { RelayOptions } from "../../../src/core/stream_relay.ts";
import {
  errorTypeForStatus,
  messagesErrorBody,
  messagesErrorEvent,
  type MessagesErrorType,
  messagesStreamErrorEvent,
} from "../../../src/dialects/messages/errors.ts";
import { statusForErrorType } from "../../../src/providers/anthropic/response.ts";

Deno.test("HTTP statuses map to the Messages error types", () => {
  const table: [number, MessagesErrorType][] = [
    [400, "invalid_request_error"],
    [401, "authentication_error"],
    [403, "permission_error"],
    [404, "not_found_error"],
    [408, "invalid_request_error"],
    [413, "request_too_large"],
    [429, "rate_limit_error"],
    [500, "api_error"],
    [502, "api_error"],
    [503, "api_error"],
    [504, "api_error"],
    [529, "overloaded_error"],
  ];
  for (const [status, type] of table) assert.equal(errorTypeForStatus(status), type, `${status}`);
});

Deno.test("the dialect's status table agrees with the Anthropic adapter's", () => {
  const types: MessagesErrorType[] = [
    "invalid_request_error",
    "authentication_error",
    "permission_error",
    "not_found_error",
    "request_too_large",
    "rate_limit_error",
    "api_error",
    "overloaded_error",
  ];
  for (const type of types) assert.equal(errorTypeForStatus(statusForErrorType(type)), type);
});

Deno.test("an error body has the Messages shape", () => {
  assert.deepEqual(messagesErrorBody(404, "model claude-x not found"), {
    type: "error",
    error: { type: "not_found_error", message: "model claude-x not found" },
  });
  assert.deepEqual(messagesErrorBody(529, "busy", { requestId: "req_1" }), {
    type: "error",
    error: { type: "overloaded_error", message: "busy" },
    request_id: "req_1",
  });
});

Deno.test("a stream error is an event: error with the same object", () => {
  assert.equal(
    messagesErrorEvent("upstream went away"),
    'event: error\ndata: {"type":"error","error":{"type":"api_error","message":"upstream went away"}}\n\n',
  );
  assert.equal(
    messagesErrorEvent("slow down", "overloaded_error"),
    'event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"slow down"}}\n\n',
  );
});

Deno.test("the relay's error event for a broken stream speaks this dialect, redacted", () => {
  const errorEvent: RelayOptions["errorEvent"] = messagesStreamErrorEvent;
  const event = errorEvent!(
    new ProviderError("network", "connection reset by sk-secret"),
    "openai/gpt-4o",
    (text) => text.replaceAll("sk-secret", "[redacted]"),
  );
  const [head, data] = event.split("\n");
  assert.equal(head, "event: error");
  assert.deepEqual(JSON.parse(data!.slice("data: ".length)), {
    type: "error",
    error: {
      type: "api_error",
      message: "upstream stream from openai/gpt-4o failed after it started: " +
        "network: connection reset by [redacted]",
    },
  });
  assert.ok(event.endsWith("\n\n"));
});
