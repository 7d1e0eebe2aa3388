import assert from "node:assert/strict";
import { SpendCache } from "../../src/store/spend_cache.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { SpendQuery, Store, UsageRecord } from "../../src/store/store.ts";
import { createUsageWriter } from "../../src/store/writer.ts";
import { waitFor } from "../support/wait_for.ts";
import { usage } from "./contract.ts";

const HOUR = 3_600_000;
const T0 = Date.UTC(2026, 5, 15, 10, 30);

/** A store double: spend is what `insertUsage` added; reads are counted and may fail or stall. */
class FakeStore implements Pick<Store, "spend" | "insertUsage"> {
  records: UsageRecord[] = [];
  reads: SpendQuery[] = [];
  down = false;
  stall = false;
  spend(query: SpendQuery): Promise<number> {
    this.reads.push(query);
    if (this.down) return Promise.reject(new Error("connection refused"));
    if (this.stall) return new Promise(() => {});
    const sum = this.records.filter((r) =>
      r.time >= Math.floor(query.since / HOUR) * HOUR &&
      (query.scope === "key"
        ? (r.key_id ?? r.key_name) === query.id
        : query.scope === "user"
        ? r.user === query.id
        : r.groups.includes(query.id))
    ).reduce((total, r) => total + (r.cost_usd ?? 0), 0);
    return Promise.resolve(sum);
  }
  insertUsage(records: readonly UsageRecord[]): Promise<void> {
    this.records.push(...records);
    return Promise.resolve();
  }
}

function setup(options: { ttlMs?: number } = {}) {
  const store = new FakeStore();
  let now = T0;
  const lines: string[] = [];
  const cache = new SpendCache(store, {
    ttlMs: options.ttlMs ?? 1_000,
    readTimeoutMs: 50,
    now: () => now,
    log: { info: (m) => lines.push(`info ${m}`), error: (m) => lines.push(`error ${m}`) },
  });
  return { store, cache, lines, advance: (ms: number) => (now += ms) };
}

const since = T0 - 24 * HOUR;
const record = (fields: Partial<UsageRecord> = {}) =>
  usage({ time: T0, key_name: "ci", cost_usd: 0.25, ...fields });

Deno.test("spend cache reads a scope once per ttl, and again for another period start", async () => {
  const { store, cache, advance } = setup();
  store.records.push(record({ cost_usd: 1 }));
  assert.equal(await cache.spent("key", "ci", since), 1);
  store.records.push(record({ cost_usd: 2 }));
  advance(999);
  assert.equal(await cache.spent("key", "ci", since), 1, "within the ttl: the cached read");
  assert.equal(store.reads.length, 1);
  assert.equal(await cache.spent("key", "ci", since + HOUR), 3, "another since: a new read");
  advance(1);
  assert.equal(await cache.spent("key", "ci", since + HOUR), 3);
  assert.equal(store.reads.length, 2);
  advance(1_000);
  await Promise.all([1, 2, 3].map(() => cache.spent("key", "ci", since + HOUR)));
  assert.equal(store.reads.length, 3, "concurrent checks share one read");
});

Deno.test("spend cache counts a queued record until a read sent after its write", async () => {
  const { store, cache, advance } = setup();
  assert.equal(await cache.spent("key", "ci", since), 0);
  const r = record();
  cache.queued(r);
  assert.equal(await cache.spent("key", "ci", since), 0.25, "queued: counted locally");
  advance(100);
  await store.insertUsage([r]);
  cache.written([r]);
  assert.equal(await cache.spent("key", "ci", since), 0.25, "written after the cached read");
  advance(1_000);
  assert.equal(await cache.spent("key", "ci", since), 0.25, "now in the read, not also local");
  advance(1_000);
  assert.equal(await cache.spent("key", "ci", since), 0.25);
});

Deno.test("spend cache tracks only the scopes checks ask about, each of a record's scopes", async () => {
  const { cache } = setup();
  cache.queued(record({ cost_usd: 5 }));
  assert.equal(await cache.spent("key", "ci", since), 0, "queued before any check: not tracked");
  assert.equal(await cache.spent("group", "team-a", since), 0);
  cache.queued(record({ user: "alice", groups: ["team-a", "team-a"], cost_usd: 0.5 }));
  cache.queued(record({ key_name: "other", groups: ["team-b"], cost_usd: 9 }));
  cache.queued(record({ cost_usd: null }));
  assert.equal(await cache.spent("key", "ci", since), 0.5);
  assert.equal(await cache.spent("group", "team-a", since), 0.5, "a group counts once");
  assert.equal(await cache.spent("key", "ci", T0 + HOUR), 0, "before the period: not counted");
});

Deno.test("spend cache keeps the last read and adds local spend while the store is down", async () => {
  const { store, cache, lines, advance } = setup();
  store.records.push(record({ cost_usd: 3 }));
  assert.equal(await cache.spent("key", "ci", since), 3);
  store.down = true;
  advance(1_000);
  cache.queued(record({ cost_usd: 1 }));
  assert.equal(await cache.spent("key", "ci", since), 4, "the failed read: last read + local");
  const reads = store.reads.length;
  assert.equal(await cache.spent("key", "ci", since), 4);
  assert.equal(store.reads.length, reads, "no new read before the ttl has passed again");
  advance(1_000);
  assert.equal(await cache.spent("key", "ci", since), 4, "answered without waiting for the read");
  await waitFor(() => store.reads.length === reads + 1);
  await new Promise((resolve) => setTimeout(resolve, 1)); // that read has failed
  assert.deepEqual(lines.map((l) => l.split(";")[0]), ["error budget spend cannot be read"]);
  store.down = false;
  advance(1_000);
  await cache.spent("key", "ci", since);
  await waitFor(() => lines.length === 2);
  assert.equal(lines[1], "info budget spend can be read again");
  assert.equal(await cache.spent("key", "ci", since), 4);
});

Deno.test("spend cache gives up on a read that does not answer, using what it knows", async () => {
  const { store, cache } = setup();
  store.stall = true;
  cache.queued(record());
  const started = Date.now();
  assert.equal(await cache.spent("key", "ci", since), 0);
  assert.ok(Date.now() - started < 1_000);
});

Deno.test("spend cache with the real writer and SQLite: every record counted once", async () => {
  const dir = await Deno.makeTempDir({ prefix: "gateway-spend-" });
  const store = openSqliteStore(`${dir}/gateway.db`);
  const cache = new SpendCache(store, { ttlMs: 0 });
  const writer = createUsageWriter(store, { flushIntervalMs: 5, track: cache });
  try {
    const now = Date.now();
    const from = now - 24 * HOUR;
    assert.equal(await cache.spent("group", "team-a", from), 0);
    for (let i = 0; i < 40; i++) {
      writer.enqueue(usage({ time: now, groups: ["team-a"], cost_usd: 0.125 }));
      // Every check sees each record once: queued, being written or read from the store.
      assert.equal(await cache.spent("group", "team-a", from), 0.125 * (i + 1));
      if (i % 7 === 0) await new Promise((resolve) => setTimeout(resolve, 6));
    }
    await waitFor(() => writer.stats().pending === 0);
    assert.equal(await cache.spent("group", "team-a", from), 5);
    assert.equal(await store.spend({ scope: "group", id: "team-a", since: from }), 5);
  } finally {
    await writer.close();
    await store.close();
    await Deno.remove(dir, { recursive: true });
  }
});
