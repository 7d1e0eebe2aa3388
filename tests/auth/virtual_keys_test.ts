import assert from "node:assert/strict";
import { VirtualKeyCache } from "../../src/auth/virtual_keys.ts";
import type { VirtualKey } from "../../src/store/store.ts";

function key(name: string, hash: string, extra: Partial<VirtualKey> = {}): VirtualKey {
  return {
    id: `id-${name}`,
    name,
    key_hash: hash,
    models: null,
    groups: ["g"],
    budget: { usd: 3, period: "1d" },
    rate_limit: null,
    expires_at: null,
    metadata: {},
    created_at: 0,
    revoked_at: null,
    ...extra,
  };
}

/** A store whose keys a test changes; `down` makes every call fail. */
function fakeStore(keys: VirtualKey[]) {
  const state = { keys, version: 0, lists: 0, down: false };
  return {
    state,
    keysVersion: () =>
      state.down ? Promise.reject(new Error("connection refused")) : Promise.resolve(state.version),
    listKeys: () => {
      state.lists++;
      return Promise.resolve([...state.keys]);
    },
  };
}

Deno.test("key cache finds keys by hash, refuses revoked and expired ones, reloads only on a new version", async () => {
  let now = 1_000;
  const store = fakeStore([
    key("alive", "a".repeat(64)),
    key("gone", "b".repeat(64), { revoked_at: 500 }),
    key("old", "c".repeat(64), { expires_at: 2_000 }),
  ]);
  const cache = new VirtualKeyCache(store, { now: () => now });
  await cache.refresh();
  const found = cache.lookup("a".repeat(64));
  assert.equal(found?.state, "active");
  assert.deepEqual(found?.state === "active" ? found.caller : null, {
    name: "alive",
    kind: "key",
    groups: ["g"],
    models: null,
    keyId: "id-alive",
    rateLimit: null,
    budget: { usd: 3, period: "1d" },
  });
  assert.deepEqual(cache.lookup("b".repeat(64)), { state: "revoked" });
  assert.equal(cache.lookup("c".repeat(64))?.state, "active");
  now = 2_000;
  assert.deepEqual(cache.lookup("c".repeat(64)), { state: "expired" });
  assert.equal(cache.lookup("d".repeat(64)), undefined);

  await cache.refresh();
  assert.equal(store.state.lists, 1, "same version: no reload");
  store.state.keys = [key("alive", "a".repeat(64), { revoked_at: 1_500 })];
  store.state.version++;
  await cache.refresh();
  assert.deepEqual(cache.lookup("a".repeat(64)), { state: "revoked" });
  assert.equal(cache.size, 1);
});

Deno.test("key cache keeps the last keys while the store is down, and logs the outage once", async () => {
  const store = fakeStore([key("alive", "a".repeat(64))]);
  const logged: string[] = [];
  const cache = new VirtualKeyCache(store, {
    intervalMs: 10,
    log: { info: (m) => logged.push(`info: ${m}`), error: (m) => logged.push(`error: ${m}`) },
  });
  await cache.start();
  try {
    store.state.down = true;
    await new Promise((resolve) => setTimeout(resolve, 60));
    assert.equal(cache.lookup("a".repeat(64))?.state, "active");
    store.state.down = false;
    store.state.keys = [];
    store.state.version++;
    await new Promise((resolve) => setTimeout(resolve, 40));
    assert.equal(cache.lookup("a".repeat(64)), undefined, "the poll picks up the change");
    assert.deepEqual(logged, [
      "error: cannot read virtual keys from the store; the last ones read stay in use",
      "info: virtual keys are read from the store again",
    ]);
  } finally {
    cache.close();
  }
});
