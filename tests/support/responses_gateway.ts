// The real gateway in front of one mock of each wire format the Responses API reaches, for the
// end-to-end tests of its clients: a mock that speaks the Responses API (served natively), a
// Chat-only mock (found out by its 404, then translated), a mock Anthropic API and a mock Gemini
// API (translated); keys for two callers and stored responses in SQLite in a temp dir.
import { startGateway, type TestGateway } from "./gateway.ts";
import { type MockAnthropic, startMockAnthropic } from "./mock_anthropic.ts";
import { type MockGemini, startMockGemini } from "./mock_gemini.ts";
import { type MockUpstream, startMockUpstream } from "./mock_upstream.ts";

/** The key of the caller most tests act as. */
export const ALICE = "sk-gw-alice-0123456789";
/** The key of another caller, who must not see Alice's responses. */
export const BOB = "sk-gw-bob-0123456789ab";

/** The gateway and the mocks behind it. */
export interface ResponsesSetup {
  gw: TestGateway;
  /** Provider `native` (`responses_api: native`). */
  native: MockUpstream;
  /** Provider `chat` (`responses_api` left at `auto`): the mock has no Responses API. */
  chat: MockUpstream;
  /** Provider `claude` (type `anthropic`). */
  claude: MockAnthropic;
  /** Provider `gemini` (type `gemini`). */
  gemini: MockGemini;
}

/** Options for `withResponsesGateway`. */
export interface ResponsesGatewayOptions {
  /** YAML appended at the top level (e.g. an `aliases:` block). */
  extraYaml?: string;
}

function gatewayYaml(mocks: Omit<ResponsesSetup, "gw">, dir: string, extra: string): string {
  return `
auth:
  enabled: true
  keys:
    - { name: alice, key: "${ALICE}" }
    - { name: bob, key: "${BOB}" }
storage:
  path: "${dir}/gateway.db"
routing:
  backoff_base: "5ms"
  backoff_max: "20ms"
strategies:
  - name: "chat_then_native"
    targets: ["chat/gpt-4o", "native/gpt-4o"]
providers:
  - name: "native"
    target_url: "${mocks.native.url}"
    api_key: "sk-native-provider"
    responses_api: native
    timeout: "10s"
    max_retries: 0
  - name: "chat"
    target_url: "${mocks.chat.url}"
    api_key: "sk-chat-provider"
    timeout: "10s"
    max_retries: 0
  - name: "claude"
    type: "anthropic"
    target_url: "${mocks.claude.url}"
    api_key: "sk-ant-provider"
    timeout: "10s"
    max_retries: 0
  - name: "gemini"
    type: "gemini"
    target_url: "${mocks.gemini.url}"
    api_key: "g-test-key"
    timeout: "10s"
    max_retries: 0
${extra}`;
}

/** Starts the mocks and a gateway in front of them, runs `fn`, and always stops them all. */
export async function withResponsesGateway(
  fn: (setup: ResponsesSetup) => Promise<void>,
  options: ResponsesGatewayOptions = {},
): Promise<void> {
  const native = await startMockUpstream({ name: "native" });
  const chat = await startMockUpstream({ name: "chat", responsesApi: false });
  const claude = startMockAnthropic({ name: "claude" });
  const gemini = startMockGemini({ apiKey: "g-test-key" });
  const dir = await Deno.makeTempDir({ prefix: "gateway-responses-e2e-" });
  let gw: TestGateway | undefined;
  try {
    const mocks = { native, chat, claude, gemini };
    gw = await startGateway(gatewayYaml(mocks, dir, options.extraYaml ?? ""), {
      openStorage: true,
    });
    await fn({ gw, ...mocks });
  } finally {
    await gw?.close();
    await Promise.all([native.close(), chat.close(), claude.close(), gemini.close()]);
    await Deno.remove(dir, { recursive: true });
  }
}
