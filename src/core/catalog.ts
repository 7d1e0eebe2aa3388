import type { ModelsConfig } from "../config/types.ts";
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
  /** Every model, prefixed `provider/`, plus static models and virtual strategies. */
  list(): readonly CatalogModel[];
  /** One model by its full id. */
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

/** Builds the catalog for the enabled providers and virtual model names. */
export function createCatalog(
  providers: readonly Provider[],
  virtualModels: readonly string[],
  config: ModelsConfig,
): Catalog {
  const started = Math.floor(Date.now() / 1000);
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
    for (const name of virtualModels) {
      out.set(name, { id: name, object: "model", created: started, owned_by: "gateway" });
    }
    merged = [...out.values()];
    byId = out;
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
    get: (id) => byId.get(id),
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
