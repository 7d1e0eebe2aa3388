import assert from "node:assert/strict";

const MODULE = new URL("../../src/providers/http1/", import.meta.url);

Deno.test("the http1 module imports only its own files and the platform", async () => {
  const outside: string[] = [];
  for await (const entry of Deno.readDir(MODULE)) {
    if (!entry.isFile || !entry.name.endsWith(".ts")) continue;
    const source = await Deno.readTextFile(new URL(entry.name, MODULE));
    for (const [, specifier] of source.matchAll(/\bfrom\s+"([^"]+)"|\bimport\(\s*"([^"]+)"/g)) {
      if (specifier !== undefined && !/^\.\/[a-z0-9_]+\.ts$/.test(specifier)) {
        outside.push(`${entry.name}: ${specifier}`);
      }
    }
  }
  assert.deepEqual(outside, []);
});
