// The dashboard's page and files as the gateway serves them, and who may load them: anyone with
// auth on (the data needs an admin key), this host only with auth off entirely.
import assert from "node:assert/strict";
import { renderAssets } from "../../src/http/ui/build.ts";
import { admin, ADMIN_KEY, authYaml } from "../support/admin_api.ts";
import { providerYaml, type TestGateway } from "../support/gateway.ts";
import type { MockUpstream } from "../support/mock_upstream.ts";
import { withStoreGateway } from "../support/store_gateway.ts";
import { readError } from "./harness.ts";

/** Runs `fn` with a gateway (SQLite in a temp dir) whose YAML starts with `head`. */
function withGateway(
  head: string,
  fn: (gw: TestGateway, a: MockUpstream) => Promise<void>,
): Promise<void> {
  return withStoreGateway(
    { name: "a", models: ["gpt-4o"] },
    (a) => `${head}\nproviders:\n${providerYaml("a", a.url)}\n`,
    fn,
  );
}

/** A request as if relayed by a proxy on this host: the gateway does not take it for local. */
const PROXIED = { "x-forwarded-for": "203.0.113.9" };

Deno.test("ui: assets.ts holds the files of src/http/ui/page/ as they are (deno task ui)", async () => {
  const committed = await Deno.readTextFile(
    new URL("../../src/http/ui/assets.ts", import.meta.url),
  );
  assert.ok(committed === await renderAssets(), "src/http/ui/assets.ts is stale: run deno task ui");
});

Deno.test("ui: the page and its files are served without credentials, from the gateway only", () =>
  withGateway(authYaml(), async (gw) => {
    const page = await fetch(`${gw.url}/ui`, { headers: PROXIED });
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-type"), "text/html; charset=utf-8");
    const csp = page.headers.get("content-security-policy") ?? "";
    assert.match(csp, /default-src 'none'/);
    assert.match(csp, /script-src 'self'/);
    assert.match(csp, /connect-src 'self'/);
    const html = await page.text();
    // Every file the page and its scripts load is one the gateway serves: nothing from elsewhere.
    const links = [...html.matchAll(/(?:src|href)="([^"#]+)"/g)].map((m) => m[1]!);
    assert.ok(links.length >= 3, links.join(" "));
    const scripts: string[] = [];
    for (const link of links) {
      assert.doesNotMatch(link, /^(?:[a-z]+:)?\/\//, `${link} is not the gateway's`);
      const res = await fetch(new URL(link, `${gw.url}/ui`));
      assert.equal(res.status, 200, link);
      if (link.endsWith(".js")) scripts.push(await res.text());
      else await res.body?.cancel();
    }
    const seen = new Set<string>();
    while (scripts.length > 0) {
      for (const [, name] of scripts.pop()!.matchAll(/from "\.\/([a-z_]+\.js)"/g)) {
        if (seen.has(name!)) continue;
        seen.add(name!);
        const res = await fetch(`${gw.url}/ui/${name}`);
        assert.equal(res.status, 200, name);
        assert.equal(res.headers.get("content-type"), "text/javascript; charset=utf-8");
        scripts.push(await res.text());
      }
    }
    assert.ok(seen.has("keys.js") && seen.has("charts.js"), [...seen].join(" "));

    // An unchanged file is not sent again; /ui/ is /ui.
    const css = await fetch(`${gw.url}/ui/app.css`);
    await css.body?.cancel();
    const again = await fetch(`${gw.url}/ui/app.css`, {
      headers: { "if-none-match": css.headers.get("etag")! },
    });
    assert.equal(again.status, 304);
    await again.body?.cancel();
    const slash = await fetch(`${gw.url}/ui/`, { redirect: "manual" });
    assert.equal(slash.status, 308);
    assert.equal(slash.headers.get("location"), "/ui");
    // The page asks for the admin key; the admin API still wants it.
    assert.deepEqual(await (await fetch(`${gw.url}/ui/about.json`)).json(), { admin: "key" });
    const keys = await admin(gw, "GET", "/admin/keys", { key: null });
    assert.equal(keys.status, 401);
    await keys.body?.cancel();
  }));

Deno.test("ui: with auth on and no admin key the page says the admin API is off", () =>
  withGateway(
    `auth:
  enabled: true
  keys:
    - name: "app"
      key: "config-key-0123456789abcdef"
`,
    async (gw) => {
      assert.deepEqual(await (await fetch(`${gw.url}/ui/about.json`)).json(), { admin: "off" });
      const keys = await admin(gw, "GET", "/admin/keys", { key: null });
      assert.equal(keys.status, 404);
      await keys.body?.cancel();
    },
  ));

Deno.test("ui: with auth off entirely, the page and admin reads answer this host only", () =>
  withGateway("", async (gw) => {
    const page = await fetch(`${gw.url}/ui`);
    assert.equal(page.status, 200);
    await page.body?.cancel();
    assert.deepEqual(await (await fetch(`${gw.url}/ui/about.json`)).json(), { admin: "open" });
    const keys = await admin(gw, "GET", "/admin/keys", { key: null });
    assert.equal(keys.status, 200);
    assert.deepEqual(await keys.json(), { data: [] });
    const usage = await admin(gw, "GET", "/admin/usage?group_by=model", { key: null });
    assert.equal(usage.status, 200);
    await usage.body?.cancel();

    for (const path of ["/ui/index.html", "/ui/nothing.js"]) {
      const missing = await fetch(`${gw.url}${path}`);
      assert.equal(missing.status, 404, path);
      await missing.body?.cancel();
    }

    // Writes need an admin key, which this gateway does not have.
    const create = await admin(gw, "POST", "/admin/keys", { key: null, body: { name: "x" } });
    assert.equal(create.status, 403);
    assert.match((await readError(create)).message, /only answers reads/);

    // A client elsewhere (here: through a proxy) gets neither the page nor the data.
    for (const path of ["/ui", "/ui/app.js", "/ui/about.json", "/admin/keys"]) {
      const res = await fetch(`${gw.url}${path}`, { headers: PROXIED });
      assert.equal(res.status, 403, path);
      assert.match((await readError(res)).message, /ui\.public: true/, path);
    }
  }));

Deno.test("ui: public: true serves the page and admin reads to any client with auth off", () =>
  withGateway("ui:\n  public: true\n", async (gw) => {
    for (const path of ["/ui", "/ui/app.js", "/admin/keys"]) {
      const res = await fetch(`${gw.url}${path}`, { headers: PROXIED });
      assert.equal(res.status, 200, path);
      await res.body?.cancel();
    }
    const create = await admin(gw, "POST", "/admin/keys", { key: null, body: { name: "x" } });
    assert.equal(create.status, 403);
    await create.body?.cancel();
  }));

Deno.test("ui: enabled: false leaves out the page, and with auth off the admin API", () =>
  withGateway("ui:\n  enabled: false\n", async (gw) => {
    for (const path of ["/ui", "/ui/app.js", "/admin/keys"]) {
      const res = await fetch(`${gw.url}${path}`);
      assert.equal(res.status, 404, path);
      await res.body?.cancel();
    }
  }));

Deno.test("ui: an admin key with auth off is still asked for, from any client", () =>
  withGateway(authYaml({ enabled: false }), async (gw) => {
    const page = await fetch(`${gw.url}/ui`, { headers: PROXIED });
    assert.equal(page.status, 200);
    await page.body?.cancel();
    assert.deepEqual(await (await fetch(`${gw.url}/ui/about.json`)).json(), { admin: "key" });
    const without = await admin(gw, "GET", "/admin/keys", { key: null });
    assert.equal(without.status, 401);
    await without.body?.cancel();
    const with_ = await admin(gw, "GET", "/admin/keys", { key: ADMIN_KEY });
    assert.equal(with_.status, 200);
    await with_.body?.cancel();
  }));

Deno.test("ui: the admin reads the dashboard polls are logged at debug, key changes at info", () =>
  withGateway(authYaml(), async (gw) => {
    for (const path of ["/admin/stats", "/admin/requests", "/admin/usage", "/admin/usage/series"]) {
      const res = await admin(gw, "GET", path);
      assert.equal(res.status, 200, path);
      await res.body?.cancel();
    }
    const created = await admin(gw, "POST", "/admin/keys", { body: { name: "logged" } });
    assert.equal(created.status, 201);
    await created.body?.cancel();
    const text = await gw.logText();
    const paths = text.trim().split("\n").map((line) => JSON.parse(line))
      .filter((e) => typeof e["url.path"] === "string").map((e) => e["url.path"]);
    assert.deepEqual(paths, ["/admin/keys"]);
  }));
