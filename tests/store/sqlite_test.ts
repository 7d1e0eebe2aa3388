import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { MIGRATIONS_TABLE, SQLITE_MIGRATIONS } from "../../src/store/schema.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { LABEL_COLUMNS, LabelIds } from "../../src/store/sqlite_labels.ts";
import type { UsageRecord } from "../../src/store/store.ts";
import { storeContract, storedResponse, usage } from "./contract.ts";

/** A temp dir removed after `body`, with the database file inside it. */
async function withTempDb(body: (path: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gateway-store-" });
  try {
    await body(`${dir}/data/gateway.db`);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

for (const { name, fn } of storeContract) {
  Deno.test(`sqlite store: ${name}`, () =>
    withTempDb((path) =>
      fn({ open: (options) => Promise.resolve(openSqliteStore(path, options)) })
    ));
}

Deno.test("sqlite store creates the missing folder and a WAL database with the schema", async () => {
  await withTempDb(async (path) => {
    const store = openSqliteStore(path);
    await store.close();
    const db = new DatabaseSync(path);
    try {
      assert.equal(db.prepare("PRAGMA journal_mode").get()?.journal_mode, "wal");
      const versions = db.prepare("SELECT version FROM schema_migrations ORDER BY version").all();
      assert.deepEqual(versions.map((row) => row.version), [1, 2, 3]);
    } finally {
      db.close();
    }
  });
});

Deno.test("a file of the first schema version gets the responses table and keeps its keys", async () => {
  await withTempDb(async (path) => {
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    const old = new DatabaseSync(path);
    old.exec(MIGRATIONS_TABLE.sqlite);
    old.exec(SQLITE_MIGRATIONS[0]!);
    old.exec("INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0)");
    old.prepare(
      `INSERT INTO virtual_keys (id, name, key_hash, groups, metadata, created_at)
      VALUES ('k1', 'before', ?, '[]', '{}', 0)`,
    ).run("c".repeat(64));
    old.close();
    const store = openSqliteStore(path);
    try {
      assert.deepEqual((await store.listKeys()).map((k) => k.name), ["before"]);
      const response = storedResponse();
      await store.putResponse(response);
      assert.deepEqual(await store.getResponse(response.id, response.created_at), response);
    } finally {
      await store.close();
    }
  });
});

/** The usage insert of schema version 2, as a release of that version runs it. */
const VERSION_2_INSERT = `INSERT INTO usage (time, request_id, key_id, key_name, user_name,
  group_names, endpoint, requested_model, provider, model, status, attempts, input_tokens,
  output_tokens, cached_tokens, cost_usd, latency_ms, ttfb_ms, stream)
  VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`;

function version2Values(r: UsageRecord) {
  return [
    r.time,
    r.request_id,
    r.key_id,
    r.key_name,
    r.user,
    JSON.stringify(r.groups),
    r.endpoint,
    r.requested_model,
    r.provider,
    r.model,
    r.status,
    r.attempts,
    r.input_tokens,
    r.output_tokens,
    r.cached_tokens,
    r.cost_usd,
    r.latency_ms,
    r.ttfb_ms,
    r.stream ? 1 : 0,
  ];
}

Deno.test("a file of schema version 2 keeps its usage rows, and a version 2 release still writes them", async () => {
  await withTempDb(async (path) => {
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    const old = new DatabaseSync(path);
    old.exec(MIGRATIONS_TABLE.sqlite);
    old.exec(SQLITE_MIGRATIONS[0]!);
    old.exec(SQLITE_MIGRATIONS[1]!);
    old.exec("INSERT INTO schema_migrations (version, applied_at) VALUES (1, 0), (2, 0)");
    const before = [
      usage({ key_name: "alice", groups: ["research", "ops"], cost_usd: 0.5 }),
      usage({ key_name: "bob", user: "bob@example.com", model: "claude", cost_usd: null }),
    ];
    for (const record of before) old.prepare(VERSION_2_INSERT).run(...version2Values(record));
    old.close();

    const store = openSqliteStore(path);
    const range = { from: 0, to: Date.now() + 1 };
    try {
      // What was there before the migration, summed by text as before.
      assert.deepEqual(
        (await store.usageSummary({ groupBy: "group", ...range })).map((
          r,
        ) => [r.value, r.cost_usd]),
        [["ops", 0.5], ["research", 0.5]],
      );
      // A version 2 release sharing the file inserts into the view; the store reads its row.
      const db = new DatabaseSync(path);
      try {
        const late = usage({ key_name: "carol", groups: ["ops"], cost_usd: 0.25 });
        db.prepare(VERSION_2_INSERT).run(...version2Values(late));
        await store.insertUsage([usage({ key_name: "alice", cost_usd: 1 })]);
        assert.deepEqual(
          (await store.usageSummary({ groupBy: "key", ...range })).map((
            r,
          ) => [r.value, r.requests]),
          [["alice", 2], ["carol", 1], ["bob", 1]],
        );
        assert.deepEqual(
          (await store.usageSummary({ groupBy: "group", ...range })).map((
            r,
          ) => [r.value, r.cost_usd]),
          [["ops", 0.75], ["research", 0.5]],
        );
        // The view shows every row in its version 2 shape, text and all.
        const rows = db.prepare(
          "SELECT key_name, user_name, group_names, model, cost_usd FROM usage ORDER BY id",
        ).all().map((row) => ({ ...row }));
        assert.deepEqual(rows, [
          {
            key_name: "alice",
            user_name: null,
            group_names: '["research","ops"]',
            model: "gpt-4o-mini",
            cost_usd: 0.5,
          },
          {
            key_name: "bob",
            user_name: "bob@example.com",
            group_names: "[]",
            model: "claude",
            cost_usd: null,
          },
          {
            key_name: "carol",
            user_name: null,
            group_names: '["ops"]',
            model: "gpt-4o-mini",
            cost_usd: 0.25,
          },
          {
            key_name: "alice",
            user_name: null,
            group_names: "[]",
            model: "gpt-4o-mini",
            cost_usd: 1,
          },
        ]);
      } finally {
        db.close();
      }
    } finally {
      await store.close();
    }
  });
});

/** A connection with the usage_labels table and a label memory of `max` sets over it. */
function labelDb(max: number): { db: DatabaseSync; labels: LabelIds } {
  const db = new DatabaseSync(":memory:");
  db.exec(`CREATE TABLE usage_labels (id INTEGER PRIMARY KEY,
    ${LABEL_COLUMNS.join(", ")})`);
  return { db, labels: new LabelIds(db, max) };
}

Deno.test("a label set added in a write that rolls back is not kept as an id", () => {
  const { db, labels } = labelDb(3);
  try {
    const record = usage({ model: "gpt-4o" });
    db.exec("BEGIN");
    const lost = labels.idOf(record);
    db.exec("ROLLBACK");
    labels.settle(false);
    db.exec("BEGIN");
    const other = labels.idOf(usage({ model: "other" }));
    const id = labels.idOf(record);
    db.exec("COMMIT");
    labels.settle(true);
    assert.equal(lost, 1);
    assert.equal(other, 1, "the rolled-back id now belongs to another set");
    assert.equal(id, 2);
    assert.equal(
      db.prepare("SELECT model FROM usage_labels WHERE id = ?").get(id)?.model,
      "gpt-4o",
    );
  } finally {
    db.close();
  }
});

Deno.test("label sets differing in any one label get ids of their own; nulls and texts differ", () => {
  const { db, labels } = labelDb(100);
  try {
    const base = usage({ key_name: "alice", groups: ["ops"] });
    const variants = [
      base,
      usage({ ...base, key_name: null }),
      usage({ ...base, key_name: "null" }),
      usage({ ...base, groups: [] }),
      usage({ ...base, user: "alice" }),
      usage({ ...base, requested_model: null }),
      usage({ ...base, status: 500 }),
      usage({ ...base, attempts: 2 }),
      usage({ ...base, stream: true }),
    ];
    db.exec("BEGIN");
    const ids = variants.map((record) => labels.idOf(record));
    const again = variants.map((record) => labels.idOf({ ...record }));
    db.exec("COMMIT");
    labels.settle(true);
    assert.equal(new Set(ids).size, variants.length);
    assert.deepEqual(again, ids);
  } finally {
    db.close();
  }
});

Deno.test("label ids held in memory stay bounded; sets are found again in the table", () => {
  const { db, labels } = labelDb(3);
  try {
    const ids = new Map<string, number>();
    for (let i = 0; i < 10; i++) {
      db.exec("BEGIN");
      ids.set(`model-${i}`, labels.idOf(usage({ requested_model: `model-${i}` })));
      db.exec("COMMIT");
      labels.settle(true);
      assert.ok(labels.size <= 3, `${labels.size} sets in memory`);
    }
    db.exec("BEGIN");
    for (const [model, id] of ids) assert.equal(labels.idOf(usage({ requested_model: model })), id);
    db.exec("COMMIT");
    labels.settle(true);
    assert.equal(db.prepare("SELECT count(*) AS n FROM usage_labels").get()?.n, 10);
  } finally {
    db.close();
  }
});

Deno.test("two instances opening one new sqlite file at once both succeed; schema once", async () => {
  await withTempDb(async (path) => {
    Deno.mkdirSync(path.slice(0, path.lastIndexOf("/")), { recursive: true });
    // node:sqlite is synchronous: only separate threads can race the migration for real.
    const workers = [0, 1, 2, 3].map(() =>
      new Worker(new URL("./open_worker.ts", import.meta.url), { type: "module" })
    );
    const results = await Promise.all(workers.map((worker) =>
      new Promise<string>((resolve) => {
        worker.onmessage = (event: MessageEvent<string>) => resolve(event.data);
        worker.onerror = (event) => {
          event.preventDefault();
          resolve(`error: ${event.message}`);
        };
        worker.postMessage(path);
      })
    ));
    for (const worker of workers) worker.terminate();
    assert.deepEqual(results, ["opened", "opened", "opened", "opened"]);
    const db = new DatabaseSync(path);
    try {
      const rows = db.prepare("SELECT count(*) AS n FROM schema_migrations").get();
      assert.equal(rows?.n, SQLITE_MIGRATIONS.length);
      assert.equal(db.prepare("SELECT version FROM key_changes").get()?.version, 0);
    } finally {
      db.close();
    }
  });
});
