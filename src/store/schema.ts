/**
 * The store's schema, for both engines, as numbered migrations: version N is the N-th entry.
 * Each engine applies the versions a database lacks when it opens, one instance at a time (see
 * `migrate` in sqlite.ts and postgres.ts), and records them in `schema_migrations`.
 *
 * A migration, once released, is never edited: a change is a new entry. An instance of the
 * previous release keeps working on a database a newer one has migrated: migrations add, and what
 * one replaces (SQLite's usage table, version 3) stays readable and writable in its old shape.
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
  // A usage row's labels (who asked, through which endpoint, for what, what served it and how it
  // ended) are stored once in usage_labels, and the row holds their id: node:sqlite binds each
  // value of a row for a cost of its own, and most requests repeat the labels of earlier ones. The
  // view `usage` shows the rows as version 2 stored them, and its trigger takes the inserts of a
  // version 2 release.
  `CREATE TABLE usage_labels (
    id INTEGER PRIMARY KEY,
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
    stream INTEGER NOT NULL
  );
  CREATE INDEX usage_labels_all ON usage_labels (
      key_id, key_name, user_name, group_names, endpoint, requested_model, provider, model, status,
      attempts, stream
    );
  INSERT INTO usage_labels (
      key_id, key_name, user_name, group_names, endpoint, requested_model, provider, model, status,
      attempts, stream
    )
    SELECT DISTINCT key_id, key_name, user_name, group_names, endpoint, requested_model, provider,
      model, status, attempts, stream
    FROM usage;
  CREATE TABLE usage_rows (
    id INTEGER PRIMARY KEY,
    time INTEGER NOT NULL,
    request_id TEXT NOT NULL,
    label INTEGER NOT NULL REFERENCES usage_labels (id),
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    cached_tokens INTEGER NOT NULL,
    cost_usd REAL,
    latency_ms REAL NOT NULL,
    ttfb_ms REAL
  );
  INSERT INTO usage_rows
    SELECT u.id, u.time, u.request_id,
      (SELECT l.id FROM usage_labels AS l WHERE
        l.key_id IS u.key_id AND l.key_name IS u.key_name
        AND l.user_name IS u.user_name AND l.group_names IS u.group_names
        AND l.endpoint IS u.endpoint AND l.requested_model IS u.requested_model
        AND l.provider IS u.provider AND l.model IS u.model AND l.status IS u.status
        AND l.attempts IS u.attempts AND l.stream IS u.stream),
      u.input_tokens, u.output_tokens, u.cached_tokens, u.cost_usd, u.latency_ms, u.ttfb_ms
    FROM usage AS u;
  DROP TABLE usage;
  CREATE INDEX usage_rows_time ON usage_rows (time);
  CREATE VIEW usage AS
    SELECT r.id, r.time, r.request_id, l.key_id, l.key_name, l.user_name, l.group_names,
      l.endpoint, l.requested_model, l.provider, l.model, l.status, l.attempts, r.input_tokens,
      r.output_tokens, r.cached_tokens, r.cost_usd, r.latency_ms, r.ttfb_ms, l.stream
    FROM usage_rows AS r JOIN usage_labels AS l ON l.id = r.label;
  CREATE TRIGGER usage_insert INSTEAD OF INSERT ON usage BEGIN
    INSERT INTO usage_labels (
      key_id, key_name, user_name, group_names, endpoint, requested_model, provider, model, status,
      attempts, stream
    )
      SELECT NEW.key_id, NEW.key_name, NEW.user_name, NEW.group_names, NEW.endpoint,
        NEW.requested_model, NEW.provider, NEW.model, NEW.status, NEW.attempts, NEW.stream
      WHERE NOT EXISTS (SELECT 1 FROM usage_labels AS l WHERE
        l.key_id IS NEW.key_id AND l.key_name IS NEW.key_name
        AND l.user_name IS NEW.user_name AND l.group_names IS NEW.group_names
        AND l.endpoint IS NEW.endpoint AND l.requested_model IS NEW.requested_model
        AND l.provider IS NEW.provider AND l.model IS NEW.model
        AND l.status IS NEW.status AND l.attempts IS NEW.attempts
        AND l.stream IS NEW.stream);
    INSERT INTO usage_rows (time, request_id, label, input_tokens, output_tokens, cached_tokens,
      cost_usd, latency_ms, ttfb_ms)
    VALUES (NEW.time, NEW.request_id,
      (SELECT l.id FROM usage_labels AS l WHERE
        l.key_id IS NEW.key_id AND l.key_name IS NEW.key_name
        AND l.user_name IS NEW.user_name AND l.group_names IS NEW.group_names
        AND l.endpoint IS NEW.endpoint AND l.requested_model IS NEW.requested_model
        AND l.provider IS NEW.provider AND l.model IS NEW.model
        AND l.status IS NEW.status AND l.attempts IS NEW.attempts
        AND l.stream IS NEW.stream),
      NEW.input_tokens, NEW.output_tokens, NEW.cached_tokens, NEW.cost_usd, NEW.latency_ms,
      NEW.ttfb_ms);
  END;`,
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
