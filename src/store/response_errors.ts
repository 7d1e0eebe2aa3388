/**
 * Why `ResponseState` (responses.ts) could not give the Responses handler a response or a
 * conversation: each a condition the handler answers in its own way.
 */

/**
 * A response the caller cannot have: there is none with this id, it expired, it is another
 * caller's (said the same way, so its existence is never revealed), or it was too large to keep.
 * The handler answers 404.
 */
export class ResponseNotFoundError extends Error {
  /** The response that was looked for. */
  readonly id: string;
  /** `too_large`: it was answered but not kept for its size. */
  readonly reason: "absent" | "too_large";
  readonly status = 404;

  constructor(id: string, reason: "absent" | "too_large", message: string) {
    super(message);
    this.name = "ResponseNotFoundError";
    this.id = id;
    this.reason = reason;
  }
}

/**
 * A response of the conversation that a provider holds natively (the gateway keeps only where):
 * `first` when it is `previous_response_id` itself, which the handler sends to that provider;
 * otherwise one met further back, whose items the gateway does not have.
 */
export class NativeResponseError extends Error {
  /** The response held by the provider. */
  readonly id: string;
  readonly provider: string;
  /** Whether it is the response the request continues, rather than an earlier one. */
  readonly first: boolean;

  constructor(id: string, provider: string, first: boolean) {
    super(
      first
        ? `previous_response_id: response "${id}" is held by provider "${provider}"`
        : `previous_response_id: the conversation continues response "${id}", held by ` +
          `provider "${provider}", whose items the gateway does not have`,
    );
    this.name = "NativeResponseError";
    this.id = id;
    this.provider = provider;
    this.first = first;
  }
}

/** A conversation longer, or larger, than `history` follows: the handler answers 400. */
export class ConversationLimitError extends Error {
  /** Which bound: the number of responses, or their bytes. */
  readonly bound: "depth" | "size";
  readonly limit: number;
  readonly status = 400;

  constructor(bound: "depth" | "size", limit: number) {
    super(
      bound === "depth"
        ? `previous_response_id: the conversation is longer than ${limit} responses, ` +
          `the most the gateway follows`
        : `previous_response_id: the conversation's stored items exceed ${limit} bytes, ` +
          `the most the gateway gathers`,
    );
    this.name = "ConversationLimitError";
    this.bound = bound;
    this.limit = limit;
  }
}
