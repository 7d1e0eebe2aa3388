import assert from "node:assert/strict";
import {
  base64url,
  exportJWK,
  generateKeyPair,
  type JWK,
  type JWTPayload,
  type ProtectedHeaderParameters,
  SignJWT,
} from "jose";
import { AuthError } from "../../src/auth/caller.ts";
import { createOidcVerifier, type OidcVerifier } from "../../src/auth/oidc.ts";
import type { OidcConfig } from "../../src/config/types.ts";
import { startIssuer } from "../support/jwks_server.ts";

interface TestKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function newKey(kid: string): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair("RS256", { extractable: true });
  const jwk = { ...await exportJWK(publicKey), kid, alg: "RS256", use: "sig" };
  return { kid, privateKey, jwk };
}

const keyA = await newKey("key-a");
const keyB = await newKey("key-b");

/** A controllable clock shared by the verifier (caches, exp/nbf) and the token factory. */
function clock(): { now: () => number; advance: (ms: number) => void } {
  let current = Date.now();
  return { now: () => current, advance: (ms) => current += ms };
}

function config(issuer: string, overrides: Partial<OidcConfig> = {}): OidcConfig {
  return {
    issuer,
    audience: ["llm-gateway"],
    jwks_url: null,
    cache_ttl_ms: 600_000,
    clock_skew_ms: 30_000,
    groups_claims: ["groups", "realm_access.roles"],
    algorithms: ["RS256", "RS384", "RS512", "PS256", "ES256", "ES384", "EdDSA"],
    ...overrides,
  };
}

/** Signs a token valid for an hour from `nowMs`; `claims` override the defaults. */
function sign(
  key: TestKey,
  issuer: string,
  nowMs: number,
  claims: JWTPayload = {},
  header: Partial<ProtectedHeaderParameters> = {},
): Promise<string> {
  const iat = Math.floor(nowMs / 1000);
  return new SignJWT({
    iss: issuer,
    sub: "alice",
    aud: "llm-gateway",
    iat,
    exp: iat + 3600,
    ...claims,
  }).setProtectedHeader({ alg: "RS256", kid: key.kid, ...header }).sign(key.privateKey);
}

async function rejection(verifier: OidcVerifier, token: string): Promise<AuthError> {
  const error = await verifier.verify(token).then(
    () => assert.fail("expected the token to be rejected"),
    (error: unknown) => error,
  );
  assert.ok(error instanceof AuthError, `expected AuthError, got ${String(error)}`);
  assert.equal(error.name, "AuthError");
  if (token !== "") {
    assert.ok(!error.message.includes(token), "the message never contains the token");
  }
  for (const part of token.split(".").filter((p) => p.length > 8)) {
    assert.ok(!String(error.stack).includes(part), "no part of the token leaks into the error");
  }
  return error;
}

async function assertRejected(verifier: OidcVerifier, token: string, message: string) {
  assert.equal((await rejection(verifier, token)).message, message);
}

Deno.test("a valid token becomes a jwt caller named by sub with merged, de-duplicated groups", async () => {
  await using idp = startIssuer([keyA.jwk]);
  const time = clock();
  const verifier = createOidcVerifier(config(idp.issuer), { now: time.now });
  const token = await sign(keyA, idp.issuer, time.now(), {
    groups: ["/testgroup", "/org/team", "dev"],
    realm_access: { roles: ["dev", "offline_access"] },
  });
  assert.deepEqual(await verifier.verify(token), {
    name: "alice",
    kind: "jwt",
    groups: ["testgroup", "org/team", "dev", "offline_access"],
    models: null,
  });
  assert.equal(idp.discoveryHits, 1);
  assert.equal(idp.jwksHits, 1);
});

Deno.test("groups come from nested, namespaced and single-string claims; other values are ignored", async () => {
  await using idp = startIssuer([keyA.jwk]);
  const time = clock();
  const groupsClaims = [
    "https://example.com/roles",
    "resource_access.gateway.roles",
    "team",
    "nope",
  ];
  const verifier = createOidcVerifier(config(idp.issuer, { groups_claims: groupsClaims }), {
    now: time.now,
  });
  const token = await sign(keyA, idp.issuer, time.now(), {
    "https://example.com/roles": ["admin"],
    resource_access: { gateway: { roles: ["chat", 42, null, ""] } },
    team: "blue",
    groups: ["not-configured"],
  });
  const caller = await verifier.verify(token);
  assert.deepEqual(caller.groups, ["admin", "chat", "blue"]);
});

Deno.test("a token without groups claims yields a caller with no groups", async () => {
  await using idp = startIssuer([keyA.jwk]);
  const time = clock();
  const verifier = createOidcVerifier(config(idp.issuer), { now: time.now });
  const caller = await verifier.verify(await sign(keyA, idp.issuer, time.now()));
  assert.deepEqual(caller.groups, []);
});

Deno.test("expired tokens and tokens not yet valid are rejected beyond the clock skew only", async () => {
  await using idp = startIssuer([keyA.jwk]);
  const time = clock();
  const verifier = createOidcVerifier(config(idp.issuer, { clock_skew_ms: 30_000 }), {
    now: time.now,
  });
  const nowS = Math.floor(time.now() / 1000);
  const expired = await sign(keyA, idp.issuer, time.now(), { exp: nowS - 60 });
  await assertRejected(verifier, expired, "token expired");
  const early = await sign(keyA, idp.issuer, time.now(), { nbf: nowS + 120 });
  await assertRejected(verifier, early, "token not yet valid");

  const justExpired = await sign(keyA, idp.issuer, time.now(), { exp: nowS - 10 });
  assert.equal((await verifier.verify(justExpired)).name, "alice", "within skew after exp");
  const almostValid = await sign(keyA, idp.issuer, time.now(), { nbf: nowS + 10 });
  assert.equal((await verifier.verify(almostValid)).name, "alice", "within skew before nbf");
});

Deno.test("a token without exp or sub is rejected", async () => {
  await using idp = startIssuer([keyA.jwk]);
  const time = clock();
  const verifier = createOidcVerifier(config(idp.issuer), { now: time.now });
  const noExp = await sign(keyA, idp.issuer, time.now(), { exp: undefined });
  await assertRejected(verifier, noExp, 'token missing "exp" claim');
  const noSub = await sign(keyA, idp.issuer, time.now(), { sub: undefined });
  await assertRejected(verifier, noSub, 'token missing "sub" claim');
});

Deno.test("audience must contain one of the configured values; null audience skips the check", async () => {
  await using idp = startIssuer([keyA.jwk]);
  const time = clock();
  const strict = createOidcVerifier(config(idp.issuer, { audience: ["llm-gateway", "api"] }), {
    now: time.now,
  });
  const other = await sign(keyA, idp.issuer, time.now(), { aud: "other-app" });
  await assertRejected(strict, other, "token audience mismatch");
  const several = await sign(keyA, idp.issuer, time.now(), { aud: ["account", "api"] });
  assert.equal((await strict.verify(several)).name, "alice");

  const open = createOidcVerifier(config(idp.issuer, { audience: null }), { now: time.now });
  assert.equal((await open.verify(other)).name, "alice");
});

Deno.test("a token from another issuer is rejected", async () => {
  await using idp = startIssuer([keyA.jwk]);
  const time = clock();
  const verifier = createOidcVerifier(config(idp.issuer), { now: time.now });
  const token = await sign(keyA, "https://evil.example/realms/test", time.now());
  await assertRejected(verifier, token, "token issuer mismatch");
});

Deno.test("a rotated key is fetched on an unknown kid, at most once per interval", async () => {
  await using idp = startIssuer([keyA.jwk]);
  const time = clock();
  const verifier = createOidcVerifier(config(idp.issuer), { now: time.now });
  assert.equal((await verifier.verify(await sign(keyA, idp.issuer, time.now()))).name, "alice");
  assert.equal(idp.jwksHits, 1);

  idp.keys = [keyB.jwk];
  time.advance(15_000);
  const rotated = await sign(keyB, idp.issuer, time.now(), { sub: "bob" });
  assert.equal((await verifier.verify(rotated)).name, "bob", "unknown kid triggered a refetch");
  assert.equal(idp.jwksHits, 2);

  // Garbage kids right after a fetch are answered from the cache, not by asking the IdP again.
  for (let i = 0; i < 20; i++) {
    const garbage = await sign(keyB, idp.issuer, time.now(), {}, { kid: `garbage-${i}` });
    await assertRejected(verifier, garbage, "token signing key not found");
  }
  const retired = await sign(keyA, idp.issuer, time.now());
  await assertRejected(verifier, retired, "token signing key not found");
  assert.equal(idp.jwksHits, 2);
  assert.equal(idp.discoveryHits, 1, "discovery metadata is still fresh");

  time.advance(10_000);
  const garbage = await sign(keyB, idp.issuer, time.now(), {}, { kid: "garbage-late" });
  await assertRejected(verifier, garbage, "token signing key not found");
  assert.equal(idp.jwksHits, 3, "one refetch once the interval has passed");
});

Deno.test("a key rotated moments after the last fetch is picked up once the interval passes", async () => {
  await using idp = startIssuer([keyA.jwk]);
  const time = clock();
  const verifier = createOidcVerifier(config(idp.issuer), { now: time.now });
  await verifier.verify(await sign(keyA, idp.issuer, time.now()));
  idp.keys = [keyA.jwk, keyB.jwk];
  const rotated = await sign(keyB, idp.issuer, time.now());
  await assertRejected(verifier, rotated, "token signing key not found");
  assert.equal(idp.jwksHits, 1);
  time.advance(10_000);
  assert.equal((await verifier.verify(rotated)).name, "alice");
  assert.equal(idp.jwksHits, 2);
});

Deno.test("a token whose payload or signature was altered is rejected", async () => {
  await using idp = startIssuer([keyA.jwk]);
  const time = clock();
  const verifier = createOidcVerifier(config(idp.issuer), { now: time.now });
  const token = await sign(keyA, idp.issuer, time.now(), { groups: ["users"] });
  const [header, payload, signature] = token.split(".") as [string, string, string];

  const claims = JSON.parse(new TextDecoder().decode(base64url.decode(payload)));
  const forged = base64url.encode(JSON.stringify({ ...claims, groups: ["admins"] }));
  await assertRejected(verifier, `${header}.${forged}.${signature}`, "token signature invalid");

  const middle = Math.floor(signature.length / 2);
  const flipped = signature[middle] === "A" ? "B" : "A";
  const badSignature = signature.slice(0, middle) + flipped + signature.slice(middle + 1);
  await assertRejected(verifier, `${header}.${payload}.${badSignature}`, "token signature invalid");
});

Deno.test("unsigned (alg none) and HMAC tokens are rejected without contacting the IdP", async () => {
  await using idp = startIssuer([keyA.jwk]);
  const time = clock();
  const verifier = createOidcVerifier(config(idp.issuer), { now: time.now });
  const nowS = Math.floor(time.now() / 1000);
  const encode = (value: unknown) => base64url.encode(JSON.stringify(value));
  const claims = { iss: idp.issuer, sub: "mallory", aud: "llm-gateway", exp: nowS + 3600 };
  const unsigned = `${encode({ alg: "none", typ: "JWT" })}.${encode(claims)}.`;
  await assertRejected(verifier, unsigned, "unsupported token algorithm");

  // Key confusion: the RSA public key's bytes used as an HMAC secret.
  const secret = new TextEncoder().encode(JSON.stringify(keyA.jwk));
  const hmac = await new SignJWT(claims).setProtectedHeader({ alg: "HS256", kid: keyA.kid })
    .sign(secret);
  await assertRejected(verifier, hmac, "unsupported token algorithm");

  // Even when misconfigured to allow them, none and HS* are never accepted.
  const lax = createOidcVerifier(config(idp.issuer, { algorithms: ["RS256", "HS256", "none"] }), {
    now: time.now,
  });
  await assertRejected(lax, hmac, "unsupported token algorithm");
  await assertRejected(lax, unsigned, "unsupported token algorithm");
  assert.equal(idp.discoveryHits + idp.jwksHits, 0);
});

Deno.test("configuring only none/HS* algorithms fails at creation", () => {
  assert.throws(
    () => createOidcVerifier(config("https://idp.example", { algorithms: ["HS256", "none"] })),
    /asymmetric/,
  );
});

Deno.test("a token signed with an allowed but unlisted algorithm is rejected", async () => {
  await using idp = startIssuer([keyA.jwk]);
  const time = clock();
  const verifier = createOidcVerifier(config(idp.issuer, { algorithms: ["ES256"] }), {
    now: time.now,
  });
  await assertRejected(
    verifier,
    await sign(keyA, idp.issuer, time.now()),
    "unsupported token algorithm",
  );
});

Deno.test("garbage that is not a JWT is rejected as malformed", async () => {
  await using idp = startIssuer([keyA.jwk]);
  const verifier = createOidcVerifier(config(idp.issuer));
  for (const token of ["", "abc", "a.b.c", "bm90IGpzb24.e30.c2ln", "....."]) {
    await assertRejected(verifier, token, "malformed token");
  }
  assert.equal(idp.discoveryHits + idp.jwksHits, 0);
});

Deno.test("an unreachable issuer yields 'identity provider unreachable' and is not retried at once", async () => {
  const idp = startIssuer([keyA.jwk]);
  const issuer = idp.issuer;
  await idp.close();
  let fetches = 0;
  const countingFetch: typeof fetch = (input, init) => {
    fetches++;
    return fetch(input, init);
  };
  const time = clock();
  const verifier = createOidcVerifier(config(issuer), { fetch: countingFetch, now: time.now });
  const token = await sign(keyA, issuer, time.now());
  const error = await rejection(verifier, token);
  assert.equal(error.message, "identity provider unreachable");
  assert.ok(error.cause instanceof Error, "the cause tells operators what failed");
  assert.equal(fetches, 1);

  await assertRejected(verifier, token, "identity provider unreachable");
  assert.equal(fetches, 1, "failures are not retried within the interval");
  time.advance(10_000);
  await assertRejected(verifier, token, "identity provider unreachable");
  assert.equal(fetches, 2);
});

Deno.test("an IdP answering errors is unreachable; once it recovers, tokens verify", async () => {
  await using idp = startIssuer([keyA.jwk]);
  idp.failStatus = 503;
  const time = clock();
  const verifier = createOidcVerifier(config(idp.issuer), { now: time.now });
  const token = await sign(keyA, idp.issuer, time.now());
  await assertRejected(verifier, token, "identity provider unreachable");
  idp.failStatus = null;
  time.advance(10_000);
  assert.equal((await verifier.verify(token)).name, "alice");
});

Deno.test("metadata and keys are fetched once per TTL, even for concurrent verifications", async () => {
  await using idp = startIssuer([keyA.jwk]);
  const time = clock();
  const verifier = createOidcVerifier(config(idp.issuer, { cache_ttl_ms: 60_000 }), {
    now: time.now,
  });
  const token = await sign(keyA, idp.issuer, time.now());
  const callers = await Promise.all(Array.from({ length: 10 }, () => verifier.verify(token)));
  assert.equal(callers.length, 10);
  for (let i = 0; i < 50; i++) await verifier.verify(token);
  assert.equal(idp.discoveryHits, 1);
  assert.equal(idp.jwksHits, 1);

  time.advance(59_000);
  await verifier.verify(token);
  assert.equal(idp.jwksHits, 1, "still within the TTL");
  time.advance(1_000);
  await verifier.verify(token);
  assert.equal(idp.discoveryHits, 2);
  assert.equal(idp.jwksHits, 2);
});

Deno.test("cached keys keep verifying while the IdP is down after the TTL", async () => {
  await using idp = startIssuer([keyA.jwk]);
  const time = clock();
  const verifier = createOidcVerifier(config(idp.issuer, { cache_ttl_ms: 60_000 }), {
    now: time.now,
  });
  const token = await sign(keyA, idp.issuer, time.now());
  await verifier.verify(token);
  idp.failStatus = 500;
  time.advance(61_000);
  assert.equal((await verifier.verify(token)).name, "alice", "stale keys beat no keys");
  assert.equal((await verifier.verify(token)).name, "alice");
  assert.equal(idp.discoveryHits, 2, "one failed attempt, then the retry interval");

  idp.failStatus = null;
  idp.keys = [keyB.jwk];
  time.advance(10_000);
  await verifier.verify(await sign(keyB, idp.issuer, time.now()));
  await assertRejected(verifier, token, "token signing key not found");
});

Deno.test("a configured jwks_url skips discovery", async () => {
  await using idp = startIssuer([keyA.jwk]);
  const time = clock();
  const verifier = createOidcVerifier(config(idp.issuer, { jwks_url: idp.jwksUrl }), {
    now: time.now,
  });
  assert.equal((await verifier.verify(await sign(keyA, idp.issuer, time.now()))).name, "alice");
  assert.equal(idp.discoveryHits, 0);
  assert.equal(idp.jwksHits, 1);
});

Deno.test("a token without kid verifies against a JWKS holding two keys of its type", async () => {
  await using idp = startIssuer([
    { ...keyA.jwk, kid: undefined },
    { ...keyB.jwk, kid: undefined },
  ]);
  const time = clock();
  const verifier = createOidcVerifier(config(idp.issuer), { now: time.now });
  const token = await sign(keyB, idp.issuer, time.now(), {}, { kid: undefined });
  assert.equal((await verifier.verify(token)).name, "alice");
  const foreign = await newKey("foreign");
  const forged = await sign(foreign, idp.issuer, time.now(), {}, { kid: undefined });
  await assertRejected(verifier, forged, "token signature invalid");
});
