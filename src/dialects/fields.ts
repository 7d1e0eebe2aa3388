/**
 * Checks for the fields of an inbound request in another API (Messages, Responses), shared by
 * the dialects: each failure names the field's path, in the dialect's own request error.
 */
import { isRecord, type JsonObject } from "../core/json.ts";

/** The checks, each refusing through the dialect's `fail`. */
export interface FieldChecks {
  /** `value` as an object, or a refusal naming `field`. */
  recordAt(value: unknown, field: string): JsonObject;
  /** `value` as a string, or a refusal naming `field`. */
  stringAt(value: unknown, field: string): string;
  /** `value` as a list, or a refusal naming `field`. */
  listAt(value: unknown, field: string): unknown[];
  /** `value` as a finite number, or a refusal naming `field`. */
  numberAt(value: unknown, field: string): number;
  /** `value` as a boolean, or a refusal naming `field`. */
  booleanAt(value: unknown, field: string): boolean;
  /** `value` as a positive integer, or a refusal naming `field`. */
  positiveIntegerAt(value: unknown, field: string): number;
  /** The `type` of a block, item, part or tool, or a refusal naming `<path>.type`. */
  typeOf(value: JsonObject, path: string): string;
}

/** The checks for a dialect whose refusals `fail` throws. */
export function fieldChecks(fail: (field: string, why: string) => never): FieldChecks {
  const stringAt = (value: unknown, field: string): string => {
    if (typeof value !== "string") fail(field, "must be a string");
    return value;
  };
  return {
    recordAt(value, field) {
      if (!isRecord(value)) fail(field, "must be an object");
      return value;
    },
    stringAt,
    listAt(value, field) {
      if (!Array.isArray(value)) fail(field, "must be a list");
      return value;
    },
    numberAt(value, field) {
      if (typeof value !== "number" || !Number.isFinite(value)) fail(field, "must be a number");
      return value;
    },
    booleanAt(value, field) {
      if (typeof value !== "boolean") fail(field, "must be a boolean");
      return value;
    },
    positiveIntegerAt(value, field) {
      if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
        fail(field, "must be a positive integer");
      }
      return value;
    },
    typeOf: (value, path) => stringAt(value.type, `${path}.type`),
  };
}

/** True when the field is present (JSON `null` counts as absent). */
export function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}
