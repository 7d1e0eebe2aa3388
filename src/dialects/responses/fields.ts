/** Checks for the fields of an inbound Responses request: each failure names the field's path. */
import { type FieldChecks, fieldChecks } from "../fields.ts";
import { ResponsesRequestError } from "./errors.ts";

export { isSet } from "../fields.ts";

/** Refuses the request: `field` is the path of the value at fault. */
export function fail(field: string, why: string): never {
  throw new ResponsesRequestError(field, why);
}

export const {
  recordAt,
  stringAt,
  listAt,
  numberAt,
  booleanAt,
  positiveIntegerAt,
  typeOf,
}: FieldChecks = fieldChecks(fail);

/** Names of what the translation left out, for the access log. */
export type Dropped = Set<string>;
