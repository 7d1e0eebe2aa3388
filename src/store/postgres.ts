/**
 * The shared store: Postgres through the `postgres` client (loaded only when `storage.url` names a
 * Postgres server), so every gateway instance sees the same keys, usage, spend and stored
 * responses. Queries are prepared statements; a batch of usage records is one parameter (a JSON
 * array unpacked by `jsonb_to_recordset`), so every batch size shares one statement.
 */

import postgres from "postgres";
import {
  budgetOf,
  jsonObject,
  limitRule,
  newKey,
  normalizeHash,
  responseParts,
  sortRows,
  sortSeries,
  stringList,
} from "./records.ts";
import { MIGRATIONS_TABLE, POSTGRES_MIGRATIONS } from "./schema.ts";
import { hourOf, spendIncrements } from "./spend.ts";
import {
  type NewVirtualKey,
  type SpendQuery,
  type Store,
  StoreConflictError,
  type StoredResponse,
  type StoreOptions,
  USAGE_BUCKET_MS,
  type UsageDimension,
  type UsageQuery,
  type UsageRecord,
  type UsageRow,
  type UsageSeriesQuery,
  type UsageSeriesRow,
  type VirtualKey,
  type VirtualKeyPatch,
} from "./store.ts";

type Sql = postgres.Sql;
type Row = Record<string, unknown>;

/** The advisory lock that serialises migrations across instances ("llmg" in ASCII). */
const MIGRATION_LOCK = 0x6c6c6d67;
/** Bounds on a dead or unreachable server: connecting, and closing the pool. */
const CONNECT_TIMEOUT_S = 5;
const CLOSE_TIMEOUT_S = 2;
/** Connections in the pool: the usage writer, key lookups and the admin API at once. */
const POOL_SIZE = 4;

const SUMMARY_SOURCES: Record<UsageDimension, string> = {
  key: "usage.key_name",
  user: "usage.user_name",
  model: "usage.model",
  provider: "usage.provider",
  group: "g.value",
};

const SUMS = `count(*)::float8 AS requests,
  coalesce(sum(usage.input_tokens), 0)::float8 AS input_tokens,
  coalesce(sum(usage.output_tokens), 0)::float8 AS output_tokens,
  coalesce(sum(usage.cost_usd), 0)::float8 AS cost_usd`;

/** What a summary reads from: the usage rows, one per group of each for `group`. */
function sourceTable(groupBy: UsageDimension): string {
  return groupBy === "group"
    ? "usage, jsonb_array_elements_text(usage.group_names) AS g(value)"
    : "usage";
}

function usageRowFromRow(row: Row): UsageRow {
  return {
    value: row.value === null ? null : String(row.value),
    requests: Number(row.requests),
    input_tokens: Number(row.input_tokens),
    output_tokens: Number(row.output_tokens),
    cost_usd: Number(row.cost_usd),
  };
}

/**
 * Connects to the Postgres server at `url` (`postgres://user:password@host:port/database`) and
 * brings the schema up to date. Rejects when the server cannot be reached or migrated.
 */
export async function openPostgresStore(
  url: string,
  options: StoreOptions = {},
): Promise<Store> {
  const sql = postgres(url, {
    max: POOL_SIZE,
    connect_timeout: CONNECT_TIMEOUT_S,
    idle_timeout: 60,
    // Notices ("relation already exists, skipping") would go to the console.
    onnotice: () => {},
    connection: { application_name: "llm-gateway" },
  });
  try {
    await migrate(sql);
  } catch (error) {
    await sql.end({ timeout: 0 });
    throw error;
  }
  return new PostgresStore(sql, options.now ?? Date.now);
}

/**
 * Applies the migrations the database lacks. It is one statement (a DO block, so one transaction)
 * that first takes an advisory lock: two instances starting together migrate one after the other,
 * and the second finds nothing to do.
 */
async function migrate(sql: Sql): Promise<void> {
  const steps = POSTGRES_MIGRATIONS.map((text, index) => `
    IF NOT EXISTS (SELECT 1 FROM schema_migrations WHERE version = ${index + 1}) THEN
      ${text}
      INSERT INTO schema_migrations (version) VALUES (${index + 1});
    END IF;`);
  await sql.unsafe(`DO $migrate$ BEGIN
    PERFORM pg_advisory_xact_lock(${MIGRATION_LOCK});
    ${MIGRATIONS_TABLE.postgres};${steps.join("")}
  END $migrate$`);
}

const KEY_COLUMNS = `id, name, key_hash, models, groups, budget_usd, budget_period, rate_limit,
  expires_at, metadata, created_at, revoked_at`;
const BUMP_KEYS = "UPDATE key_changes SET version = version + 1 WHERE id = 1";

/**
 * Every change is a single statement (data-modifying CTEs where a change touches two tables), not
 * a client-side transaction: the client's transactions write to their connection after the server
 * closed it, which throws outside any promise (porsager/postgres#1154) and would take the gateway
 * down whenever Postgres restarts.
 */
class PostgresStore implements Store {
  readonly engine = "postgres";
  readonly #sql: Sql;
  readonly #now: () => number;

  constructor(sql: Sql, now: () => number) {
    this.#sql = sql;
    this.#now = now;
  }

  async createKey(input: NewVirtualKey): Promise<VirtualKey> {
    const key = newKey(input, crypto.randomUUID(), this.#now());
    await withConflicts(this.#sql`WITH k AS (
        INSERT INTO virtual_keys (id, name, key_hash, models, groups, budget_usd, budget_period,
          rate_limit, expires_at, metadata, created_at, revoked_at)
        VALUES (${key.id}, ${key.name}, ${key.key_hash}, ${json(key.models)}::text::jsonb,
          ${json(key.groups)}::text::jsonb, ${key.budget?.usd ?? null},
          ${key.budget?.period ?? null}, ${json(key.rate_limit)}::text::jsonb,
          ${date(key.expires_at)}, ${json(key.metadata)}::text::jsonb,
          ${new Date(key.created_at)}, NULL)
      ) UPDATE key_changes SET version = version + 1 WHERE id = 1`);
    return key;
  }

  async listKeys(): Promise<VirtualKey[]> {
    const rows = await this.#sql.unsafe(
      `SELECT ${KEY_COLUMNS} FROM virtual_keys ORDER BY created_at, id`,
      [],
      { prepare: true },
    );
    return rows.map(keyFromRow);
  }

  async getKeyByHash(hash: string): Promise<VirtualKey | null> {
    const rows = await this.#sql.unsafe(
      `SELECT ${KEY_COLUMNS} FROM virtual_keys WHERE key_hash = $1`,
      [normalizeHash(hash)],
      { prepare: true },
    );
    return rows[0] === undefined ? null : keyFromRow(rows[0]);
  }

  async updateKey(id: string, patch: VirtualKeyPatch): Promise<VirtualKey | null> {
    // The patch is merged in the statement, so a concurrent change to another field survives.
    // JSON leaves out absent fields and keeps explicit nulls: "has key" means "set".
    const rows = await withConflicts(this.#sql.unsafe(
      `WITH patch AS (SELECT $2::text::jsonb AS j), u AS (
        UPDATE virtual_keys k SET
          name = CASE WHEN j ? 'name' THEN j->>'name' ELSE k.name END,
          models = CASE WHEN j ? 'models' THEN nullif(j->'models', 'null') ELSE k.models END,
          groups = CASE WHEN j ? 'groups' THEN j->'groups' ELSE k.groups END,
          budget_usd = CASE WHEN j ? 'budget' THEN (j->'budget'->>'usd')::float8
            ELSE k.budget_usd END,
          budget_period = CASE WHEN j ? 'budget' THEN j->'budget'->>'period'
            ELSE k.budget_period END,
          rate_limit = CASE WHEN j ? 'rate_limit' THEN nullif(j->'rate_limit', 'null')
            ELSE k.rate_limit END,
          expires_at = CASE WHEN j ? 'expires_at'
            THEN to_timestamp((j->>'expires_at')::float8 / 1000) ELSE k.expires_at END,
          metadata = CASE WHEN j ? 'metadata' THEN j->'metadata' ELSE k.metadata END
        FROM patch WHERE k.id = $1
        RETURNING ${prefixed("k")}
      ), bump AS (${BUMP_KEYS} AND EXISTS (SELECT 1 FROM u))
      SELECT * FROM u`,
      [id, JSON.stringify(patch)],
      { prepare: true },
    ));
    return rows[0] === undefined ? null : keyFromRow(rows[0]);
  }

  async revokeKey(id: string): Promise<VirtualKey | null> {
    // The outer SELECT sees the table as before the statement: the revoked row comes from `r`.
    const rows = await this.#sql.unsafe(
      `WITH r AS (
        UPDATE virtual_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL
        RETURNING ${KEY_COLUMNS}
      ), bump AS (${BUMP_KEYS} AND EXISTS (SELECT 1 FROM r))
      SELECT * FROM r
      UNION ALL
      SELECT ${KEY_COLUMNS} FROM virtual_keys WHERE id = $1 AND NOT EXISTS (SELECT 1 FROM r)`,
      [id, new Date(this.#now())],
      { prepare: true },
    );
    return rows[0] === undefined ? null : keyFromRow(rows[0]);
  }

  async keysVersion(): Promise<number> {
    const [row] = await this.#sql`SELECT version::float8 AS version FROM key_changes WHERE id = 1`;
    return Number(row?.version ?? 0);
  }

  async insertUsage(records: readonly UsageRecord[]): Promise<void> {
    if (records.length === 0) return;
    // Rows in a sorted order, so two instances adding to the same buckets cannot deadlock.
    await this.#sql`WITH inserted AS (
        INSERT INTO usage (time, request_id, key_id, key_name, user_name, group_names, endpoint,
          requested_model, provider, model, status, attempts, input_tokens, output_tokens,
          cached_tokens, cost_usd, latency_ms, ttfb_ms, stream)
        SELECT to_timestamp(r.time / 1000.0), r.request_id, r.key_id, r.key_name, r."user",
          r.groups, r.endpoint, r.requested_model, r.provider, r.model, r.status, r.attempts,
          r.input_tokens, r.output_tokens, r.cached_tokens, r.cost_usd, r.latency_ms, r.ttfb_ms,
          r.stream
        FROM jsonb_to_recordset(${json(records)}::text::jsonb) AS r("time" bigint,
          request_id text, key_id text, key_name text, "user" text, groups jsonb, endpoint text,
          requested_model text, provider text, model text, status integer, attempts integer,
          input_tokens bigint, output_tokens bigint, cached_tokens bigint,
          cost_usd double precision, latency_ms double precision, ttfb_ms double precision,
          stream boolean)
      )
      INSERT INTO spend (scope, id, hour, cost_usd)
      SELECT s.scope, s.id, to_timestamp(s.hour / 1000.0), s.cost_usd
      FROM jsonb_to_recordset(${json(spendIncrements(records))}::text::jsonb)
        AS s(scope text, id text, hour bigint, cost_usd double precision)
      ORDER BY s.scope COLLATE "C", s.id COLLATE "C", s.hour
      ON CONFLICT (scope, id, hour) DO UPDATE SET cost_usd = spend.cost_usd + excluded.cost_usd`;
  }

  async usageSummary(query: UsageQuery): Promise<UsageRow[]> {
    const source = SUMMARY_SOURCES[query.groupBy];
    const rows = await this.#sql.unsafe(
      `SELECT ${source} AS value, ${SUMS}
      FROM ${sourceTable(query.groupBy)} WHERE usage.time >= $1 AND usage.time < $2
      GROUP BY ${source}`,
      [new Date(query.from), new Date(query.to)],
      { prepare: true },
    );
    return sortRows(rows.map(usageRowFromRow));
  }

  async usageSeries(query: UsageSeriesQuery): Promise<UsageSeriesRow[]> {
    const source = SUMMARY_SOURCES[query.groupBy];
    // Whole milliseconds since the epoch, floored to the bucket's width in exact numeric.
    const rows = await this.#sql.unsafe(
      `SELECT (floor(extract(epoch FROM usage.time) * 1000 / $3::bigint) * $3::bigint)::float8
          AS t,
        ${source} AS value, ${SUMS}
      FROM ${sourceTable(query.groupBy)} WHERE usage.time >= $1 AND usage.time < $2
      GROUP BY 1, 2`,
      [new Date(query.from), new Date(query.to), USAGE_BUCKET_MS[query.bucket]],
      { prepare: true },
    );
    return sortSeries(rows.map((row) => ({ t: Number(row.t), ...usageRowFromRow(row) })));
  }

  async spend(query: SpendQuery): Promise<number> {
    const [row] = await this.#sql`SELECT coalesce(sum(cost_usd), 0)::float8 AS cost_usd
      FROM spend WHERE scope = ${query.scope} AND id = ${query.id}
        AND hour >= ${new Date(hourOf(query.since))}`;
    return Number(row?.cost_usd ?? 0);
  }

  async putResponse(r: StoredResponse): Promise<void> {
    await this.#sql`INSERT INTO responses (id, owner, provider, model, created_at, expires_at,
        previous_response_id, input, response, size)
      VALUES (${r.id}, ${r.owner}, ${r.provider}, ${r.model}, ${new Date(r.created_at)},
        ${new Date(r.expires_at)}, ${r.previous_response_id}, ${jsonb(r.input)}::text::jsonb,
        ${jsonb(r.response)}::text::jsonb, ${r.size})
      ON CONFLICT (id) DO UPDATE SET owner = excluded.owner, provider = excluded.provider,
        model = excluded.model, created_at = excluded.created_at,
        expires_at = excluded.expires_at, previous_response_id = excluded.previous_response_id,
        input = excluded.input, response = excluded.response, size = excluded.size`;
  }

  async getResponse(id: string, now: number): Promise<StoredResponse | null> {
    const [row] = await this.#sql`SELECT id, owner, provider, model, created_at, expires_at,
        previous_response_id, input, response, size::float8 AS size
      FROM responses WHERE id = ${id} AND expires_at > ${new Date(now)}`;
    return row === undefined ? null : responseFromRow(row);
  }

  async deleteResponse(id: string): Promise<boolean> {
    const result = await this.#sql`DELETE FROM responses WHERE id = ${id}`;
    return result.count > 0;
  }

  async purgeResponses(now: number): Promise<number> {
    const result = await this.#sql`DELETE FROM responses WHERE expires_at <= ${new Date(now)}`;
    return result.count;
  }

  async close(): Promise<void> {
    await this.#sql.end({ timeout: CLOSE_TIMEOUT_S });
  }
}

/** The key columns qualified by a table alias, for a RETURNING list. */
function prefixed(alias: string): string {
  return KEY_COLUMNS.split(",").map((column) => `${alias}.${column.trim()}`).join(", ");
}

/** A unique violation on a key's name or hash as a `StoreConflictError`. */
async function withConflicts<T>(pending: Promise<T>): Promise<T> {
  try {
    return await pending;
  } catch (error) {
    if (error instanceof postgres.PostgresError && error.code === "23505") {
      if (error.constraint_name === "virtual_keys_name_key") {
        throw new StoreConflictError("name", { cause: error });
      }
      if (error.constraint_name === "virtual_keys_key_hash_key") {
        throw new StoreConflictError("key_hash", { cause: error });
      }
    }
    throw error;
  }
}

/**
 * JSON as text, cast to jsonb in the statement: a parameter the server types as jsonb would be
 * encoded by the client once more, into a JSON string.
 */
function json(value: unknown): string | null {
  return value === null ? null : JSON.stringify(value);
}

/**
 * Escapes `JSON.stringify` writes for U+0000 and for an unpaired surrogate (a pair it writes as
 * it is), preceded by an even run of backslashes so that escaped backslashes are not mistaken.
 */
const UNFIT_FOR_JSONB = /(?<!\\)((?:\\\\)*)\\u(?:0000|d[89a-f][0-9a-f]{2})/g;

/**
 * JSON text of a client's items for a jsonb column. Postgres refuses U+0000 and unpaired
 * surrogates in jsonb, and a refused write would lose the whole response: they become U+FFFD,
 * as a UTF-8 encoder writes an unpaired surrogate.
 */
function jsonb(value: unknown): string | null {
  const text = json(value);
  if (text === null || !text.includes("\\u")) return text;
  return text.replace(UNFIT_FOR_JSONB, "$1\\ufffd");
}

function date(ms: number | null): Date | null {
  return ms === null ? null : new Date(ms);
}

function millis(value: unknown): number | null {
  if (value === null || value === undefined) return null;
  return value instanceof Date ? value.getTime() : Number(value);
}

function responseFromRow(row: Row): StoredResponse {
  return {
    id: String(row.id),
    owner: String(row.owner),
    provider: row.provider === null ? null : String(row.provider),
    model: String(row.model),
    created_at: millis(row.created_at) ?? 0,
    expires_at: millis(row.expires_at) ?? 0,
    previous_response_id: row.previous_response_id === null
      ? null
      : String(row.previous_response_id),
    ...responseParts(row.input, row.response),
    size: Number(row.size),
  };
}

function keyFromRow(row: Row): VirtualKey {
  return {
    id: String(row.id),
    name: String(row.name),
    key_hash: String(row.key_hash),
    models: row.models === null ? null : stringList(row.models),
    groups: stringList(row.groups),
    budget: budgetOf(row.budget_usd, row.budget_period),
    rate_limit: row.rate_limit === null ? null : limitRule(row.rate_limit),
    expires_at: millis(row.expires_at),
    metadata: jsonObject(row.metadata),
    created_at: millis(row.created_at) ?? 0,
    revoked_at: millis(row.revoked_at),
  };
}
