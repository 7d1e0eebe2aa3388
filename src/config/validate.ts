/**
 * Runs the zod schema and turns its issues into path-addressed config issues with
 * readable messages (including "did you mean" hints for unknown keys).
 */

import { z } from "zod";
import type { PathSegment, PendingIssue } from "./errors.ts";
import { describeValue } from "./fields.ts";
import { gatewayConfigSchema } from "./schema.ts";
import { closestMatch } from "./suggest.ts";
import type { GatewayConfig } from "./types.ts";

/** Outcome of validating a raw document: the config when valid, and the problems found. */
export interface Validated {
  config?: GatewayConfig;
  issues: PendingIssue[];
}

const TYPE_NOUNS: Record<string, string> = {
  string: "a string",
  number: "a number",
  boolean: "a boolean",
  object: "a mapping",
  record: "a mapping",
  array: "a list",
};

/** Validates an interpolated YAML value against the config schema (async: keys are hashed). */
export async function validateRaw(value: unknown): Promise<Validated> {
  const result = await gatewayConfigSchema.safeParseAsync(value, { error: messageFor });
  if (result.success) return { config: result.data, issues: [] };
  const issues = result.error.issues.flatMap(toPending);
  // `target_ur: unknown key; did you mean "target_url"?` already says target_url is missing.
  const suggested = new Set(issues.flatMap((issue) => {
    const hint = HINT.exec(issue.message)?.[1];
    return issue.atKey && hint !== undefined ? [pathKey([...issue.path.slice(0, -1), hint])] : [];
  }));
  return {
    issues: issues.filter((issue) =>
      issue.message !== MISSING || !suggested.has(pathKey(issue.path))
    ),
  };
}

const MISSING = "missing required key";
const HINT = /^unknown key; did you mean "(.*)"\?$/;

function pathKey(path: readonly PathSegment[]): string {
  return JSON.stringify(path);
}

// Fallback messages for zod's built-in checks; schema-level messages take precedence.
function messageFor(issue: z.core.$ZodRawIssue): string | undefined {
  switch (issue.code) {
    case "invalid_type":
      return issue.input === undefined
        ? MISSING
        : `expected ${TYPE_NOUNS[issue.expected] ?? issue.expected}, got ${
          describeValue(issue.input)
        }`;
    case "too_small":
      return issue.minimum === 1 ? "must not be empty" : `must be at least ${issue.minimum}`;
    case "invalid_value":
      if (issue.input === undefined) return MISSING;
      return `expected one of ${issue.values.map((v) => JSON.stringify(v)).join(", ")}, got ${
        describeValue(issue.input)
      }`;
    default:
      return undefined;
  }
}

function toPending(issue: z.core.$ZodIssue): PendingIssue[] {
  const path = issue.path.filter((segment): segment is PathSegment => typeof segment !== "symbol");
  if (issue.code === "unrecognized_keys") {
    // One issue per key, each pointing at that key's own line.
    const allowed = allowedKeysAt(path);
    return issue.keys.map((key) => ({
      path: [...path, key],
      atKey: true,
      message: unknownKeyMessage(key, allowed),
    }));
  }
  const atKey = issue.code === "custom" && issue.params?.atKey === true;
  return [{ path, message: issue.message, atKey }];
}

function unknownKeyMessage(key: string, allowed: readonly string[]): string {
  const hint = closestMatch(key, allowed);
  if (hint !== undefined) return `unknown key; did you mean "${hint}"?`;
  return allowed.length > 0 ? `unknown key; expected one of: ${allowed.join(", ")}` : "unknown key";
}

/** The keys the schema accepts for the object at `path` (empty when it is not an object). */
function allowedKeysAt(path: readonly PathSegment[]): string[] {
  let schema: z.core.$ZodType | undefined = gatewayConfigSchema;
  for (const segment of path) {
    schema = childOf(unwrap(schema), segment);
    if (schema === undefined) return [];
  }
  const object = unwrap(schema);
  return object instanceof z.ZodObject ? Object.keys(object.shape) : [];
}

// Sees through preprocess/transform pipes and optional/default wrappers to the shape beneath.
function unwrap(schema: z.core.$ZodType): z.core.$ZodType {
  let current = schema;
  for (;;) {
    if (current instanceof z.ZodPipe) {
      current = current.in instanceof z.ZodTransform ? current.out : current.in;
    } else if (
      current instanceof z.ZodOptional || current instanceof z.ZodNullable ||
      current instanceof z.ZodDefault || current instanceof z.ZodPrefault
    ) {
      current = current.unwrap();
    } else {
      return current;
    }
  }
}

function childOf(schema: z.core.$ZodType, segment: PathSegment): z.core.$ZodType | undefined {
  if (schema instanceof z.ZodObject && typeof segment === "string") return schema.shape[segment];
  if (schema instanceof z.ZodArray) return schema.element;
  if (schema instanceof z.ZodRecord) return schema.valueType;
  return undefined;
}
