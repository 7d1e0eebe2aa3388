// main.ts and the store: the default SQLite file with the tasks' permissions, its log line, the
// usage written at SIGTERM, and a named store that cannot be opened.
import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { ADMIN_KEY, chatWith, createKey } from "../support/admin_api.ts";
import { startMockUpstream } from "../support/mock_upstream.ts";
import { runCli, startCli, withTempDir } from "./cli_support.ts";

function config(target: string, extra = ""): string {
  return `server:
  host: "127.0.0.1"
  port: 0
auth:
  enabled: true
  admin_keys:
    - name: ops
      key: "${ADMIN_KEY}"
${extra}providers:
  - name: up
    target_url: "${target}"
`;
}

Deno.test("cli opens ./data/gateway.db by default, logs it, and writes usage before it exits", async () => {
  const up = await startMockUpstream({ name: "up" });
  try {
    await withTempDir(async (dir) => {
      await Deno.writeTextFile(`${dir}/config.yaml`, config(up.url));
      const gw = await startCli(["--config", "config.yaml"], { cwd: dir });
      let result;
      try {
        const opened = gw.events().find((e) => /^store: /.test(String(e.message)));
        assert.equal(opened?.message, "store: sqlite at ./data/gateway.db");
        const { key } = await createKey(gw, { name: "cli-key" });
        const res = await chatWith(gw, key, "up/gpt-4o");
        assert.equal(res.status, 200);
        await res.body?.cancel();
      } finally {
        result = await gw.stop("SIGTERM");
      }
      assert.equal(result.code, 0, result.stderr);
      const db = new DatabaseSync(`${dir}/data/gateway.db`, { readOnly: true });
      try {
        const row = db.prepare("SELECT count(*) AS n, max(key_name) AS name FROM usage").get();
        assert.deepEqual({ ...row }, { n: 1, name: "cli-key" });
      } finally {
        db.close();
      }
    });
  } finally {
    await up.close();
  }
});

Deno.test("cli exits 1 naming storage.path when the store it names cannot be opened", () =>
  withTempDir(async (dir) => {
    await Deno.writeTextFile(
      `${dir}/config.yaml`,
      config("http://127.0.0.1:9", `storage:\n  path: "${dir}/elsewhere/gateway.db"\n`),
    );
    const result = await runCli(["--config", "config.yaml"], { cwd: dir });
    assert.equal(result.code, 1, result.stdout);
    assert.match(result.stderr, /storage\.path: cannot open the SQLite store at .*elsewhere/);
    assert.match(result.stderr, /--allow-write=/);
  }));

Deno.test("cli with storage: false creates no file, says so at info, and answers the admin API 503", () =>
  withTempDir(async (dir) => {
    const up = await startMockUpstream({ name: "up" });
    try {
      await Deno.writeTextFile(`${dir}/config.yaml`, config(up.url, "storage: false\n"));
      const gw = await startCli(["--config", "config.yaml"], { cwd: dir });
      let result;
      try {
        const line = gw.events().find((e) => /^no store/.test(String(e.message)));
        assert.equal(
          line?.message,
          "no store (storage: false): usage records, virtual keys and the admin API are off",
        );
        assert.equal(line?.["log.level"], "info");
        const res = await fetch(`${gw.url}/admin/keys`, {
          headers: { authorization: `Bearer ${ADMIN_KEY}` },
        });
        assert.equal(res.status, 503);
        await res.body?.cancel();
      } finally {
        result = await gw.stop("SIGTERM");
      }
      assert.equal(result.code, 0, result.stderr);
      await assert.rejects(Deno.stat(`${dir}/data`), Deno.errors.NotFound);
    } finally {
      await up.close();
    }
  }));
