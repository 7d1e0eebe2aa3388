// Runs resources/scripts/*.sh with bash and curl against a real gateway and a mock upstream.
import assert from "node:assert/strict";
import { fileURLToPath } from "node:url";
import { cleanEnv } from "../cli/cli_support.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";
import { providerYaml, startGateway, type TestGateway } from "../support/gateway.ts";
import { ADMIN_KEY, authYaml, eventually, usageRows } from "../support/admin_api.ts";
import { withStoreGateway } from "../support/store_gateway.ts";

const SCRIPTS = fileURLToPath(new URL("../../resources/scripts/", import.meta.url));
const KEY = "gw-scripts-key-0123456789";
/** Everything a naive `"content": "${PROMPT}"` breaks on, and what must never be expanded. */
const PROMPT = 'Say "hi" \\ then C:\\new\\table,\na second line,\tafter a tab\r\x01 $HOME `id`';

/**
 * Bash 3.2 (macOS's /bin/bash) cannot be installed here; bash 5's compat32 mode is the closest
 * stand-in for its expansion rules, without 5.2's `&` replacement, which 3.2 lacks.
 */
const SHELLS: Record<string, string[]> = {
  "bash": [],
  "bash in 3.2 compatibility mode": ["-O", "compat32", "+O", "patsub_replacement"],
};

async function run(
  script: string,
  shellArgs: string[],
  env: Record<string, string>,
): Promise<{ code: number; stdout: string }> {
  const output = await new Deno.Command("bash", {
    args: [...shellArgs, SCRIPTS + script],
    env: cleanEnv(env),
    clearEnv: true,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).output();
  return { code: output.code, stdout: new TextDecoder().decode(output.stdout) };
}

async function withScriptGateway(
  fn: (gw: TestGateway, upstream: MockUpstream) => Promise<void>,
): Promise<void> {
  const upstream = await startMockUpstream({
    name: "a",
    models: ["gpt-4o-mini", "text-embedding-3-small"],
  });
  const gw = await startGateway(`auth:
  enabled: true
  keys:
    - name: scripts
      key: "${KEY}"
providers:
${providerYaml("a", upstream.url)}
`);
  try {
    await fn(gw, upstream);
  } finally {
    await gw.close();
    await upstream.close();
  }
}

const PROMPTED = [
  { script: "non_streaming_request.sh", model: "a/gpt-4o-mini", sent: "messages" },
  { script: "streaming_request.sh", model: "a/gpt-4o-mini", sent: "messages" },
  { script: "embeddings_request.sh", model: "a/text-embedding-3-small", sent: "input" },
] as const;

for (const [shell, shellArgs] of Object.entries(SHELLS)) {
  Deno.test(`the example scripts send PROMPT verbatim as JSON and exit 0 (${shell})`, async () => {
    await withScriptGateway(async (gw, upstream) => {
      const env = { GATEWAY_URL: gw.url, GATEWAY_API_KEY: KEY, PROMPT };
      for (const { script, model, sent } of PROMPTED) {
        upstream.reset();
        const result = await run(script, shellArgs, { ...env, MODEL: model });
        assert.equal(result.code, 0, `${script}: ${result.stdout}`);
        assert.equal(upstream.requests.length, 1, script);
        const body = upstream.requests[0]!.body as {
          messages?: { content: string }[];
          input?: string;
        };
        const received = sent === "input" ? body.input : body.messages?.[0]?.content;
        assert.equal(received, PROMPT, script);
      }
      await gw.server.engine.catalog.refresh();
      const models = await run("list_models.sh", shellArgs, env);
      assert.equal(models.code, 0, models.stdout);
      assert.match(models.stdout, /"a\/gpt-4o-mini"/);
    });
  });

  Deno.test(`the example scripts exit non-zero and print the error when the gateway refuses (${shell})`, async () => {
    await withScriptGateway(async (gw, upstream) => {
      const env = { GATEWAY_URL: gw.url, GATEWAY_API_KEY: KEY, PROMPT: "hi" };
      for (const { script } of PROMPTED) {
        const result = await run(script, shellArgs, { ...env, MODEL: "nowhere/model" });
        assert.notEqual(result.code, 0, `${script} succeeded: ${result.stdout}`);
        assert.match(result.stdout, /"error"/, script);
      }
      assert.equal(upstream.requests.length, 0);
      const models = await run("list_models.sh", shellArgs, { ...env, GATEWAY_API_KEY: "wrong" });
      assert.notEqual(models.code, 0, `list_models.sh succeeded: ${models.stdout}`);
      assert.match(models.stdout, /"error"/);
    });
  });
}

/** A gateway with a SQLite store and the admin API on (`authYaml`), for the admin scripts. */
function withAdminGateway(
  fn: (gw: TestGateway, upstream: MockUpstream) => Promise<void>,
): Promise<void> {
  return withStoreGateway(
    { name: "a", models: ["gpt-4o-mini"] },
    (a) => `${authYaml()}providers:\n${providerYaml("a", a.url)}\n`,
    fn,
    { storeService: { writer: { flushIntervalMs: 20 } } },
  );
}

for (const [shell, shellArgs] of Object.entries(SHELLS)) {
  Deno.test(`the admin scripts create a key, report its usage and revoke it (${shell})`, async () => {
    await withAdminGateway(async (gw, upstream) => {
      const admin = { GATEWAY_URL: gw.url, GATEWAY_ADMIN_KEY: ADMIN_KEY };
      const name = 'team "a" $HOME';
      const created = await run("create_key.sh", shellArgs, {
        ...admin,
        NAME: name,
        BUDGET_USD: "2.50",
        BUDGET_PERIOD: "7d",
        KEY_GROUPS: " research , ops,, ",
        KEY_MODELS: "a/*",
      });
      assert.equal(created.code, 0, created.stdout);
      const key = JSON.parse(created.stdout);
      assert.equal(key.name, name);
      assert.deepEqual(key.budget, { usd: 2.5, period: "7d" });
      assert.deepEqual(key.groups, ["research", "ops"]);
      assert.deepEqual(key.models, ["a/*"]);
      assert.match(key.key, /^gwk_/);

      const env = { GATEWAY_URL: gw.url, GATEWAY_API_KEY: key.key, PROMPT: "hi" };
      const chat = await run("non_streaming_request.sh", shellArgs, {
        ...env,
        MODEL: "a/gpt-4o-mini",
      });
      assert.equal(chat.code, 0, chat.stdout);
      await eventually(async () =>
        (await usageRows(gw, "key")).find((row) => row.key === name && row.requests === 1)
      );
      const report = await run("usage_report.sh", shellArgs, {
        ...admin,
        GROUP_BY: "group",
        FROM: new Date(Date.now() - 60_000).toISOString().replace("Z", "+00:00"),
        TO: String(Date.now() + 60_000),
      });
      assert.equal(report.code, 0, report.stdout);
      const groups = JSON.parse(report.stdout).data.map((row: { group: string }) => row.group);
      assert.deepEqual(groups.sort(), ["ops", "research"]);

      const revoked = await run("revoke_key.sh", shellArgs, { ...admin, KEY_ID: key.id });
      assert.equal(revoked.code, 0, revoked.stdout);
      assert.equal(JSON.parse(revoked.stdout).status, "revoked");
      const refused = await run("non_streaming_request.sh", shellArgs, {
        ...env,
        MODEL: "a/gpt-4o-mini",
      });
      assert.notEqual(refused.code, 0, refused.stdout);
      assert.match(refused.stdout, /"error"/);
      assert.equal(upstream.requests.length, 1);
    });
  });

  Deno.test(`the admin scripts refuse bad input before sending it, and fail on a refusal (${shell})`, async () => {
    await withAdminGateway(async (gw) => {
      const admin = { GATEWAY_URL: gw.url, GATEWAY_ADMIN_KEY: ADMIN_KEY };
      for (const usd of ["ten", "1.", ".5", "1e3", '1, "models": []']) {
        const bad = await run("create_key.sh", shellArgs, { ...admin, NAME: "x", BUDGET_USD: usd });
        assert.equal(bad.code, 2, `BUDGET_USD=${usd}: ${bad.stdout}`);
      }
      const unnamed = await run("create_key.sh", shellArgs, admin);
      assert.notEqual(unnamed.code, 0);
      const path = await run("revoke_key.sh", shellArgs, { ...admin, KEY_ID: "../keys" });
      assert.equal(path.code, 2, path.stdout);
      assert.deepEqual(
        JSON.parse((await run("usage_report.sh", shellArgs, admin)).stdout).data,
        [],
      );

      const period = await run("create_key.sh", shellArgs, {
        ...admin,
        NAME: "x",
        BUDGET_USD: "5",
        BUDGET_PERIOD: "1y",
      });
      assert.notEqual(period.code, 0, period.stdout);
      assert.match(period.stdout, /budget\.period/);
      const missing = await run("revoke_key.sh", shellArgs, { ...admin, KEY_ID: "no-such-key" });
      assert.notEqual(missing.code, 0, missing.stdout);
      assert.match(missing.stdout, /"error"/);
      const wrongKey = await run("usage_report.sh", shellArgs, {
        ...admin,
        GATEWAY_ADMIN_KEY: "not-an-admin-key",
      });
      assert.notEqual(wrongKey.code, 0, wrongKey.stdout);
      assert.match(wrongKey.stdout, /"error"/);
      assert.equal(
        (await usageRows(gw, "key")).length,
        0,
        "nothing the scripts refused reached the store",
      );
    });
  });
}
