// Claude Code itself (`claude -p`) against the real gateway, in front of a mock Anthropic API and
// a mock OpenAI server on real sockets: what it prints, and every request it made, as the
// gateway and the mocks saw them. Claude Code is installed from npm into a cache directory; the
// tests are skipped, saying why, when it cannot be installed or started.
import assert from "node:assert/strict";
import { join } from "node:path";
import { startGateway, type TestGateway } from "../support/gateway.ts";
import { type MockAnthropic, startMockAnthropic } from "../support/mock_anthropic.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";
import { bodyOf } from "../support/sdk.ts";
import { installFromNpm, pathExists, runProgram, testCacheDir } from "../support/npm_program.ts";

const PACKAGE = "@anthropic-ai/claude-code@2";
const GATEWAY_KEY = "gw-claude-code-key-0123456789";
/** Claude Code is given this long to answer, then killed. */
const RUN_TIMEOUT_MS = 60_000;

/** How to start Claude Code: a program and the arguments before its own. */
interface Launcher {
  command: string;
  args: string[];
}

/**
 * The program to run. Releases written for Node ship `cli.js`, run with `node`; later ones ship
 * a native executable in a per-platform package, run directly (its Node wrapper would leave the
 * executable running if the wrapper were killed).
 */
async function launcherIn(dir: string): Promise<Launcher | undefined> {
  const modules = join(dir, "node_modules", "@anthropic-ai");
  const cli = join(modules, "claude-code", "cli.js");
  if (await pathExists(cli)) return { command: "node", args: [cli] };
  const os = Deno.build.os === "darwin" ? "darwin" : "linux";
  const arch = Deno.build.arch === "aarch64" ? "arm64" : "x64";
  for (
    const path of [
      join(modules, `claude-code-${os}-${arch}`, "claude"),
      join(modules, "claude-code", "bin", "claude.exe"),
    ]
  ) {
    if (await pathExists(path)) return { command: path, args: [] };
  }
  return undefined;
}

/** Installs Claude Code once into the cache directory; a reason to skip when it cannot. */
async function installClaudeCode(): Promise<Launcher | string> {
  const launcher = await installFromNpm(testCacheDir("claude-code"), PACKAGE, launcherIn);
  if (typeof launcher === "string") return launcher;
  const version = await runProgram(launcher.command, [...launcher.args, "--version"], {
    timeoutMs: 30_000,
  });
  if (version.code !== 0) return `claude --version failed: ${version.stderr.trim()}`;
  console.log(`claude_code_test: Claude Code ${version.stdout.trim()} (${launcher.command})`);
  return launcher;
}

const installed = await installClaudeCode();
const skipReason = typeof installed === "string" ? installed : undefined;
if (skipReason !== undefined) console.log(`claude_code_test: skipped: ${skipReason}`);

interface Setup {
  gw: TestGateway;
  claude: MockAnthropic;
  openai: MockUpstream;
}

/** The mocks and a gateway (keys on; bare claude-* names go to the Anthropic provider). */
async function withGateway(fn: (setup: Setup) => Promise<void>): Promise<void> {
  const claude = startMockAnthropic({ name: "claude" });
  const openai = await startMockUpstream({ name: "openai", models: ["gpt-4o"] });
  let gw: TestGateway | undefined;
  try {
    gw = await startGateway(`
logging:
  level: "debug"
auth:
  enabled: true
  keys:
    - name: "claude-code"
      key: "${GATEWAY_KEY}"
aliases:
  "claude-*": "claude/*"
providers:
  - name: "claude"
    type: "anthropic"
    target_url: "${claude.url}"
    api_key: "sk-ant-upstream"
    max_retries: 0
  - name: "openai"
    target_url: "${openai.url}"
    api_key: "sk-openai-upstream"
    max_retries: 0
`);
    await fn({ gw, claude, openai });
  } finally {
    await gw?.close();
    await claude.close();
    await openai.close();
  }
}

/**
 * Runs `claude -p "say hi" --model <model>` against the gateway, in a fresh home that is also
 * its working directory (`prepare` may put files there first); returns what it printed.
 */
async function sayHi(
  gw: TestGateway,
  model: string,
  credential: "ANTHROPIC_API_KEY" | "ANTHROPIC_AUTH_TOKEN",
  prepare?: (home: string) => Promise<void>,
): Promise<string> {
  const launcher = installed as Launcher;
  const home = await Deno.makeTempDir({ prefix: "claude-home-" });
  try {
    await prepare?.(home);
    const out = await runProgram(launcher.command, [
      ...launcher.args,
      "-p",
      "say hi",
      "--model",
      model,
    ], {
      timeoutMs: RUN_TIMEOUT_MS,
      clearEnv: true,
      cwd: home,
      env: {
        PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
        HOME: home,
        ANTHROPIC_BASE_URL: gw.url,
        [credential]: GATEWAY_KEY,
        DISABLE_TELEMETRY: "1",
        CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: "1",
        DISABLE_AUTOUPDATER: "1",
      },
    });
    assert.ok(!out.timedOut, `claude gave no answer within ${RUN_TIMEOUT_MS} ms`);
    assert.equal(out.code, 0, `claude exited ${out.code}: ${out.stdout}${out.stderr}`);
    return out.stdout.trim();
  } finally {
    await Deno.remove(home, { recursive: true });
  }
}

/** Every request Claude Code made, as the gateway's access log saw it, printed for the reader. */
function requestsMade(logs: readonly Record<string, unknown>[]): string[] {
  const lines = logs.filter((l) => l.message === "request").map((l) =>
    `${l["http.request.method"]} ${l["url.path"]} -> ${l["http.response.status_code"]}` +
    (l["gateway.requested_model"] ? ` (${l["gateway.requested_model"]})` : "")
  );
  console.log(`claude_code_test: requests to the gateway:\n  ${lines.join("\n  ")}`);
  return lines;
}

/** Asserts that no request Claude Code made was refused and that it asked for Messages. */
function assertAllServed(logs: readonly Record<string, unknown>[], model: string): void {
  const lines = requestsMade(logs);
  const refused = lines.filter((l) => !/ -> 2\d\d/.test(l));
  assert.deepEqual(refused, [], "every request Claude Code made was served");
  assert.ok(lines.includes(`POST /v1/messages -> 200 (${model})`), lines.join("\n"));
}

/** What the mock Anthropic API was sent, printed for the reader. */
function printUpstream(name: string, requests: MockAnthropic["requests"]): void {
  const lines = requests.map((r) => {
    const body = r.body as Record<string, unknown> | undefined;
    return `${r.method} ${r.path}${r.search} model=${body?.model} beta=${
      r.headers.get("anthropic-beta")
    }`;
  });
  console.log(`claude_code_test: requests to ${name}:\n  ${lines.join("\n  ")}`);
}

Deno.test({
  name: "Claude Code with claude/<model> is answered by the Anthropic provider",
  ignore: skipReason !== undefined,
  async fn() {
    let logs: Record<string, unknown>[] = [];
    await withGateway(async ({ gw, claude, openai }) => {
      assert.equal(
        await sayHi(gw, "claude/claude-sonnet-4-5", "ANTHROPIC_API_KEY"),
        "Hello from claude",
      );
      printUpstream("the Anthropic mock", claude.requests);
      const messages = claude.requests.filter((r) => r.path === "/v1/messages");
      assert.ok(messages.length >= 1);
      for (const [i, sent] of claude.requests.entries()) {
        assert.equal(sent.headers.get("x-api-key"), "sk-ant-upstream");
        assert.equal(sent.headers.get("anthropic-version"), "2023-06-01");
        assert.equal(bodyOf(claude, i).model, "claude-sonnet-4-5");
      }
      // Claude Code's betas reach Anthropic: without them its requests' fields are refused.
      assert.match(messages[0]!.headers.get("anthropic-beta") ?? "", /claude-code-\d+/);
      assert.equal(bodyOf(claude, 0).stream, true);
      assert.equal(openai.requests.length, 0);
      logs = gw.logs;
    });
    assertAllServed(logs, "claude/claude-sonnet-4-5");
  },
});

Deno.test({
  name: "Claude Code with openai/<model> is answered through the translation to Chat",
  ignore: skipReason !== undefined,
  async fn() {
    let logs: Record<string, unknown>[] = [];
    await withGateway(async ({ gw, claude, openai }) => {
      assert.equal(await sayHi(gw, "openai/gpt-4o", "ANTHROPIC_AUTH_TOKEN"), "Hello from openai");
      assert.equal(claude.requests.length, 0);
      const chat = openai.requests.filter((r) => r.path === "/v1/chat/completions");
      assert.ok(chat.length >= 1);
      const body = bodyOf(openai, openai.requests.indexOf(chat[0]!));
      console.log(
        `claude_code_test: Chat request to the OpenAI mock: model=${body.model} max_tokens=${body.max_tokens} ` +
          `tools=${(body.tools as unknown[] | undefined)?.length} roles=${
            (body.messages as { role: string }[]).map((m) => m.role).join(",")
          }`,
      );
      assert.equal(body.model, "gpt-4o");
      assert.equal(body.stream, true);
      assert.ok(Number(body.max_tokens) <= 16_384, "lowered to gpt-4o's output limit");
      assert.equal((body.messages as { role: string }[])[0]?.role, "system");
      const tools = body.tools as { type: string; function: { name: string } }[];
      assert.ok(tools.length > 0 && tools.every((t) => t.type === "function"));
      assert.equal(chat[0]!.headers.get("authorization"), "Bearer sk-openai-upstream");
      logs = gw.logs;
    });
    assertAllServed(logs, "openai/gpt-4o");
  },
});

Deno.test({
  name: "Claude Code with a bare Claude name is routed by the claude-* alias",
  ignore: skipReason !== undefined,
  async fn() {
    let logs: Record<string, unknown>[] = [];
    await withGateway(async ({ gw, claude }) => {
      assert.equal(await sayHi(gw, "claude-sonnet-4-5", "ANTHROPIC_API_KEY"), "Hello from claude");
      printUpstream("the Anthropic mock", claude.requests);
      for (const [i, sent] of claude.requests.entries()) {
        assert.equal(sent.headers.get("x-api-key"), "sk-ant-upstream");
        assert.match(String(bodyOf(claude, i).model), /^claude-/);
      }
      logs = gw.logs;
    });
    assertAllServed(logs, "claude-sonnet-4-5");
  },
});

/** Puts a note in Claude Code's working directory; returns its path. */
async function writeNote(home: string): Promise<string> {
  const path = join(home, "note.txt");
  await Deno.writeTextFile(path, "the secret word is pineapple\n");
  return path;
}

Deno.test({
  name: "Claude Code runs a tool the Anthropic provider asks for and sends its result back",
  ignore: skipReason !== undefined,
  async fn() {
    await withGateway(async ({ gw, claude }) => {
      const answer = await sayHi(
        gw,
        "claude/claude-sonnet-4-5",
        "ANTHROPIC_API_KEY",
        async (home) => {
          const input = { file_path: await writeNote(home) };
          claude.enqueue({ type: "tool_use", name: "Read", input, pieces: 4 });
        },
      );
      assert.equal(answer, "Hello from claude");
      const messages = claude.requests.filter((r) => r.path === "/v1/messages");
      assert.equal(messages.length, 2, "the question, then the tool's result");
      const turns = (messages[1]!.body as { messages: { role: string; content: unknown }[] })
        .messages;
      const results = turns.flatMap((t) => Array.isArray(t.content) ? t.content : [])
        .filter((b) => b.type === "tool_result");
      assert.equal(results.length, 1);
      assert.match(JSON.stringify(results[0]), /pineapple/);
    });
  },
});

Deno.test({
  name: "Claude Code runs a tool an OpenAI provider asks for, through the translation",
  ignore: skipReason !== undefined,
  async fn() {
    await withGateway(async ({ gw, openai }) => {
      const answer = await sayHi(gw, "openai/gpt-4o", "ANTHROPIC_API_KEY", async (home) => {
        const args = JSON.stringify({ file_path: await writeNote(home) });
        openai.enqueue({ type: "ok", toolCall: { name: "Read", arguments: args } });
      });
      assert.equal(answer, "Hello from openai");
      const chats = openai.requests.filter((r) => r.path === "/v1/chat/completions");
      assert.equal(chats.length, 2, "the question, then the tool's result");
      const sent = (chats[1]!.body as { messages: Record<string, unknown>[] }).messages;
      const call = sent.find((m) => m.role === "assistant" && Array.isArray(m.tool_calls));
      const result = sent.find((m) => m.role === "tool");
      assert.ok(
        call !== undefined && result !== undefined,
        JSON.stringify(sent.map((m) => m.role)),
      );
      const id = (call.tool_calls as { id: string }[])[0]!.id;
      assert.equal(result.tool_call_id, id);
      assert.match(String(result.content), /pineapple/);
    });
  },
});
