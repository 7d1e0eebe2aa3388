import assert from "node:assert/strict";
import { parseLines, rejectLines } from "./parse_helpers.ts";

Deno.test("storage is null without a storage block, so the default file is only tried", async () => {
  assert.equal((await parseLines([])).storage, null);
  assert.equal((await parseLines(["storage:"])).storage, null);
});

Deno.test("storage takes an SQLite path or a Postgres URL from the environment", async () => {
  assert.deepEqual((await parseLines(["storage:", "  path: /var/lib/gateway/gw.db"])).storage, {
    path: "/var/lib/gateway/gw.db",
    url: null,
  });
  const url = "postgres://gateway:s3cret@db.internal:5432/gateway?sslmode=require";
  assert.deepEqual(
    (await parseLines(["storage:", '  url: "${DATABASE_URL}"'], { DATABASE_URL: url })).storage,
    { path: null, url },
  );
  // An unset variable with an empty default means "no URL": the default SQLite file.
  assert.deepEqual(
    (await parseLines(["storage:", '  url: "${DATABASE_URL:-}"'])).storage,
    { path: null, url: null },
  );
});

Deno.test("a storage url that is not Postgres, or both path and url, is an error", async () => {
  const secret = "mysql://root:hunter2@db:3306/gateway";
  const lines = await rejectLines(["storage:", `  url: "${secret}"`]);
  assert.deepEqual(lines, [
    'storage.url: expected a Postgres URL such as "postgres://user:password@host:5432/gateway" ' +
    "(config.yaml:2)",
  ]);
  assert.doesNotMatch(lines.join("\n"), /hunter2/, "the password is not echoed");
  assert.deepEqual(
    await rejectLines(["storage:", "  path: ./gw.db", "  url: postgres://db/gateway"]),
    ["storage: give path (an SQLite file) or url (a Postgres server), not both (config.yaml:2)"],
  );
  assert.match(
    (await rejectLines(["storage:", "  uri: postgres://db/gateway"])).join("\n"),
    /storage\.uri: unknown key; did you mean "url"\?/,
  );
});

Deno.test("storage: false (or enabled: false) turns the store off; other scalars are errors", async () => {
  assert.equal((await parseLines(["storage: false"])).storage, "off");
  assert.equal((await parseLines(["storage:", "  enabled: false"])).storage, "off");
  assert.deepEqual((await parseLines(["storage:", "  enabled: true"])).storage, {
    path: null,
    url: null,
  });
  assert.deepEqual(await rejectLines(["storage: true"]), [
    "storage: expected a mapping, got true (config.yaml:1)",
  ]);
  assert.deepEqual(await rejectLines(['storage: "off"']), [
    'storage: expected a mapping, got "off" (config.yaml:1)',
  ]);
});
