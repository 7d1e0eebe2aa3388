/**
 * Usage summaries and series of the SQLite store, read in slices. A summary over a long range
 * reads every record in it, and `node:sqlite` holds the event loop while it reads: the range is
 * cut into slices of about `SLICE_ROWS` records, summed one at a time with the event loop free in
 * between, and the slices' sums added up. All slices are read in one transaction of a connection
 * of their own, so they see the store as it was when the read began, whatever is written meanwhile.
 */

import { DatabaseSync } from "node:sqlite";
import { sortRows, sortSeries } from "./records.ts";
import {
  USAGE_BUCKET_MS,
  type UsageDimension,
  type UsageQuery,
  type UsageRow,
  type UsageSeriesQuery,
  type UsageSeriesRow,
} from "./store.ts";

/** Records summed per slice: about a millisecond of the event loop (docs/performance.md). */
export const SLICE_ROWS = 1_000;

/** The `usage_labels` column of each dimension (`group`: a JSON list of names). */
const COLUMNS: Record<UsageDimension, string> = {
  key: "key_name",
  user: "user_name",
  model: "model",
  provider: "provider",
  group: "group_names",
};

const SUMS = `count(*) AS requests,
  coalesce(sum(r.input_tokens), 0) AS input_tokens,
  coalesce(sum(r.output_tokens), 0) AS output_tokens,
  coalesce(sum(r.cost_usd), 0) AS cost_usd`;

/**
 * The statement summing over `time >= ?2 AND time < ?3` by the dimension's label value, and by
 * bucket when `?1`.
 */
function sumSql(dimension: UsageDimension, series: boolean): string {
  // Times are whole milliseconds; integer division (a bound number is REAL) floors them.
  const bucket = series ? "(r.time / CAST(?1 AS INTEGER)) * CAST(?1 AS INTEGER)" : "0";
  return `SELECT ${bucket} AS t, l.${COLUMNS[dimension]} AS value, ${SUMS}
    FROM usage_rows AS r JOIN usage_labels AS l ON l.id = r.label
    WHERE r.time >= ?2 AND r.time < ?3 GROUP BY 1, 2`;
}

/** Where a slice starting at `time >= ?1` ends: the time `?3` records on, below `?2`. */
const SLICE_END = `SELECT time FROM usage_rows WHERE time >= ? AND time < ?
  ORDER BY time LIMIT 1 OFFSET ?`;

/** Options for `summarize` and `summarizeSeries`. */
export interface SummaryOptions {
  /** Records per slice (tests make it small). */
  sliceRows?: number;
  /** Busy timeout of the reading connection, ms. */
  timeoutMs?: number;
}

/**
 * The summary of `query` over the database at `path`, read through a connection opened for it;
 * `:memory:` has no other connection, so `db`, the store's own, reads it.
 */
export async function summarize(
  path: string,
  db: DatabaseSync,
  query: UsageQuery,
  options: SummaryOptions = {},
): Promise<UsageRow[]> {
  const rows = await sumSlices(path, db, query, 0, options);
  return sortRows(rows.map(({ t: _, ...row }) => row));
}

/** The series of `query` (a summary per bucket), read as `summarize` reads. */
export async function summarizeSeries(
  path: string,
  db: DatabaseSync,
  query: UsageSeriesQuery,
  options: SummaryOptions = {},
): Promise<UsageSeriesRow[]> {
  return sortSeries(await sumSlices(path, db, query, USAGE_BUCKET_MS[query.bucket], options));
}

/** Sums `query` slice by slice, per bucket of `width` ms (0: one bucket) and value. */
async function sumSlices(
  path: string,
  db: DatabaseSync,
  query: UsageQuery,
  width: number,
  options: SummaryOptions,
): Promise<UsageSeriesRow[]> {
  const reader = path === ":memory:" ? db : new DatabaseSync(path, { timeout: options.timeoutMs });
  try {
    if (reader !== db) reader.exec("BEGIN");
    const sum = reader.prepare(sumSql(query.groupBy, width > 0));
    const sliceEnd = reader.prepare(SLICE_END);
    const groups = query.groupBy === "group";
    const sliceRows = options.sliceRows ?? SLICE_ROWS;
    const totals = new Map<string, UsageSeriesRow>();
    let start = query.from;
    while (start < query.to) {
      const next = sliceEnd.get(start, query.to, sliceRows);
      // A slice ends at a later millisecond than it starts, however many records share one.
      const end = next === undefined ? query.to : Math.max(Number(next.time), start + 1);
      for (const row of sum.all(width, start, end)) {
        const value = row.value === null || row.value === undefined ? null : String(row.value);
        if (!groups) add(totals, value, row);
        else for (const group of value === null ? [] : groupsOf(value)) add(totals, group, row);
      }
      start = end;
      if (start < query.to) await new Promise((resolve) => setTimeout(resolve, 0));
    }
    if (reader !== db) reader.exec("COMMIT");
    return [...totals.values()];
  } finally {
    if (reader !== db) reader.close();
  }
}

/** The names in a stored group list (anything else: none). */
function groupsOf(text: string): string[] {
  try {
    const parsed: unknown = JSON.parse(text);
    return Array.isArray(parsed) ? parsed.filter((g) => typeof g === "string") : [];
  } catch {
    return [];
  }
}

function add(
  totals: Map<string, UsageSeriesRow>,
  value: string | null,
  row: Record<string, unknown>,
): void {
  const t = Number(row.t);
  // A null value and the text "null" are different rows.
  const key = `${t} ${value === null ? "" : `=${value}`}`;
  const total = totals.get(key);
  const requests = Number(row.requests);
  const input = Number(row.input_tokens);
  const output = Number(row.output_tokens);
  const cost = Number(row.cost_usd);
  if (total === undefined) {
    totals.set(key, {
      t,
      value,
      requests,
      input_tokens: input,
      output_tokens: output,
      cost_usd: cost,
    });
    return;
  }
  total.requests += requests;
  total.input_tokens += input;
  total.output_tokens += output;
  total.cost_usd += cost;
}
