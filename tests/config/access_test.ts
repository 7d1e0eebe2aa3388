import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { loadConfig } from "../../src/config/load.ts";
import { parseLines, rejectLines } from "./parse_helpers.ts";

Deno.test("the original design's auth and ratelimit sections load as written", async () => {
  const path = new URL("../testdata/config/access.yaml", import.meta.url).pathname;
  const config = await loadConfig(path, {});
  assert.equal(config.auth.enabled, true);
  assert.deepEqual(config.auth.oidc, {
    issuer: "http://localhost:8081/realms/myrealm",
    audience: ["account"],
    jwks_url: null,
    cache_ttl_ms: 600_000,
    clock_skew_ms: 30_000,
    groups_claims: ["groups", "realm_access.roles"],
    algorithms: ["RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"],
  });
  assert.equal(config.ratelimit.enabled, true);
  assert.equal(config.ratelimit.backend, "redis");
  assert.equal(config.ratelimit.redis_address, "localhost:6379");
  assert.deepEqual(config.ratelimit.default, { requests: 100, tokens: null, window_ms: 60_000 });
  assert.deepEqual(config.ratelimit.groups, {
    testgroup: { requests: 5, tokens: null, window_ms: 60_000 },
  });
  assert.deepEqual(config.providers[0]!.models, [
    {
      name: "gpt-4",
      allowed_groups: ["testgroup", "premium-users"],
      max_output_tokens: null,
      price: null,
    },
  ]);
  assert.equal(config.providers[0]!.target_url, "https://api.openai.com");
});

Deno.test("gateway keys are kept only as SHA-256 hashes", async () => {
  const hash = createHash("sha256").update("gw-bob-0123456789abcdef").digest("hex");
  const config = await parseLines([
    "auth:",
    "  enabled: true",
    "  keys:",
    "    - name: alice",
    '      key: "${ALICE_KEY}"',
    "      groups: [testgroup]",
    "      models: [openai/gpt-4o, smart]",
    "    - name: bob",
    `      key_sha256: "${hash.toUpperCase()}"`,
  ], { ALICE_KEY: "gw-alice-0123456789abcdef" });
  const [alice, bob] = config.auth.keys;
  assert.equal(
    alice!.sha256,
    createHash("sha256").update("gw-alice-0123456789abcdef").digest("hex"),
  );
  assert.deepEqual(alice!.groups, ["testgroup"]);
  assert.deepEqual(alice!.models, ["openai/gpt-4o", "smart"]);
  assert.equal(bob!.sha256, hash);
  assert.equal(bob!.models, null);
  assert.doesNotMatch(JSON.stringify(config), /gw-alice-0123456789abcdef/);
});

Deno.test("bad auth and ratelimit settings are errors naming field and line", async () => {
  assert.deepEqual(
    await rejectLines([
      "auth:",
      "  enabled: true",
      "  algorithms: [RS256, none]",
      "  keys:",
      "    - name: a",
      "      key: short",
      "    - name: a",
      '      key: "0123456789abcdef0"',
      '      key_sha256: "abc"',
      "ratelimit:",
      "  backend: redis",
      '  redis_address: "localhost"',
      "  groups:",
      "    gold:",
      "      name: silver",
      "      requests: 0",
      "      window: 1m",
    ]),
    [
      'auth.algorithms[1]: "none" is not accepted: tokens must be signed with the issuer\'s private key (config.yaml:3)',
      "auth.keys[0].key: must be at least 16 characters (a short key can be guessed) (config.yaml:6)",
      "auth.keys[1]: needs exactly one of key or key_sha256 (config.yaml:7)",
      'auth.keys[1].name: duplicate key name "a" (first at keys[0]) (config.yaml:7)',
      "auth.keys[1].key_sha256: expected 64 hex characters (sha256sum of the key) (config.yaml:9)",
      'ratelimit.redis_address: expected "host:port" (config.yaml:12)',
      "ratelimit.groups.gold.requests: must be at least 1 (config.yaml:16)",
    ],
  );
});

Deno.test("auth enabled with no way in is an error", async () => {
  assert.deepEqual(await rejectLines(["auth:", "  enabled: true"]), [
    "auth: auth is enabled but has neither keys, admin_keys nor an issuer: nobody could get in (config.yaml:2)",
  ]);
});

Deno.test("admin keys are kept as hashes; one key in both lists is an error", async () => {
  const hash = createHash("sha256").update("admin-0123456789abcdef").digest("hex");
  const config = await parseLines([
    "auth:",
    "  enabled: true",
    "  admin_keys:",
    "    - name: ops",
    '      key: "admin-0123456789abcdef"',
  ]);
  assert.deepEqual(config.auth.admin_keys, [{ name: "ops", sha256: hash }]);
  assert.deepEqual(config.auth.keys, []);

  assert.deepEqual(
    await rejectLines([
      "auth:",
      "  keys:",
      "    - name: app",
      '      key: "shared-0123456789abcdef"',
      "  admin_keys:",
      "    - name: ops",
      '      key: "shared-0123456789abcdef"',
      "    - name: ops",
      '      key_sha256: "abc"',
    ]),
    [
      "auth.admin_keys[0]: same key as keys[0]; each caller needs its own key (config.yaml:6)",
      'auth.admin_keys[1].name: duplicate key name "ops" (first at admin_keys[0]) (config.yaml:8)',
      "auth.admin_keys[1].key_sha256: expected 64 hex characters (sha256sum of the key) (config.yaml:9)",
    ],
  );
});

Deno.test("auth.admin_groups needs an issuer to read groups from", async () => {
  assert.deepEqual(
    await rejectLines([
      "auth:",
      "  enabled: true",
      "  keys: [{name: a, key: sk-gw-aaaaaaaaaaaaaaaa}]",
      "  admin_groups: [ops]",
    ]),
    [
      "auth.admin_groups: needs an issuer: admin groups are read from the identity provider's " +
      "tokens (config.yaml:4)",
    ],
  );
});
