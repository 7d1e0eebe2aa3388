// deno.json's tasks run the gateway with one V8 configuration, written out once per task.
import assert from "node:assert/strict";
import { taskV8Flags } from "./cli_support.ts";

Deno.test("the start, dev and compile tasks run V8 with the same flags", async () => {
  // deno.json cannot share a value between tasks, so the flags are written three times; the
  // bench reads start's, the compile test compile's. A flag changed in one task only would make
  // `deno task dev` or the compiled binary behave unlike what was measured.
  const start = await taskV8Flags("start");
  assert.equal(await taskV8Flags("dev"), start);
  assert.equal(await taskV8Flags("compile"), start);
});
