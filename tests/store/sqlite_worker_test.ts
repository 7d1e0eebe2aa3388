// The SQLite store run in a worker: the same answers as on the calling thread, its errors as
// the interface's, and nothing left running once closed.
import assert from "node:assert/strict";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import { openSqliteWorkerStore } from "../../src/store/sqlite_worker.ts";
import { StoreConflictError } from "../../src/store/store.ts";
import { storedResponse, usage } from "./contract.ts";

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gateway-store-worker-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("sqlite worker store answers as the store on this thread does, on the same file", () =>
  withTempDir(async (dir) => {
    const path = `${dir}/data/gateway.db`;
    const store = await openSqliteWorkerStore(path);
    let keyId: string;
    try {
      assert.equal(store.engine, "sqlite");
      const key = await store.createKey({
        name: "w",
        key_hash: "a".repeat(64),
        groups: ["g"],
        budget: { usd: 2, period: "7d" },
      });
      keyId = key.id;
      await assert.rejects(
        store.createKey({ name: "w", key_hash: "b".repeat(64) }),
        (error: unknown) => error instanceof StoreConflictError && error.field === "name",
      );
      await assert.rejects(store.getKeyByHash("not hex"), /key_hash: expected 64 hex characters/);
      assert.equal((await store.updateKey(key.id, { name: "w2" }))?.name, "w2");
      assert.equal((await store.getKeyByHash("a".repeat(64)))?.name, "w2");
      assert.ok((await store.revokeKey(key.id))?.revoked_at !== null);
      assert.equal(await store.keysVersion(), 3);
      await store.insertUsage([
        usage({ request_id: "r1", key_id: key.id, groups: ["g"], cost_usd: 0.25 }),
        usage({ request_id: "r2", key_id: key.id, groups: ["g"], cost_usd: 0.5 }),
      ]);
      const rows = await store.usageSummary({ groupBy: "group", from: 0, to: Date.now() + 1 });
      assert.deepEqual(rows.map((r) => [r.value, r.requests, r.cost_usd]), [["g", 2, 0.75]]);
      assert.equal(await store.spend({ scope: "key", id: key.id, since: 0 }), 0.75);
      const kept = storedResponse({ id: "resp_kept" });
      await store.putResponse(kept);
      await store.putResponse(storedResponse({ id: "resp_gone" }));
      await store.putResponse(storedResponse({ id: "resp_old", expires_at: kept.created_at }));
      assert.deepEqual(await store.getResponse("resp_kept", kept.created_at), kept);
      assert.equal(await store.deleteResponse("resp_gone"), true);
      assert.equal(await store.purgeResponses(kept.created_at), 1);
    } finally {
      await store.close();
    }
    await assert.rejects(store.listKeys(), /the SQLite store is closed/);

    const here = openSqliteStore(path);
    try {
      const [key] = await here.listKeys();
      assert.deepEqual([key?.id, key?.name, key?.budget], [keyId, "w2", { usd: 2, period: "7d" }]);
      assert.equal(await here.spend({ scope: "group", id: "g", since: 0 }), 0.75);
      assert.equal((await here.getResponse("resp_kept", 0))?.id, "resp_kept");
      assert.equal(await here.getResponse("resp_gone", 0), null);
      assert.equal(await here.purgeResponses(Number.MAX_SAFE_INTEGER), 1);
    } finally {
      await here.close();
    }
  }));

Deno.test("sqlite worker store that cannot open its file rejects, and its worker is gone", () =>
  withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/file`, "not a folder");
    await assert.rejects(openSqliteWorkerStore(`${dir}/file/gateway.db`));
  }));
