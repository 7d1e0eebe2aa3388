import assert from "node:assert/strict";
import { openStore } from "../../src/store/open.ts";
import { openPostgresStore } from "../../src/store/postgres.ts";
import { ResponseState, storedResponseSize } from "../../src/store/responses.ts";
import { POSTGRES_MIGRATIONS } from "../../src/store/schema.ts";
import type { StoredResponse } from "../../src/store/store.ts";
import { createUsageWriter } from "../../src/store/writer.ts";
import { postgresTest, startPostgres, type TestPostgres } from "../support/postgres_server.ts";
import { waitFor } from "../support/wait_for.ts";
import { storeContract, storedResponse, usage } from "./contract.ts";

/** Runs `body` against a fresh cluster, always removing it. */
async function withPostgres(body: (pg: TestPostgres) => Promise<void>): Promise<void> {
  const pg = await startPostgres();
  try {
    await body(pg);
  } finally {
    await pg.destroy();
  }
}

// One cluster for the shared cases (initdb takes a while); each case gets its own database.
postgresTest("postgres store", (t) =>
  withPostgres(async (pg) => {
    let n = 0;
    for (const { name, fn } of storeContract) {
      const url = await pg.createDatabase(`contract_${n++}`);
      await t.step(name, () => fn({ open: (options) => openPostgresStore(url, options) }));
    }
  }));

postgresTest(
  "postgres stores migrating one new database at once all open; schema once",
  () =>
    withPostgres(async (pg) => {
      const url = await pg.createDatabase("race");
      const stores = await Promise.all([0, 1, 2, 3].map(() => openPostgresStore(url)));
      try {
        assert.equal(
          await pg.psql("race", "SELECT string_agg(version::text, ',') FROM schema_migrations"),
          [...Array(POSTGRES_MIGRATIONS.length).keys()].map((i) => i + 1).join(","),
        );
        assert.equal(await pg.psql("race", "SELECT count(*) FROM key_changes"), "1");
        for (const store of stores) assert.equal(await store.keysVersion(), 0);
      } finally {
        await Promise.all(stores.map((store) => store.close()));
      }
    }),
);

postgresTest(
  "usage writer keeps records while postgres is down and writes them all after",
  () =>
    withPostgres(async (pg) => {
      const url = await pg.createDatabase("outage");
      const store = await openPostgresStore(url);
      const errors: string[] = [];
      const writer = createUsageWriter(store, {
        batchSize: 200,
        flushIntervalMs: 20,
        retryBaseMs: 50,
        retryMaxMs: 200,
        log: { info: () => {}, warn: () => {}, error: (message) => errors.push(message) },
      });
      let sent = 0;
      const load = async (n: number) => {
        for (let i = 0; i < n; i++) {
          writer.enqueue(usage({ request_id: `req-${sent++}`, key_id: "k", cost_usd: 0.002 }));
          if (i % 100 === 0) await new Promise((resolve) => setTimeout(resolve, 2));
        }
      };
      try {
        await load(1_500);
        await pg.stop();
        await load(3_000);
        await waitFor(() => writer.stats().failures >= 2, { timeoutMs: 10_000 });
        await pg.restart();
        await load(1_500);
        await waitFor(() => writer.stats().pending === 0, { timeoutMs: 20_000 });
        assert.deepEqual(writer.stats(), { written: 6_000, dropped: 0, pending: 0, failures: 0 });
        assert.equal(
          await pg.psql("outage", "SELECT count(*), count(DISTINCT request_id) FROM usage"),
          "6000|6000",
        );
        const spent = await store.spend({ scope: "key", id: "k", since: 0 });
        assert.ok(Math.abs(spent - 12) < 1e-9, `spend ${spent}`);
        assert.deepEqual(errors, [
          "usage store write failed; records wait in the queue and are retried",
        ]);
      } finally {
        await writer.close({ timeoutMs: 1_000 });
        await store.close();
      }
    }),
);

postgresTest("openStore with a Postgres URL opens it; a server not there is an error", async () => {
  const pg = await startPostgres();
  const url = pg.url().replace("gateway@", "gateway:s3cret@");
  try {
    const opened = await openStore({ path: null, url });
    assert.ok(opened.store !== null);
    assert.equal(opened.store.engine, "postgres");
    assert.equal(opened.location, url.replace("s3cret", "***"));
    await opened.store.close();
  } finally {
    await pg.destroy();
  }
  await assert.rejects(openStore({ path: null, url }), (error: Error) => {
    assert.match(error.message, /^storage\.url: cannot open the Postgres store at postgres:/);
    assert.doesNotMatch(error.message, /s3cret/);
    return true;
  });
});

postgresTest(
  "a response saved through one instance is read, continued and deleted through another",
  () =>
    withPostgres(async (pg) => {
      const url = await pg.createDatabase("responses");
      const [storeA, storeB] = [await openPostgresStore(url), await openPostgresStore(url)];
      const now = () => storedResponse().created_at;
      const [a, b] = [new ResponseState(storeA, { now }), new ResponseState(storeB, { now })];
      const owner = "key:ci-bot";
      const turn = (id: string, previous: string | null, text: string): StoredResponse => {
        const input = [{ type: "message", role: "user", content: text }];
        const response = { id, output: [{ type: "message", role: "assistant", content: text }] };
        const size = storedResponseSize(input, response);
        return storedResponse({ id, previous_response_id: previous, input, response, size });
      };
      try {
        const first = turn("resp_1", null, "one");
        a.save(first);
        await a.settled();
        assert.deepEqual(await b.get("resp_1", owner), first);
        assert.equal(await b.get("resp_1", "key:other"), null);
        // B answers the follow-up; A continues the conversation from B's response.
        b.save(turn("resp_2", "resp_1", "two"));
        await b.settled();
        const items = await a.history("resp_2", owner);
        assert.deepEqual(
          items.map((item) => (item as { content: string }).content),
          ["one", "one", "two", "two"],
        );
        assert.equal(await b.delete("resp_1", owner), true);
        assert.equal(await a.get("resp_1", owner), null);
        await assert.rejects(a.history("resp_2", owner), /"resp_1", earlier in this conversation/);
      } finally {
        await Promise.all([a.close(), b.close()]);
        await Promise.all([storeA.close(), storeB.close()]);
      }
    }),
);
