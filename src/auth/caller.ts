import type { LimitRule } from "../config/types.ts";
import type { Budget } from "../store/store.ts";

/** Who is calling: a gateway key or a verified token's subject. */
export interface Caller {
  /** Key name or token subject; used for rate limits and logs. Never a secret. */
  name: string;
  kind: "key" | "jwt";
  groups: readonly string[];
  /** Models this caller may use at most (`provider/model`, `provider/*`, strategy names); null = no narrowing. */
  models: readonly string[] | null;
  /** A key's id in the store's spend (a virtual key's id); absent: the key is known by `name`. */
  keyId?: string;
  /** A virtual key's own rate limit, in place of the configured rules; absent or null for those. */
  rateLimit?: LimitRule | null;
  /** What a key may spend; absent or null for no key budget (group and user budgets still apply). */
  budget?: Budget | null;
}

/** Credentials were missing or invalid; the message is safe to show (never contains the credential). */
export class AuthError extends Error {
  // `options.cause` is for operators' logs (e.g. why the identity provider was unreachable); it must
  // never carry the credential or its claims either.
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AuthError";
  }
}
