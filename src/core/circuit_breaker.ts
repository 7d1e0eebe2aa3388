import type { CircuitBreakerConfig } from "../config/types.ts";

/** Circuit state as shown in `/v1/info`. */
export type CircuitState = "closed" | "open" | "half_open";

/** Skips a provider after consecutive failures, then lets one probe through after a cooldown. */
export class CircuitBreaker {
  #failures = 0;
  #openedAt = 0;
  #probing = false;
  readonly #config: CircuitBreakerConfig;
  readonly #now: () => number;

  constructor(config: CircuitBreakerConfig, now: () => number = Date.now) {
    this.#config = config;
    this.#now = now;
  }

  /** Current state, derived from the failure count and the clock. */
  get state(): CircuitState {
    if (this.#failures < this.#config.failure_threshold) return "closed";
    return this.#now() - this.#openedAt >= this.#config.cooldown_ms ? "half_open" : "open";
  }

  /** Consecutive failures counted so far. */
  get consecutiveFailures(): number {
    return this.#failures;
  }

  /** True when a request may go to the provider now; in half-open state only one probe at a time. */
  tryAcquire(): boolean {
    const state = this.state;
    if (state === "closed") return true;
    if (state === "open" || this.#probing) return false;
    this.#probing = true;
    return true;
  }

  /** Records a served request: the circuit closes. */
  onSuccess(): void {
    this.#failures = 0;
    this.#probing = false;
  }

  /** Records a provider failure; reaching the threshold (or a failed probe) opens the circuit. */
  onFailure(): void {
    this.#failures++;
    this.#probing = false;
    if (this.#failures >= this.#config.failure_threshold) this.#openedAt = this.#now();
  }

  /** Releases a half-open probe that ended without a verdict (e.g. the client left). */
  release(): void {
    this.#probing = false;
  }
}
