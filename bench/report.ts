/** Plain-text tables and number formatting for the bench's report. */

/** One target line: what was asked, what was measured, and the verdict. */
export interface TargetCheck {
  section: string;
  target: string;
  measured: string;
  /** null: reported only, no pass/fail. */
  pass: boolean | null;
}

/** Formats rows as an aligned table; numeric-looking cells are right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const numeric = headers.map((_, i) =>
    i > 0 && rows.every((r) => /^[-+~]?[\d.,]+\s*\S*$|^—$|^n\/a$/.test(r[i] ?? ""))
  );
  const line = (cells: readonly string[]) =>
    cells.map((c, i) => numeric[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)).join("  ")
      .trimEnd();
  return [
    line(headers),
    widths.map((w) => "-".repeat(w)).join("  "),
    ...rows.map(line),
  ].join("\n");
}

/** `== title ==` section header. */
export function heading(title: string): string {
  return `\n== ${title} ==`;
}

/** The verdict column: PASS, FAIL or (for report-only lines) "info". */
export function verdict(pass: boolean | null): string {
  return pass === null ? "info" : pass ? "PASS" : "FAIL";
}

/** Target lines as a table. */
export function targetTable(checks: readonly TargetCheck[]): string {
  return table(
    ["target", "measured", "verdict"],
    checks.map((c) => [c.target, c.measured, verdict(c.pass)]),
  );
}

/** Milliseconds with a precision that suits their size. */
export function ms(value: number | null): string {
  if (value === null || !Number.isFinite(value)) return "n/a";
  const abs = Math.abs(value);
  const digits = abs >= 100 ? 0 : abs >= 10 ? 1 : abs >= 1 ? 2 : 3;
  return `${value.toFixed(digits)} ms`;
}

/** Signed milliseconds (`+0.412 ms`). */
export function deltaMs(value: number): string {
  if (!Number.isFinite(value)) return "n/a";
  return (value >= 0 ? "+" : "") + ms(value);
}

/** Megabytes, one decimal. */
export function mb(value: number | null): string {
  return value === null || !Number.isFinite(value) ? "n/a" : `${value.toFixed(1)} MB`;
}

/** A ratio like `0.93x`. */
export function ratio(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(2)}x` : "n/a";
}

/** An integer with thousands separators. */
export function int(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "n/a";
}
