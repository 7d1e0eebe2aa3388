// The SQLite store on the event loop: its own WAL checkpoints keep the WAL bounded, usage
// summaries and series read in slices add up as one read would, over a snapshot taken when they
// begin, and expired responses are purged a few at a time, all of them.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { WalCheckpoints } from "../../src/store/sqlite_checkpoint.ts";
import { summarize, summarizeSeries } from "../../src/store/sqlite_summary.ts";
import type { UsageDimension } from "../../src/store/store.ts";
import { storedResponse, usage } from "./contract.ts";

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gateway-sqlite-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

function walDatabase(path: string): DatabaseSync {
  const db = new DatabaseSync(path);
  db.exec("PRAGMA journal_mode = WAL");
  db.exec("CREATE TABLE rows (id INTEGER PRIMARY KEY, payload TEXT NOT NULL)");
  return db;
}

/** Writes `commits` transactions of 100 rows of about 200 bytes, telling `checkpoints` of each. */
async function writeRows(db: DatabaseSync, commits: number, checkpoints?: WalCheckpoints) {
  const insert = db.prepare("INSERT INTO rows (payload) VALUES (?)");
  for (let i = 0; i < commits; i++) {
    db.exec("BEGIN IMMEDIATE");
    for (let j = 0; j < 100; j++) insert.run(`${i}:${j}:${"x".repeat(200)}`);
    db.exec("COMMIT");
    checkpoints?.committed(100);
    await checkpoints?.idle();
  }
}

Deno.test("sqlite WAL stays bounded: the store's checkpoints copy it into the database file", () =>
  withTempDir(async (dir) => {
    const ours = walDatabase(`${dir}/ours.db`);
    const none = walDatabase(`${dir}/none.db`);
    try {
      await writeRows(ours, 100, new WalCheckpoints(ours, `${dir}/ours.db`, 50));
      none.exec("PRAGMA wal_autocheckpoint = 0");
      await writeRows(none, 100);
      const size = (file: string) => Deno.statSync(`${dir}/${file}`).size;
      // 10,000 rows of 200 bytes: over 2 MB of pages, all in the WAL when nothing copies them.
      assert.ok(size("none.db-wal") > 2_000_000, `WAL without checkpoints: ${size("none.db-wal")}`);
      assert.ok(size("ours.db-wal") < 1_000_000, `WAL with checkpoints: ${size("ours.db-wal")}`);
      assert.ok(size("ours.db") > 2_000_000, `database file: ${size("ours.db")}`);
      const count = ours.prepare("SELECT count(*) AS n FROM rows").get();
      assert.equal(count?.n, 10_000);
    } finally {
      ours.close();
      none.close();
    }
  }));

Deno.test("sqlite store writes usage in batches on this thread, its WAL reused as it goes", () =>
  withTempDir(async (dir) => {
    const path = `${dir}/data/gateway.db`;
    const store = openSqliteStore(path);
    try {
      // 400 commits of 250 rows write about 16 MB of WAL frames; checkpoints every ~1,000 pages
      // let the WAL start over, so it never grows past a few MB.
      for (let batch = 0; batch < 400; batch++) {
        await store.insertUsage(Array.from({ length: 250 }, () => usage({ key_name: "k" })));
        // The writer's batches come from timers; the checkpoint's flush finishes in between.
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
      const rows = await store.usageSummary({ groupBy: "key", from: 0, to: Date.now() });
      assert.deepEqual(rows.map((r) => [r.value, r.requests]), [["k", 100_000]]);
      const wal = Deno.statSync(`${path}-wal`).size;
      assert.ok(wal < 8_000_000, `the WAL is checkpointed (${wal} bytes)`);
    } finally {
      await store.close();
    }
    await assert.rejects(store.listKeys());
    await assert.rejects(
      store.usageSummary({ groupBy: "key", from: 0, to: 1 }),
      /the SQLite store is closed/,
    );
  }));

Deno.test("sqlite usage summary and series in slices add up as one read, on ties, every dimension", () =>
  withTempDir(async (dir) => {
    const path = `${dir}/gateway.db`;
    const store = openSqliteStore(path);
    const db = new DatabaseSync(path);
    try {
      // Several records per millisecond, so slice ends fall inside runs of equal times; the
      // records span a minute's end, so a series has two buckets.
      await store.insertUsage(Array.from({ length: 120 }, (_, i) =>
        usage({
          time: 50_000 + Math.floor(i / 7) * 1_000,
          key_name: `k${i % 3}`,
          user: i % 4 === 0 ? null : `u${i % 2}`,
          groups: i % 5 === 0 ? [] : ["all", `g${i % 2}`],
          model: `m${i % 4}`,
          input_tokens: i,
          cost_usd: i % 6 === 0 ? null : 0.5,
        })));
      const dimensions: UsageDimension[] = ["key", "user", "group", "model", "provider"];
      for (const groupBy of dimensions) {
        const query = { groupBy, from: 53_000, to: 65_000, bucket: "minute" as const };
        const whole = await summarize(path, db, query, { sliceRows: 1_000_000 });
        const series = await summarizeSeries(path, db, query, { sliceRows: 1_000_000 });
        assert.ok(whole.length > 0);
        assert.deepEqual(new Set(series.map((row) => row.t)), new Set([0, 60_000]));
        for (const sliceRows of [1, 5, 13]) {
          assert.deepEqual(await summarize(path, db, query, { sliceRows }), whole, groupBy);
          assert.deepEqual(await summarizeSeries(path, db, query, { sliceRows }), series, groupBy);
        }
      }
    } finally {
      db.close();
      await store.close();
    }
  }));

Deno.test("sqlite usage summary counts what was written when it began, not what comes after", () =>
  withTempDir(async (dir) => {
    const path = `${dir}/gateway.db`;
    const store = openSqliteStore(path);
    const db = new DatabaseSync(path);
    try {
      await store.insertUsage(Array.from({ length: 50 }, (_, i) => usage({ time: 1_000 + i })));
      const reading = summarize(path, db, { groupBy: "key", from: 0, to: 2_000 }, {
        sliceRows: 5,
      });
      // Written between two slices, into a part of the range not read yet.
      await store.insertUsage([usage({ time: 1_900 }), usage({ time: 1_901 })]);
      assert.deepEqual((await reading).map((r) => r.requests), [50]);
      const after = await store.usageSummary({ groupBy: "key", from: 0, to: 2_000 });
      assert.deepEqual(after.map((r) => r.requests), [52]);
    } finally {
      db.close();
      await store.close();
    }
  }));

Deno.test("sqlite store purges every expired response, a few per transaction", () =>
  withTempDir(async (dir) => {
    const store = openSqliteStore(`${dir}/gateway.db`);
    try {
      const kept = storedResponse({ id: "resp_kept" });
      await store.putResponse(kept);
      for (let i = 0; i < 250; i++) {
        await store.putResponse(storedResponse({ id: `resp_${i}`, expires_at: kept.created_at }));
      }
      assert.equal(await store.purgeResponses(kept.created_at), 250);
      assert.equal(await store.purgeResponses(kept.created_at), 0);
      assert.equal((await store.getResponse("resp_kept", kept.created_at))?.id, "resp_kept");
    } finally {
      await store.close();
    }
  }));
