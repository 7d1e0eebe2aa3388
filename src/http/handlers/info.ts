import type { Engine } from "../../core/engine.ts";
import type { Handler } from "../context.ts";

/** `GET /v1/info`: status, version and per-provider health (circuit, model refresh). */
export function infoHandler(engine: Engine, version: string): Handler {
  const started = Date.now();
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
      version,
      uptime_seconds: Math.floor((Date.now() - started) / 1000),
      active_streams: engine.executor.activeStreams,
      providers,
      strategies: engine.config.strategies.map((s) => s.name),
    });
  };
}
