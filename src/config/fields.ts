/**
 * Scalar field schemas shared by the config sections: durations, sizes, integers, URLs.
 *
 * Numbers and booleans also accept their string spelling because `port: ${PORT}` interpolates
 * to a string; everything else about them stays strict.
 */

import { z } from "zod";
import { parseDuration, parseSize } from "./duration.ts";

const NUMERIC = /^-?\d+(?:\.\d+)?$/;

/** Describes a rejected input for an error message: `"abc"`, `42`, `a list`, `a mapping`. */
export function describeValue(input: unknown): string {
  if (input === undefined) return "nothing";
  if (input === null) return "null";
  if (typeof input === "string") {
    return JSON.stringify(input.length > 60 ? `${input.slice(0, 57)}...` : input);
  }
  if (Array.isArray(input)) return "a list";
  if (typeof input === "object") return "a mapping";
  return String(input);
}

/** Treats YAML `key:` with nothing after it like an absent key, so defaults apply. */
export function absentIfNull(value: unknown): unknown {
  return value === null ? undefined : value;
}

function numeric(input: unknown): unknown {
  return typeof input === "string" && NUMERIC.test(input.trim()) ? Number(input) : input;
}

function reject(ctx: z.RefinementCtx, input: unknown, message: string): never {
  ctx.issues.push({ code: "custom", message, input });
  return z.NEVER;
}

/** Integer in [min, max]; `rangeMessage` explains the bound when it is violated. */
export function integer(min: number, max: number, rangeMessage: string) {
  return z.unknown().transform((input, ctx): number => {
    const value = numeric(input);
    if (typeof value !== "number" || !Number.isInteger(value)) {
      return reject(ctx, input, `expected an integer, got ${describeValue(input)}`);
    }
    return value < min || value > max ? reject(ctx, input, rangeMessage) : value;
  });
}

/** Finite number greater than zero. */
export function positiveNumber() {
  return z.unknown().transform((input, ctx): number => {
    const value = numeric(input);
    if (typeof value !== "number" || !Number.isFinite(value)) {
      return reject(ctx, input, `expected a number, got ${describeValue(input)}`);
    }
    return value > 0 ? value : reject(ctx, input, "must be greater than 0");
  });
}

/** Finite number, zero or more (a price); an absent value is a missing required key. */
export function nonNegativeNumber() {
  return z.unknown().transform((input, ctx): number => {
    if (input === undefined) return reject(ctx, input, "missing required key");
    const value = numeric(input);
    if (typeof value !== "number" || !Number.isFinite(value)) {
      return reject(ctx, input, `expected a number, got ${describeValue(input)}`);
    }
    return value >= 0 ? value : reject(ctx, input, "must not be negative");
  });
}

/** `true`/`false`, also as the strings "true"/"false". */
export function boolean() {
  return z.unknown().transform((input, ctx): boolean => {
    if (typeof input === "boolean") return input;
    if (input === "true" || input === "false") return input === "true";
    return reject(ctx, input, `expected true or false, got ${describeValue(input)}`);
  });
}

/** Duration string ("500ms", "30s", "1m30s") to milliseconds; bare numbers are ambiguous. */
export function duration() {
  return z.unknown().transform((input, ctx): number => {
    const ms = typeof input === "string" ? parseDuration(input) : undefined;
    if (ms !== undefined) return ms;
    return reject(
      ctx,
      input,
      `expected a duration such as "500ms", "30s", "2m" or "1m30s", got ${describeValue(input)}`,
    );
  });
}

/** Size string ("10MB", "512KB") or integer byte count, to bytes. */
export function size() {
  return z.unknown().transform((input, ctx): number => {
    if (typeof input === "number" && Number.isSafeInteger(input) && input >= 0) return input;
    const bytes = typeof input === "string" ? parseSize(input) : undefined;
    if (bytes !== undefined) return bytes;
    return reject(
      ctx,
      input,
      `expected a size such as "10MB", "512KB" or a byte count, got ${describeValue(input)}`,
    );
  });
}

/**
 * An http(s) base URL, returned without trailing slashes so paths can be appended with "/".
 * The empty string passes here: it is what an unresolved `${VAR}` leaves behind, and only an
 * enabled provider needs a real URL (checked where `enabled` is known).
 */
export function httpUrl() {
  // Deferring on a missing value leaves the "missing required key" message to the shared map.
  const error = (issue: { input?: unknown }) =>
    issue.input === undefined ? undefined : "expected an http(s) URL";
  return z.string({ error }).transform((input, ctx): string => {
    const text = input.trim();
    if (text === "") return "";
    if (!URL.canParse(text)) return reject(ctx, input, "expected an http(s) URL");
    const url = new URL(text);
    if ((url.protocol !== "http:" && url.protocol !== "https:") || url.hostname === "") {
      return reject(ctx, input, "expected an http(s) URL");
    }
    return text.replace(/\/+$/, "");
  });
}

/** A non-empty name usable in "provider/model" and as a `"model"` alias, so no "/". */
export function name() {
  return z.string().transform((input, ctx): string => {
    if (input.trim() === "") return reject(ctx, input, "must not be empty");
    if (input.includes("/")) {
      return reject(ctx, input, `must not contain "/" (it separates provider and model)`);
    }
    return input;
  });
}
