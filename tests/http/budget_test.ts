// Budgets on the real server with a real store: SQLite, and Postgres shared by two instances.
// The server writes a usage record per request itself, through its usage writer, which tells the
// spend cache what it queued.
import assert from "node:assert/strict";
import { ConfigError } from "../../src/config/errors.ts";
import { BUDGET_REMAINING } from "../../src/middleware/budget.ts";
import type { ResponseMiddleware } from "../../src/http/response_middleware.ts";
import { openPostgresStore } from "../../src/store/postgres.ts";
import { openSqliteStore } from "../../src/store/sqlite.ts";
import type { Store } from "../../src/store/store.ts";
import type { UsageWriter } from "../../src/store/writer.ts";
import { startGateway, type TestGateway } from "../support/gateway.ts";
import { type MockUpstream, startMockUpstream } from "../support/mock_upstream.ts";
import { postgresTest, startPostgres } from "../support/postgres_server.ts";
import { waitFor } from "../support/wait_for.ts";
import { chat, readError } from "./harness.ts";

const KEYS = {
  ci: "gw-ci-0123456789abcdef",
  streamer: "gw-streamer-0123456789abcdef",
  team: "gw-team-0123456789abcdef",
  free: "gw-free-0123456789abcdef",
};

// Each answer reports 1,000 prompt and 200 completion tokens: $0.002 + $0.002 = $0.004.
const yaml = (upstream: MockUpstream) => `
auth:
  enabled: true
  keys:
    - name: ci
      key: "${KEYS.ci}"
      budget: {usd: 0.01, period: month}
    - name: streamer
      key: "${KEYS.streamer}"
      budget: {usd: 0.01, period: 7d}
    - name: team
      key: "${KEYS.team}"
      groups: [team-b]
    - name: free
      key: "${KEYS.free}"
budgets:
  groups:
    team-b: {usd: 0.006, period: 1d}
providers:
  - name: a
    target_url: "${upstream.url}"
    api_key: "sk-a"
    models:
      - name: gpt-4o
        price: {input: 2, output: 10}
`;

const USAGE = { prompt: 1000, completion: 200 };

/** A gateway on `store`, which writes a usage record per request through its own writer. */
interface Instance {
  gw: TestGateway;
  writer: UsageWriter;
  /** Answers completed so far (each queues its usage record as it completes). */
  recorded(): number;
  close(): Promise<void>;
}

async function startInstance(upstream: MockUpstream, store: Store): Promise<Instance> {
  let recorded = 0;
  // Runs when an answer is complete, in the same turn as the server queues its usage record.
  const counter: ResponseMiddleware = {
    name: "completion-counter",
    onComplete() {
      recorded++;
    },
  };
  const gw = await startGateway(yaml(upstream), {
    store,
    responseMiddleware: [counter],
    storeService: { writer: { flushIntervalMs: 20 } },
  });
  return {
    gw,
    writer: gw.server.usageWriter!,
    recorded: () => recorded,
    close: () => gw.close(),
  };
}

function ask(gw: TestGateway, key: string, extra: Record<string, unknown> = {}, path = "") {
  return fetch(`${gw.url}${path || "/v1/chat/completions"}`, {
    method: "POST",
    headers: { authorization: `Bearer ${key}`, "content-type": "application/json" },
    body: JSON.stringify(chat("a/gpt-4o", extra)),
  });
}

/** Sends a request that must be answered; returns the remaining-budget header. */
async function spendOnce(
  instance: Instance,
  key: string,
  extra: Record<string, unknown> = {},
): Promise<string | null> {
  const before = instance.recorded();
  const res = await ask(instance.gw, key, extra);
  assert.equal(res.status, 200, await res.clone().text());
  await res.text();
  // The record is queued once the answer has been sent in full.
  await waitFor(() => instance.recorded() === before + 1, { message: "no usage record" });
  return res.headers.get(BUDGET_REMAINING);
}

/** Sends a request that must be refused for its budget; returns the error and the response. */
async function refused(gw: TestGateway, key: string, path = "") {
  const res = await ask(gw, key, {}, path);
  assert.equal(res.status, 429);
  return res;
}

/** A store whose spend reads are counted. */
function countingReads(store: Store): { store: Store; reads: () => number } {
  let reads = 0;
  const counted: Store = {
    engine: store.engine,
    createKey: (key) => store.createKey(key),
    listKeys: () => store.listKeys(),
    getKeyByHash: (hash) => store.getKeyByHash(hash),
    updateKey: (id, patch) => store.updateKey(id, patch),
    revokeKey: (id) => store.revokeKey(id),
    keysVersion: () => store.keysVersion(),
    insertUsage: (records) => store.insertUsage(records),
    usageSummary: (query) => store.usageSummary(query),
    usageSeries: (query) => store.usageSeries(query),
    spend: (query) => {
      reads++;
      return store.spend(query);
    },
    putResponse: (response) => store.putResponse(response),
    getResponse: (id, now) => store.getResponse(id, now),
    deleteResponse: (id) => store.deleteResponse(id),
    purgeResponses: (now) => store.purgeResponses(now),
    close: () => store.close(),
  };
  return { store: counted, reads: () => reads };
}

async function withSqlite(body: (dir: string, upstream: MockUpstream) => Promise<void>) {
  const dir = await Deno.makeTempDir({ prefix: "gateway-budget-" });
  const upstream = await startMockUpstream({ name: "a", models: ["gpt-4o"] });
  upstream.setDefault(() => ({ type: "ok", usage: USAGE }));
  try {
    await body(dir, upstream);
  } finally {
    await upstream.close();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("budget: a key is refused once spent, the crossing request allowed, the header falling", async () => {
  await withSqlite(async (dir, upstream) => {
    const store = openSqliteStore(`${dir}/gateway.db`);
    const instance = await startInstance(upstream, store);
    try {
      const remaining = [];
      for (let i = 0; i < 3; i++) remaining.push(await spendOnce(instance, KEYS.ci));
      // What was left before each: $0.01, then $0.006, then $0.002 (the third crosses it).
      assert.deepEqual(remaining, ["0.01", "0.006", "0.002"]);

      const res = await refused(instance.gw, KEYS.ci);
      const now = new Date();
      const reset = Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1);
      assert.equal(res.headers.get(BUDGET_REMAINING), "0");
      const retryAfter = Number(res.headers.get("retry-after"));
      assert.ok(
        Math.abs(retryAfter - (reset - Date.now()) / 1000) < 5,
        `Retry-After ${retryAfter}`,
      );
      const error = await readError(res);
      assert.equal(error.code, "budget_exceeded");
      assert.equal(error.type, "rate_limit_error");
      assert.equal(
        error.message,
        'budget exceeded: key "ci" has spent $0.012 of its $0.01 budget per calendar month ' +
          `(UTC); it resets at ${new Date(reset).toISOString().replace(".000Z", "Z")}`,
      );
      assert.equal(upstream.requests.length, 3, "the refused request was not forwarded");

      // The Messages API gets Anthropic's error shape.
      const messages = await refused(instance.gw, KEYS.ci, "/v1/messages");
      const body = await messages.json();
      assert.equal(body.type, "error");
      assert.equal(body.error.type, "rate_limit_error");
      assert.match(body.error.message, /^budget exceeded: key "ci"/);
    } finally {
      await instance.close();
      await store.close();
    }

    // The spend is in the file: a restarted gateway still refuses the key.
    const reopened = openSqliteStore(`${dir}/gateway.db`);
    const again = await startInstance(upstream, reopened);
    try {
      await (await refused(again.gw, KEYS.ci)).body?.cancel();
    } finally {
      await again.close();
      await reopened.close();
    }
  });
});

Deno.test("budget: streamed answers count, from the usage the gateway asks for", async () => {
  await withSqlite(async (dir, upstream) => {
    const store = openSqliteStore(`${dir}/gateway.db`);
    const instance = await startInstance(upstream, store);
    upstream.setDefault(() => ({ type: "stream", usage: USAGE }));
    try {
      for (const expected of ["0.01", "0.006", "0.002"]) {
        const before = instance.recorded();
        const res = await ask(instance.gw, KEYS.streamer, { stream: true });
        assert.equal(res.status, 200);
        assert.equal(res.headers.get(BUDGET_REMAINING), expected);
        const text = await res.text();
        assert.doesNotMatch(text, /"usage":\{/, "the client did not ask for the usage chunk");
        assert.match(text, /data: \[DONE\]/);
        await waitFor(() => instance.recorded() === before + 1);
      }
      const asked = upstream.requests.map((r) =>
        (r.body as Record<string, unknown>).stream_options
      );
      assert.deepEqual(asked[0], { include_usage: true });
      const error = await readError(await refused(instance.gw, KEYS.streamer));
      assert.match(
        error.message,
        /^budget exceeded: key "streamer" has spent \$0\.012 of its \$0\.01 budget per rolling 7 days; it is under budget again at \d{4}-\d\d-\d\dT\d\d:00:00Z, as that spend leaves the window$/,
      );
    } finally {
      await instance.close();
      await store.close();
    }
  });
});

Deno.test("budget: a group's budget is shared by its members and names the group", async () => {
  await withSqlite(async (dir, upstream) => {
    const store = openSqliteStore(`${dir}/gateway.db`);
    const instance = await startInstance(upstream, store);
    try {
      assert.equal(await spendOnce(instance, KEYS.team), "0.006");
      assert.equal(await spendOnce(instance, KEYS.team), "0.002");
      const res = await refused(instance.gw, KEYS.team);
      // All of it was spent this hour: it leaves the rolling day 24 hours after the hour ends.
      const hour = Math.floor(Date.now() / 3_600_000) * 3_600_000;
      const back = new Date(hour + 25 * 3_600_000).toISOString().replace(".000Z", "Z");
      const error = await readError(res);
      assert.equal(
        error.message,
        'budget exceeded: group "team-b" has spent $0.008 of its $0.006 budget per rolling day; ' +
          `it is under budget again at ${back}, as that spend leaves the window`,
      );
      const retryAfter = Number(res.headers.get("retry-after"));
      assert.ok(Math.abs(retryAfter - (Date.parse(back) - Date.now()) / 1000) < 5);
    } finally {
      await instance.close();
      await store.close();
    }
  });
});

Deno.test("budget: a caller without budgets gets no header and costs no spend read", async () => {
  await withSqlite(async (dir, upstream) => {
    const sqlite = openSqliteStore(`${dir}/gateway.db`);
    const { store, reads } = countingReads(sqlite);
    const instance = await startInstance(upstream, store);
    try {
      for (let i = 0; i < 5; i++) assert.equal(await spendOnce(instance, KEYS.free), null);
      assert.equal(reads(), 0);
      await spendOnce(instance, KEYS.ci);
      await spendOnce(instance, KEYS.ci);
      assert.equal(reads(), 1, "the second check within a second used the cached read");
    } finally {
      await instance.close();
      await sqlite.close();
    }
  });
});

Deno.test("budget: budgets without a store refuse to start, naming the budget", async () => {
  const upstream = await startMockUpstream({ name: "a", models: ["gpt-4o"] });
  try {
    await assert.rejects(
      () => startGateway(yaml(upstream)),
      (err: unknown) =>
        err instanceof ConfigError &&
        /^auth\.keys\[0\]\.budget: a budget needs the store/.test(err.message),
    );
  } finally {
    await upstream.close();
  }
});

postgresTest(
  "budget: spent through one instance, refused by another sharing Postgres",
  async () => {
    const pg = await startPostgres();
    const upstream = await startMockUpstream({ name: "a", models: ["gpt-4o"] });
    upstream.setDefault(() => ({ type: "ok", usage: USAGE }));
    const url = await pg.createDatabase("budgets");
    const [storeA, storeB] = [await openPostgresStore(url), await openPostgresStore(url)];
    const a = await startInstance(upstream, storeA);
    const b = await startInstance(upstream, storeB);
    try {
      // Each instance sees what the other has written: B spends first, A then crosses the budget.
      assert.equal(await spendOnce(b, KEYS.ci), "0.01");
      await waitFor(() => b.writer.stats().written === 1, { message: "B's record not written" });
      assert.equal(await spendOnce(a, KEYS.ci), "0.006", "A read what B spent");
      assert.equal(await spendOnce(a, KEYS.ci), "0.002");
      await waitFor(() => a.writer.stats().written === 2, { message: "A's records not written" });
      const written = Date.now();
      let res: Response;
      for (;;) {
        res = await ask(b.gw, KEYS.ci);
        if (res.status !== 200) break;
        await res.body?.cancel();
        // B's last read may be up to a second old.
        assert.ok(Date.now() - written < 1_500, "B still allows the key after its cache time");
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      assert.equal(res.status, 429);
      assert.equal((await readError(res)).code, "budget_exceeded");
    } finally {
      await a.close();
      await b.close();
      await storeA.close();
      await storeB.close();
      await upstream.close();
      await pg.destroy();
    }
  },
);
