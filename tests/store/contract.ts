// Behaviours every Store engine must share; sqlite_test.ts and postgres_test.ts run them.
import assert from "node:assert/strict";
import { loadKeyHasher } from "../../src/auth/key_hash.ts";
import {
  type Store,
  StoreConflictError,
  type StoredResponse,
  type StoreOptions,
  type UsageRecord,
} from "../../src/store/store.ts";

/** One database under test: `open` may be called again (after `close`) to reopen it. */
export interface StoreHarness {
  open(options?: StoreOptions): Promise<Store>;
}

/** A shared behaviour: a title and a body run against a fresh, empty database. */
export interface StoreCase {
  name: string;
  fn(harness: StoreHarness): Promise<void>;
}

const HOUR = 3_600_000;
/** An hour boundary, so offsets below read as "minutes into the hour". */
const T0 = Date.UTC(2025, 4, 1, 12);
const MIN = 60_000;

/** A settable clock. */
class Clock {
  t = T0;
  readonly now = (): number => this.t;
}

async function hashOf(secret: string): Promise<string> {
  return (await loadKeyHasher())(secret).toHex();
}

/** A usage record with plain defaults; `fields` override them. */
export function usage(fields: Partial<UsageRecord> = {}): UsageRecord {
  return {
    time: T0,
    request_id: crypto.randomUUID(),
    key_id: null,
    key_name: "ci-bot",
    user: null,
    groups: [],
    endpoint: "/v1/chat/completions",
    requested_model: "gpt-4o-mini",
    provider: "openai",
    model: "gpt-4o-mini",
    status: 200,
    attempts: 1,
    input_tokens: 100,
    output_tokens: 20,
    cached_tokens: 0,
    cost_usd: 0.001,
    latency_ms: 412.5,
    ttfb_ms: 180,
    stream: false,
    ...fields,
  };
}

const DAY = 24 * HOUR;

/** A response the gateway holds, a turn with a message and a function call; `fields` override. */
export function storedResponse(fields: Partial<StoredResponse> = {}): StoredResponse {
  const input = [
    { type: "message", role: "user", content: [{ type: "input_text", text: "Wie spät? 🕰" }] },
    { type: "function_call_output", call_id: "call_1", output: '{"temp": -3.5, "ok": true}' },
  ];
  const response = {
    id: fields.id ?? "resp_1",
    object: "response",
    status: "completed",
    output: [{
      type: "message",
      role: "assistant",
      content: [{ type: "output_text", text: "Zwölf" }],
    }],
    usage: { input_tokens: 12, output_tokens: 3, total_tokens: 15 },
    metadata: {},
    temperature: 0.7,
  };
  return {
    id: "resp_1",
    owner: "key:ci-bot",
    provider: null,
    model: "openai/gpt-4o",
    created_at: T0,
    expires_at: T0 + 30 * DAY,
    previous_response_id: null,
    input,
    response,
    size: JSON.stringify(input).length + JSON.stringify(response).length,
    ...fields,
  };
}

async function withStore(
  harness: StoreHarness,
  body: (store: Store, clock: Clock) => Promise<void>,
): Promise<void> {
  const clock = new Clock();
  const store = await harness.open({ now: clock.now });
  try {
    await body(store, clock);
  } finally {
    await store.close();
  }
}

/** The shared cases; each engine's test file runs every one on a fresh database. */
export const storeContract: StoreCase[] = [
  {
    name: "a created key is found by the hash of its secret, every field as written",
    fn: (harness) =>
      withStore(harness, async (store, clock) => {
        const secret = "sk-gw-0123456789abcdef";
        const created = await store.createKey({
          name: "alice-laptop",
          key_hash: await hashOf(secret),
          models: ["openai/*", "smart"],
          groups: ["research", "staff"],
          budget: { usd: 25.5, period: "month" },
          rate_limit: { requests: 60, tokens: 100_000, window_ms: 60_000 },
          expires_at: T0 + 30 * 24 * HOUR,
          metadata: { team: "nlp", tags: ["a", "b"], nested: { n: 1, ok: true } },
        });
        assert.equal(created.created_at, clock.t);
        assert.equal(created.revoked_at, null);
        assert.match(created.id, /^[0-9a-f-]{36}$/);
        // The hash auth computes for a presented key, as for config keys.
        assert.deepEqual(await store.getKeyByHash(await hashOf(secret)), created);
        assert.deepEqual(await store.getKeyByHash((await hashOf(secret)).toUpperCase()), created);
        assert.equal(await store.getKeyByHash(await hashOf("another-secret-value")), null);
      }),
  },
  {
    name: "a key without optional fields gets no models limit, no groups, budget or limit",
    fn: (harness) =>
      withStore(harness, async (store) => {
        const created = await store.createKey({ name: "plain", key_hash: await hashOf("p") });
        assert.deepEqual(await store.getKeyByHash(await hashOf("p")), created);
        assert.deepEqual(
          [created.models, created.groups, created.budget, created.rate_limit, created.metadata],
          [null, [], null, null, {}],
        );
      }),
  },
  {
    name: "a second key with a taken name or secret is refused with a conflict",
    fn: (harness) =>
      withStore(harness, async (store) => {
        await store.createKey({ name: "bob", key_hash: await hashOf("one") });
        await assert.rejects(
          store.createKey({ name: "bob", key_hash: await hashOf("two") }),
          (error) => error instanceof StoreConflictError && error.field === "name",
        );
        await assert.rejects(
          store.createKey({ name: "robert", key_hash: await hashOf("one") }),
          (error) => error instanceof StoreConflictError && error.field === "key_hash",
        );
        assert.equal((await store.listKeys()).length, 1);
      }),
  },
  {
    name: "listKeys returns every key oldest first, revoked ones included",
    fn: (harness) =>
      withStore(harness, async (store, clock) => {
        const names = ["k1", "k2", "k3"];
        const ids: string[] = [];
        for (const name of names) {
          ids.push((await store.createKey({ name, key_hash: await hashOf(name) })).id);
          clock.t += MIN;
        }
        await store.revokeKey(ids[1]!);
        const keys = await store.listKeys();
        assert.deepEqual(keys.map((k) => k.name), names);
        assert.deepEqual(keys.map((k) => k.revoked_at !== null), [false, true, false]);
      }),
  },
  {
    name: "updateKey changes only the fields named; null clears; unknown id gives null",
    fn: (harness) =>
      withStore(harness, async (store) => {
        const key = await store.createKey({
          name: "svc",
          key_hash: await hashOf("svc"),
          models: ["openai/*"],
          groups: ["a"],
          budget: { usd: 10, period: "7d" },
          metadata: { owner: "ops" },
        });
        const updated = await store.updateKey(key.id, {
          groups: ["a", "b"],
          budget: null,
          rate_limit: { requests: 5, tokens: null, window_ms: 1_000 },
        });
        const expected = {
          ...key,
          groups: ["a", "b"],
          budget: null,
          rate_limit: { requests: 5, tokens: null, window_ms: 1_000 },
        };
        assert.deepEqual(updated, expected);
        assert.deepEqual(await store.getKeyByHash(key.key_hash), expected);
        assert.equal(await store.updateKey("no-such-id", { name: "x" }), null);
        await store.createKey({ name: "other", key_hash: await hashOf("other") });
        await assert.rejects(
          store.updateKey(key.id, { name: "other" }),
          (error) => error instanceof StoreConflictError && error.field === "name",
        );
        assert.equal((await store.getKeyByHash(key.key_hash))?.name, "svc");
      }),
  },
  {
    name: "revokeKey marks a key revoked once and keeps the first time",
    fn: (harness) =>
      withStore(harness, async (store, clock) => {
        const key = await store.createKey({ name: "temp", key_hash: await hashOf("temp") });
        clock.t += 5 * MIN;
        assert.equal((await store.revokeKey(key.id))?.revoked_at, T0 + 5 * MIN);
        clock.t += 5 * MIN;
        assert.equal((await store.revokeKey(key.id))?.revoked_at, T0 + 5 * MIN);
        assert.equal((await store.getKeyByHash(key.key_hash))?.revoked_at, T0 + 5 * MIN);
        assert.equal(await store.revokeKey("no-such-id"), null);
      }),
  },
  {
    name: "every key change raises the version another instance polls; reads do not",
    fn: async (harness) => {
      const writer = await harness.open();
      const watcher = await harness.open();
      try {
        const seen = [await watcher.keysVersion()];
        const key = await writer.createKey({ name: "v", key_hash: await hashOf("v") });
        seen.push(await watcher.keysVersion());
        await writer.updateKey(key.id, { groups: ["g"] });
        seen.push(await watcher.keysVersion());
        await writer.listKeys();
        await writer.getKeyByHash(key.key_hash);
        seen.push(await watcher.keysVersion());
        await writer.revokeKey(key.id);
        seen.push(await watcher.keysVersion());
        await writer.revokeKey(key.id); // already revoked: nothing changed
        seen.push(await watcher.keysVersion());
        const base = seen[0]!;
        assert.deepEqual(seen.map((v) => v - base), [0, 1, 2, 2, 3, 3]);
        assert.deepEqual((await watcher.listKeys()).map((k) => k.groups), [["g"]]);
      } finally {
        await writer.close();
        await watcher.close();
      }
    },
  },
  {
    name: "usageSummary sums requests, tokens and cost per dimension within [from, to)",
    fn: (harness) =>
      withStore(harness, async (store) => {
        await store.insertUsage([
          usage({ key_name: "a", user: "ann", groups: ["x", "y"], cost_usd: 0.5 }),
          usage({ key_name: "a", user: "ann", groups: ["x"], cost_usd: 0.25, time: T0 + MIN }),
          usage({
            key_name: "b",
            provider: "anthropic",
            model: "claude-haiku-4-5",
            cost_usd: null,
            input_tokens: 7,
            output_tokens: 3,
            time: T0 + 2 * MIN,
          }),
          usage({ key_name: "a", cost_usd: 9, time: T0 - 1 }), // before the range
          usage({ key_name: "a", cost_usd: 9, time: T0 + HOUR }), // at `to`: excluded
        ]);
        const range = { from: T0, to: T0 + HOUR };
        assert.deepEqual(await store.usageSummary({ groupBy: "key", ...range }), [
          { value: "a", requests: 2, input_tokens: 200, output_tokens: 40, cost_usd: 0.75 },
          { value: "b", requests: 1, input_tokens: 7, output_tokens: 3, cost_usd: 0 },
        ]);
        assert.deepEqual(await store.usageSummary({ groupBy: "user", ...range }), [
          { value: "ann", requests: 2, input_tokens: 200, output_tokens: 40, cost_usd: 0.75 },
          { value: null, requests: 1, input_tokens: 7, output_tokens: 3, cost_usd: 0 },
        ]);
        // A record counts once per group; one without groups is not under any.
        assert.deepEqual(await store.usageSummary({ groupBy: "group", ...range }), [
          { value: "x", requests: 2, input_tokens: 200, output_tokens: 40, cost_usd: 0.75 },
          { value: "y", requests: 1, input_tokens: 100, output_tokens: 20, cost_usd: 0.5 },
        ]);
        assert.deepEqual(
          (await store.usageSummary({ groupBy: "model", ...range })).map((r) => r.value),
          ["gpt-4o-mini", "claude-haiku-4-5"],
        );
        assert.deepEqual(
          (await store.usageSummary({ groupBy: "provider", ...range })).map((r) => [
            r.value,
            r.requests,
          ]),
          [["openai", 2], ["anthropic", 1]],
        );
        assert.deepEqual(await store.usageSummary({ groupBy: "key", from: 0, to: 1 }), []);
      }),
  },
  {
    name: "usageSeries sums per bucket of a minute, an hour or a day (UTC), oldest bucket first",
    fn: (harness) =>
      withStore(harness, async (store) => {
        await store.insertUsage([
          usage({ key_name: "a", groups: ["x"], cost_usd: 0.5, time: T0 + 10 }),
          usage({ key_name: "b", groups: ["x", "y"], cost_usd: 0.25, time: T0 + MIN - 1 }),
          usage({ key_name: "a", cost_usd: 0.125, time: T0 + MIN }),
          usage({ key_name: null, cost_usd: null, input_tokens: 7, time: T0 + 2 * HOUR + 5 }),
          usage({ key_name: "a", cost_usd: 9, time: T0 - 1 }), // before the range
          usage({ key_name: "a", cost_usd: 9, time: T0 + DAY }), // at `to`: excluded
        ]);
        const range = { from: T0, to: T0 + DAY };
        const rows = (bucket: "minute" | "hour" | "day", groupBy: "key" | "group" = "key") =>
          store.usageSeries({ groupBy, bucket, ...range });
        const sums = { input_tokens: 100, output_tokens: 20 };
        assert.deepEqual(await rows("minute"), [
          { t: T0, value: "a", requests: 1, ...sums, cost_usd: 0.5 },
          { t: T0, value: "b", requests: 1, ...sums, cost_usd: 0.25 },
          { t: T0 + MIN, value: "a", requests: 1, ...sums, cost_usd: 0.125 },
          {
            t: T0 + 2 * HOUR,
            value: null,
            requests: 1,
            input_tokens: 7,
            output_tokens: 20,
            cost_usd: 0,
          },
        ]);
        assert.deepEqual(
          (await rows("hour")).map((r) => [r.t, r.value, r.requests, r.cost_usd]),
          [[T0, "a", 2, 0.625], [T0, "b", 1, 0.25], [T0 + 2 * HOUR, null, 1, 0]],
        );
        // T0 is noon UTC: the day bucket starts at midnight before it.
        const midnight = T0 - 12 * HOUR;
        assert.deepEqual(
          (await rows("day")).map((r) => [r.t, r.value, r.requests]),
          [[midnight, "a", 2], [midnight, "b", 1], [midnight, null, 1]],
        );
        assert.deepEqual(
          (await rows("minute", "group")).map((r) => [r.t, r.value, r.requests, r.cost_usd]),
          [[T0, "x", 2, 0.75], [T0, "y", 1, 0.25]],
        );
        assert.deepEqual(
          await store.usageSeries({ groupBy: "model", bucket: "hour", from: 0, to: 1 }),
          [],
        );
      }),
  },
  {
    name: "spend sums a key's, user's or group's costs since the start of an hour",
    fn: (harness) =>
      withStore(harness, async (store) => {
        const key = "3f1c0a62-2d7e-4d41-9a57-0c8f5b3c2a10";
        await store.insertUsage([
          usage({ key_id: key, key_name: "vk", user: "ann", groups: ["x"], cost_usd: 1 }),
          usage({ key_id: key, key_name: "vk", groups: ["x", "x"], cost_usd: 2, time: T0 + HOUR }),
          usage({ key_id: key, key_name: "vk", cost_usd: null, time: T0 + HOUR }),
          usage({ key_name: "ci-bot", user: "ann", cost_usd: 4, time: T0 + 2 * HOUR + MIN }),
        ]);
        await store.insertUsage([usage({ key_id: key, cost_usd: 8, time: T0 + 2 * HOUR })]);
        const spend = (scope: "key" | "user" | "group", id: string, since: number) =>
          store.spend({ scope, id, since });
        // A virtual key's spend is under its id; a config key's under its name.
        assert.equal(await spend("key", key, T0), 11);
        assert.equal(await spend("key", "vk", T0), 0);
        assert.equal(await spend("key", "ci-bot", T0), 4);
        assert.equal(await spend("user", "ann", T0), 5);
        // A record lists a group twice: it still counts once.
        assert.equal(await spend("group", "x", T0), 3);
        assert.equal(await spend("key", key, T0 + HOUR), 10);
        // `since` in the middle of an hour counts that whole hour.
        assert.equal(await spend("key", key, T0 + HOUR + 30 * MIN), 10);
        assert.equal(await spend("key", key, T0 + 3 * HOUR), 0);
        assert.equal(await spend("group", "nobody", 0), 0);
      }),
  },
  {
    name: "insertUsage writes every record of a large batch, each with its own values",
    fn: (harness) =>
      withStore(harness, async (store) => {
        // 61 records: more than one multi-row insert's worth, and a remainder.
        const records = Array.from({ length: 61 }, (_, i) =>
          usage({
            key_name: `k${i % 7}`,
            input_tokens: i,
            output_tokens: 2 * i,
            cost_usd: i % 5 === 0 ? null : i / 100,
            time: T0 + i,
          }));
        await store.insertUsage(records);
        const rows = await store.usageSummary({ groupBy: "key", from: T0, to: T0 + HOUR });
        const expected = Array.from({ length: 7 }, (_, k) => {
          const mine = records.filter((_, i) => i % 7 === k);
          return {
            value: `k${k}`,
            requests: mine.length,
            input_tokens: mine.reduce((n, r) => n + r.input_tokens, 0),
            output_tokens: mine.reduce((n, r) => n + r.output_tokens, 0),
            cost_usd: mine.reduce((n, r) => n + (r.cost_usd ?? 0), 0),
          };
        });
        const byKey = (a: { value: string | null }, b: { value: string | null }) =>
          String(a.value).localeCompare(String(b.value));
        assert.deepEqual(
          rows.sort(byKey).map((r) => ({ ...r, cost_usd: Math.round(r.cost_usd * 1e6) / 1e6 })),
          expected.map((r) => ({ ...r, cost_usd: Math.round(r.cost_usd * 1e6) / 1e6 })),
        );
      }),
  },
  {
    name: "insertUsage of no records changes nothing",
    fn: (harness) =>
      withStore(harness, async (store) => {
        await store.insertUsage([]);
        assert.deepEqual(await store.usageSummary({ groupBy: "key", from: 0, to: 2 * T0 }), []);
      }),
  },
  {
    name: "keys, usage and spend are still there after the store is closed and reopened",
    fn: async (harness) => {
      const first = await harness.open();
      const key = await first.createKey({ name: "kept", key_hash: await hashOf("kept") });
      await first.insertUsage([usage({ key_id: key.id, key_name: "kept", cost_usd: 0.5 })]);
      const version = await first.keysVersion();
      await first.close();
      const second = await harness.open();
      try {
        assert.deepEqual(await second.listKeys(), [key]);
        assert.equal(await second.keysVersion(), version);
        assert.equal(await second.spend({ scope: "key", id: key.id, since: T0 }), 0.5);
        assert.deepEqual(
          await second.usageSummary({ groupBy: "key", from: T0, to: T0 + 1 }),
          [{ value: "kept", requests: 1, input_tokens: 100, output_tokens: 20, cost_usd: 0.5 }],
        );
      } finally {
        await second.close();
      }
    },
  },
  {
    name: "a stored response is read back whole, by another connection too, until it expires",
    fn: async (harness) => {
      const writer = await harness.open();
      const reader = await harness.open();
      try {
        const held = storedResponse({ previous_response_id: "resp_0" });
        const native = storedResponse({
          id: "resp_2",
          provider: "openai",
          input: null,
          response: null,
          size: 0,
        });
        await writer.putResponse(held);
        await writer.putResponse(native);
        assert.deepEqual(await reader.getResponse("resp_1", T0), held);
        assert.deepEqual(await reader.getResponse("resp_2", T0), native);
        assert.deepEqual(await reader.getResponse("resp_1", held.expires_at - 1), held);
        assert.equal(await reader.getResponse("resp_1", held.expires_at), null);
        assert.equal(await reader.getResponse("resp_9", T0), null);
      } finally {
        await writer.close();
        await reader.close();
      }
    },
  },
  {
    name: "putResponse with an id already stored replaces that response",
    fn: (harness) =>
      withStore(harness, async (store) => {
        await store.putResponse(storedResponse({ expires_at: T0 + HOUR }));
        const second = storedResponse({
          owner: "user:ann",
          model: "anthropic/claude-haiku-4-5",
          expires_at: T0 + 2 * HOUR,
          input: [{ type: "message", role: "user", content: "again" }],
          response: { id: "resp_1", output: [] },
          size: 99,
        });
        await store.putResponse(second);
        assert.deepEqual(await store.getResponse("resp_1", T0 + HOUR), second);
      }),
  },
  {
    name: "deleteResponse deletes one response once, an expired one too",
    fn: (harness) =>
      withStore(harness, async (store) => {
        await store.putResponse(storedResponse({ id: "resp_a" }));
        await store.putResponse(storedResponse({ id: "resp_b" }));
        await store.putResponse(storedResponse({ id: "resp_old", expires_at: T0 - 1 }));
        assert.equal(await store.deleteResponse("resp_a"), true);
        assert.equal(await store.deleteResponse("resp_a"), false);
        assert.equal(await store.getResponse("resp_a", T0), null);
        assert.equal((await store.getResponse("resp_b", T0))?.id, "resp_b");
        // Gone for readers, but still there to delete until a purge.
        assert.equal(await store.deleteResponse("resp_old"), true);
        assert.equal(await store.purgeResponses(T0 + 60 * DAY), 1);
      }),
  },
  {
    name: "purgeResponses deletes the responses expired by then and counts them",
    fn: (harness) =>
      withStore(harness, async (store) => {
        for (const [i, expires] of [T0 + MIN, T0 + 2 * MIN, T0 + 3 * MIN].entries()) {
          await store.putResponse(storedResponse({ id: `resp_${i}`, expires_at: expires }));
        }
        assert.equal(await store.purgeResponses(T0), 0);
        assert.equal(await store.purgeResponses(T0 + 2 * MIN), 2);
        assert.equal(await store.purgeResponses(T0 + 2 * MIN), 0);
        // The one left is still there, even to a reader whose clock says it has expired.
        assert.equal(await store.deleteResponse("resp_2"), true);
        assert.equal(await store.deleteResponse("resp_0"), false);
      }),
  },
  {
    name: "a response holding U+0000 or an unpaired surrogate is kept, the rest exactly",
    fn: (harness) =>
      withStore(harness, async (store) => {
        // What a client may send in a tool's output; Postgres's jsonb cannot hold these two.
        const odd = "nul\u0000 lone\ud800 pair😀 escaped\\u0000 tail\udc00";
        const kept = store.engine === "postgres"
          ? "nul\ufffd lone\ufffd pair😀 escaped\\u0000 tail\ufffd"
          : odd;
        await store.putResponse(storedResponse({
          input: [{ type: "function_call_output", call_id: "c", output: odd }],
          response: { id: "resp_1", output: [], [odd]: odd },
        }));
        const read = await store.getResponse("resp_1", T0);
        assert.deepEqual(read?.input, [{
          type: "function_call_output",
          call_id: "c",
          output: kept,
        }]);
        assert.deepEqual(read?.response, { id: "resp_1", output: [], [kept]: kept });
      }),
  },
];
