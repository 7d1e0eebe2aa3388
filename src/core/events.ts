import type { FailureKind } from "./errors.ts";

/** One upstream attempt as observers see it. */
export interface AttemptInfo {
  provider: string;
  model: string;
  /** 1-based position among all attempts of the request. */
  attempt: number;
  /** 0 for the first try at this target, then 1, 2, ... */
  retry: number;
  stream: boolean;
  requestId: string;
}

/** How an attempt ended: served, or why not. */
export interface AttemptResult {
  outcome: "success" | FailureKind | "client_closed";
  status?: number;
  /** Why a failed attempt failed (see `attemptCause`), when more than its status says. */
  cause?: string;
}

/**
 * Hooks the executor calls as it works, for metrics and tracing. Implementations must be cheap
 * and must not throw: they run on the request path.
 */
export interface ExecutionEvents {
  /** An attempt starts; the returned function is called once when it ends. */
  attempt(info: AttemptInfo): (result: AttemptResult) => void;
  /** The same target is tried again after a retryable failure. */
  retry(provider: string): void;
  /** The plan moves on from one target to the next. */
  fallback(from: string, to: string): void;
}

/** Observers that do nothing: the default. */
export const NO_EVENTS: ExecutionEvents = {
  attempt: () => () => {},
  retry: () => {},
  fallback: () => {},
};
