// The dashboard under test: a real gateway (SQLite store in a temp dir, admin key, prices) in
// front of two mock upstreams, and a headless Chromium page on its /ui.
import { ADMIN_KEY, authYaml, CONFIG_KEY } from "../support/admin_api.ts";
import { type Browser, collectErrors, launchChromium, type Page } from "../support/browser.ts";
import { startGateway, type TestGateway } from "../support/gateway.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";

export { ADMIN_KEY, CONFIG_KEY };

/** Tokens each mock answer reports: at alpha's price $0.002 + $0.005 = $0.007 an answer. */
export const USAGE = { prompt: 1000, completion: 500 };

/** What a test gets. */
export interface Dashboard {
  gw: TestGateway;
  /** The first provider of the chain `[alpha, bravo]` ($2 / $10 per million tokens). */
  alpha: MockUpstream;
  /** Its fallback ($1 / $5 per million tokens). */
  bravo: MockUpstream;
  browser: Browser;
  page: Page;
  /** Console errors and uncaught exceptions of the page so far. */
  errors: string[];
}

function priced(name: string, url: string, input: number, output: number): string {
  return `  - name: "${name}"
    target_url: "${url}"
    api_key: "sk-${name}-secret"
    max_retries: 0
    models:
      - name: "gpt-4o"
        price: {input: ${input}, output: ${output}}`;
}

/** Runs `fn` against a fresh gateway and page (1366x850, light), and always cleans up. */
export async function withDashboard(
  fn: (d: Dashboard) => Promise<void>,
  options: { auth?: string } = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gateway-ui-" });
  const alpha = await startMockUpstream({ name: "alpha", models: ["gpt-4o"] });
  const bravo = await startMockUpstream({ name: "bravo", models: ["gpt-4o"] });
  for (const mock of [alpha, bravo]) mock.setDefault(() => ({ type: "ok", usage: USAGE }));
  let gw: TestGateway | undefined;
  let browser: Browser | undefined;
  try {
    gw = await startGateway(
      `${options.auth ?? authYaml()}
routing:
  backoff_base: "1ms"
  backoff_max: "2ms"
  circuit_breaker: {failure_threshold: 3, cooldown: "60s"}
strategies:
  - name: "main"
    providers: ["alpha", "bravo"]
storage:
  path: "${dir}/gateway.db"
providers:
${priced("alpha", alpha.url, 2, 10)}
${priced("bravo", bravo.url, 1, 5)}
`,
      { openStorage: true, storeService: { writer: { flushIntervalMs: 20 } } },
    );
    browser = await launchChromium();
    const page = await browser.newPage({
      viewport: { width: 1366, height: 850 },
      colorScheme: "light",
    });
    const errors = collectErrors(page);
    await fn({ gw, alpha, bravo, browser, page, errors });
  } finally {
    await browser?.close();
    await gw?.close();
    await alpha.close();
    await bravo.close();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A chat request to `model` with the config key; the response, its body read. */
export async function chat(
  gw: { url: string },
  model: string,
  key: string = CONFIG_KEY,
): Promise<Response> {
  const res = await fetch(`${gw.url}/v1/chat/completions`, {
    method: "POST",
    headers: { "content-type": "application/json", authorization: `Bearer ${key}` },
    body: JSON.stringify({ model, messages: [{ role: "user", content: "hi" }] }),
  });
  await res.body?.cancel();
  return res;
}

/** Opens the dashboard and signs in with `key` through the form. */
export async function signIn(page: Page, gw: { url: string }, key = ADMIN_KEY): Promise<void> {
  await page.goto(`${gw.url}/ui`);
  await page.locator("#admin-key").fill(key);
  await page.locator("#admin-key").press("Enter");
  await page.locator("#dashboard").waitFor({ state: "visible", timeout: 5_000 });
}

/** The text of `selector`, trimmed ("" when absent). */
export async function textOf(page: Page, selector: string): Promise<string> {
  const locator = page.locator(selector);
  if (await locator.count() === 0) return "";
  return (await locator.first().innerText()).trim();
}

/** Polls `check` until it returns true; fails with `what` after `timeoutMs`. */
export async function until(
  what: string,
  check: () => Promise<boolean>,
  timeoutMs = 8_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`${what}: not seen within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
