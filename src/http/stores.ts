import type { OidcVerifier } from "../auth/oidc.ts";
import type { GatewayConfig } from "../config/types.ts";
import { createVerifier } from "../middleware/auth.ts";
import { createLimiter } from "../middleware/rate_limit.ts";
import type { RateLimiter } from "../ratelimit/limiter.ts";

/** The stores one generation uses, until it hands them back. */
export interface StoreLease {
  /** Null when rate limiting is off. */
  readonly limiter: RateLimiter | null;
  /** Null unless auth is on with an issuer. */
  readonly verifier: OidcVerifier | null;
  /** The generation has drained: a store no generation uses any more is closed. */
  release(): Promise<void>;
}

/**
 * The stores that outlive a configuration: the rate limiter (its counts) and the OIDC verifier
 * (its JWKS cache). Each generation takes them for its configuration: a store whose settings the
 * previous configuration had too is shared, and one is closed once the last generation using it
 * has released it.
 */
export class Stores {
  #limiter = new Slot<RateLimiter>((limiter) => limiter.close());
  #verifier = new Slot<OidcVerifier>(() => Promise.resolve());

  /** The stores for `config`, reusing the previous configuration's where settings are unchanged. */
  take(config: GatewayConfig): StoreLease {
    const { ratelimit, auth } = config;
    const limiter = this.#limiter.take(
      ratelimit.enabled ? JSON.stringify(ratelimit) : "",
      () => createLimiter(ratelimit),
    );
    const verifier = this.#verifier.take(
      auth.enabled && auth.oidc !== null ? JSON.stringify(auth.oidc) : "",
      () => createVerifier(auth.oidc!),
    );
    let released: Promise<void> | undefined;
    return {
      limiter: limiter?.value ?? null,
      verifier: verifier?.value ?? null,
      release: () =>
        released ??= Promise.all([this.#limiter.release(limiter), this.#verifier.release(verifier)])
          .then(() => {}),
    };
  }
}

/** One store and the generations using it. */
interface Held<T> {
  key: string;
  value: T;
  users: number;
}

/** One kind of store: the latest configuration's, and the count of its users. */
class Slot<T> {
  #latest: Held<T> | null = null;
  #close: (value: T) => Promise<void>;

  constructor(close: (value: T) => Promise<void>) {
    this.#close = close;
  }

  /** The store for settings `key` ("" for none): the latest one when its key is the same. */
  take(key: string, create: () => T): Held<T> | null {
    const latest = this.#latest;
    if (key !== "" && latest?.key === key) {
      latest.users++;
      return latest;
    }
    this.#latest = key === "" ? null : { key, value: create(), users: 1 };
    return this.#latest;
  }

  /** One user is done with `held`; the last one closes it. */
  release(held: Held<T> | null): Promise<void> {
    if (held === null || --held.users > 0) return Promise.resolve();
    if (this.#latest === held) this.#latest = null;
    return this.#close(held.value);
  }
}
