import assert from "node:assert/strict";
import { joinUrl, parseRetryAfter } from "../../src/providers/http_util.ts";

Deno.test("joinUrl adds the API path and never doubles a version segment", () => {
  assert.equal(
    joinUrl("https://api.openai.com", "/v1/chat/completions"),
    "https://api.openai.com/v1/chat/completions",
  );
  assert.equal(
    joinUrl("https://api.openai.com/v1", "/v1/chat/completions"),
    "https://api.openai.com/v1/chat/completions",
  );
  assert.equal(
    joinUrl("https://api.groq.com/openai/v1/", "/v1/models"),
    "https://api.groq.com/openai/v1/models",
  );
  assert.equal(
    joinUrl("http://localhost:8000/proxy", "/v1/embeddings"),
    "http://localhost:8000/proxy/v1/embeddings",
  );
  assert.equal(
    joinUrl("https://generativelanguage.googleapis.com/v1beta", "/v1/models"),
    "https://generativelanguage.googleapis.com/v1beta/models",
  );
});

Deno.test("parseRetryAfter reads seconds, milliseconds and HTTP dates", () => {
  assert.equal(parseRetryAfter(new Headers({ "retry-after": "2" })), 2000);
  assert.equal(parseRetryAfter(new Headers({ "retry-after-ms": "150" })), 150);
  const now = Date.parse("2026-01-01T00:00:00Z");
  assert.equal(
    parseRetryAfter(new Headers({ "retry-after": "Thu, 01 Jan 2026 00:00:05 GMT" }), now),
    5000,
  );
  assert.equal(parseRetryAfter(new Headers({ "retry-after": "soon" })), undefined);
  assert.equal(parseRetryAfter(new Headers()), undefined);
});
