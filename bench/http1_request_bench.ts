// Encoding one upstream request with the HTTP/1.1 client: `deno bench bench/http1_request_bench.ts`.
import { requestBytes } from "../src/providers/http1/request.ts";

const TARGET = { host: "api.openai.com", path: "/v1/chat/completions" };
/** A provider's usual record: auth, content type, accept and one configured header. */
const HEADERS: Record<string, string> = {
  authorization: "Bearer sk-proj-0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJ",
  "content-type": "application/json",
  accept: "text/event-stream",
  "openai-organization": "org-0123456789abcdef",
};
const BODY = JSON.stringify({
  model: "gpt-4o-mini",
  messages: [
    { role: "system", content: "You are a helpful assistant." },
    { role: "user", content: "Write one sentence about the sea, in the style of a ship's log." },
  ],
  stream: true,
  max_tokens: 64,
});
const signal = new AbortController().signal;

Deno.bench("requestBytes: 4 headers, 300-byte body", () => {
  const request = requestBytes(TARGET, {
    method: "POST",
    headers: HEADERS,
    requestId: "0f8e2b9c-4a51-4b7e-9d3c-1e2f3a4b5c6d",
    body: BODY,
    signal,
  });
  request.release();
});
