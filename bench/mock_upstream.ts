/**
 * A fast mock OpenAI-compatible upstream for the bench, as cheap per request as it can be so that
 * it is never what limits a contender.
 *
 * - `POST /v1/chat/completions`: a fixed chat.completion of about 1 KB. With `"stream": true`:
 *   N `chat.completion.chunk` events, each flushed on its own `gap` ms after the previous one, then
 *   `data: [DONE]` one more gap later (so no two events are ever written together). N and the gap
 *   come from the query (`?chunks=20&gap_ms=20`), else the body (`bench_chunks`, `bench_gap_ms`:
 *   the gateway forwards unknown fields untouched), else `MOCK_STREAM_CHUNKS` and
 *   `MOCK_STREAM_GAP_MS`, else 20 chunks 20 ms apart.
 * - `GET /v1/models`: one model, `gpt-4o`.
 *
 * Usage: `deno run -A bench/mock_upstream.ts PORT`
 */
import { exitWithParent } from "./lifeline.ts";

const encoder = new TextEncoder();
const CREATED = 1_700_000_000;

/** The fixed non-streaming answer: an OpenAI chat.completion of about 1 KB. */
export const COMPLETION_BYTES: Uint8Array<ArrayBuffer> = encoder.encode(JSON.stringify({
  id: "chatcmpl-bench0000000000000000000000",
  object: "chat.completion",
  created: CREATED,
  model: "gpt-4o-2024-08-06",
  choices: [{
    index: 0,
    message: {
      role: "assistant",
      content: "Hello! This is a fixed answer from the bench's mock upstream. ".repeat(9).trim(),
      refusal: null,
      annotations: [],
    },
    logprobs: null,
    finish_reason: "stop",
  }],
  usage: {
    prompt_tokens: 14,
    completion_tokens: 132,
    total_tokens: 146,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0 },
  },
  service_tier: "default",
  system_fingerprint: "fp_bench",
}));

const MODELS_BYTES = encoder.encode(JSON.stringify({
  object: "list",
  data: [{ id: "gpt-4o", object: "model", created: CREATED, owned_by: "mock" }],
}));

const DONE = encoder.encode("data: [DONE]\n\n");
const JSON_HEADERS = { "content-type": "application/json" };
const SSE_HEADERS = { "content-type": "text/event-stream", "cache-control": "no-cache" };

/** Stream shape of one request. */
interface StreamShape {
  chunks: number;
  gapMs: number;
}

const DEFAULT_SHAPE: StreamShape = {
  chunks: envInt("MOCK_STREAM_CHUNKS") ?? 20,
  gapMs: envInt("MOCK_STREAM_GAP_MS") ?? 20,
};

function envInt(name: string): number | undefined {
  const value = Deno.env.get(name);
  return value === undefined ? undefined : nonNegative(value);
}

function nonNegative(value: unknown): number | undefined {
  const n = typeof value === "number" ? value : typeof value === "string" ? Number(value) : NaN;
  return Number.isFinite(n) && n >= 0 ? Math.floor(n) : undefined;
}

/** One chunk event; the last one carries `finish_reason` and usage, as OpenAI's does. */
function chunkEvent(index: number, last: boolean): Uint8Array {
  const chunk = {
    id: "chatcmpl-bench-stream",
    object: "chat.completion.chunk",
    created: CREATED,
    model: "gpt-4o-2024-08-06",
    system_fingerprint: "fp_bench",
    choices: [{
      index: 0,
      delta: index === 0 ? { role: "assistant", content: "tok0 " } : { content: `tok${index} ` },
      logprobs: null,
      finish_reason: last ? "stop" : null,
    }],
    ...(last
      ? { usage: { prompt_tokens: 14, completion_tokens: index + 1, total_tokens: 15 + index } }
      : {}),
  };
  return encoder.encode(`data: ${JSON.stringify(chunk)}\n\n`);
}

/** A body that enqueues each event alone, one timer after the other, so none are coalesced here. */
function streamBody(shape: StreamShape): ReadableStream<Uint8Array> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  let sent = 0;
  return new ReadableStream<Uint8Array>({
    start(controller) {
      const send = () => {
        try {
          if (sent < shape.chunks) {
            controller.enqueue(chunkEvent(sent, sent === shape.chunks - 1));
            sent++;
            timer = setTimeout(send, shape.gapMs);
          } else {
            controller.enqueue(DONE);
            controller.close();
          }
        } catch {
          // The client went away between two events.
        }
      };
      send();
    },
    cancel() {
      clearTimeout(timer);
    },
  });
}

function shapeOf(url: URL, body: Record<string, unknown>): StreamShape {
  return {
    chunks: nonNegative(url.searchParams.get("chunks") ?? body.bench_chunks) ??
      DEFAULT_SHAPE.chunks,
    gapMs: nonNegative(url.searchParams.get("gap_ms") ?? body.bench_gap_ms) ??
      DEFAULT_SHAPE.gapMs,
  };
}

async function chat(req: Request): Promise<Response> {
  const text = await req.text();
  // Only a body that mentions "stream" can ask for one: the common case skips JSON.parse.
  if (text.includes('"stream"')) {
    const body: unknown = JSON.parse(text);
    if (typeof body === "object" && body !== null && !Array.isArray(body)) {
      const record = body as Record<string, unknown>;
      if (record.stream === true) {
        return new Response(streamBody(shapeOf(new URL(req.url), record)), {
          headers: SSE_HEADERS,
        });
      }
    }
  }
  return new Response(COMPLETION_BYTES, { headers: JSON_HEADERS });
}

/** Serves the mock upstream on 127.0.0.1:`port`. */
export function serveMockUpstream(port: number): Deno.HttpServer<Deno.NetAddr> {
  return Deno.serve({ hostname: "127.0.0.1", port, onListen: () => {} }, (req) => {
    const path = new URL(req.url).pathname;
    if (req.method === "POST" && path === "/v1/chat/completions") return chat(req);
    if (req.method === "GET" && path === "/v1/models") {
      return new Response(MODELS_BYTES, { headers: JSON_HEADERS });
    }
    return new Response(
      JSON.stringify({ error: { message: `no route ${req.method} ${path}`, type: "not_found" } }),
      { status: 404, headers: JSON_HEADERS },
    );
  });
}

if (import.meta.main) {
  const port = Number(Deno.args[0] ?? "0");
  exitWithParent();
  const server = serveMockUpstream(port);
  console.error(`mock upstream listening on http://127.0.0.1:${server.addr.port}`);
}
