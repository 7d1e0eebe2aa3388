import assert from "node:assert/strict";
import { parseDuration, parseSize } from "../../src/config/duration.ts";

Deno.test("durations accept ms, s, m, h and d units", () => {
  assert.equal(parseDuration("500ms"), 500);
  assert.equal(parseDuration("30s"), 30_000);
  assert.equal(parseDuration("2m"), 120_000);
  assert.equal(parseDuration("1h"), 3_600_000);
  assert.equal(parseDuration("30d"), 30 * 24 * 3_600_000);
  assert.equal(parseDuration("0s"), 0);
  assert.equal(parseDuration("1.5s"), 1_500);
});

Deno.test("durations may be compound like 1m30s", () => {
  assert.equal(parseDuration("1m30s"), 90_000);
  assert.equal(parseDuration("1h2m3s4ms"), 3_723_004);
  assert.equal(parseDuration("1d12h"), 36 * 3_600_000);
});

Deno.test("durations without a unit or with garbage are rejected", () => {
  for (const text of ["", "30", "1m30", "30 s", "s", "-1s", "1w", "1D", "abc", "1s!"]) {
    assert.equal(parseDuration(text), undefined, text);
  }
});

Deno.test("sizes use binary multiples and are case-insensitive", () => {
  assert.equal(parseSize("10MB"), 10 * 1024 * 1024);
  assert.equal(parseSize("512KB"), 512 * 1024);
  assert.equal(parseSize("1mb"), 1024 * 1024);
  assert.equal(parseSize("1GiB"), 1024 ** 3);
  assert.equal(parseSize("1.5MB"), 1.5 * 1024 * 1024);
});

Deno.test("a size without a unit is a byte count", () => {
  assert.equal(parseSize("1048576"), 1_048_576);
  assert.equal(parseSize("100B"), 100);
});

Deno.test("malformed sizes are rejected", () => {
  for (const text of ["", "MB", "10XB", "-1MB", "1.5", "ten MB"]) {
    assert.equal(parseSize(text), undefined, text);
  }
});
