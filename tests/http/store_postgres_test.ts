// Two gateways sharing one real Postgres: keys created or revoked on one are seen by the other
// within seconds, and a store that stops mid-load loses no usage record.
import assert from "node:assert/strict";
import { providerYaml, startGateway, type TestGateway } from "../support/gateway.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";
import { postgresTest, startPostgres, type TestPostgres } from "../support/postgres_server.ts";
import {
  admin,
  authYaml,
  chatWith,
  createKey,
  eventually,
  usageRows,
} from "../support/admin_api.ts";

/** How long another instance may take to see a key change: its poll runs every second. */
const PROPAGATION_MS = 3_000;

function yaml(url: string, a: MockUpstream): string {
  return `${authYaml()}
storage:
  url: "${url}"
providers:
${providerYaml("a", a.url)}
`;
}

/** Two gateways on one database, in front of one mock; all stopped afterwards. */
async function withTwo(
  fn: (gws: [TestGateway, TestGateway], pg: TestPostgres, a: MockUpstream) => Promise<void>,
): Promise<void> {
  const pg = await startPostgres();
  const a = await startMockUpstream({ name: "a", models: ["gpt-4o"] });
  const gws: TestGateway[] = [];
  try {
    const url = await pg.createDatabase("shared");
    for (let i = 0; i < 2; i++) {
      gws.push(
        await startGateway(yaml(url, a), {
          openStorage: true,
          storeService: { writer: { flushIntervalMs: 50, retryBaseMs: 50, retryMaxMs: 200 } },
        }),
      );
    }
    await fn([gws[0]!, gws[1]!], pg, a);
  } finally {
    for (const gw of gws) await gw.close();
    await a.close();
    await pg.destroy();
  }
}

/** Milliseconds until `gw` answers a chat with `key` with `status`, and the answers served. */
async function timeUntil(
  gw: TestGateway,
  key: string,
  status: number,
): Promise<{ ms: number; served: number }> {
  const started = performance.now();
  let served = 0;
  await eventually(async () => {
    const res = await chatWith(gw, key, "a/gpt-4o");
    await res.body?.cancel();
    if (res.status === 200) served++;
    return res.status === status ? true : undefined;
  }, { timeoutMs: PROPAGATION_MS, intervalMs: 50, what: `status ${status}` });
  return { ms: performance.now() - started, served };
}

postgresTest(
  "postgres store: a key created on one gateway works on the other; revoked, it is refused",
  () =>
    withTwo(async ([one, two]) => {
      const { id, key } = await createKey(one, { name: "shared-key" });
      const seen = await timeUntil(two, key, 200);
      const revoked = await admin(one, "DELETE", `/admin/keys/${id}`);
      assert.equal(revoked.status, 200);
      await revoked.body?.cancel();
      const refused = await timeUntil(two, key, 401);
      console.log(
        `key seen by the other instance after ${Math.round(seen.ms)} ms, ` +
          `its revocation after ${Math.round(refused.ms)} ms`,
      );
      // One instance reports the other's requests (those refused are not accounted).
      const served = seen.served + refused.served;
      const rows = await eventually(async () => {
        const rows = await usageRows(one, "key");
        return rows[0]?.requests === served ? rows : undefined;
      }, { what: `the other instance's ${served} usage records` });
      assert.deepEqual(rows.map((r) => r.key), ["shared-key"]);
    }),
);

postgresTest(
  "postgres store stopped mid-load: the gateway keeps serving and no usage record is lost",
  () =>
    withTwo(async ([one], pg) => {
      const { key } = await createKey(one, { name: "load" });
      let sent = 0;
      const load = async (requests: number) => {
        for (let i = 0; i < requests; i += 10) {
          const answers = await Promise.all(
            Array.from({ length: 10 }, () => chatWith(one, key, "a/gpt-4o")),
          );
          for (const res of answers) {
            assert.equal(res.status, 200);
            await res.body?.cancel();
          }
          sent += answers.length;
        }
      };
      await load(100);
      await pg.stop();
      await load(200);
      const scrape = () => fetch(one.url + "/metrics").then((r) => r.text());
      const pending = (text: string) =>
        Number(/^llm_gateway_usage_records_pending (\d+)/m.exec(text)?.[1] ?? "0");
      assert.ok(pending(await scrape()) > 0, "records wait while the store is down");
      await pg.restart();
      await load(100);
      await eventually(async () => pending(await scrape()) === 0 ? true : undefined, {
        timeoutMs: 15_000,
        what: "every record written",
      });
      const rows = await usageRows(one, "key");
      assert.deepEqual(rows.map((r) => [r.key, r.requests]), [["load", sent]]);
      const text = await scrape();
      assert.match(text, new RegExp(`^llm_gateway_usage_records_written_total ${sent}$`, "m"));
      assert.match(text, /^llm_gateway_usage_records_dropped_total 0$/m);
      const logs = await one.logText();
      assert.match(logs, /usage store write failed/);
      assert.match(logs, /usage store writes again/);
    }),
);
