// A test gateway on a fresh SQLite file, with one mock upstream: the setup of the tests that need
// a store behind the gateway (admin API, usage, budgets, dashboard).
import { startGateway, type TestGateway, type TestGatewayOptions } from "./gateway.ts";
import { type MockUpstream, type MockUpstreamOptions, startMockUpstream } from "./mock_upstream.ts";

/**
 * Runs `fn` with a mock upstream started from `upstream` and a gateway configured by `yaml` (given
 * the upstream, without a `storage:` block) on a SQLite file in a temporary folder. Everything is
 * closed and removed afterwards, whatever `fn` does.
 */
export async function withStoreGateway(
  upstream: MockUpstreamOptions,
  yaml: (upstream: MockUpstream) => string,
  fn: (gw: TestGateway, upstream: MockUpstream) => Promise<void>,
  options: TestGatewayOptions = {},
): Promise<void> {
  const mock = await startMockUpstream(upstream);
  let dir: string | undefined;
  let gw: TestGateway | undefined;
  try {
    dir = await Deno.makeTempDir({ prefix: "gateway-store-" });
    gw = await startGateway(`${yaml(mock)}\nstorage:\n  path: "${dir}/gateway.db"\n`, {
      ...options,
      openStorage: true,
    });
    await fn(gw, mock);
  } finally {
    await gw?.close();
    await mock.close();
    if (dir !== undefined) await Deno.remove(dir, { recursive: true });
  }
}
