import type { Engine } from "../../core/engine.ts";
import type { Context, Handler } from "../context.ts";
import { isLocalClient } from "../local.ts";

/** What `/v1/info` reports beyond the engine's own state. */
export interface InfoFacts {
  version: string;
  /** Unix ms when the process started. */
  startedAt: number;
  /** 1 for the configuration loaded at start, +1 per successful reload. */
  generation: number;
}

/** What a caller who may not see error texts gets instead of one. */
const HIDDEN_ERROR = "the last refresh failed (details for authenticated or local callers)";

/**
 * `GET /v1/info`: status, version, config generation and per-provider health. Error texts (TLS
 * failures, upstream answers) describe the network behind the gateway: they are shown only to
 * authenticated callers and callers on the gateway's own host.
 */
export function infoHandler(engine: Engine, facts: InfoFacts): Handler {
  return function info(ctx: Context): Response {
    const detailed = ctx.caller !== null || isLocalClient(ctx);
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
        models_error: errorText(catalog?.last_error ?? null, detailed, engine),
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

function errorText(error: string | null, detailed: boolean, engine: Engine): string | null {
  if (error === null) return null;
  return detailed ? engine.redact(error) : HIDDEN_ERROR;
}
