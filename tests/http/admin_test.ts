// The admin API on a real server and a real SQLite file: who may call it, what it validates, and
// what its keys do to the gateway's own authentication.
import assert from "node:assert/strict";
import { providerYaml, startGateway, type TestGateway } from "../support/gateway.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";
import {
  admin,
  ADMIN_KEY,
  authYaml,
  chatWith,
  CONFIG_KEY,
  createKey,
  eventually,
  usageRows,
} from "../support/admin_api.ts";
import { readError } from "./harness.ts";

/** Runs `fn` with a gateway on a fresh SQLite file in front of one mock (`a`). */
async function withAdmin(
  fn: (gw: TestGateway, a: MockUpstream) => Promise<void>,
  options: { auth?: string; extra?: string; store?: boolean } = {},
): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gateway-admin-" });
  const a = await startMockUpstream({ name: "a", models: ["gpt-4o", "gpt-4o-mini"] });
  let gw: TestGateway | undefined;
  try {
    gw = await startGateway(
      `${options.auth ?? authYaml()}${options.extra ?? ""}
storage:
  path: "${dir}/gateway.db"
providers:
${providerYaml("a", a.url)}
`,
      { openStorage: options.store ?? true, storeService: { writer: { flushIntervalMs: 20 } } },
    );
    await fn(gw, a);
  } finally {
    await gw?.close();
    await a.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("admin API: off without admin_keys (404), even with auth on and no credentials", () =>
  withAdmin(async (gw) => {
    for (const [method, path] of [["GET", "/admin/keys"], ["DELETE", "/admin/keys/x"]]) {
      const res = await admin(gw, method!, path!, { key: null });
      assert.equal(res.status, 404, `${method} ${path}`);
      assert.equal((await readError(res)).code, "not_found");
    }
  }, {
    auth: `auth:
  enabled: true
  keys:
    - name: "app"
      key: "${CONFIG_KEY}"
`,
  }));

Deno.test("admin API: 401 without or with a wrong key, 403 for a gateway key", () =>
  withAdmin(async (gw) => {
    const missing = await admin(gw, "GET", "/admin/keys", { key: null });
    assert.equal(missing.status, 401);
    assert.match((await readError(missing)).message, /admin key/);

    const wrong = await admin(gw, "GET", "/admin/keys", { key: "not-a-key-0123456789" });
    assert.equal(wrong.status, 401);
    assert.equal((await readError(wrong)).code, "invalid_api_key");

    const gatewayKey = await admin(gw, "GET", "/admin/keys", { key: CONFIG_KEY });
    assert.equal(gatewayKey.status, 403);
    const error = await readError(gatewayKey);
    assert.equal(error.code, "forbidden");
    assert.match(error.message, /"app" may not use the admin API/);

    const { key } = await createKey(gw, { name: "virtual" });
    const virtualKey = await admin(gw, "POST", "/admin/keys", { key, body: { name: "x" } });
    assert.equal(virtualKey.status, 403);

    // An admin key is not a gateway key.
    const asGateway = await chatWith(gw, ADMIN_KEY, "a/gpt-4o");
    assert.equal(asGateway.status, 401);
    await asGateway.body?.cancel();
  }));

Deno.test("admin API: 503 with a clear message when the gateway has no store", () =>
  withAdmin(async (gw) => {
    const res = await admin(gw, "GET", "/admin/keys");
    assert.equal(res.status, 503);
    const error = await readError(res);
    assert.equal(error.code, "store_unavailable");
    assert.match(error.message, /needs a store/);
  }, { store: false }));

Deno.test("admin API: a created key works at once, is listed without secrets, and revoked is refused", () =>
  withAdmin(async (gw, a) => {
    const created = await admin(gw, "POST", "/admin/keys", {
      body: {
        name: "team-a",
        models: ["a/gpt-4o"],
        groups: ["team-a"],
        budget: { usd: 25, period: "month" },
        rate_limit: { requests: 60, window: "1m" },
        metadata: { owner: "alice@example.com" },
      },
    });
    assert.equal(created.status, 201);
    assert.equal(created.headers.get("cache-control"), "no-store");
    const body = await created.json();
    assert.match(body.key, /^gwk_[\w-]{43}$/);
    assert.equal(body.name, "team-a");
    assert.equal(body.status, "active");
    assert.deepEqual(body.budget, { usd: 25, period: "month" });
    assert.deepEqual(body.rate_limit, { requests: 60, tokens: null, window: "1m" });
    assert.deepEqual(body.metadata, { owner: "alice@example.com" });
    assert.equal(body.revoked_at, null);

    const ok = await chatWith(gw, body.key, "a/gpt-4o");
    assert.equal(ok.status, 200);
    await ok.body?.cancel();
    const denied = await chatWith(gw, body.key, "a/gpt-4o-mini");
    assert.equal(denied.status, 403);
    assert.equal((await readError(denied)).code, "model_not_allowed");

    const listText = await (await admin(gw, "GET", "/admin/keys")).text();
    assert.ok(!listText.includes(body.key), "the list shows the secret");
    assert.ok(!listText.includes("key_hash"), "the list shows the hash");
    assert.equal(JSON.parse(listText).data[0].id, body.id);
    const one = await (await admin(gw, "GET", `/admin/keys/${body.id}`)).json();
    assert.equal(one.name, "team-a");
    assert.equal("key" in one, false);

    const patched = await admin(gw, "PATCH", `/admin/keys/${body.id}`, {
      body: { models: null, name: "team-a2" },
    });
    assert.equal(patched.status, 200);
    assert.equal((await patched.json()).name, "team-a2");
    const now = await chatWith(gw, body.key, "a/gpt-4o-mini");
    assert.equal(now.status, 200, "models: null lifts the model list");
    await now.body?.cancel();

    const revoked = await admin(gw, "DELETE", `/admin/keys/${body.id}`);
    assert.equal(revoked.status, 200);
    const view = await revoked.json();
    assert.equal(view.status, "revoked");
    assert.ok(Date.parse(view.revoked_at) > 0);
    const refused = await chatWith(gw, body.key, "a/gpt-4o");
    assert.equal(refused.status, 401);
    assert.match((await readError(refused)).message, /API key revoked/);
    assert.equal(a.requests.filter((r) => r.method === "POST").length, 2);
    assert.ok(!(await gw.logText()).includes(body.key), "the log shows the secret");

    const again = await admin(gw, "DELETE", `/admin/keys/${body.id}`);
    assert.equal(
      (await again.json()).revoked_at,
      view.revoked_at,
      "a second revoke keeps the first time",
    );
    for (const method of ["GET", "PATCH", "DELETE"]) {
      const missing = await admin(gw, method, "/admin/keys/no-such-id", {
        body: method === "PATCH" ? { name: "x" } : undefined,
      });
      assert.equal(missing.status, 404, method);
      assert.match((await readError(missing)).message, /no key with id "no-such-id"/);
    }
  }));

Deno.test("admin API: an expired key is refused", () =>
  withAdmin(async (gw) => {
    const { key } = await createKey(gw, {
      name: "short-lived",
      expires_at: new Date(Date.now() + 1_000).toISOString(),
    });
    const before = await chatWith(gw, key, "a/gpt-4o");
    assert.equal(before.status, 200);
    await before.body?.cancel();
    await new Promise((resolve) => setTimeout(resolve, 1_100));
    const after = await chatWith(gw, key, "a/gpt-4o");
    assert.equal(after.status, 401);
    assert.match((await readError(after)).message, /API key expired/);
    const list = await (await admin(gw, "GET", "/admin/keys")).json();
    assert.equal(list.data[0].status, "expired");
  }));

Deno.test("admin API: every bad field is a 400 naming it", () =>
  withAdmin(async (gw) => {
    const cases: [unknown, string | null, RegExp][] = [
      ["not json", null, /not valid JSON/],
      [[], null, /must be a JSON object/],
      [{}, "name", /expected a string/],
      [{ name: "  " }, "name", /must not be empty/],
      [{ name: "x".repeat(129) }, "name", /at most 128/],
      [{ name: "a\u0007b" }, "name", /control characters/],
      [{ name: "k", models: "a/gpt-4o" }, "models", /list of model names/],
      [{ name: "k", models: ["a/gpt 4o"] }, "models.0", /spaces/],
      [{ name: "k", groups: [""] }, "groups.0", /must not be empty/],
      [{ name: "k", budget: 25 }, "budget", /"usd": 25/],
      [{ name: "k", budget: { usd: -1, period: "month" } }, "budget.usd", /more than 0/],
      [{ name: "k", budget: { usd: 5, period: "week" } }, "budget.period", /"1d", "7d"/],
      [{ name: "k", budget: { usd: 5 } }, "budget.period", /expected one of/],
      [
        { name: "k", rate_limit: { requests: 0, window: "1m" } },
        "rate_limit.requests",
        /at least 1/,
      ],
      [{ name: "k", rate_limit: { requests: 5, window: "soon" } }, "rate_limit.window", /duration/],
      [{ name: "k", rate_limit: { requests: 1.5, window: "1m" } }, "rate_limit.requests", /whole/],
      [{ name: "k", expires_at: "tomorrow" }, "expires_at", /RFC 3339/],
      [{ name: "k", expires_at: "2020-01-01T00:00:00Z" }, "expires_at", /in the future/],
      [{ name: "k", metadata: [1] }, "metadata", /JSON object/],
      [{ name: "k", metadata: { big: "x".repeat(17_000) } }, "metadata", /16 KiB/],
      [{ name: "k", key: "mine" }, "key", /unknown field/],
      [{ name: "k", budget: { usd: 1, period: "1d", extra: 1 } }, "budget.extra", /unknown field/],
    ];
    for (const [body, param, message] of cases) {
      const res = await admin(gw, "POST", "/admin/keys", { body });
      const error = await readError(res);
      assert.equal(res.status, 400, `${JSON.stringify(body)}: ${error.message}`);
      assert.equal(error.param, param, JSON.stringify(body));
      assert.match(error.message, message, JSON.stringify(body));
      if (param !== null) assert.ok(error.message.startsWith(`${param}: `), error.message);
    }
    assert.equal((await (await admin(gw, "GET", "/admin/keys")).json()).data.length, 0);

    const { id } = await createKey(gw, { name: "taken" });
    const sameName = await admin(gw, "POST", "/admin/keys", { body: { name: "taken" } });
    assert.equal(sameName.status, 409);
    assert.equal((await readError(sameName)).param, "name");
    const configName = await admin(gw, "POST", "/admin/keys", { body: { name: "app" } });
    assert.equal(configName.status, 409);
    assert.match((await readError(configName)).message, /auth\.keys/);

    const empty = await admin(gw, "PATCH", `/admin/keys/${id}`, { body: {} });
    assert.equal(empty.status, 400);
    assert.match((await readError(empty)).message, /nothing to change/);
    const badPatch = await admin(gw, "PATCH", `/admin/keys/${id}`, { body: { groups: null } });
    assert.equal(badPatch.status, 400);
    assert.equal((await readError(badPatch)).param, "groups");
  }));

Deno.test("admin API: usage query parameters are checked", () =>
  withAdmin(async (gw) => {
    const cases: [string, string, RegExp][] = [
      ["group_by=team", "group_by", /key, user, group, model, provider/],
      ["from=yesterday", "from", /RFC 3339/],
      ["to=2026-13-45T00:00:00Z", "to", /RFC 3339/],
      ["from=2026-12-02&to=2026-12-01", "from", /before to/],
      ["group_by=key&group_by=model", "group_by", /more than once/],
      ["limit=5", "limit", /unknown query parameter/],
    ];
    for (const [query, param, message] of cases) {
      const res = await admin(gw, "GET", `/admin/usage?${query}`);
      assert.equal(res.status, 400, query);
      const error = await readError(res);
      assert.equal(error.param, param, query);
      assert.match(error.message, message, query);
    }
    const res = await admin(gw, "GET", "/admin/usage?from=1764547200000&to=2026-12-31");
    assert.equal(res.status, 200);
    const body = await res.json();
    assert.deepEqual(body, {
      group_by: "key",
      from: "2025-12-01T00:00:00.000Z",
      to: "2026-12-31T00:00:00.000Z",
      data: [],
    });
  }));

Deno.test("admin API: not rate limited and not counted as usage", () =>
  withAdmin(async (gw) => {
    const { key } = await createKey(gw, { name: "limited" });
    const first = await chatWith(gw, key, "a/gpt-4o");
    assert.equal(first.status, 200);
    await first.body?.cancel();
    const second = await chatWith(gw, key, "a/gpt-4o");
    assert.equal(second.status, 429, "the default rule allows one request a minute");
    await second.body?.cancel();
    for (let i = 0; i < 5; i++) {
      const res = await admin(gw, "GET", "/admin/keys");
      assert.equal(res.status, 200);
      await res.body?.cancel();
    }
    const rows = await eventually(async () => {
      const rows = await usageRows(gw, "key");
      return rows[0]?.requests === 2 ? rows : undefined;
    }, { what: "two usage records" });
    assert.deepEqual(rows.map((r) => [r.key, r.requests]), [["limited", 2]]);
    const endpoints = await usageRows(gw, "model");
    assert.equal(endpoints.reduce((n, r) => n + r.requests, 0), 2, "admin calls are not usage");
  }, {
    extra: `ratelimit:
  enabled: true
  default: {requests: 1, window: "1m"}
`,
  }));
