/** A JSON object (not an array, not null). */
export type JsonObject = Record<string, unknown>;

/** True for plain JSON objects. */
export function isRecord(value: unknown): value is JsonObject {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
