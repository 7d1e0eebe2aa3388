// POST /v1/messages on the real server: native to an Anthropic mock, translated to an OpenAI
// mock, errors in Anthropic's shape, a chain across dialects, usage in the access log.
import assert from "node:assert/strict";
import { startGateway, type TestGateway } from "../support/gateway.ts";
import {
  MOCK_INPUT_TOKENS,
  type MockAnthropic,
  startMockAnthropic,
} from "../support/mock_anthropic.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";

interface Setup {
  gw: TestGateway;
  claude: MockAnthropic;
  openai: MockUpstream;
}

async function withMessages(fn: (s: Setup) => Promise<void>, extra = ""): Promise<void> {
  const claude = startMockAnthropic({ name: "claude" });
  const openai = await startMockUpstream({ name: "openai", models: ["gpt-4o"] });
  let gw: TestGateway | undefined;
  try {
    gw = await startGateway(`
routing:
  backoff_base: "5ms"
  backoff_max: "20ms"
strategies:
  - name: "cross"
    targets: ["claude/claude-sonnet-4-5", "openai/gpt-4o"]
providers:
  - name: "claude"
    type: "anthropic"
    target_url: "${claude.url}"
    api_key: "sk-ant-provider"
    max_retries: 0
  - name: "openai"
    target_url: "${openai.url}"
    api_key: "sk-openai-provider"
    max_retries: 0
${extra}`);
    await fn({ gw, claude, openai });
  } finally {
    await gw?.close();
    await Promise.all([claude.close(), openai.close()]);
  }
}

function send(
  gw: TestGateway,
  body: unknown,
  headers: Record<string, string> = {},
  path = "/v1/messages",
): Promise<Response> {
  return fetch(gw.url + path, {
    method: "POST",
    headers: { "content-type": "application/json", "anthropic-version": "2023-06-01", ...headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** What Claude Code sends, in short: system blocks with cache_control, thinking, metadata. */
function claudeCodeBody(model: string, stream: boolean): Record<string, unknown> {
  return {
    model,
    max_tokens: 32000,
    stream,
    system: [{ type: "text", text: "You are terse.", cache_control: { type: "ephemeral" } }],
    messages: [{ role: "user", content: [{ type: "text", text: "hi" }] }],
    thinking: { type: "enabled", budget_tokens: 31999 },
    metadata: { user_id: "user_abc" },
    top_k: 5,
    stop_sequences: ["END"],
    context_management: { edits: [] },
  };
}

Deno.test("a Messages request to an Anthropic provider passes through as sent, model rewritten, headers forwarded", async () => {
  await withMessages(async ({ gw, claude }) => {
    const body = claudeCodeBody("claude/claude-sonnet-4-5", false);
    const res = await send(gw, body, {
      "anthropic-beta": "interleaved-thinking-2025-05-14,claude-code-20250219",
      "x-api-key": "client-key-not-for-upstream",
    });
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway-provider"), "claude");
    const json = await res.json();
    assert.equal(json.type, "message");
    assert.equal(json.content[0].text, "Hello from claude");
    const got = claude.requests.at(-1)!;
    assert.equal(got.path, "/v1/messages");
    assert.deepEqual(got.body, { ...body, model: "claude-sonnet-4-5" });
    assert.equal(got.headers.get("anthropic-version"), "2023-06-01");
    assert.equal(
      got.headers.get("anthropic-beta"),
      "interleaved-thinking-2025-05-14,claude-code-20250219",
    );
    assert.equal(got.headers.get("x-api-key"), "sk-ant-provider");
  });
});

Deno.test("a streamed Messages answer from an Anthropic provider is relayed byte for byte", async () => {
  await withMessages(async ({ gw, claude }) => {
    claude.enqueue({ type: "text", pieces: ["Hel", "lo ", "there"] });
    const res = await send(gw, claudeCodeBody("claude/claude-sonnet-4-5", true));
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    const text = await res.text();
    const types = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    assert.equal(types[0], "message_start");
    assert.equal(types.at(-1), "message_stop");
    const deltas = [...text.matchAll(/"text":"([^"]*)"/g)].map((m) => m[1]).join("");
    assert.equal(deltas, "Hello there");
    // Usage from message_start (input) and message_delta (output) reaches the access log.
    await new Promise((r) => setTimeout(r, 50));
    const logs = (await gw.logText()).split("\n").filter((l) => l !== "").map((l) => JSON.parse(l));
    const entry = logs.find((l) => l["url.path"] === "/v1/messages");
    assert.ok(entry, "an access log entry");
    assert.ok((entry["gateway.usage.prompt_tokens"] as number) >= MOCK_INPUT_TOKENS);
    assert.ok((entry["gateway.usage.completion_tokens"] as number) > 0);
  });
});

Deno.test("a Messages request to an OpenAI provider is translated, and its answer translated back", async () => {
  await withMessages(async ({ gw, openai }) => {
    const res = await send(gw, claudeCodeBody("openai/gpt-4o", false));
    assert.equal(res.status, 200);
    const json = await res.json();
    assert.equal(json.type, "message");
    assert.equal(json.role, "assistant");
    assert.equal(json.model, "openai/gpt-4o");
    assert.equal(json.content[0].type, "text");
    assert.equal(json.content[0].text, "Hello from openai");
    assert.equal(json.stop_reason, "end_turn");
    assert.ok(json.usage.input_tokens > 0);
    const got = openai.requests.at(-1)!;
    assert.equal(got.path, "/v1/chat/completions");
    const sent = got.body as Record<string, unknown>;
    assert.equal(sent.model, "gpt-4o");
    assert.equal(sent.max_tokens, 16384, "Claude Code's 32000 is lowered to gpt-4o's limit");
    assert.deepEqual(sent.stop, ["END"]);
    assert.equal(sent.context_management, undefined);
    assert.equal(sent.top_k, undefined);
    assert.deepEqual((sent.messages as unknown[])[0], {
      role: "system",
      content: "You are terse.",
    });
    assert.equal(got.headers.get("authorization"), "Bearer sk-openai-provider");
  });
});

Deno.test("a streamed Messages request to an OpenAI provider gets Anthropic's event sequence", async () => {
  await withMessages(async ({ gw }) => {
    const res = await send(gw, claudeCodeBody("openai/gpt-4o", true));
    assert.equal(res.status, 200);
    assert.match(res.headers.get("content-type") ?? "", /^text\/event-stream/);
    const text = await res.text();
    const types = [...text.matchAll(/^event: (\w+)$/gm)].map((m) => m[1]);
    assert.deepEqual(
      [...new Set(types)],
      [
        "message_start",
        "ping",
        "content_block_start",
        "content_block_delta",
        "content_block_stop",
        "message_delta",
        "message_stop",
      ],
    );
    const deltas = [...text.matchAll(/"text_delta","text":"([^"]*)"/g)].map((m) => m[1]).join("");
    assert.equal(deltas, "Hello from openai");
    assert.match(text, /"stop_reason":"end_turn"/);
  });
});

Deno.test("a chain crosses dialects: Anthropic answers 500, the OpenAI provider serves, streamed and not", async () => {
  await withMessages(async ({ gw, claude, openai }) => {
    for (const stream of [false, true]) {
      claude.enqueue({ type: "error", status: 500 });
      const res = await send(gw, claudeCodeBody("cross", stream));
      assert.equal(res.status, 200);
      assert.equal(res.headers.get("x-gateway-provider"), "openai");
      assert.equal(res.headers.get("x-gateway-attempts"), "2");
      const text = await res.text();
      assert.match(text, stream ? /event: message_stop/ : /"type":"message"/);
      const said = stream
        ? [...text.matchAll(/"text_delta","text":"([^"]*)"/g)].map((m) => m[1]).join("")
        : JSON.parse(text).content[0].text;
      assert.equal(said, "Hello from openai");
    }
    assert.equal(openai.requests.length, 2);
  });
});

Deno.test("errors on /v1/messages are in Anthropic's shape", async () => {
  await withMessages(async ({ gw, claude }) => {
    const cases: [unknown, number, string][] = [
      ["{not json", 400, "invalid_request_error"],
      [
        { model: "nope/x", max_tokens: 10, messages: [{ role: "user", content: "hi" }] },
        404,
        "not_found_error",
      ],
      [
        { model: "claude/m", messages: [{ role: "user", content: "hi" }] },
        400,
        "invalid_request_error",
      ],
    ];
    for (const [body, status, type] of cases) {
      const res = await send(gw, body);
      assert.equal(res.status, status);
      const json = await res.json();
      assert.equal(json.type, "error");
      assert.equal(json.error.type, type);
      assert.equal(typeof json.error.message, "string");
    }
    // An Anthropic provider's own refusal is passed back as it is.
    claude.enqueue({ type: "error", status: 400, message: "prompt is too long" });
    const refused = await send(gw, claudeCodeBody("claude/claude-sonnet-4-5", false));
    assert.equal(refused.status, 400);
    const json = await refused.json();
    assert.equal(json.error.type, "invalid_request_error");
    assert.equal(json.error.message, "prompt is too long");
  });
});

Deno.test("a translated refusal from an OpenAI provider reaches a Messages client in Anthropic's shape", async () => {
  await withMessages(async ({ gw, openai }) => {
    openai.enqueue({ type: "error", status: 400, message: "bad tool schema" });
    const res = await send(gw, claudeCodeBody("openai/gpt-4o", false));
    assert.equal(res.status, 400);
    const json = await res.json();
    assert.equal(json.type, "error");
    assert.equal(json.error.type, "invalid_request_error");
    assert.match(json.error.message, /bad tool schema/);
  });
});

Deno.test("a server tool the target cannot run is a 400 naming the field", async () => {
  await withMessages(async ({ gw }) => {
    const res = await send(gw, {
      ...claudeCodeBody("openai/gpt-4o", false),
      tools: [{ type: "web_search_20250305", name: "web_search" }],
    });
    assert.equal(res.status, 400);
    const json = await res.json();
    assert.equal(json.error.type, "invalid_request_error");
    assert.match(json.error.message, /tools\[0\]\.type/);
  });
});

Deno.test("a stream broken after its first byte ends with event: error, not a clean end", async () => {
  await withMessages(async ({ gw, openai }) => {
    openai.enqueue({ type: "stream", breakAfter: 2 });
    const res = await send(gw, claudeCodeBody("openai/gpt-4o", true));
    assert.equal(res.status, 200);
    const text = await res.text();
    assert.match(text, /event: error\ndata: \{"type":"error","error":\{"type":"api_error"/);
    assert.doesNotMatch(text, /event: message_stop/);
  });
});

Deno.test("count_tokens: an estimate for a plan without an Anthropic provider", async () => {
  await withMessages(async ({ gw }) => {
    const res = await send(
      gw,
      {
        model: "openai/gpt-4o",
        messages: [{ role: "user", content: "x".repeat(400) }],
      },
      {},
      "/v1/messages/count_tokens",
    );
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("x-gateway-token-estimate"), "true");
    const json = await res.json();
    assert.ok(json.input_tokens >= 100 && json.input_tokens < 120, String(json.input_tokens));
  });
});

Deno.test("HEAD / answers 200, as clients probe the base URL", async () => {
  await withMessages(async ({ gw }) => {
    const res = await fetch(gw.url + "/", { method: "HEAD" });
    assert.equal(res.status, 200);
    await res.body?.cancel();
  });
});

Deno.test("a refused key gets Anthropic's error shape on /v1/messages and wherever anthropic-version is sent", async () => {
  await withMessages(
    async ({ gw }) => {
      const wrong = { "x-api-key": "not-a-gateway-key" };
      for (
        const res of [
          await send(gw, claudeCodeBody("claude/claude-sonnet-4-5", false), wrong),
          await fetch(gw.url + "/v1/models", {
            headers: { ...wrong, "anthropic-version": "2023-06-01" },
          }),
        ]
      ) {
        assert.equal(res.status, 401);
        const json = await res.json();
        assert.equal(json.type, "error");
        assert.equal(json.error.type, "authentication_error");
      }
      // Without the header, an OpenAI client keeps OpenAI's shape.
      const openai = await fetch(gw.url + "/v1/models", { headers: wrong });
      assert.equal(openai.status, 401);
      assert.equal((await openai.json()).error.code, "invalid_api_key");
      // The gateway key works as x-api-key, the way Anthropic clients send it.
      const ok = await send(gw, claudeCodeBody("claude/claude-sonnet-4-5", false), {
        "x-api-key": "gw-key-0123456789abcdef",
      });
      assert.equal(ok.status, 200);
      await ok.body?.cancel();
    },
    `auth:
  enabled: true
  keys:
    - name: "team"
      key: "gw-key-0123456789abcdef"
`,
  );
});
