import assert from "node:assert/strict";
import { parseLines, rejectLines } from "./parse_helpers.ts";

const DAY = 24 * 3_600_000;

Deno.test("responses keeps stored responses 30 days, up to 1MB each, without a block", async () => {
  const expected = { retention_ms: 30 * DAY, max_stored_bytes: 1024 * 1024 };
  assert.deepEqual((await parseLines([])).responses, expected);
  assert.deepEqual((await parseLines(["responses:"])).responses, expected);
});

Deno.test("responses takes a retention and a largest size, from the environment too", async () => {
  const config = await parseLines([
    "responses:",
    "  retention: 7d12h",
    '  max_stored_size: "${MAX_STORED:-512KB}"',
  ]);
  assert.deepEqual(config.responses, { retention_ms: 7.5 * DAY, max_stored_bytes: 512 * 1024 });
  const fromEnv = await parseLines(
    ["responses:", "  retention: 1h", "  max_stored_size: ${MAX_STORED}"],
    { MAX_STORED: "2097152" },
  );
  assert.deepEqual(fromEnv.responses, { retention_ms: 3_600_000, max_stored_bytes: 2_097_152 });
});

Deno.test("a bad retention or size in responses names the field and the line", async () => {
  assert.deepEqual(
    await rejectLines(["responses:", "  retention: 30", "  max_stored_size: big"]),
    [
      'responses.retention: expected a duration such as "500ms", "30s", "2m" or "1m30s", ' +
      "got 30 (config.yaml:2)",
      'responses.max_stored_size: expected a size such as "10MB", "512KB" or a byte count, ' +
      'got "big" (config.yaml:3)',
    ],
  );
  assert.deepEqual(await rejectLines(["responses:", "  retention: 0s"]), [
    "responses.retention: must be more than 0 (config.yaml:2)",
  ]);
  assert.deepEqual(await rejectLines(["responses:", "  retentio: 30d"]), [
    'responses.retentio: unknown key; did you mean "retention"? (config.yaml:2)',
  ]);
});
