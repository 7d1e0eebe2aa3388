import type { ModelsConfig } from "../config/types.ts";
import type { AliasTable } from "./aliases.ts";
import type { Provider } from "./provider.ts";

/** A model in the unified list, in the OpenAI `model` object shape. */
export interface CatalogModel {
  id: string;
  object: "model";
  created: number;
  owned_by: string;
}

/** Per-provider refresh status, for `/v1/info`. */
export interface CatalogStatus {
  models: number;
  /** Unix ms of the last successful fetch, or null. */
  last_refresh: number | null;
  /** The last fetch's error, or null when it succeeded. */
  last_error: string | null;
}

/** The unified model list: answers from memory, refreshed in the background. */
export interface Catalog {
  /** Every model, prefixed `provider/`, plus static models, virtual strategies and exact aliases. */
  list(): readonly CatalogModel[];
  /** One model by its full id; also a name a wildcard alias matches. */
  get(id: string): CatalogModel | undefined;
  /** Refresh status per provider. */
  status(provider: string): CatalogStatus | undefined;
  /** Fetches every provider's list now (concurrently); resolves when all settled. */
  refresh(): Promise<void>;
  /** Starts the periodic refresh (first one immediately). */
  start(): void;
  /** Stops the periodic refresh and aborts fetches in flight. */
  stop(): void;
}

/** The names the router serves besides `provider/model`. */
export interface RoutedNames {
  /** Strategies with targets. */
  readonly virtualModels: readonly string[];
  readonly aliases: AliasTable;
}

/** Owner of an alias's entry in the model list. */
export const ALIAS_OWNER = "alias";

/** Builds the catalog for the enabled providers, the virtual models and the aliases. */
export function createCatalog(
  providers: readonly Provider[],
  names: RoutedNames,
  config: ModelsConfig,
): Catalog {
  const started = Math.floor(Date.now() / 1000);
  const enabled = new Set(providers.map((p) => p.name));
  const fetched = new Map<string, CatalogModel[]>();
  const statuses = new Map<string, CatalogStatus>();
  for (const p of providers) {
    statuses.set(p.name, { models: 0, last_refresh: null, last_error: null });
  }
  let merged: CatalogModel[] = [];
  let byId = new Map<string, CatalogModel>();
  let interval: ReturnType<typeof setInterval> | undefined;
  let inFlight: AbortController | undefined;

  function rebuild(): void {
    const out = new Map<string, CatalogModel>();
    for (const p of providers) {
      const before = out.size;
      for (const m of fetched.get(p.name) ?? []) out.set(m.id, m);
      for (const s of p.config.models) {
        const id = `${p.name}/${s.name}`;
        if (!out.has(id)) out.set(id, { id, object: "model", created: started, owned_by: p.name });
      }
      // Ids carry the provider prefix, so providers never overwrite each other's entries.
      statuses.get(p.name)!.models = out.size - before;
    }
    for (const name of names.virtualModels) {
      out.set(name, { id: name, object: "model", created: started, owned_by: "gateway" });
    }
    for (const [pattern, target] of names.aliases.exact) {
      // An alias of a provider that is off would only answer 404: it is not offered.
      if (!target.includes("/") || enabled.has(target.slice(0, target.indexOf("/")))) {
        out.set(pattern, aliasEntry(pattern, target, out));
      }
    }
    merged = [...out.values()];
    byId = out;
  }

  /** An alias's entry: its target's creation time when the target is listed. */
  function aliasEntry(
    id: string,
    target: string,
    listed: ReadonlyMap<string, CatalogModel>,
  ): CatalogModel {
    const created = listed.get(target)?.created ?? started;
    return { id, object: "model", created, owned_by: ALIAS_OWNER };
  }

  function get(id: string): CatalogModel | undefined {
    const found = byId.get(id);
    if (found !== undefined) return found;
    // A name only a wildcard alias matches is not listed, but it is served, so it can be looked up.
    const target = names.aliases.resolve(id);
    if (target === undefined) return undefined;
    if (target.includes("/") && !enabled.has(target.slice(0, target.indexOf("/")))) {
      return undefined;
    }
    return aliasEntry(id, target, byId);
  }

  async function refreshOne(p: Provider, signal: AbortSignal): Promise<void> {
    const status = statuses.get(p.name)!;
    try {
      const models = await p.listModels(signal);
      fetched.set(
        p.name,
        models.map((m) => ({
          id: `${p.name}/${m.id}`,
          object: "model" as const,
          created: m.created ?? started,
          owned_by: p.name,
        })),
      );
      status.last_refresh = Date.now();
      status.last_error = null;
    } catch (err) {
      // Keep the last good list: a provider that blips must not vanish from clients' pickers.
      status.last_error = signal.aborted && signal.reason instanceof Error
        ? signal.reason.message
        : err instanceof Error
        ? err.message
        : String(err);
    }
  }

  async function refresh(): Promise<void> {
    inFlight?.abort(new Error("superseded"));
    const controller = new AbortController();
    inFlight = controller;
    const timer = setTimeout(
      () => controller.abort(new Error(`timed out after ${config.fetch_timeout_ms}ms`)),
      config.fetch_timeout_ms,
    );
    try {
      await Promise.all(providers.map((p) => refreshOne(p, controller.signal)));
    } finally {
      clearTimeout(timer);
      if (inFlight === controller) inFlight = undefined;
    }
    rebuild();
  }

  rebuild();
  return {
    list: () => merged,
    get,
    status: (name) => statuses.get(name),
    refresh,
    start() {
      if (interval !== undefined) return;
      refresh();
      interval = setInterval(refresh, config.refresh_interval_ms);
    },
    stop() {
      if (interval !== undefined) clearInterval(interval);
      interval = undefined;
      inFlight?.abort(new Error("stopped"));
    },
  };
}
