import type { Engine } from "../../core/engine.ts";
import type { Handler } from "../context.ts";

/** What `/v1/info` reports beyond the engine's own state. */
export interface InfoFacts {
  version: string;
  /** Unix ms when the process started. */
  startedAt: number;
  /** 1 for the configuration loaded at start, +1 per successful reload. */
  generation: number;
}

/** `GET /v1/info`: status, version, config generation and per-provider health. */
export function infoHandler(engine: Engine, facts: InfoFacts): Handler {
  return function info(): Response {
    const providers = engine.config.providers.map((p) => {
      if (!p.enabled) return { name: p.name, type: p.type, enabled: false };
      const breaker = engine.executor.breaker(p.name);
      const catalog = engine.catalog.status(p.name);
      return {
        name: p.name,
        type: p.type,
        enabled: true,
        circuit: breaker.state,
        consecutive_failures: breaker.consecutiveFailures,
        models: catalog?.models ?? 0,
        models_refreshed_at: catalog?.last_refresh
          ? new Date(catalog.last_refresh).toISOString()
          : null,
        models_error: catalog?.last_error ?? null,
      };
    });
    return Response.json({
      status: "ok",
      version: facts.version,
      uptime_seconds: Math.floor((Date.now() - facts.startedAt) / 1000),
      config_generation: facts.generation,
      active_streams: engine.executor.activeStreams,
      providers,
      strategies: engine.config.strategies.map((s) => s.name),
    });
  };
}
