import { AuthError, type Caller } from "../auth/caller.ts";
import type { OidcVerifier } from "../auth/oidc.ts";
import { digestsEqual, loadKeyHasher } from "../auth/key_hash.ts";
import type { VirtualKeyCache } from "../auth/virtual_keys.ts";
import type { AuthConfig, OidcConfig } from "../config/types.ts";
import { GatewayError } from "../core/errors.ts";
import type { Context, Middleware } from "../http/context.ts";

/** A compact JWS: three base64url segments, the header starting `{"` (`eyJ`). */
const JWT_SHAPE = /^eyJ[\w-]*\.[\w-]+\.[\w-]*$/;

/** What identifies callers: the OIDC verifier (with an issuer) and the store's keys (with a store). */
export interface IdentifyOptions {
  verifier: OidcVerifier | null;
  virtualKeys?: VirtualKeyCache | null;
}

/**
 * The caller a credential stands for: a config key, a virtual key from the store, or a JWT from
 * the configured issuer. Rejects with `AuthError` for anything else, a revoked or expired key
 * included.
 */
export function createIdentifier(
  config: AuthConfig,
  options: IdentifyOptions,
): (credential: string) => Promise<Caller> {
  const keys = config.keys.map((k) => ({
    hash: Uint8Array.fromHex(k.sha256),
    caller: {
      name: k.name,
      kind: "key",
      groups: k.groups,
      models: k.models,
      budget: k.budget,
    } satisfies Caller,
  }));
  const verifier = options.verifier;
  const virtualKeys = options.virtualKeys ?? null;
  const hasher = keys.length > 0 || virtualKeys !== null ? loadKeyHasher() : null;

  async function findKey(presented: string): Promise<Caller | undefined> {
    if (hasher === null) return undefined;
    const digest = (await hasher)(presented);
    let found: Caller | undefined;
    // Every stored hash is compared, in constant time, so timing reveals neither which key
    // matched nor how much of it.
    for (const k of keys) {
      if (digestsEqual(k.hash, digest) && found === undefined) found = k.caller;
    }
    if (found !== undefined || virtualKeys === null) return found;
    // Looked up by the hash: its timing tells about the hash of a guess, which is no help.
    const virtual = virtualKeys.lookup(digest.toHex());
    if (virtual === undefined) return undefined;
    if (virtual.state !== "active") throw new AuthError(`API key ${virtual.state}`);
    return virtual.caller;
  }

  return async function identify(credential: string): Promise<Caller> {
    if (verifier !== null && JWT_SHAPE.test(credential)) {
      return await verifier.verify(credential);
    }
    const caller = await findKey(credential);
    if (caller === undefined) throw new AuthError("invalid API key");
    return caller;
  };
}

/**
 * Authenticates every request but the open paths: a gateway key (`Authorization: Bearer` or
 * `x-api-key`), from the config or the store, or, when an issuer is configured, a JWT. Sets
 * `ctx.caller`; 401 otherwise. On the open paths credentials are optional: valid ones set
 * `ctx.caller`, others are ignored.
 */
export function authenticate(
  config: AuthConfig,
  options: IdentifyOptions & { open: ReadonlySet<string> },
): Middleware {
  const identify = createIdentifier(config, options);

  return async function authMiddleware(ctx: Context, next) {
    if (!config.enabled) return next();
    const credential = credentialOf(ctx.request.headers);
    if (options.open.has(ctx.path)) {
      // Open paths need no credentials, but valid ones still identify the caller (`/v1/info`
      // shows them details); invalid ones are ignored, as if absent.
      if (credential !== null) ctx.caller = await identify(credential).catch(() => null);
      return next();
    }
    if (credential === null) {
      throw new GatewayError(
        "invalid_api_key",
        "missing credentials: send Authorization: Bearer <gateway key or token> (or x-api-key)",
      );
    }
    try {
      ctx.caller = await identify(credential);
    } catch (err) {
      if (err instanceof AuthError) throw new GatewayError("invalid_api_key", err.message);
      throw err;
    }
    ctx.state["user.name"] = ctx.caller.name;
    return next();
  };
}

/** An OIDC verifier whose JWT library is loaded only when auth uses an issuer. */
export function createVerifier(config: OidcConfig): OidcVerifier {
  const ready = import("../auth/oidc.ts").then((m) => m.createOidcVerifier(config));
  // A misconfiguration surfaces in the log at start-up, not only at the first request.
  ready.catch(() => {});
  return { verify: async (token: string): Promise<Caller> => (await ready).verify(token) };
}

/** The credential of a request: `Authorization: Bearer`, else `x-api-key`; null for none. */
export function credentialOf(headers: Headers): string | null {
  const auth = headers.get("authorization");
  if (auth !== null) {
    const match = /^Bearer\s+(\S+)\s*$/i.exec(auth);
    return match ? match[1]! : null;
  }
  const key = headers.get("x-api-key");
  return key !== null && key.trim() !== "" ? key.trim() : null;
}
