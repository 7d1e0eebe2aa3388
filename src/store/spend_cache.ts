/**
 * What budget checks read: a scope's spend from the store, read at most once per `ttlMs`, plus
 * the cost of this instance's usage records that the store does not hold yet. The usage writer
 * tells it which records wait (`queued`) and which have been written (`written`), so a request's
 * cost counts from the moment its record is queued, once, and never twice: a written record stops
 * counting locally as soon as a store read that started after its write is in hand.
 */

import { type SpendIncrement, spendIncrements } from "./spend.ts";
import type { SpendScope, Store, UsageRecord } from "./store.ts";
import type { UsageTracker, WriterLog } from "./writer.ts";

/** Options for `SpendCache`. */
export interface SpendCacheOptions {
  /** How long a store read is used before the next check reads again (default 1 s). */
  ttlMs?: number;
  /** A read that has not answered by then counts as failed (default 2 s). */
  readTimeoutMs?: number;
  /** Epoch milliseconds (default `Date.now`). */
  now?: () => number;
  /** Where an unreadable store, and its return, are reported (once per outage). */
  log?: Pick<WriterLog, "info" | "error">;
}

/** A store read of one scope's spend. */
interface Read {
  spent: number;
  since: number;
  /** When the read was sent: writes finished before then are in `spent`. */
  startedAt: number;
}

/** Cost of a record written to the store, counted until a read that includes it arrives. */
interface Written {
  hour: number;
  cost: number;
  at: number;
}

/** What is known of one scope (a key, a user or a group) that budget checks ask about. */
interface Tally {
  scope: SpendScope;
  id: string;
  read: Read | null;
  /** The read in progress, and the `since` it asks for. */
  refresh: { since: number; done: Promise<void> } | null;
  /** When the last read was sent. */
  attemptAt: number;
  /** Hour -> cost of queued records not yet written. */
  unwritten: Map<number, number>;
  written: Written[];
  usedAt: number;
}

const DEFAULT_TTL_MS = 1_000;
const DEFAULT_READ_TIMEOUT_MS = 2_000;
/** A scope no check asked about for this long, with nothing waiting, is forgotten. */
const IDLE_MS = 10 * 60_000;
/** Written costs are dropped after this long even if no read of their scope came since. */
const WRITTEN_MS = 60_000;

/** Spend per scope for budget checks: cached store reads plus this instance's unwritten records. */
export class SpendCache implements UsageTracker {
  #store: Pick<Store, "spend">;
  #ttlMs: number;
  #readTimeoutMs: number;
  #now: () => number;
  #log: SpendCacheOptions["log"];
  /** The scopes budget checks ask about; records of other scopes are not tracked. */
  #tallies = new Map<string, Tally>();
  /** Queued records of watched scopes, and the increments they added. */
  #queued = new Map<UsageRecord, SpendIncrement[]>();
  #failing = false;
  #sweptAt = 0;

  constructor(store: Pick<Store, "spend">, options: SpendCacheOptions = {}) {
    this.#store = store;
    this.#ttlMs = options.ttlMs ?? DEFAULT_TTL_MS;
    this.#readTimeoutMs = options.readTimeoutMs ?? DEFAULT_READ_TIMEOUT_MS;
    this.#now = options.now ?? Date.now;
    this.#log = options.log;
  }

  /** How long a store read is used: how far behind other instances' spend a check may be. */
  get ttlMs(): number {
    return this.#ttlMs;
  }

  /**
   * US dollars spent by a key, user or group since `since`: the last store read (a new one when
   * it is older than `ttlMs` or for another `since`) plus what this instance has not written yet.
   * While the store cannot be read, the last read stands (none: 0) and local spend still adds.
   */
  async spent(scope: SpendScope, id: string, since: number): Promise<number> {
    const now = this.#now();
    this.#sweep(now);
    const key = scopeKey(scope, id);
    let tally = this.#tallies.get(key);
    if (tally === undefined) {
      tally = {
        scope,
        id,
        read: null,
        refresh: null,
        attemptAt: -Infinity,
        unwritten: new Map(),
        written: [],
        usedAt: now,
      };
      this.#tallies.set(key, tally);
    }
    tally.usedAt = now;
    const current = tally.read !== null && tally.read.since === since &&
      now - tally.read.startedAt < this.#ttlMs;
    if (!current) {
      const refresh = this.#refresh(tally, since, now);
      // While the store fails, checks go on with what is known rather than wait for each try.
      if (refresh !== null && !(this.#failing && tally.read !== null)) await refresh;
    }
    const read = tally.read;
    return (read?.spent ?? 0) + pending(tally, since, read?.startedAt ?? -Infinity);
  }

  /**
   * Spend since `since` read from the store now, uncached, plus this instance's unwritten
   * records: for the rare question a cached total cannot answer (when a rolling budget recovers).
   */
  async spentNow(scope: SpendScope, id: string, since: number): Promise<number> {
    const startedAt = this.#now();
    const spent = await this.#store.spend({ scope, id, since });
    const tally = this.#tallies.get(scopeKey(scope, id));
    return spent + (tally === undefined ? 0 : pending(tally, since, startedAt));
  }

  /** A record entered the writer's queue: its cost counts for its scopes until it is written. */
  queued(record: UsageRecord): void {
    if (this.#tallies.size === 0 || !((record.cost_usd ?? 0) > 0)) return;
    const increments = spendIncrements([record]).filter((inc) =>
      this.#tallies.has(scopeKey(inc.scope, inc.id))
    );
    if (increments.length === 0) return;
    this.#queued.set(record, increments);
    for (const inc of increments) {
      const tally = this.#tallies.get(scopeKey(inc.scope, inc.id))!;
      tally.unwritten.set(inc.hour, (tally.unwritten.get(inc.hour) ?? 0) + inc.cost_usd);
    }
  }

  /** These records are in the store: they count until a read sent after now is in hand. */
  written(records: readonly UsageRecord[]): void {
    if (this.#queued.size === 0) return;
    const at = this.#now();
    for (const record of records) {
      const increments = this.#queued.get(record);
      if (increments === undefined) continue;
      this.#queued.delete(record);
      for (const inc of increments) {
        const tally = this.#tallies.get(scopeKey(inc.scope, inc.id));
        if (tally === undefined) continue;
        const left = (tally.unwritten.get(inc.hour) ?? 0) - inc.cost_usd;
        // Sums of floats may leave a trace of a cent's billionth behind: that is nothing.
        if (left > 1e-12) tally.unwritten.set(inc.hour, left);
        else tally.unwritten.delete(inc.hour);
        tally.written.push({ hour: inc.hour, cost: inc.cost_usd, at });
      }
    }
  }

  /** Starts a read of the tally's spend, unless one for the same `since` is on its way. */
  #refresh(tally: Tally, since: number, now: number): Promise<void> | null {
    if (tally.refresh !== null && tally.refresh.since === since) return tally.refresh.done;
    // After a failed read the next waits its turn, as a fresh read would.
    if (this.#failing && now - tally.attemptAt < this.#ttlMs) return null;
    tally.attemptAt = now;
    const done = withTimeout(
      this.#store.spend({ scope: tally.scope, id: tally.id, since }),
      this.#readTimeoutMs,
    ).then((spent) => {
      // A slower, older read must not replace a newer one.
      if (tally.read === null || tally.read.startedAt <= now) {
        tally.read = { spent, since, startedAt: now };
        tally.written = tally.written.filter((w) => w.at > now);
      }
      if (this.#failing) {
        this.#failing = false;
        this.#log?.info("budget spend can be read again");
      }
    }, (error) => {
      if (!this.#failing) {
        this.#failing = true;
        this.#log?.error(
          "budget spend cannot be read; budgets are checked against the last spend read " +
            "plus this instance's own until the store answers",
          { "error.message": error instanceof Error ? error.message : String(error) },
        );
      }
    }).finally(() => {
      if (tally.refresh?.done === done) tally.refresh = null;
    });
    tally.refresh = { since, done };
    return done;
  }

  /** Forgets idle scopes and old written costs, at most once a minute. */
  #sweep(now: number): void {
    if (now - this.#sweptAt < 60_000) return;
    this.#sweptAt = now;
    for (const [key, tally] of this.#tallies) {
      tally.written = tally.written.filter((w) => now - w.at < WRITTEN_MS);
      if (now - tally.usedAt > IDLE_MS && tally.unwritten.size === 0) this.#tallies.delete(key);
    }
  }
}

function scopeKey(scope: SpendScope, id: string): string {
  return `${scope}:${id}`;
}

/** Local cost since `since` that a store read sent at `readAt` does not hold. */
function pending(tally: Tally, since: number, readAt: number): number {
  let sum = 0;
  for (const [hour, cost] of tally.unwritten) if (hour >= since) sum += cost;
  for (const w of tally.written) if (w.hour >= since && w.at > readAt) sum += w.cost;
  return sum;
}

function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const expired = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
  });
  return Promise.race([promise, expired]).finally(() => clearTimeout(timer));
}
