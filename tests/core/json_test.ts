import assert from "node:assert/strict";
import { nestsDeeperThan } from "../../src/core/json.ts";

const nested = (depth: number) => "[".repeat(depth) + "]".repeat(depth);

Deno.test("nesting is measured in levels: the limit itself passes, one more does not", () => {
  assert.equal(nestsDeeperThan(`{"a":${nested(127)}}`, 128), false);
  assert.equal(nestsDeeperThan(`{"a":${nested(128)}}`, 128), true);
  assert.equal(nestsDeeperThan('{"a":{"b":{"c":1}}}', 3), false);
  assert.equal(nestsDeeperThan('{"a":{"b":{"c":{}}}}', 3), true);
});

Deno.test("many containers side by side are not deep", () => {
  const wide = JSON.stringify({
    messages: Array.from({ length: 500 }, () => ({ a: [1, { b: 2 }] })),
  });
  assert.equal(nestsDeeperThan(wide, 5), false);
  assert.equal(nestsDeeperThan(wide, 4), true);
});

Deno.test("brackets inside strings do not count, whatever their escapes", () => {
  const many = "[{".repeat(300);
  assert.equal(nestsDeeperThan(JSON.stringify({ text: many }), 2), false);
  // An escaped quote does not end the string, so the brackets after it are still text.
  assert.equal(nestsDeeperThan(`{"t":"say \\"${many}"}`, 2), false);
  // An escaped backslash does: the brackets after its quote are structure.
  assert.equal(nestsDeeperThan(`{"t":"dir\\\\", "u":${nested(300)}}`, 2), true);
  assert.equal(nestsDeeperThan(`{"t":"\\\\\\"${many}"}`, 2), false);
});

Deno.test("an unterminated string leaves the verdict to the parser", () => {
  assert.equal(nestsDeeperThan(`{"a":"${"[".repeat(300)}`, 2), false);
});

Deno.test("large texts get the same verdicts", () => {
  const text = `say \\"${"[{".repeat(20_000)}\\" and go`;
  assert.equal(nestsDeeperThan(JSON.stringify({ a: [text, { b: text }] }), 3), false);
  assert.equal(nestsDeeperThan(`{"a":"${text}","b":${nested(200)}}`, 128), true);
  assert.equal(nestsDeeperThan(`{"a":"${text}","b":${nested(127)}}`, 128), false);
});
