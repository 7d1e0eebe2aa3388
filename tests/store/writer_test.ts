import assert from "node:assert/strict";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { Store, UsageRecord } from "../../src/store/store.ts";
import { createUsageWriter, type WriterLog } from "../../src/store/writer.ts";
import { waitFor } from "../support/wait_for.ts";
import { usage } from "./contract.ts";

/** A log that keeps its lines. */
class MemoryLog implements WriterLog {
  lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  info = (message: string, fields?: Record<string, unknown>) => this.add("info", message, fields);
  warn = (message: string, fields?: Record<string, unknown>) => this.add("warn", message, fields);
  error = (message: string, fields?: Record<string, unknown>) => this.add("error", message, fields);
  levels = () => this.lines.map((line) => line.level);
  private add(level: string, message: string, fields?: Record<string, unknown>) {
    this.lines.push({ level, message, fields });
  }
}

/** A store double that records each batch and fails while `down`. */
class FlakyStore implements Pick<Store, "insertUsage"> {
  batches: number[] = [];
  records: UsageRecord[] = [];
  down = false;
  calls = 0;
  constructor(private readonly inner?: Pick<Store, "insertUsage">) {}
  async insertUsage(records: readonly UsageRecord[]): Promise<void> {
    this.calls++;
    if (this.down) throw new Error("connection refused");
    await this.inner?.insertUsage(records);
    this.batches.push(records.length);
    this.records.push(...records);
  }
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

Deno.test("usage writer writes full batches at once and the rest after the flush interval", async () => {
  const store = new FlakyStore();
  const writer = createUsageWriter(store, { batchSize: 50, flushIntervalMs: 300 });
  const started = Date.now();
  for (let i = 0; i < 120; i++) writer.enqueue(usage());
  await waitFor(() => store.batches.length >= 2);
  assert.deepEqual(store.batches, [50, 50], "the full batches did not wait for the interval");
  await waitFor(() => store.batches.length === 3);
  assert.deepEqual(store.batches, [50, 50, 20]);
  assert.ok(Date.now() - started >= 290, "the partial batch waited for the interval");
  assert.deepEqual(writer.stats(), { written: 120, dropped: 0, pending: 0, failures: 0 });
  assert.equal(await writer.close(), 0);
});

Deno.test("usage writer's enqueue neither throws nor waits when the store throws at once", async () => {
  const log = new MemoryLog();
  const store = {
    insertUsage(): Promise<void> {
      throw new Error("synchronous failure");
    },
  };
  const writer = createUsageWriter(store, { batchSize: 1, retryBaseMs: 5, log });
  for (let i = 0; i < 10; i++) assert.equal(writer.enqueue(usage()), undefined);
  await waitFor(() => writer.stats().failures >= 2);
  assert.deepEqual(log.levels(), ["error"], "one error for the outage, not one per retry");
  assert.equal(await writer.close({ timeoutMs: 20 }), 10);
});

Deno.test("usage writer keeps records through a store outage and writes every one after", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gateway-writer-" });
  const sqlite = openSqliteStore(`${dir}/gateway.db`);
  const store = new FlakyStore(sqlite);
  const log = new MemoryLog();
  const writer = createUsageWriter(store, {
    batchSize: 100,
    flushIntervalMs: 10,
    retryBaseMs: 10,
    retryMaxMs: 40,
    log,
  });
  try {
    const load = async (n: number) => {
      for (let i = 0; i < n; i++) {
        writer.enqueue(usage({ request_id: `r${store.calls}-${i}`, cost_usd: 0.01 }));
        if (i % 50 === 0) await sleep(1);
      }
    };
    await load(1_000);
    store.down = true;
    await load(2_000);
    await sleep(200); // several failed retries
    const callsWhileDown = store.calls;
    assert.ok(writer.stats().pending > 0 && writer.stats().failures >= 2);
    store.down = false;
    await load(1_000);
    await waitFor(() => writer.stats().pending === 0, { timeoutMs: 5_000 });
    assert.ok(callsWhileDown < 40, `backoff: ${callsWhileDown} calls, not a busy loop`);
    assert.deepEqual(writer.stats(), { written: 4_000, dropped: 0, pending: 0, failures: 0 });
    const [row] = await sqlite.usageSummary({ groupBy: "provider", from: 0, to: Date.now() });
    assert.equal(row?.requests, 4_000);
    assert.equal(new Set(store.records.map((r) => r.request_id)).size, 4_000);
    assert.deepEqual(log.levels(), ["error", "info"]);
  } finally {
    await writer.close();
    await sqlite.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("usage writer drops new records once the queue is full, counts them, warns per burst", async () => {
  const store = new FlakyStore();
  const log = new MemoryLog();
  const writer = createUsageWriter(store, {
    maxQueue: 100,
    batchSize: 10,
    flushIntervalMs: 5,
    retryBaseMs: 5,
    retryMaxMs: 10,
    log,
  });
  store.down = true;
  for (let i = 0; i < 250; i++) writer.enqueue(usage({ request_id: `a${i}` }));
  assert.equal(writer.dropped, 150);
  assert.equal(writer.stats().pending, 100);
  await sleep(30);
  store.down = false;
  await waitFor(() => writer.stats().pending === 0);
  // The oldest records were kept: the first 100 enqueued.
  assert.deepEqual(
    store.records.map((r) => r.request_id),
    [...Array(100).keys()].map((i) => `a${i}`),
  );
  store.down = true;
  for (let i = 0; i < 130; i++) writer.enqueue(usage());
  assert.equal(writer.dropped, 180);
  const warnings = log.lines.filter((line) => line.level === "warn");
  assert.equal(warnings.length, 2, "one warning per burst, not per record");
  assert.equal(warnings[0]?.fields?.["gateway.usage.dropped"], 1);
  store.down = false;
  assert.equal(await writer.close(), 0);
  assert.deepEqual(writer.stats(), { written: 200, dropped: 180, pending: 0, failures: 0 });
});

Deno.test("usage writer's close writes what is queued, without waiting for the interval", async () => {
  const store = new FlakyStore();
  const writer = createUsageWriter(store, { flushIntervalMs: 60_000 });
  for (let i = 0; i < 7; i++) writer.enqueue(usage());
  const started = Date.now();
  assert.equal(await writer.close(), 0);
  assert.ok(Date.now() - started < 1_000);
  assert.equal(store.records.length, 7);
  writer.enqueue(usage());
  assert.equal(writer.dropped, 1, "a record after close is counted as dropped");
});

Deno.test("usage writer's close gives up at its deadline while the store stays down", async () => {
  const store = new FlakyStore();
  store.down = true;
  const log = new MemoryLog();
  const writer = createUsageWriter(store, { retryBaseMs: 10, log });
  for (let i = 0; i < 42; i++) writer.enqueue(usage());
  const started = Date.now();
  assert.equal(await writer.close({ timeoutMs: 150 }), 42);
  const took = Date.now() - started;
  assert.ok(took >= 140 && took < 1_000, `closed after ${took} ms`);
  assert.ok(store.calls >= 2, "retried before the deadline");
  assert.equal(log.lines.at(-1)?.fields?.["gateway.usage.unwritten"], 42);
});

Deno.test("usage writer retries a batch whose write never settles", async () => {
  const log = new MemoryLog();
  const written: UsageRecord[] = [];
  let calls = 0;
  const store = {
    insertUsage(records: readonly UsageRecord[]): Promise<void> {
      // The first write hangs, as on a connection that died without a reset.
      if (calls++ === 0) return new Promise<void>(() => {});
      written.push(...records);
      return Promise.resolve();
    },
  };
  const writer = createUsageWriter(store, { writeTimeoutMs: 50, retryBaseMs: 5, log });
  for (let i = 0; i < 3; i++) writer.enqueue(usage());
  assert.equal(await writer.close({ timeoutMs: 2_000 }), 0);
  assert.equal(written.length, 3);
  assert.match(String(log.lines[0]?.fields?.["error.message"]), /no answer within 50 ms/);
});

Deno.test("usage writer's close does not wait past its deadline for a store that hangs", async () => {
  let release = () => {};
  const store = {
    insertUsage: () => new Promise<void>((resolve) => release = resolve),
  };
  const writer = createUsageWriter(store, { batchSize: 1 });
  writer.enqueue(usage());
  const started = Date.now();
  assert.equal(await writer.close({ timeoutMs: 50 }), 1);
  assert.ok(Date.now() - started < 500);
  release();
});
