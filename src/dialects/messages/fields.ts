/** Checks for the fields of an inbound Messages request: each failure names the field's path. */
import { type FieldChecks, fieldChecks } from "../fields.ts";
import { MessagesRequestError } from "./errors.ts";

export { isSet } from "../fields.ts";

/** Refuses the request: `field` is the path of the value at fault. */
export function fail(field: string, why: string): never {
  throw new MessagesRequestError(field, why);
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
