/**
 * The label ids of usage rows in the SQLite store (`usage_labels`, schema version 3). A row's
 * labels are the values most requests repeat: who asked, through which endpoint, for what, what
 * served it and how it ended. Each set is stored once and a row holds its id. Ids of label sets
 * seen before come from memory; a new set is added inside the write transaction that uses it, and
 * only kept in memory once that transaction commits.
 */

import type { DatabaseSync, SQLInputValue, StatementSync } from "node:sqlite";
import type { UsageRecord } from "./store.ts";

/**
 * Entries (label sets, and the maps of the tree that leads to them) kept in memory at most, about
 * 2 MB. Requested models come from clients, so their number has no bound of its own: past this the
 * memory is emptied and refilled from the table as sets come back.
 */
export const MAX_CACHED_LABELS = 10_000;

/** The `usage_labels` columns, in the order `labelsOf` gives their values. */
export const LABEL_COLUMNS = [
  "key_id",
  "key_name",
  "user_name",
  "group_names",
  "endpoint",
  "requested_model",
  "provider",
  "model",
  "status",
  "attempts",
  "stream",
] as const;

type Label = string | number | null;

/** A record's label values, in `LABEL_COLUMNS` order. */
function labelsOf(r: UsageRecord): Label[] {
  return [
    r.key_id,
    r.key_name,
    r.user,
    r.groups.length === 0 ? "[]" : JSON.stringify(r.groups),
    r.endpoint,
    r.requested_model,
    r.provider,
    r.model,
    r.status,
    r.attempts,
    r.stream ? 1 : 0,
  ];
}

/**
 * Memory of label ids: a tree of maps, one level per label, whose leaves are ids. Nested maps need
 * no key built per record, and no text a client chose can make two sets look alike.
 */
type Level = Map<Label, Level | number>;

/** Label ids of one connection. */
export class LabelIds {
  readonly #select: StatementSync;
  readonly #insert: StatementSync;
  readonly #maxCached: number;
  #root: Level = new Map();
  /** Label sets and maps in the tree, towards `maxCached`. */
  #cached = 0;
  /** Leaves added in the transaction in progress: their level and last label. */
  readonly #pending: [Level, Label][] = [];

  /** `maxCached` is for tests. */
  constructor(db: DatabaseSync, maxCached = MAX_CACHED_LABELS) {
    const same = LABEL_COLUMNS.map((column) => `${column} IS ?`).join(" AND ");
    this.#select = db.prepare(`SELECT id FROM usage_labels WHERE ${same} LIMIT 1`);
    this.#insert = db.prepare(
      `INSERT INTO usage_labels (${LABEL_COLUMNS.join(", ")})
      VALUES (${LABEL_COLUMNS.map(() => "?").join(", ")}) RETURNING id`,
    );
    this.#maxCached = maxCached;
  }

  /** The label id of `record`. Call inside a write transaction, then `settle`. */
  idOf(record: UsageRecord): number {
    const labels = labelsOf(record);
    let level = this.#root;
    const last = labels.length - 1;
    for (let i = 0; i < last; i++) {
      const label = labels[i]!;
      let next = level.get(label) as Level | undefined;
      if (next === undefined) {
        next = new Map();
        level.set(label, next);
        this.#cached++;
      }
      level = next;
    }
    const id = level.get(labels[last]!) as number | undefined;
    if (id !== undefined) return id;
    const values = labels as SQLInputValue[];
    const row = this.#select.get(...values) ?? this.#insert.get(...values);
    const found = Number(row!.id);
    level.set(labels[last]!, found);
    this.#pending.push([level, labels[last]!]);
    return found;
  }

  /** Ends the transaction: its new ids are kept when it committed, dropped when it rolled back. */
  settle(committed: boolean): void {
    if (!committed) {
      for (const [level, label] of this.#pending) level.delete(label);
    } else {
      this.#cached += this.#pending.length;
      if (this.#cached > this.#maxCached) {
        this.#root = new Map();
        this.#cached = 0;
      }
    }
    this.#pending.length = 0;
  }

  /** Label sets and maps in memory (for tests). */
  get size(): number {
    return this.#cached;
  }
}
