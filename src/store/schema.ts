/**
 * The store's schema, for both engines, as numbered migrations: version N is the N-th entry.
 * Each engine applies the versions a database lacks when it opens, one instance at a time (see
 * `migrate` in sqlite.ts and postgres.ts), and records them in `schema_migrations`.
 *
 * A migration, once released, is never edited: a change is a new entry. Migrations only add, so
 * an instance of the previous release keeps working on a database a newer one has migrated.
 */

/** Created before anything else, outside the numbered list. */
export const MIGRATIONS_TABLE = {
  sqlite: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    applied_at INTEGER NOT NULL
  )`,
  postgres: `CREATE TABLE IF NOT EXISTS schema_migrations (
    version integer PRIMARY KEY,
    applied_at timestamptz NOT NULL DEFAULT now()
  )`,
};

/**
 * SQLite: times are epoch milliseconds (INTEGER), lists and objects JSON text. Spend buckets are
 * keyed by (scope, id, hour) and incremented per record; a budget check reads one index range.
 */
export const SQLITE_MIGRATIONS: readonly string[] = [
  `CREATE TABLE virtual_keys (
    id TEXT PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    key_hash TEXT NOT NULL UNIQUE,
    models TEXT,
    groups TEXT NOT NULL,
    budget_usd REAL,
    budget_period TEXT,
    rate_limit TEXT,
    expires_at INTEGER,
    metadata TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
  );
  CREATE TABLE key_changes (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    version INTEGER NOT NULL
  );
  INSERT INTO key_changes (id, version) VALUES (1, 0);
  CREATE TABLE usage (
    id INTEGER PRIMARY KEY,
    time INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    key_id TEXT,
    key_name TEXT,
    user_name TEXT,
    group_names TEXT NOT NULL,
    endpoint TEXT NOT NULL,
    requested_model TEXT,
    provider TEXT,
    model TEXT,
    status INTEGER NOT NULL,
    attempts INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    cost_usd REAL,
    latency_ms REAL NOT NULL,
    ttfb_ms REAL,
    stream INTEGER NOT NULL
  );
  CREATE INDEX usage_time ON usage (time);
  CREATE TABLE spend (
    scope TEXT NOT NULL,
    id TEXT NOT NULL,
    hour INTEGER NOT NULL,
    cost_usd REAL NOT NULL,
    PRIMARY KEY (scope, id, hour)
  ) WITHOUT ROWID;`,
  `CREATE TABLE responses (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    provider TEXT,
    model TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    previous_response_id TEXT,
    input TEXT,
    response TEXT,
    size INTEGER NOT NULL
  );
  CREATE INDEX responses_expires_at ON responses (expires_at);`,
];

/** Postgres: the same tables, with timestamptz times and jsonb lists and objects. */
export const POSTGRES_MIGRATIONS: readonly string[] = [
  `CREATE TABLE virtual_keys (
    id text PRIMARY KEY,
    name text NOT NULL UNIQUE,
    key_hash text NOT NULL UNIQUE,
    models jsonb,
    groups jsonb NOT NULL,
    budget_usd double precision,
    budget_period text,
    rate_limit jsonb,
    expires_at timestamptz,
    metadata jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
  );
  CREATE TABLE key_changes (
    id integer PRIMARY KEY CHECK (id = 1),
    version bigint NOT NULL
  );
  INSERT INTO key_changes (id, version) VALUES (1, 0);
  CREATE TABLE usage (
    id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    time timestamptz NOT NULL,
    request_id text NOT NULL,
    key_id text,
    key_name text,
    user_name text,
    group_names jsonb NOT NULL,
    endpoint text NOT NULL,
    requested_model text,
    provider text,
    model text,
    status integer NOT NULL,
    attempts integer NOT NULL,
    input_tokens bigint NOT NULL,
    output_tokens bigint NOT NULL,
    cached_tokens bigint NOT NULL,
    cost_usd double precision,
    latency_ms double precision NOT NULL,
    ttfb_ms double precision,
    stream boolean NOT NULL
  );
  CREATE INDEX usage_time ON usage (time);
  CREATE TABLE spend (
    scope text NOT NULL,
    id text NOT NULL,
    hour timestamptz NOT NULL,
    cost_usd double precision NOT NULL,
    PRIMARY KEY (scope, id, hour)
  );`,
  `CREATE TABLE responses (
    id text PRIMARY KEY,
    owner text NOT NULL,
    provider text,
    model text NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    previous_response_id text,
    input jsonb,
    response jsonb,
    size bigint NOT NULL
  );
  CREATE INDEX responses_expires_at ON responses (expires_at);`,
];

/** The newest schema version this gateway knows. */
export const SCHEMA_VERSION = SQLITE_MIGRATIONS.length;
