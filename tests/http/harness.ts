// Shared setup for HTTP integration tests: two or three mock upstreams and a gateway in front.
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";
import { startGateway, type TestGateway, type TestGatewayOptions } from "../support/gateway.ts";

/** The running pieces of one test. */
export interface Setup {
  gw: TestGateway;
  a: MockUpstream;
  b: MockUpstream;
  c: MockUpstream;
}

/** Builds the YAML for a test from the mocks' URLs. */
export type YamlFor = (mocks: { a: MockUpstream; b: MockUpstream; c: MockUpstream }) => string;

/** Fast retry settings so failure paths finish quickly. */
export const FAST_ROUTING = `routing:
  backoff_base: "5ms"
  backoff_max: "20ms"
  stream_idle_timeout: "400ms"
`;

/** Runs `fn` against a fresh gateway and mocks `a`, `b`, `c`; everything is closed afterwards. */
export async function withGateway(
  yaml: YamlFor,
  fn: (s: Setup) => Promise<void>,
  options: TestGatewayOptions = {},
): Promise<void> {
  const a = await startMockUpstream({ name: "a", models: ["gpt-4o", "gpt-4o-mini"] });
  const b = await startMockUpstream({ name: "b", models: ["llama-3"] });
  const c = await startMockUpstream({ name: "c", models: ["mistral"] });
  let gw: TestGateway | undefined;
  try {
    gw = await startGateway(yaml({ a, b, c }), options);
    await fn({ gw, a, b, c });
  } finally {
    await gw?.close();
    await Promise.all([a.close(), b.close(), c.close()]);
  }
}

/** POSTs JSON (or a raw string) to the gateway. */
export function post(
  gw: TestGateway,
  path: string,
  body: unknown,
  init: RequestInit = {},
): Promise<Response> {
  return fetch(gw.url + path, {
    method: "POST",
    ...init,
    headers: { "content-type": "application/json", ...init.headers },
    body: typeof body === "string" ? body : JSON.stringify(body),
  });
}

/** A chat request body for `model`. */
export function chat(model: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { model, messages: [{ role: "user", content: "hi" }], ...extra };
}

/** Reads an OpenAI-shaped error response, asserting its shape. */
export async function readError(
  res: Response,
): Promise<{ message: string; type: string; param: string | null; code: string | null }> {
  const json = await res.json();
  const error = json.error;
  if (typeof error?.message !== "string" || typeof error?.type !== "string") {
    throw new Error(`not an OpenAI error shape: ${JSON.stringify(json)}`);
  }
  if (!("param" in error) || !("code" in error)) {
    throw new Error(`error lacks param/code: ${JSON.stringify(json)}`);
  }
  return error;
}

/** Content of a non-streaming chat completion. */
export async function content(res: Response): Promise<string> {
  const json = await res.json();
  return json.choices[0].message.content;
}

/** Counts the POST requests a mock received. */
export function posts(m: MockUpstream): number {
  return m.requests.filter((r) => r.method === "POST").length;
}
