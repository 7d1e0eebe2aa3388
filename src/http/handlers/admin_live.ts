/**
 * The admin API's live view, read by the dashboard: `GET /admin/stats` (providers, traffic and
 * the configuration's generation over the last minutes) and `GET /admin/requests` (the last API
 * requests). Both come from the gateway's memory (`LiveStats`), not from the store.
 */

import type { Engine } from "../../core/engine.ts";
import {
  type LiveStats,
  MAX_WINDOW_MINUTES,
  type ProviderStats,
  type TrafficStats,
} from "../../observability/live_stats.ts";
import {
  RECENT_CAPACITY,
  type RecentFilter,
  type RecentRequest,
} from "../../observability/recent_requests.ts";
import { badParam, checkParams } from "./admin_input.ts";

/** How the last configuration reload went. */
export interface LastReload {
  /** Epoch ms. */
  at: number;
  result: "success" | "rejected";
  /** Why a rejected reload was rejected; null for a success. */
  error: string | null;
}

/** What the server tells about the configuration being served. */
export interface GenerationFacts {
  /** 1 for the configuration loaded at start, +1 per successful reload. */
  id: number;
  /** When this generation was loaded, epoch ms. */
  loadedAt: number;
  /** The last reload, null before any; asked each time, since a later one may have failed. */
  lastReload(): LastReload | null;
}

/** What the live view reads. */
export interface LiveDeps {
  stats: LiveStats;
  /** The generation's engine: its providers, their circuits, the open streams. */
  engine: Engine;
  generation: GenerationFacts;
}

/** The body of `GET /admin/stats`. */
export interface StatsBody {
  /** When the stats were read, epoch ms. */
  now: number;
  window_minutes: number;
  generation: { id: number; loaded_at: number; last_reload: LastReload | null };
  providers: ProviderStats[];
  traffic: TrafficStats;
}

/** `minutes` when a stats query gives none. */
const DEFAULT_MINUTES = 15;
/** `limit` when a requests query gives none. */
const DEFAULT_LIMIT = 50;
const WHOLE = /^\d{1,4}$/;
const STATUS = /^(?:[1-5]\d\d|[1-5]xx)$/;

/** The body of `GET /admin/stats?minutes=N` (1 to 60, default 15). */
export function statsView(deps: LiveDeps, search: URLSearchParams): StatsBody {
  checkParams(search, ["minutes"]);
  const minutes = wholeParam(search, "minutes", MAX_WINDOW_MINUTES) ?? DEFAULT_MINUTES;
  const { engine, generation } = deps;
  const providers = engine.config.providers.filter((p) => p.enabled).map((p) => ({
    name: p.name,
    type: p.type,
    circuit: engine.executor.breaker(p.name).state,
  }));
  const snapshot = deps.stats.snapshot(minutes, providers, engine.executor.activeStreams);
  return {
    now: snapshot.now,
    window_minutes: minutes,
    generation: {
      id: generation.id,
      loaded_at: generation.loadedAt,
      last_reload: generation.lastReload(),
    },
    providers: snapshot.providers,
    traffic: snapshot.traffic,
  };
}

/**
 * The body of `GET /admin/requests?limit=N&provider=&model=&status=&caller=`: the last API
 * requests, newest first, `limit` (1 to 1,000, default 50) of those matching every filter given.
 */
export function requestsView(
  stats: LiveStats,
  search: URLSearchParams,
): { data: RecentRequest[] } {
  checkParams(search, ["limit", "provider", "model", "status", "caller"]);
  const limit = wholeParam(search, "limit", RECENT_CAPACITY) ?? DEFAULT_LIMIT;
  const filter: RecentFilter = {};
  for (const param of ["provider", "model", "caller"] as const) {
    const value = search.get(param);
    if (value === null) continue;
    if (value === "") throw badParam(param, "must not be empty");
    filter[param] = value;
  }
  const status = search.get("status");
  if (status !== null) {
    if (!STATUS.test(status)) {
      throw badParam("status", 'expected an HTTP status such as 429, or a class such as "5xx"');
    }
    filter.status = status.endsWith("xx") ? status as RecentFilter["status"] : Number(status);
  }
  return { data: stats.recent.list(filter, limit) };
}

/** A whole number from 1 to `max`, or undefined when the parameter is absent. */
function wholeParam(search: URLSearchParams, param: string, max: number): number | undefined {
  const text = search.get(param);
  if (text === null) return undefined;
  const value = WHOLE.test(text) ? Number(text) : NaN;
  if (!(value >= 1 && value <= max)) {
    throw badParam(param, `expected a whole number from 1 to ${max}`);
  }
  return value;
}
