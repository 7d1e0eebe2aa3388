/**
 * Human-friendly durations ("500ms", "1m30s", "30d") and sizes ("10MB") used by the config file.
 */

const DURATION_UNIT_MS: Record<string, number> = {
  ms: 1,
  s: 1_000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
};

// "ms" must come before "m" so "500ms" is not read as 500 minutes followed by garbage.
const DURATION_PART = /(\d+(?:\.\d+)?)(ms|s|m|h|d)/y;

/**
 * Parses "500ms", "30s", "2m", "1h", "30d" or compounds like "1m30s" into milliseconds (a day is
 * 24 hours).
 * Every number needs a unit: a bare "30" is ambiguous (seconds? ms?), so it is rejected.
 */
export function parseDuration(text: string): number | undefined {
  const source = text.trim();
  if (source === "") return undefined;
  let total = 0;
  DURATION_PART.lastIndex = 0;
  while (DURATION_PART.lastIndex < source.length) {
    const match = DURATION_PART.exec(source);
    if (match === null) return undefined;
    const [, amount = "", unit = ""] = match;
    total += Number(amount) * (DURATION_UNIT_MS[unit] ?? Number.NaN);
  }
  const ms = Math.round(total);
  return Number.isSafeInteger(ms) ? ms : undefined;
}

// Binary multiples: "10MB" of request body means 10 * 1024 * 1024 bytes, as in nginx and friends.
const SIZE_UNIT_BYTES: Record<string, number> = {
  "": 1,
  b: 1,
  k: 1024,
  kb: 1024,
  kib: 1024,
  m: 1024 ** 2,
  mb: 1024 ** 2,
  mib: 1024 ** 2,
  g: 1024 ** 3,
  gb: 1024 ** 3,
  gib: 1024 ** 3,
};

const SIZE = /^(\d+(?:\.\d+)?)\s*([a-z]*)$/;

/** Parses "10MB", "512KB", "1mb" or a plain byte count like "1048576" into bytes (KB = 1024). */
export function parseSize(text: string): number | undefined {
  const match = SIZE.exec(text.trim().toLowerCase());
  if (match === null) return undefined;
  const [, amount = "", unit = ""] = match;
  const multiplier = SIZE_UNIT_BYTES[unit];
  if (multiplier === undefined) return undefined;
  // A fractional count of plain bytes is meaningless; "1.5MB" is fine.
  if (multiplier === 1 && amount.includes(".")) return undefined;
  const bytes = Math.round(Number(amount) * multiplier);
  return Number.isSafeInteger(bytes) ? bytes : undefined;
}
