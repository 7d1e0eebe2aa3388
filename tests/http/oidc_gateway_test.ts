import assert from "node:assert/strict";
import { exportJWK, generateKeyPair, SignJWT } from "jose";
import { OpenAI } from "../support/openai.ts";
import { startIssuer } from "../support/jwks_server.ts";
import { providerYaml } from "../support/gateway.ts";
import { withGateway } from "./harness.ts";
import { sdkClient } from "../support/sdk.ts";

const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
const jwk = { ...await exportJWK(publicKey), kid: "gw-test", alg: "RS256", use: "sig" };

function token(issuer: string, claims: Record<string, unknown>, expiresIn: string | number = "5m") {
  return new SignJWT({ groups: ["/testgroup"], ...claims })
    .setProtectedHeader({ alg: "RS256", kid: "gw-test" })
    .setIssuer(issuer)
    .setAudience("account")
    .setSubject("user-123")
    .setIssuedAt()
    .setExpirationTime(expiresIn)
    .sign(privateKey);
}

Deno.test("the gateway accepts an issuer's JWT, reads its groups, and refuses an expired one", async () => {
  const issuer = startIssuer([jwk]);
  try {
    await withGateway(({ a }) =>
      `auth:
  enabled: true
  issuer: "${issuer.issuer}"
  audience: "account"
  cache_ttl: "10m"
providers:
${providerYaml("a", a.url)}
    models:
      - name: gpt-4
        allowed_groups: [testgroup]
      - name: gpt-4-premium
        allowed_groups: [premium-users]
`, async ({ gw }) => {
      const valid = await token(issuer.issuer, {});
      const client = sdkClient(gw.url, valid);
      const reply = await client.chat.completions.create({
        model: "a/gpt-4",
        messages: [{ role: "user", content: "hi" }],
      });
      assert.equal(reply.choices[0]!.message.content, "Hello from a");
      const premium = await client.chat.completions.create({
        model: "a/gpt-4-premium",
        messages: [{ role: "user", content: "hi" }],
      }).catch((e) => e);
      assert.ok(premium instanceof OpenAI.PermissionDeniedError);
      assert.match(premium.message, /caller "user-123"/);

      const expired = await token(issuer.issuer, {}, Math.floor(Date.now() / 1000) - 3600);
      const old = sdkClient(gw.url, expired);
      const err = await old.models.list().catch((e) => e);
      assert.ok(err instanceof OpenAI.AuthenticationError);
      assert.match(err.message, /token expired/);
      const logs = await gw.logText();
      assert.ok(!logs.includes(valid) && !logs.includes(expired), "no token in the logs");
      assert.match(logs, /"user.name":"user-123"/);
    });
  } finally {
    await issuer.close();
  }
});

Deno.test("auth.admin_groups lets a token in that group use the admin API, and no one else", async () => {
  const issuer = startIssuer([jwk]);
  const dir = await Deno.makeTempDir({ prefix: "gateway-admin-groups-" });
  try {
    await withGateway(({ a }) =>
      `auth:
  enabled: true
  issuer: "${issuer.issuer}"
  audience: "account"
  admin_groups: [ops]
  keys:
    - name: ci
      key: "sk-gw-ci-0123456789"
      groups: [ops]
storage:
  path: "${dir}/gateway.db"
providers:
${providerYaml("a", a.url)}
`, async ({ gw }) => {
      const admin = (credential: string, init: RequestInit = {}) =>
        fetch(`${gw.url}/admin/keys`, {
          ...init,
          headers: { authorization: `Bearer ${credential}`, "content-type": "application/json" },
        });
      const ops = await token(issuer.issuer, { groups: ["ops"] });
      const created = await admin(ops, { method: "POST", body: '{"name":"made-by-alice"}' });
      assert.equal(created.status, 201, await created.clone().text());
      const key = (await created.json()).key as string;
      const listed = await admin(ops);
      assert.equal(listed.status, 200);
      assert.deepEqual((await listed.json()).data.map((k: { name: string }) => k.name), [
        "made-by-alice",
      ]);
      // A token outside the group, a config key in a group of that name, the new virtual key.
      for (const credential of [await token(issuer.issuer, {}), "sk-gw-ci-0123456789", key]) {
        const refused = await admin(credential);
        assert.equal(refused.status, 403);
        assert.match((await refused.json()).error.message, /auth\.admin_groups/);
      }
      const logs = await gw.logText();
      assert.ok(!logs.includes(ops), "no token in the logs");
      assert.match(
        logs,
        /"url.path":"\/admin\/keys","http.response.status_code":201,.*"user.name":"user-123"/,
      );
    }, { openStorage: true });
  } finally {
    await issuer.close();
    await Deno.remove(dir, { recursive: true });
  }
});
