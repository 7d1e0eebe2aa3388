import assert from "node:assert/strict";
import { type GcFunction, IdleCollector } from "../../src/http/idle_gc.ts";
import { taskV8Flags } from "../cli/cli_support.ts";

const MB = 1024 * 1024;

/**
 * A collector on a fake heap: a full `gc` shrinks it back to `floor`, a young one leaves it (the
 * fake heap is all old generation); checks run every millisecond. `calls` lists the full ones.
 */
function setup(growthBytes = 16 * MB) {
  const heap = { bytes: 40 * MB, floor: 20 * MB };
  const calls: unknown[] = [];
  const gc: GcFunction = (options) => {
    if (options?.type === "minor") return;
    calls.push(options);
    heap.bytes = heap.floor;
  };
  const reports: { beforeBytes: number; afterBytes: number }[] = [];
  const collector = new IdleCollector({
    gc,
    heapBytes: () => heap.bytes,
    checkMs: 1,
    growthBytes,
    onCollect: (r) => reports.push(r),
  });
  return { heap, calls, reports, collector };
}

/** Waits until `done()` holds, letting the collector's interval run. */
async function until(done: () => boolean): Promise<void> {
  while (!done()) await new Promise((resolve) => setTimeout(resolve, 1));
}

Deno.test("after a load that grew the heap, a quiet gateway collects once, as a last resort", async () => {
  const { heap, calls, reports, collector } = setup();
  for (let i = 0; i < 100; i++) {
    collector.start();
    collector.end();
  }
  heap.bytes = 80 * MB;
  await until(() => !collector.watching);
  assert.deepEqual(calls, [{ type: "major", flavor: "last-resort" }]);
  assert.deepEqual(reports.map((r) => [r.beforeBytes / MB, r.afterBytes / MB]), [[80, 20]]);
  // Quiet and collected: no timer is left running, and nothing more happens without traffic.
  await new Promise((resolve) => setTimeout(resolve, 10));
  assert.equal(calls.length, 1);
});

Deno.test("no collection while a request is in flight (a long stream), however quiet", async () => {
  const { heap, calls, collector } = setup();
  collector.start();
  heap.bytes = 80 * MB;
  // Many checks pass with the one request open and no other arriving.
  await new Promise((resolve) => setTimeout(resolve, 30));
  assert.equal(calls.length, 0);
  assert.equal(collector.watching, true);
  collector.end();
  await until(() => calls.length === 1);
  assert.equal(collector.watching, false);
});

Deno.test("a quiet gateway whose heap barely grew is left alone", async () => {
  const { heap, calls, collector } = setup();
  collector.start();
  collector.end();
  heap.bytes = 50 * MB; // +10 MB: under the 16 MB threshold
  await until(() => !collector.watching);
  assert.equal(calls.length, 0);
  // Growth counts from the last collection: after one, the heap must grow 16 MB again.
  collector.start();
  collector.end();
  heap.bytes = 60 * MB; // +20 MB over the start
  await until(() => !collector.watching);
  assert.equal(calls.length, 1);
  collector.start();
  collector.end();
  heap.bytes = 30 * MB; // +10 MB over the collected 20 MB
  await until(() => !collector.watching);
  assert.equal(calls.length, 1);
});

Deno.test("with the shipped V8 flags, a load's garbage leaves nothing to collect, a held spike is collected", async () => {
  const module = new URL("../../src/http/idle_gc.ts", import.meta.url).href;
  // A real collector on V8's real heap. First a load: 3 million short-lived objects, which must
  // not make a quiet gateway collect (a collection throws away the optimised code). Then a spike:
  // 64 MB held long enough to reach the old generation, then let go, which must be given back.
  const script = await Deno.makeTempFile({ suffix: ".ts" });
  await Deno.writeTextFile(
    script,
    `import { exposedGc, IdleCollector } from "${module}";
const reports: number[] = [];
const collector = new IdleCollector({
  gc: exposedGc()!,
  checkMs: 20,
  onCollect: (r) => reports.push(r.beforeBytes - r.afterBytes),
});
const quiet = async () => {
  while (collector.watching) await new Promise((resolve) => setTimeout(resolve, 5));
};
let sink = 0;
collector.start();
for (let i = 0; i < 3_000_000; i++) {
  const o = { n: i, pair: [i, i + 1], s: "x" + i };
  sink += o.pair.length + o.s.length;
}
collector.end();
await quiet();
const afterLoad = reports.length;
collector.start();
let held: number[][] | null = [];
for (let i = 0; i < 8_000; i++) held.push(new Array(1_000).fill(i));
for (let i = 0; i < 1_000_000; i++) sink += [i].length;
sink += held.length;
held = null;
collector.end();
await quiet();
console.log(JSON.stringify({ afterLoad, afterSpike: reports.length, freedMb: (reports[0] ?? 0) / 1048576, sink }));
`,
  );
  try {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--no-config", await taskV8Flags("start"), script],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const result = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.equal(result.afterLoad, 0, "the load's garbage made the quiet gateway collect");
    assert.equal(result.afterSpike, 1, "the spike was not collected");
    assert.ok(result.freedMb >= 32, `the collection gave back ${result.freedMb} MB`);
  } finally {
    await Deno.remove(script);
  }
});

Deno.test("garbage a young-generation collection clears does not count as growth", async () => {
  const heap = { old: 30 * MB, young: 0 };
  const calls: unknown[] = [];
  const collector = new IdleCollector({
    gc: (options) => {
      calls.push(options);
      heap.young = 0;
    },
    heapBytes: () => heap.old + heap.young,
    checkMs: 1,
  });
  collector.start();
  collector.end();
  heap.young = 40 * MB; // a load's short-lived objects, still in the young generation
  await until(() => !collector.watching);
  assert.deepEqual(calls, [{ type: "minor" }]);
});
