/**
 * `${VAR}` / `${VAR:-default}` substitution in string values of the parsed YAML.
 *
 * It runs on parsed values rather than on the source text, so an environment variable can never
 * inject YAML structure (a key containing "\n  enabled: false" stays one string).
 */

import type { PathSegment, PendingIssue } from "./errors.ts";

/** Environment variables as seen by the config loader. */
export type Env = Record<string, string | undefined>;

/** A `${VAR}` reference without default whose variable is unset. */
export interface UnsetVariable {
  path: PathSegment[];
  variable: string;
}

/** The interpolated document plus what could not be resolved. */
export interface Interpolated {
  value: unknown;
  /** Unset variables; their references were replaced by "". */
  unset: UnsetVariable[];
  /** Malformed references such as `${1X}` or an unterminated `${`. */
  issues: PendingIssue[];
}

const REFERENCE = /^([A-Za-z_][A-Za-z0-9_]*)(?::-(.*))?$/s;

/** Replaces `${VAR}` references in every string value (never in keys) of a parsed document. */
export function interpolateEnv(value: unknown, env: Env): Interpolated {
  const result: Interpolated = { value: undefined, unset: [], issues: [] };
  result.value = walk(value, [], env, result);
  return result;
}

function walk(value: unknown, path: PathSegment[], env: Env, out: Interpolated): unknown {
  if (typeof value === "string") return substitute(value, path, env, out);
  if (Array.isArray(value)) {
    return value.map((item, index) => walk(item, [...path, index], env, out));
  }
  if (isRecord(value)) {
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(value)) {
      copy[key] = walk(item, [...path, key], env, out);
    }
    return copy;
  }
  return value;
}

function substitute(text: string, path: PathSegment[], env: Env, out: Interpolated): string {
  let result = "";
  let cursor = 0;
  for (;;) {
    const start = text.indexOf("${", cursor);
    if (start < 0) return result + text.slice(cursor);
    const end = text.indexOf("}", start + 2);
    if (end < 0) {
      out.issues.push({ path, message: `unterminated variable reference "${text.slice(start)}"` });
      return result + text.slice(cursor);
    }
    result += text.slice(cursor, start);
    cursor = end + 1;
    const reference = text.slice(start + 2, end);
    const match = REFERENCE.exec(reference);
    const name = match?.[1];
    if (match === null || name === undefined) {
      out.issues.push({
        path,
        message:
          `invalid variable reference "\${${reference}}"; expected \${NAME} or \${NAME:-default}`,
      });
      continue;
    }
    const fallback = match[2];
    const current = env[name];
    if (fallback !== undefined) {
      // Shell semantics: ":-" also replaces a variable that is set but empty.
      result += current === undefined || current === "" ? fallback : current;
    } else if (current === undefined) {
      out.unset.push({ path, variable: name });
    } else {
      result += current;
    }
  }
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
