/**
 * The embedded store: one SQLite file through Deno's built-in `node:sqlite` (no native add-on).
 * WAL mode, so readers never wait for the writer; statements are prepared once at open.
 *
 * `node:sqlite` is synchronous: a call holds the event loop for its duration, so every call is
 * kept short. Usage arrives through the batching writer in batches of at most 100 records
 * (`writer.ts`), never from a request; WAL checkpoints are the store's, small and with the WAL
 * flushed beforehand on an I/O thread (`sqlite_checkpoint.ts`); a usage summary is read in
 * slices (`sqlite_summary.ts`). The rest are indexed reads and single-row writes.
 */

import { DatabaseSync, type SQLInputValue } from "node:sqlite";
import { dirname } from "node:path";
import {
  budgetOf,
  jsonObject,
  limitRule,
  newKey,
  normalizeHash,
  patchedKey,
  responseParts,
  stringList,
} from "./records.ts";
import { MIGRATIONS_TABLE, SQLITE_MIGRATIONS } from "./schema.ts";
import { hourOf, spendIncrements } from "./spend.ts";
import { WalCheckpoints } from "./sqlite_checkpoint.ts";
import { LabelIds } from "./sqlite_labels.ts";
import { summarize, summarizeSeries } from "./sqlite_summary.ts";
import {
  type NewVirtualKey,
  type SpendQuery,
  type Store,
  StoreConflictError,
  type StoredResponse,
  type StoreOptions,
  type UsageQuery,
  type UsageRecord,
  type UsageRow,
  type UsageSeriesQuery,
  type UsageSeriesRow,
  type VirtualKey,
  type VirtualKeyPatch,
} from "./store.ts";

/** How long a statement waits for another process's write lock before failing. */
const BUSY_TIMEOUT_MS = 5_000;
/**
 * The connection's page cache, KiB (SQLite's default is 2,000). Writes touch a few dozen pages,
 * the ends of the usage table and its index; summaries read through a connection of their own.
 */
const CACHE_KIB = 256;

type Row = Record<string, unknown>;

const KEY_COLUMNS = `id, name, key_hash, models, groups, budget_usd, budget_period, rate_limit,
  expires_at, metadata, created_at, revoked_at`;

/**
 * Opens (creating it and its folder when missing) the SQLite store at `path` and brings its
 * schema up to date. Throws when the file cannot be opened or written.
 */
export function openSqliteStore(path: string, options: StoreOptions = {}): Store {
  if (path !== ":memory:") Deno.mkdirSync(dirname(path), { recursive: true });
  const db = new DatabaseSync(path, { timeout: BUSY_TIMEOUT_MS });
  try {
    // WAL needs no lock held by another connection; busy_timeout (above) waits one out.
    db.exec("PRAGMA journal_mode = WAL");
    db.exec("PRAGMA synchronous = NORMAL");
    db.exec(`PRAGMA cache_size = -${CACHE_KIB}`);
    migrate(db, options.now ?? Date.now);
    return new SqliteStore(db, path, options.now ?? Date.now);
  } catch (error) {
    db.close();
    throw error;
  }
}

/** Applies the migrations the file lacks, inside one write transaction taken up front. */
function migrate(db: DatabaseSync, now: () => number): void {
  transaction(db, () => {
    db.exec(MIGRATIONS_TABLE.sqlite);
    const row = db.prepare("SELECT coalesce(max(version), 0) AS v FROM schema_migrations").get();
    const applied = Number(row?.v ?? 0);
    const record = db.prepare("INSERT INTO schema_migrations (version, applied_at) VALUES (?, ?)");
    SQLITE_MIGRATIONS.forEach((sql, index) => {
      const version = index + 1;
      if (version <= applied) return;
      db.exec(sql);
      record.run(version, now());
    });
  });
}

/**
 * Runs `fn` in a transaction that holds the write lock from its start (`BEGIN IMMEDIATE`), so
 * two processes never both read and then both write.
 */
function transaction<T>(db: DatabaseSync, fn: () => T): T {
  db.exec("BEGIN IMMEDIATE");
  try {
    const result = fn();
    db.exec("COMMIT");
    return result;
  } catch (error) {
    if (db.isTransaction) db.exec("ROLLBACK");
    throw error;
  }
}

class SqliteStore implements Store {
  readonly engine = "sqlite";
  readonly #db: DatabaseSync;
  readonly #path: string;
  readonly #now: () => number;
  readonly #sql: ReturnType<typeof prepareAll>;
  readonly #checkpoints: WalCheckpoints;
  readonly #labels: LabelIds;
  /** Summaries being read, which `close` waits for. */
  readonly #reading = new Set<Promise<unknown>>();

  constructor(db: DatabaseSync, path: string, now: () => number) {
    this.#db = db;
    this.#path = path;
    this.#now = now;
    this.#sql = prepareAll(db);
    this.#checkpoints = new WalCheckpoints(db, path);
    this.#labels = new LabelIds(db);
  }

  /** Runs a write transaction and counts it towards the next checkpoint. */
  #write<T>(fn: () => T, rows = 0, bytes = 0): T {
    const result = transaction(this.#db, fn);
    this.#checkpoints.committed(rows, bytes);
    return result;
  }

  /** Keeps a summary read known until it ends, for `close`. */
  #read<T>(reading: Promise<T>): Promise<T> {
    this.#reading.add(reading);
    return reading.finally(() => this.#reading.delete(reading));
  }

  createKey(input: NewVirtualKey): Promise<VirtualKey> {
    return run(() => {
      const key = newKey(input, crypto.randomUUID(), this.#now());
      this.#write(() => {
        this.#sql.insertKey.run(...keyValues(key));
        this.#sql.bumpKeys.run();
      });
      return key;
    });
  }

  listKeys(): Promise<VirtualKey[]> {
    return run(() => this.#sql.listKeys.all().map(keyFromRow));
  }

  getKeyByHash(hash: string): Promise<VirtualKey | null> {
    return run(() => {
      const row = this.#sql.keyByHash.get(normalizeHash(hash));
      return row === undefined ? null : keyFromRow(row);
    });
  }

  updateKey(id: string, patch: VirtualKeyPatch): Promise<VirtualKey | null> {
    return run(() =>
      this.#write(() => {
        const row = this.#sql.keyById.get(id);
        if (row === undefined) return null;
        const key = patchedKey(keyFromRow(row), patch);
        this.#sql.updateKey.run(...editableValues(key), id);
        this.#sql.bumpKeys.run();
        return key;
      })
    );
  }

  revokeKey(id: string): Promise<VirtualKey | null> {
    return run(() =>
      this.#write(() => {
        if (this.#sql.revokeKey.run(this.#now(), id).changes > 0) this.#sql.bumpKeys.run();
        const row = this.#sql.keyById.get(id);
        return row === undefined ? null : keyFromRow(row);
      })
    );
  }

  keysVersion(): Promise<number> {
    return run(() => Number(this.#sql.keysVersion.get()?.version ?? 0));
  }

  insertUsage(records: readonly UsageRecord[]): Promise<void> {
    return run(() => {
      if (records.length === 0) return;
      const labels = this.#labels;
      let committed = false;
      try {
        this.#write(() => {
          // Rows go in USAGE_ROWS at a time: one statement per row costs half as much again.
          let i = 0;
          for (; i + USAGE_ROWS <= records.length; i += USAGE_ROWS) {
            const values = new Array<SQLInputValue>(USAGE_ROWS * USAGE_COLUMNS);
            for (let j = 0; j < USAGE_ROWS; j++) setUsageValues(values, j, records[i + j]!, labels);
            this.#sql.insertUsageRows.run(...values);
          }
          for (; i < records.length; i++) {
            const values = new Array<SQLInputValue>(USAGE_COLUMNS);
            setUsageValues(values, 0, records[i]!, labels);
            this.#sql.insertUsage.run(...values);
          }
          for (const s of spendIncrements(records)) {
            this.#sql.addSpend.run(s.scope, s.id, s.hour, s.cost_usd);
          }
        }, records.length);
        committed = true;
      } finally {
        labels.settle(committed);
      }
    });
  }

  usageSummary(query: UsageQuery): Promise<UsageRow[]> {
    // A summary opens a connection of its own, which a closed store must not do.
    if (!this.#db.isOpen) return Promise.reject(new Error("the SQLite store is closed"));
    return this.#read(summarize(this.#path, this.#db, query, { timeoutMs: BUSY_TIMEOUT_MS }));
  }

  usageSeries(query: UsageSeriesQuery): Promise<UsageSeriesRow[]> {
    if (!this.#db.isOpen) return Promise.reject(new Error("the SQLite store is closed"));
    return this.#read(
      summarizeSeries(this.#path, this.#db, query, { timeoutMs: BUSY_TIMEOUT_MS }),
    );
  }

  spend(query: SpendQuery): Promise<number> {
    return run(() => {
      const row = this.#sql.spend.get(query.scope, query.id, hourOf(query.since));
      return Number(row?.cost_usd ?? 0);
    });
  }

  putResponse(response: StoredResponse): Promise<void> {
    return run(() => {
      this.#write(() => this.#sql.putResponse.run(...responseValues(response)), 0, response.size);
    });
  }

  getResponse(id: string, now: number): Promise<StoredResponse | null> {
    return run(() => {
      const row = this.#sql.getResponse.get(id, now);
      return row === undefined ? null : responseFromRow(row);
    });
  }

  deleteResponse(id: string): Promise<boolean> {
    return run(() => this.#write(() => Number(this.#sql.deleteResponse.run(id).changes) > 0));
  }

  async purgeResponses(now: number): Promise<number> {
    // A few rows per transaction, the event loop free in between: expired responses pile up.
    let purged = 0;
    for (;;) {
      const deleted = await run(() =>
        this.#write(() => Number(this.#sql.purgeResponses.run(now, PURGE_ROWS).changes))
      );
      purged += deleted;
      if (deleted < PURGE_ROWS) return purged;
      await new Promise((resolve) => setTimeout(resolve, 0));
    }
  }

  async close(): Promise<void> {
    await Promise.allSettled([...this.#reading, this.#checkpoints.idle()]);
    if (this.#db.isOpen) this.#db.close();
  }
}

const INSERT_USAGE = `INSERT INTO usage_rows (time, request_id, label, input_tokens,
  output_tokens, cached_tokens, cost_usd, latency_ms, ttfb_ms) VALUES`;
const USAGE_ROW = "(?, ?, ?, ?, ?, ?, ?, ?, ?)";
/** Values per usage row. */
const USAGE_COLUMNS = 9;
/** Usage rows per multi-row insert (well under SQLite's 32,766 variables). */
const USAGE_ROWS = 50;
/** Expired responses deleted per transaction. */
const PURGE_ROWS = 100;
const RESPONSE_COLUMNS = `id, owner, provider, model, created_at, expires_at,
  previous_response_id, input, response, size`;

function prepareAll(db: DatabaseSync) {
  return {
    insertKey: db.prepare(
      `INSERT INTO virtual_keys (${KEY_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    updateKey: db.prepare(
      `UPDATE virtual_keys SET name = ?, models = ?, groups = ?, budget_usd = ?, budget_period = ?,
        rate_limit = ?, expires_at = ?, metadata = ? WHERE id = ?`,
    ),
    revokeKey: db.prepare(
      "UPDATE virtual_keys SET revoked_at = ? WHERE id = ? AND revoked_at IS NULL",
    ),
    keyById: db.prepare(`SELECT ${KEY_COLUMNS} FROM virtual_keys WHERE id = ?`),
    keyByHash: db.prepare(`SELECT ${KEY_COLUMNS} FROM virtual_keys WHERE key_hash = ?`),
    listKeys: db.prepare(`SELECT ${KEY_COLUMNS} FROM virtual_keys ORDER BY created_at, id`),
    bumpKeys: db.prepare("UPDATE key_changes SET version = version + 1 WHERE id = 1"),
    keysVersion: db.prepare("SELECT version FROM key_changes WHERE id = 1"),
    insertUsage: db.prepare(`${INSERT_USAGE} ${USAGE_ROW}`),
    insertUsageRows: db.prepare(`${INSERT_USAGE} ${Array(USAGE_ROWS).fill(USAGE_ROW).join(", ")}`),
    addSpend: db.prepare(
      `INSERT INTO spend (scope, id, hour, cost_usd) VALUES (?, ?, ?, ?)
      ON CONFLICT (scope, id, hour) DO UPDATE SET cost_usd = cost_usd + excluded.cost_usd`,
    ),
    spend: db.prepare(
      `SELECT coalesce(sum(cost_usd), 0) AS cost_usd FROM spend
      WHERE scope = ? AND id = ? AND hour >= ?`,
    ),
    // A replaced row is deleted and inserted again: every column is the new response's.
    putResponse: db.prepare(
      `INSERT OR REPLACE INTO responses (${RESPONSE_COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ),
    getResponse: db.prepare(
      `SELECT ${RESPONSE_COLUMNS} FROM responses WHERE id = ? AND expires_at > ?`,
    ),
    deleteResponse: db.prepare("DELETE FROM responses WHERE id = ?"),
    purgeResponses: db.prepare(
      `DELETE FROM responses WHERE rowid IN
        (SELECT rowid FROM responses WHERE expires_at <= ? LIMIT ?)`,
    ),
  };
}

/**
 * Runs a synchronous call as the interface's promise: a throw becomes a rejection, and a unique
 * constraint on a key becomes a `StoreConflictError`.
 */
function run<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (error) {
    return Promise.reject(conflictOf(error) ?? error);
  }
}

function conflictOf(error: unknown): StoreConflictError | undefined {
  const message = error instanceof Error ? error.message : "";
  if (!message.includes("UNIQUE constraint failed")) return undefined;
  if (message.includes("virtual_keys.name")) {
    return new StoreConflictError("name", { cause: error });
  }
  if (message.includes("virtual_keys.key_hash")) {
    return new StoreConflictError("key_hash", { cause: error });
  }
  return undefined;
}

function keyValues(key: VirtualKey): SQLInputValue[] {
  const [name, ...rest] = editableValues(key);
  return [key.id, name!, key.key_hash, ...rest, key.created_at, key.revoked_at];
}

/** The columns `updateKey` may change, in `UPDATE` order. */
function editableValues(key: VirtualKey): SQLInputValue[] {
  return [
    key.name,
    key.models === null ? null : JSON.stringify(key.models),
    JSON.stringify(key.groups),
    key.budget?.usd ?? null,
    key.budget?.period ?? null,
    key.rate_limit === null ? null : JSON.stringify(key.rate_limit),
    key.expires_at,
    JSON.stringify(key.metadata),
  ];
}

/**
 * Writes the record's values, in `INSERT_USAGE` order, as row `row` of `values`; its labels as
 * their id in `labels`.
 */
function setUsageValues(
  values: SQLInputValue[],
  row: number,
  r: UsageRecord,
  labels: LabelIds,
): void {
  let i = row * USAGE_COLUMNS;
  values[i++] = r.time;
  values[i++] = r.request_id;
  values[i++] = labels.idOf(r);
  values[i++] = r.input_tokens;
  values[i++] = r.output_tokens;
  values[i++] = r.cached_tokens;
  values[i++] = r.cost_usd;
  values[i++] = r.latency_ms;
  values[i] = r.ttfb_ms;
}

function responseValues(r: StoredResponse): SQLInputValue[] {
  return [
    r.id,
    r.owner,
    r.provider,
    r.model,
    r.created_at,
    r.expires_at,
    r.previous_response_id,
    r.input === null ? null : JSON.stringify(r.input),
    r.response === null ? null : JSON.stringify(r.response),
    r.size,
  ];
}

function responseFromRow(row: Row): StoredResponse {
  return {
    id: String(row.id),
    owner: String(row.owner),
    provider: row.provider === null ? null : String(row.provider),
    model: String(row.model),
    created_at: Number(row.created_at),
    expires_at: Number(row.expires_at),
    previous_response_id: row.previous_response_id === null
      ? null
      : String(row.previous_response_id),
    ...responseParts(
      row.input === null ? null : JSON.parse(String(row.input)),
      row.response === null ? null : JSON.parse(String(row.response)),
    ),
    size: Number(row.size),
  };
}

function keyFromRow(row: Row): VirtualKey {
  return {
    id: String(row.id),
    name: String(row.name),
    key_hash: String(row.key_hash),
    models: row.models === null ? null : stringList(JSON.parse(String(row.models))),
    groups: stringList(JSON.parse(String(row.groups))),
    budget: budgetOf(row.budget_usd, row.budget_period),
    rate_limit: row.rate_limit === null ? null : limitRule(JSON.parse(String(row.rate_limit))),
    expires_at: nullableNumber(row.expires_at),
    metadata: jsonObject(JSON.parse(String(row.metadata))),
    created_at: Number(row.created_at),
    revoked_at: nullableNumber(row.revoked_at),
  };
}

function nullableNumber(value: unknown): number | null {
  return value === null || value === undefined ? null : Number(value);
}
