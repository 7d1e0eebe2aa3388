import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { MIGRATIONS_TABLE, SCHEMA_VERSION, SQLITE_MIGRATIONS } from "../../src/store/schema.ts";
import { POSTGRES_MIGRATIONS } from "../../src/store/schema.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { storeContract, storedResponse } from "./contract.ts";

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
      assert.deepEqual(versions.map((row) => row.version), [1, 2]);
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

Deno.test("sqlite and postgres migrations have one entry per schema version", () => {
  assert.equal(SQLITE_MIGRATIONS.length, SCHEMA_VERSION);
  assert.equal(POSTGRES_MIGRATIONS.length, SCHEMA_VERSION);
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
      assert.equal(rows?.n, SCHEMA_VERSION);
      assert.equal(db.prepare("SELECT version FROM key_changes").get()?.version, 0);
    } finally {
      db.close();
    }
  });
});
