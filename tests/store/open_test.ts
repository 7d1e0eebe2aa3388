import assert from "node:assert/strict";
import { openStore, withoutPassword } from "../../src/store/open.ts";

async function withTempDir(body: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gateway-open-" });
  try {
    await body(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("without a storage block the store is the default SQLite file, folder created", async () => {
  await withTempDir(async (dir) => {
    const defaultPath = `${dir}/data/gateway.db`;
    const opened = await openStore(null, { defaultPath });
    assert.ok(opened.store !== null);
    assert.equal(opened.store.engine, "sqlite");
    assert.equal(opened.location, defaultPath);
    await opened.store.close();
    assert.ok((await Deno.stat(defaultPath)).isFile);
  });
});

Deno.test("without a storage block an unusable default path gives no store and a reason", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/data`, "a file where the folder should be");
    const opened = await openStore(null, { defaultPath: `${dir}/data/gateway.db` });
    assert.equal(opened.store, null);
    assert.match(opened.store === null ? opened.reason : "", /^cannot use .*\/data\/gateway\.db: /);
  });
});

Deno.test("without write permission the default store is skipped with a reason, no prompt", async () => {
  await withTempDir(async (dir) => {
    const script = new URL("./open_without_write.ts", import.meta.url).pathname;
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-read", "--allow-env", script, `${dir}/data/gateway.db`],
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, text);
    assert.match(text, /no store: cannot use .*gateway\.db: no write permission for .*\/data/);
    await assert.rejects(Deno.stat(`${dir}/data`), Deno.errors.NotFound);
  });
});

Deno.test("a storage path that cannot be opened is an error naming storage.path", async () => {
  await withTempDir(async (dir) => {
    await Deno.writeTextFile(`${dir}/data`, "a file where the folder should be");
    await assert.rejects(
      openStore({ path: `${dir}/data/gateway.db`, url: null }),
      /^Error: storage\.path: cannot open the SQLite store at .*\/data\/gateway\.db: /,
    );
  });
});

Deno.test("a Postgres URL's password is masked where the store is named", () => {
  assert.equal(
    withoutPassword("postgres://gateway:s3cret@db.internal:5432/gateway?sslmode=require"),
    "postgres://gateway:***@db.internal:5432/gateway?sslmode=require",
  );
  assert.equal(withoutPassword("postgres://db/gateway"), "postgres://db/gateway");
});
