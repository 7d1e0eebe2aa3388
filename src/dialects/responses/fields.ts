/** Checks for the fields of an inbound Responses request: each failure names the field's path. */
import { isRecord, type JsonObject } from "../../core/json.ts";
import { ResponsesRequestError } from "./errors.ts";

/** Refuses the request: `field` is the path of the value at fault. */
export function fail(field: string, why: string): never {
  throw new ResponsesRequestError(field, why);
}

/** `value` as an object, or a refusal naming `field`. */
export function recordAt(value: unknown, field: string): JsonObject {
  if (!isRecord(value)) fail(field, "must be an object");
  return value;
}

/** `value` as a string, or a refusal naming `field`. */
export function stringAt(value: unknown, field: string): string {
  if (typeof value !== "string") fail(field, "must be a string");
  return value;
}

/** `value` as a list, or a refusal naming `field`. */
export function listAt(value: unknown, field: string): unknown[] {
  if (!Array.isArray(value)) fail(field, "must be a list");
  return value;
}

/** `value` as a finite number, or a refusal naming `field`. */
export function numberAt(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isFinite(value)) fail(field, "must be a number");
  return value;
}

/** `value` as a boolean, or a refusal naming `field`. */
export function booleanAt(value: unknown, field: string): boolean {
  if (typeof value !== "boolean") fail(field, "must be a boolean");
  return value;
}

/** `value` as a positive integer, or a refusal naming `field`. */
export function positiveIntegerAt(value: unknown, field: string): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 1) {
    fail(field, "must be a positive integer");
  }
  return value;
}

/** The `type` of an item, content part or tool, or a refusal naming `<path>.type`. */
export function typeOf(value: JsonObject, path: string): string {
  return stringAt(value.type, `${path}.type`);
}

/** True when the field is present (JSON `null` counts as absent). */
export function isSet(value: unknown): boolean {
  return value !== undefined && value !== null;
}

/** Names of what the translation left out, for the access log. */
export type Dropped = Set<string>;
