// The stored responses as the Responses handler uses them, over a real SQLite store, and over
// stores that hold, fail or never answer writes.
import assert from "node:assert/strict";
import {
  ConversationLimitError,
  NativeResponseError,
  ResponseNotFoundError,
} from "../../src/store/response_errors.ts";
import {
  ResponseState,
  type ResponseStateOptions,
  storedResponseSize,
} from "../../src/store/responses.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { Store, StoredResponse } from "../../src/store/store.ts";
import { settles, waitFor } from "../support/wait_for.ts";

const T0 = Date.UTC(2025, 4, 1, 12);
const MIN = 60_000;
const DAY = 24 * 60 * MIN;
const ANN = "key:ann";
const BOB = "key:bob";

/** A settable clock. */
class Clock {
  t = T0;
  readonly now = (): number => this.t;
}

/** A turn the gateway answered: the user's text in, the assistant's text (and `more`) out. */
function turn(
  id: string,
  previous: string | null,
  text: string,
  fields: Partial<StoredResponse> = {},
): StoredResponse {
  const input = [{ type: "message", role: "user", content: `${text}?` }];
  const response = {
    id,
    object: "response",
    output: [{ type: "message", role: "assistant", content: [{ type: "output_text", text }] }],
  };
  return {
    id,
    owner: ANN,
    provider: null,
    model: "anthropic/claude-haiku-4-5",
    created_at: T0,
    expires_at: T0 + 30 * DAY,
    previous_response_id: previous,
    input,
    response,
    size: storedResponseSize(input, response),
    ...fields,
  };
}

/** Lines logged, as "level: message". */
function recordingLog() {
  const lines: string[] = [];
  return {
    lines,
    log: {
      info: (message: string) => lines.push(`info: ${message}`),
      warn: (message: string) => lines.push(`warn: ${message}`),
      error: (message: string) => lines.push(`error: ${message}`),
    },
  };
}

/** What `ResponseState` uses of a store. */
type ResponseStore = Pick<
  Store,
  "putResponse" | "getResponse" | "deleteResponse" | "purgeResponses"
>;

/** The store's response methods, with some replaced. */
function replacing(store: Store, methods: Partial<ResponseStore>): ResponseStore {
  return {
    putResponse: (response) => store.putResponse(response),
    getResponse: (id, now) => store.getResponse(id, now),
    deleteResponse: (id) => store.deleteResponse(id),
    purgeResponses: (now) => store.purgeResponses(now),
    ...methods,
  };
}

/** A state over an in-memory SQLite store, closed (both) after `body`. */
async function withState(
  options: ResponseStateOptions,
  body: (state: ResponseState, store: Store) => Promise<void>,
  wrap: (store: Store) => ResponseStore = (store) => store,
): Promise<void> {
  const store = openSqliteStore(":memory:");
  const state = new ResponseState(wrap(store), {
    retryDelaysMs: [1, 1, 1],
    now: new Clock().now,
    ...options,
  });
  try {
    await body(state, store);
  } finally {
    await state.close({ timeoutMs: 100 });
    await store.close();
  }
}

/** The store with `putResponse` held until `release()` is called. */
function heldWrites(store: Store) {
  const gate = Promise.withResolvers<void>();
  let puts = 0;
  const held = replacing(store, {
    putResponse: async (response) => {
      puts++;
      await gate.promise;
      return store.putResponse(response);
    },
  });
  return { store: held, release: () => gate.resolve(), puts: () => puts };
}

/** The store with `putResponse` failing while `failing()` says so. */
function failingWrites(store: Store, failing: (attempt: number) => boolean): ResponseStore {
  let attempt = 0;
  return replacing(store, {
    putResponse: (response) =>
      failing(++attempt)
        ? Promise.reject(new Error("connection refused"))
        : store.putResponse(response),
  });
}

async function notFound(
  pending: Promise<unknown>,
  id: string,
  reason: "absent" | "too_large",
  message: RegExp,
): Promise<void> {
  await assert.rejects(pending, (error: unknown) => {
    assert.ok(error instanceof ResponseNotFoundError, String(error));
    assert.deepEqual([error.id, error.reason, error.status], [id, reason, 404]);
    assert.match(error.message, message);
    return true;
  });
}

Deno.test("a saved response is read and deleted by its owner only", () =>
  withState({}, async (state, store) => {
    const r = turn("resp_a", null, "hello");
    assert.equal(state.save(r), "queued");
    await state.settled();
    assert.deepEqual(await store.getResponse("resp_a", T0), r);
    assert.deepEqual(await state.get("resp_a", ANN), r);
    assert.equal(await state.get("resp_a", BOB), null);
    assert.equal(await state.delete("resp_a", BOB), false);
    assert.deepEqual(await state.get("resp_a", ANN), r);
    assert.equal(await state.delete("resp_a", ANN), true);
    assert.equal(await state.get("resp_a", ANN), null);
    assert.equal(await store.getResponse("resp_a", T0), null);
    assert.equal(await state.delete("resp_a", ANN), false);
    assert.equal(await state.get("resp_none", ANN), null);
    assert.deepEqual(state.stats(), { saved: 1, failed: 0, too_large: 0, purged: 0, pending: 0 });
  }));

Deno.test("a follow-up finds a response whose write has not landed yet", async () => {
  let held!: ReturnType<typeof heldWrites>;
  await withState(
    {},
    async (state, store) => {
      state.save(turn("resp_1", null, "one"));
      state.save(turn("resp_2", "resp_1", "two"));
      assert.equal(await store.getResponse("resp_2", T0), null, "written already");
      assert.equal((await state.get("resp_2", ANN))?.previous_response_id, "resp_1");
      assert.equal(await state.get("resp_2", BOB), null);
      assert.equal((await state.history("resp_2", ANN)).length, 4);
      assert.equal(state.stats().pending, 2);
      held.release();
      await settles(state.settled(), "the writes");
      assert.equal((await store.getResponse("resp_2", T0))?.id, "resp_2");
      assert.deepEqual(state.stats(), {
        saved: 2,
        failed: 0,
        too_large: 0,
        purged: 0,
        pending: 0,
      });
    },
    (store) => (held = heldWrites(store)).store,
  );
});

Deno.test("history gives three turns' input and output items, oldest first", () =>
  withState({}, async (state) => {
    const first = turn("resp_1", null, "one");
    const second = turn("resp_2", "resp_1", "two");
    // The second turn answered a tool's output with a call to another tool.
    second.input = [{ type: "function_call_output", call_id: "c1", output: "42" }];
    second.response = {
      output: [
        { type: "reasoning", summary: [] },
        { type: "function_call", call_id: "c2", name: "look", arguments: "{}" },
      ],
    };
    state.save(first);
    state.save(second);
    await state.settled();
    // The third is still in memory: history reads both places.
    state.save(turn("resp_3", "resp_2", "three"));
    const items = await state.history("resp_3", ANN);
    assert.deepEqual(items, [
      { type: "message", role: "user", content: "one?" },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "one" }] },
      { type: "function_call_output", call_id: "c1", output: "42" },
      { type: "reasoning", summary: [] },
      { type: "function_call", call_id: "c2", name: "look", arguments: "{}" },
      { type: "message", role: "user", content: "three?" },
      { type: "message", role: "assistant", content: [{ type: "output_text", text: "three" }] },
    ]);
    assert.deepEqual(await state.history("resp_1", ANN), items.slice(0, 2));
  }));

Deno.test("history of an absent, expired or another owner's response is not found alike", async () => {
  const clock = new Clock();
  await withState({ now: clock.now }, async (state) => {
    state.save(turn("resp_1", null, "one", { expires_at: T0 + MIN }));
    state.save(turn("resp_2", "resp_1", "two"));
    state.save(turn("resp_3", "resp_2", "three"));
    state.save(turn("resp_bob", null, "bob's", { owner: BOB }));
    await state.settled();
    const absent = /^previous_response_id: response "resp_\w+" not found$/;
    await notFound(state.history("resp_none", ANN), "resp_none", "absent", absent);
    await notFound(state.history("resp_bob", ANN), "resp_bob", "absent", absent);
    await notFound(state.history("resp_3", BOB), "resp_3", "absent", absent);
    assert.equal((await state.history("resp_3", ANN)).length, 6);
    // The first turn expires: the conversation cannot be rebuilt, and the error says where.
    clock.t = T0 + MIN;
    await notFound(
      state.history("resp_3", ANN),
      "resp_1",
      "absent",
      /^previous_response_id: response "resp_1", earlier in this conversation, is no longer stored$/,
    );
    assert.equal(await state.get("resp_1", ANN), null);
    await notFound(state.history("resp_1", ANN), "resp_1", "absent", absent);
  });
});

Deno.test("a response over maxSize is not kept; reads say it was too large", () =>
  withState({ maxSize: 400 }, async (state, store) => {
    const big = turn("resp_big", null, "x".repeat(500));
    assert.ok(big.size > 400);
    const small = turn("resp_small", "resp_big", "ok");
    assert.ok(small.size <= 400);
    assert.equal(state.save(big), "too_large");
    assert.equal(state.save(small), "queued");
    const tooLarge = /response "resp_big" was not kept: at \d+ bytes it was too large to store/;
    // Before and after the write of its note.
    await notFound(state.get("resp_big", ANN), "resp_big", "too_large", tooLarge);
    await state.settled();
    await notFound(state.get("resp_big", ANN), "resp_big", "too_large", tooLarge);
    await notFound(state.history("resp_big", ANN), "resp_big", "too_large", tooLarge);
    await notFound(state.history("resp_small", ANN), "resp_big", "too_large", tooLarge);
    // Another owner learns nothing, and nothing of its content is in the store.
    assert.equal(await state.get("resp_big", BOB), null);
    const note = await store.getResponse("resp_big", T0);
    assert.deepEqual([note?.input, note?.response, note?.size], [null, null, big.size]);
    assert.equal(await state.delete("resp_big", ANN), false);
    assert.deepEqual(state.stats(), { saved: 1, failed: 0, too_large: 1, purged: 0, pending: 0 });
    // A reload may raise the limit: later saves are judged by it.
    state.maxSize = 2 * big.size;
    assert.equal(state.save({ ...big, id: "resp_big2" }), "queued");
  }));

Deno.test("history stops at maxDepth responses and at maxHistorySize bytes", async () => {
  const chain = Array.from(
    { length: 6 },
    (_, i) => turn(`resp_${i}`, i ? `resp_${i - 1}` : null, "t"),
  );
  const size = chain[0]!.size;
  await withState({ maxDepth: 5 }, async (state) => {
    for (const r of chain) state.save(r);
    await state.settled();
    assert.equal((await state.history("resp_4", ANN)).length, 10);
    await assert.rejects(state.history("resp_5", ANN), (error: unknown) => {
      assert.ok(error instanceof ConversationLimitError);
      assert.deepEqual([error.bound, error.limit, error.status], ["depth", 5, 400]);
      assert.match(error.message, /^previous_response_id: .*longer than 5 responses/);
      return true;
    });
  });
  await withState({ maxHistorySize: 3 * size }, async (state) => {
    for (const r of chain) state.save(r);
    assert.equal((await state.history("resp_2", ANN)).length, 6);
    await assert.rejects(state.history("resp_3", ANN), (error: unknown) => {
      assert.ok(error instanceof ConversationLimitError);
      assert.deepEqual([error.bound, error.limit], ["size", 3 * size]);
      assert.match(error.message, new RegExp(`exceed ${3 * size} bytes`));
      return true;
    });
  });
});

Deno.test("a response a provider holds is read with its provider; history names it", () =>
  withState({}, async (state) => {
    const native = turn("resp_n", null, "", {
      provider: "openai",
      input: null,
      response: null,
      size: 0,
    });
    state.save(native);
    state.save(turn("resp_g", "resp_n", "after"));
    assert.deepEqual(await state.get("resp_n", ANN), native);
    assert.equal(await state.get("resp_n", BOB), null);
    const held = (first: boolean) => (error: unknown) => {
      assert.ok(error instanceof NativeResponseError);
      assert.deepEqual([error.id, error.provider, error.first], ["resp_n", "openai", first]);
      return true;
    };
    await assert.rejects(state.history("resp_n", ANN), held(true));
    await assert.rejects(state.history("resp_g", ANN), held(false));
    await notFound(state.history("resp_n", BOB), "resp_n", "absent", /not found/);
    assert.equal(await state.delete("resp_n", ANN), true);
    assert.equal(await state.get("resp_n", ANN), null);
  }));

Deno.test("a failed write is retried until it lands", () =>
  withState(
    {},
    async (state, store) => {
      state.save(turn("resp_1", null, "one"));
      await settles(state.settled(), "the write");
      assert.equal((await store.getResponse("resp_1", T0))?.id, "resp_1");
      assert.deepEqual(state.stats(), {
        saved: 1,
        failed: 0,
        too_large: 0,
        purged: 0,
        pending: 0,
      });
    },
    (store) => failingWrites(store, (attempt) => attempt <= 3),
  ));

Deno.test("a write failing every retry is lost: logged once per outage and counted", async () => {
  const { lines, log } = recordingLog();
  let down = true;
  let attempts = 0;
  await withState(
    { log },
    async (state, store) => {
      state.save(turn("resp_1", null, "one"));
      state.save(turn("resp_2", null, "two"));
      await settles(state.settled(), "the writes");
      // The first try and three retries each.
      assert.equal(attempts, 8);
      assert.equal(await state.get("resp_1", ANN), null);
      await notFound(state.history("resp_2", ANN), "resp_2", "absent", /not found/);
      assert.deepEqual(lines, [
        "error: a stored response could not be written and is lost; until writes succeed " +
        "again, further losses are only counted",
      ]);
      down = false;
      state.save(turn("resp_3", null, "three"));
      await settles(state.settled(), "the write");
      assert.equal((await store.getResponse("resp_3", T0))?.id, "resp_3");
      assert.equal(lines.at(-1), "info: stored responses are written again");
      assert.deepEqual(state.stats(), {
        saved: 1,
        failed: 2,
        too_large: 0,
        purged: 0,
        pending: 0,
      });
    },
    (store) =>
      failingWrites(store, () => {
        attempts++;
        return down;
      }),
  );
});

Deno.test("a delete while the response's write is in flight leaves nothing behind", async () => {
  let held!: ReturnType<typeof heldWrites>;
  await withState(
    {},
    async (state, store) => {
      state.save(turn("resp_1", null, "one"));
      await waitFor(() => held.puts() === 1);
      const deleted = state.delete("resp_1", ANN);
      setTimeout(held.release, 20);
      assert.equal(await settles(deleted, "the delete"), true);
      assert.equal(await store.getResponse("resp_1", T0), null);
      assert.equal(await state.get("resp_1", ANN), null);
    },
    (store) => (held = heldWrites(store)).store,
  );
});

Deno.test("a second save of an id replaces the first, in memory and in the store", async () => {
  const firstPut = Promise.withResolvers<void>();
  let puts = 0;
  await withState(
    {},
    async (state, store) => {
      state.save(turn("resp_1", null, "first"));
      state.save(turn("resp_1", null, "second"));
      assert.deepEqual((await state.history("resp_1", ANN))[0], {
        type: "message",
        role: "user",
        content: "second?",
      });
      // The first write, in flight already, lands late: the second still lands after it.
      await waitFor(() => puts === 1);
      setTimeout(firstPut.resolve, 20);
      await settles(state.settled(), "the writes");
      const stored = await store.getResponse("resp_1", T0);
      assert.deepEqual(stored?.input, [{ type: "message", role: "user", content: "second?" }]);
    },
    (store) =>
      replacing(store, {
        putResponse: async (response) => {
          if (++puts === 1) await firstPut.promise;
          return store.putResponse(response);
        },
      }),
  );
});

Deno.test("saves beyond the pending bound are dropped and counted, not queued", async () => {
  const { lines, log } = recordingLog();
  let held!: ReturnType<typeof heldWrites>;
  await withState(
    { maxPending: 2, log },
    async (state) => {
      assert.equal(state.save(turn("resp_1", null, "one")), "queued");
      assert.equal(state.save(turn("resp_2", null, "two")), "queued");
      assert.equal(state.save(turn("resp_3", null, "three")), "dropped");
      assert.equal(state.save(turn("resp_4", null, "four")), "dropped");
      assert.equal(await state.get("resp_3", ANN), null);
      assert.deepEqual(state.stats(), {
        saved: 0,
        failed: 2,
        too_large: 0,
        purged: 0,
        pending: 2,
      });
      assert.deepEqual(lines, [
        "warn: too many stored responses wait for the store: new ones are not kept until it " +
        "catches up",
      ]);
      held.release();
      await settles(state.settled(), "the writes");
      assert.equal(state.save(turn("resp_5", null, "five")), "queued");
    },
    (store) => (held = heldWrites(store)).store,
  );
});

Deno.test("close waits for pending writes, and gives up on a store that does not answer", async () => {
  const store = openSqliteStore(":memory:");
  const { lines, log } = recordingLog();
  const stuck = replacing(store, { putResponse: () => new Promise(() => {}) });
  const state = new ResponseState(stuck, { log, writeTimeoutMs: 100, now: new Clock().now });
  try {
    state.save(turn("resp_1", null, "one"));
    assert.equal(await settles(state.close({ timeoutMs: 50 }), "close"), 1);
    assert.deepEqual(lines, ["error: stored responses not written at shutdown"]);
    assert.equal(state.save(turn("resp_2", null, "two")), "dropped");
    // The write times out without a retry, as the state is closed.
    await settles(state.settled(), "the write");
    assert.equal(state.stats().failed, 2);
  } finally {
    await store.close();
  }
  // A store that answers is written before close resolves.
  await withState({}, async (state, store) => {
    state.save(turn("resp_1", null, "one"));
    assert.equal(await state.close(), 0);
    assert.equal((await store.getResponse("resp_1", T0))?.id, "resp_1");
  });
});

Deno.test("expired responses are purged at start and every interval, until closed", async () => {
  const clock = new Clock();
  await withState({ now: clock.now, purgeIntervalMs: 10 }, async (state, store) => {
    state.save(turn("resp_1", null, "one", { expires_at: T0 + MIN }));
    state.save(turn("resp_2", null, "two", { expires_at: T0 + 2 * MIN }));
    state.save(turn("resp_3", null, "three", { expires_at: T0 + 3 * MIN }));
    await state.settled();
    clock.t = T0 + MIN;
    state.start();
    await waitFor(() => state.stats().purged === 1, { message: "no purge at start" });
    // Expired, not purged yet: already gone for readers.
    clock.t = T0 + 2 * MIN;
    assert.equal(await state.get("resp_2", ANN), null);
    await waitFor(() => state.stats().purged === 2, { message: "no purge after an interval" });
    assert.equal(await store.deleteResponse("resp_1"), false);
    assert.equal(await store.deleteResponse("resp_2"), false);
    await state.close();
    clock.t = T0 + 3 * MIN;
    await new Promise((resolve) => setTimeout(resolve, 50));
    assert.equal(state.stats().purged, 2);
    assert.equal(await store.deleteResponse("resp_3"), true, "purged after close");
  });
});

Deno.test("a purge the store fails is logged once and does not stop later ones", async () => {
  const { lines, log } = recordingLog();
  const clock = new Clock();
  let down = true;
  await withState(
    { log, now: clock.now },
    async (state, store) => {
      await store.putResponse(turn("resp_1", null, "one", { expires_at: T0 }));
      assert.equal(await state.purge(), 0);
      assert.equal(await state.purge(), 0);
      down = false;
      assert.equal(await state.purge(), 1);
      assert.deepEqual(lines, [
        "error: cannot purge expired stored responses; the next purge tries again",
        "info: expired stored responses are purged again",
      ]);
    },
    (store) =>
      replacing(store, {
        purgeResponses: (now) =>
          down ? Promise.reject(new Error("timeout")) : store.purgeResponses(now),
      }),
  );
});

Deno.test("storedResponseSize counts the bytes of both parts as UTF-8 JSON", () => {
  assert.equal(storedResponseSize(null, null), 0);
  assert.equal(storedResponseSize(["é"], null), 6);
  assert.equal(storedResponseSize([], { a: "😀" }), 2 + 12);
});
