// How the dashboard shows money, durations and shares (its format module runs in Deno as well).
import assert from "node:assert/strict";
import { ms, pct, usd } from "../../src/http/ui/page/format.js";

Deno.test("ui: costs show cents from a dollar up, else three significant digits", () => {
  assert.equal(usd(12.4), "$12.40");
  assert.equal(usd(1), "$1.00");
  assert.equal(usd(0.049), "$0.049");
  assert.equal(usd(0.063000000000000001), "$0.063");
  assert.equal(usd(0.000123456), "$0.000123");
  assert.equal(usd(0), "$0");
  assert.equal(usd(1e-12), "< $0.00000001");
  assert.equal(usd(null), "–");
});

Deno.test("ui: durations in ms below a second; shares as percentages", () => {
  assert.equal(ms(84), "84 ms");
  assert.equal(ms(null), "–");
  assert.equal(pct(0.28), "28%");
});
