import assert from "node:assert/strict";
import { parseLines, rejectLines } from "./parse_helpers.ts";

Deno.test("ui serves the dashboard to this host only by default", async () => {
  const expected = { enabled: true, public: false };
  assert.deepEqual((await parseLines([])).ui, expected);
  assert.deepEqual((await parseLines(["ui:"])).ui, expected);
});

Deno.test("ui takes enabled and public, from the environment too", async () => {
  assert.deepEqual((await parseLines(["ui:", "  public: true"])).ui, {
    enabled: true,
    public: true,
  });
  const fromEnv = await parseLines(["ui:", '  enabled: "${UI:-false}"'], {});
  assert.deepEqual(fromEnv.ui, { enabled: false, public: false });
});

Deno.test("a bad ui field names the field and the line", async () => {
  assert.deepEqual(await rejectLines(["ui:", "  public: yes-please"]), [
    'ui.public: expected true or false, got "yes-please" (config.yaml:2)',
  ]);
  assert.deepEqual(await rejectLines(["ui:", "  publc: true"]), [
    'ui.publc: unknown key; did you mean "public"? (config.yaml:2)',
  ]);
});
