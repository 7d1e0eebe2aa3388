// OIDC/JWT verification: discovery, a cached JWKS, and jose for the cryptography and claim checks.
import {
  createLocalJWKSet,
  errors,
  type JSONWebKeySet,
  type JWTPayload,
  jwtVerify,
  type JWTVerifyGetKey,
  type JWTVerifyOptions,
  type LocalJWKSet,
} from "jose";
import type { OidcConfig } from "../config/types.ts";
import { AuthError, type Caller } from "./caller.ts";

/** Verifies bearer tokens issued by the configured identity provider. */
export interface OidcVerifier {
  /** Resolves to the token's caller; rejects with `AuthError` only. */
  verify(token: string): Promise<Caller>;
}

/** Test seams for `createOidcVerifier`. */
export interface OidcVerifierOptions {
  /** Used for discovery and JWKS requests (default: global `fetch`). */
  fetch?: typeof fetch;
  /** Current time in ms since the epoch, for caches and `exp`/`nbf` (default: `Date.now`). */
  now?: () => number;
}

/** Bound on one discovery or JWKS request, so a hanging IdP cannot hold requests for long. */
const FETCH_TIMEOUT_MS = 5_000;
/**
 * Least time between two attempts to fetch keys outside the TTL schedule: an unknown `kid` or a
 * failed fetch triggers at most one request per interval, so garbage tokens or an IdP outage
 * cannot turn gateway traffic into IdP traffic.
 */
const MIN_REFETCH_INTERVAL_MS = 10_000;

/** Creates a verifier for `config`; discovery and key fetches happen lazily, on first use. */
export function createOidcVerifier(
  config: OidcConfig,
  options: OidcVerifierOptions = {},
): OidcVerifier {
  const now = options.now ?? Date.now;
  const getKey = createKeySource(config, { fetch: options.fetch ?? fetch, now });
  const algorithms = asymmetricAlgorithms(config.algorithms);
  const verifyOptions = (): JWTVerifyOptions => ({
    algorithms,
    issuer: config.issuer,
    audience: config.audience ?? undefined,
    clockTolerance: config.clock_skew_ms / 1000,
    currentDate: new Date(now()),
    // jose accepts a token without `exp` forever; a bearer credential must expire.
    requiredClaims: ["sub", "exp"],
  });
  return {
    async verify(token: string): Promise<Caller> {
      try {
        if (typeof token !== "string" || token === "") throw new AuthError("malformed token");
        const payload = await verifyToken(token, getKey, verifyOptions());
        return callerFromClaims(payload, config.groups_claims);
      } catch (error) {
        throw toAuthError(error);
      }
    },
  };
}

// "none" carries no signature and HS* would use a public JWK as an HMAC secret (key confusion).
function asymmetricAlgorithms(configured: readonly string[]): string[] {
  const algorithms = configured.filter((alg) => alg !== "none" && !alg.startsWith("HS"));
  if (algorithms.length === 0) {
    throw new Error("auth.algorithms: needs at least one asymmetric algorithm (e.g. RS256)");
  }
  return algorithms;
}

async function verifyToken(
  token: string,
  getKey: JWTVerifyGetKey,
  options: JWTVerifyOptions,
): Promise<JWTPayload> {
  try {
    return (await jwtVerify(token, getKey, options)).payload;
  } catch (error) {
    // A token without `kid` matches every key of its type; during a rotation there are two.
    if (!(error instanceof errors.JWKSMultipleMatchingKeys)) throw error;
    for await (const key of error) {
      try {
        return (await jwtVerify(token, key, options)).payload;
      } catch (inner) {
        if (!(inner instanceof errors.JWSSignatureVerificationFailed)) throw inner;
      }
    }
    throw new errors.JWSSignatureVerificationFailed();
  }
}

/** Internal: discovery or JWKS could not be fetched or parsed. Never carries token data. */
class IdpUnreachable extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "IdpUnreachable";
  }
}

interface Io {
  fetch: typeof fetch;
  now: () => number;
}

interface CachedKeys {
  resolve: LocalJWKSet;
  fetchedAt: number;
}

/**
 * jose's `createRemoteJWKSet` is not used: it refetches on every request while the IdP is down
 * (each waiting up to the timeout), drops the cached keys once they are stale even when the
 * refetch fails, and reads `Date.now` itself. This source keeps serving the last good keys while
 * the IdP is unreachable and rate-limits every off-schedule fetch.
 */
function createKeySource(config: OidcConfig, io: Io): JWTVerifyGetKey {
  const refetchInterval = Math.min(MIN_REFETCH_INTERVAL_MS, config.cache_ttl_ms);
  let keys: CachedKeys | null = null;
  let metadata: { jwksUrl: string; fetchedAt: number } | null = null;
  let lastAttemptAt = -Infinity;
  let inflight: Promise<void> | null = null;

  function isFresh(fetchedAt: number): boolean {
    return io.now() - fetchedAt < config.cache_ttl_ms;
  }

  // Concurrent callers share one fetch; within the interval after an attempt nothing is fetched.
  function refresh(): Promise<void> {
    if (inflight) return inflight;
    if (io.now() - lastAttemptAt < refetchInterval) return Promise.resolve();
    lastAttemptAt = io.now();
    inflight = load().finally(() => {
      inflight = null;
    });
    return inflight;
  }

  async function load(): Promise<void> {
    const url = await jwksUrl();
    const body = await fetchJson(url, io.fetch);
    try {
      keys = { resolve: createLocalJWKSet(body as JSONWebKeySet), fetchedAt: io.now() };
    } catch (cause) {
      throw new IdpUnreachable(`${url}: not a JSON Web Key Set`, { cause });
    }
  }

  async function jwksUrl(): Promise<string> {
    if (config.jwks_url !== null) return config.jwks_url;
    if (metadata && isFresh(metadata.fetchedAt)) return metadata.jwksUrl;
    try {
      metadata = { jwksUrl: await discoverJwksUrl(config.issuer, io.fetch), fetchedAt: io.now() };
    } catch (error) {
      // The last known jwks_uri beats none while discovery is failing.
      if (!metadata) throw error;
    }
    return metadata.jwksUrl;
  }

  return async function getKey(header, token) {
    if (!keys || !isFresh(keys.fetchedAt)) {
      // Stale keys keep verifying while the IdP is unreachable; the refetch is retried later.
      await refresh().catch((error) => {
        if (!keys) throw error;
      });
    }
    const current = keys;
    if (!current) throw new IdpUnreachable("no keys yet; last fetch failed recently");
    try {
      return await current.resolve(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      // Unknown `kid`: the IdP may have rotated its keys since the last fetch.
      await refresh();
      const next = keys;
      if (next === null || next === current) throw error;
      return next.resolve(header, token);
    }
  };
}

async function discoverJwksUrl(issuer: string, fetchImpl: typeof fetch): Promise<string> {
  // OIDC Discovery 1.0 §4: drop a terminating "/" from the issuer before appending the path.
  const url = `${issuer.replace(/\/$/, "")}/.well-known/openid-configuration`;
  const body = await fetchJson(url, fetchImpl);
  const jwksUri = isRecord(body) ? body.jwks_uri : undefined;
  if (typeof jwksUri !== "string" || !/^https?:\/\//i.test(jwksUri) || !URL.canParse(jwksUri)) {
    throw new IdpUnreachable(`${url}: no http(s) jwks_uri in the metadata`);
  }
  return jwksUri;
}

async function fetchJson(url: string, fetchImpl: typeof fetch): Promise<unknown> {
  let response: Response;
  try {
    response = await fetchImpl(url, {
      headers: { accept: "application/json" },
      signal: AbortSignal.timeout(FETCH_TIMEOUT_MS),
    });
  } catch (cause) {
    throw new IdpUnreachable(`GET ${url} failed`, { cause });
  }
  if (response.status !== 200) {
    await response.body?.cancel();
    throw new IdpUnreachable(`GET ${url}: HTTP ${response.status}`);
  }
  try {
    return await response.json();
  } catch (cause) {
    throw new IdpUnreachable(`GET ${url}: body is not JSON`, { cause });
  }
}

function callerFromClaims(claims: JWTPayload, groupClaims: readonly string[]): Caller {
  const sub = claims.sub;
  if (typeof sub !== "string" || sub === "") throw new AuthError('token missing "sub" claim');
  return { name: sub, kind: "jwt", groups: groupsFromClaims(claims, groupClaims), models: null };
}

function groupsFromClaims(claims: JWTPayload, paths: readonly string[]): string[] {
  const groups = new Set<string>();
  for (const path of paths) {
    const value = claimAt(claims, path);
    const values: unknown[] = typeof value === "string"
      ? [value]
      : Array.isArray(value)
      ? value
      : [];
    for (const item of values) {
      if (typeof item !== "string") continue;
      // Keycloak's group mapper emits full group paths ("/admins", "/org/team") by default; dropping
      // the root "/" makes "Full group path" on and off yield the same names ("admins", "org/team").
      const group = item.startsWith("/") ? item.slice(1) : item;
      if (group !== "") groups.add(group);
    }
  }
  return [...groups];
}

function claimAt(claims: JWTPayload, path: string): unknown {
  // Namespaced claims ("https://example.com/roles", Auth0 style) contain dots themselves, so an
  // exact top-level name wins over walking the dotted path.
  if (Object.hasOwn(claims, path)) return claims[path];
  let node: unknown = claims;
  for (const segment of path.split(".")) {
    if (!isRecord(node) || !Object.hasOwn(node, segment)) return undefined;
    node = node[segment];
  }
  return node;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

// jose errors carry the claims (`payload`), so they are never attached as a cause.
function toAuthError(error: unknown): AuthError {
  if (error instanceof AuthError) return error;
  if (error instanceof IdpUnreachable) {
    return new AuthError("identity provider unreachable", { cause: error });
  }
  if (error instanceof errors.JWTExpired) return new AuthError("token expired");
  if (error instanceof errors.JWTClaimValidationFailed) return claimError(error);
  if (error instanceof errors.JWSSignatureVerificationFailed) {
    return new AuthError("token signature invalid");
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return new AuthError("token signing key not found");
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return new AuthError("unsupported token algorithm");
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return new AuthError("malformed token");
  }
  return new AuthError("token invalid");
}

function claimError(error: InstanceType<typeof errors.JWTClaimValidationFailed>): AuthError {
  if (error.reason === "missing") return new AuthError(`token missing "${error.claim}" claim`);
  if (error.reason !== "check_failed") return new AuthError("malformed token");
  switch (error.claim) {
    case "nbf":
      return new AuthError("token not yet valid");
    case "aud":
      return new AuthError("token audience mismatch");
    case "iss":
      return new AuthError("token issuer mismatch");
    default:
      return new AuthError("token invalid");
  }
}
