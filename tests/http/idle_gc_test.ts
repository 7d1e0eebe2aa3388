import assert from "node:assert/strict";
import { type GcFunction, IdleCollector } from "../../src/http/idle_gc.ts";

const MB = 1024 * 1024;

/** A collector on a fake heap: `gc` shrinks it back to `floor`; checks run every millisecond. */
function setup(growthBytes = 16 * MB) {
  const heap = { bytes: 40 * MB, floor: 20 * MB };
  const calls: unknown[] = [];
  const gc: GcFunction = (options) => {
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
