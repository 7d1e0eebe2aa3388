/**
 * Refusals of a Responses request. Errors reach a Responses client in the OpenAI error shape
 * (`{"error": {"message", "type", "param", "code"}}`), as on every OpenAI endpoint.
 */

/** A Responses request the gateway refuses (HTTP 400): `field` names where, as a path. */
export class ResponsesRequestError extends Error {
  /** The request field at fault, e.g. `input[2].content[0].type`. */
  readonly field: string;
  /** Always 400: the request's fault. */
  readonly status = 400;

  constructor(field: string, why: string) {
    super(`${field}: ${why}`);
    this.name = "ResponsesRequestError";
    this.field = field;
  }
}
