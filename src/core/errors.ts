/** Why one attempt at a provider failed. */
export type FailureKind =
  | "http" // the provider answered with a non-2xx status
  | "network" // connection refused, reset, DNS, TLS
  | "timeout" // no answer (or no first byte) within the attempt timeout
  | "idle_timeout" // a stream went silent between chunks
  | "circuit_open" // skipped: the provider's circuit breaker is open
  | "protocol"; // the provider answered something we cannot use

/** Statuses worth retrying at the same provider (then falling back). */
const RETRYABLE_STATUSES = new Set([408, 429, 500, 502, 503, 504, 529]);
/** Statuses that move on to the next target without retrying the same one. */
const SKIP_STATUSES = new Set([401, 403, 404]);

/** A failed attempt at a provider, classified for the executor. */
export class ProviderError extends Error {
  /** What went wrong. */
  readonly kind: FailureKind;
  /** Upstream status, when the provider answered. */
  readonly status?: number;
  /** Worth another try at the same provider. */
  readonly retryable: boolean;
  /** Worth trying the next target; false means "the client's fault, stop here". */
  readonly fallbackable: boolean;
  /** The provider's error body, passed back to the client for non-fallbackable errors. */
  readonly upstreamBody?: string;
  /** Content type of `upstreamBody`. */
  readonly upstreamContentType?: string;
  /** Delay the provider asked for (`Retry-After`), in milliseconds. */
  readonly retryAfterMs?: number;
  /**
   * Why, in words the client may see (a limit of the gateway's, an answer it cannot carry): named
   * in the error the client gets, where the kind alone would not say.
   */
  readonly detail?: string;
  /** False for a failure that says nothing about the provider's health (the breaker ignores it). */
  readonly countsAgainstBreaker: boolean;

  constructor(
    kind: FailureKind,
    message: string,
    options: {
      status?: number;
      upstreamBody?: string;
      upstreamContentType?: string;
      retryAfterMs?: number;
      cause?: unknown;
      detail?: string;
      countsAgainstBreaker?: boolean;
    } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = "ProviderError";
    this.kind = kind;
    this.status = options.status;
    this.upstreamBody = options.upstreamBody;
    this.upstreamContentType = options.upstreamContentType;
    this.retryAfterMs = options.retryAfterMs;
    this.detail = options.detail;
    this.countsAgainstBreaker = options.countsAgainstBreaker ?? true;
    if (kind === "http" && options.status !== undefined) {
      this.retryable = RETRYABLE_STATUSES.has(options.status);
      this.fallbackable = this.retryable || SKIP_STATUSES.has(options.status) ||
        options.status >= 500;
    } else {
      this.retryable = kind === "network" || kind === "timeout";
      this.fallbackable = true;
    }
  }
}

/** One attempt as reported to the client when every target failed. */
export interface AttemptRecord {
  provider: string;
  model: string;
  kind: FailureKind;
  status?: number;
  /** The failure's `detail`, when it has one. */
  detail?: string;
  /** Why it failed (see `attemptCause`): for operators' logs, never for the client. */
  cause?: string;
}

/** Errors the HTTP layer maps to an OpenAI-shaped response. */
export type GatewayErrorCode =
  | "invalid_json"
  | "invalid_request"
  | "model_not_found"
  | "invalid_api_key"
  | "model_not_allowed"
  | "forbidden"
  | "key_name_taken"
  | "store_unavailable"
  | "rate_limit_exceeded"
  | "rate_limit_unavailable"
  | "body_too_large"
  | "body_timeout"
  | "not_found"
  | "previous_response_not_found"
  | "method_not_allowed"
  | "all_providers_failed"
  | "upstream_timeout"
  | "client_closed"
  | "shutting_down"
  | "internal_error";

/** A condition the gateway reports to its client in the OpenAI error shape. */
export class GatewayError extends Error {
  /** Machine-readable code (`error.code`). */
  readonly code: GatewayErrorCode;
  /** Request field at fault (`error.param`). */
  readonly param: string | null;
  /** Attempts made before giving up, for upstream failures. */
  readonly attempts: AttemptRecord[];

  constructor(
    code: GatewayErrorCode,
    message: string,
    options: { param?: string | null; attempts?: AttemptRecord[] } = {},
  ) {
    super(message);
    this.name = "GatewayError";
    this.code = code;
    this.param = options.param ?? null;
    this.attempts = options.attempts ?? [];
  }
}

/** Describes one attempt for an error message: `openai/gpt-4o: HTTP 500`. */
export function describeAttempt(a: AttemptRecord): string {
  const what = a.detail ?? (a.kind === "http" ? `HTTP ${a.status}` : a.kind.replace("_", " "));
  return `${a.provider}/${a.model}: ${what}`;
}

/** Describes one attempt for the logs, with its cause: `openai/gpt-4o: network (...refused...)`. */
export function explainAttempt(a: AttemptRecord): string {
  const line = describeAttempt(a);
  return a.cause === undefined ? line : `${line} (${a.cause})`;
}

/** Longest cause kept: room for an OS, TLS or protocol error, not for a whole upstream body. */
const MAX_CAUSE_CHARS = 200;

/**
 * Why an attempt failed, for the logs: the error's message (none for an HTTP status, which says it
 * already), with the provider's key and any URL credentials masked, capped at MAX_CAUSE_CHARS.
 */
export function attemptCause(err: ProviderError, secret: string | null): string | undefined {
  if (err.kind === "http") return undefined;
  let cause = err.message.replace(/\/\/[^/@\s]*@/g, "//[redacted]@");
  // Masked before the cut, so that no prefix of the key can survive it.
  if (secret !== null && secret !== "") cause = cause.replaceAll(secret, "[redacted]");
  return cause.length > MAX_CAUSE_CHARS ? `${cause.slice(0, MAX_CAUSE_CHARS - 3)}...` : cause;
}

/**
 * Classifies a failed upstream call or read: a `ProviderError` as it is, the abort reason when
 * the attempt was aborted (timeout, client gone, shutdown), otherwise a network error.
 */
export function failureOf(err: unknown, signal: AbortSignal, context: string): unknown {
  if (err instanceof ProviderError) return err;
  if (signal.aborted) return signal.reason ?? err;
  const detail = err instanceof Error ? err.message : String(err);
  return new ProviderError("network", `${context}: ${detail}`, {
    cause: err,
    // Out of descriptors is the gateway's own shortage, not the provider's ill health.
    countsAgainstBreaker: !OWN_RESOURCE_ERRORS.test(detail),
  });
}

/** Errors of the gateway's own resources (EMFILE, ENFILE, ENOBUFS) met while reaching a provider. */
const OWN_RESOURCE_ERRORS = /too many open files|os error (23|24|105)\b/i;
