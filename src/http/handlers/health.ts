import type { Engine } from "../../core/engine.ts";
import type { Handler } from "../context.ts";

/** `GET /health`: liveness. The process answers, so it is alive. */
export function healthHandler(): Handler {
  return function health(): Response {
    return Response.json({ status: "ok" });
  };
}

/** `GET /ready`: readiness. A valid configuration is loaded; ready once a provider is enabled. */
export function readyHandler(engine: Engine): Handler {
  return function ready(): Response {
    if (engine.providers.size === 0) {
      return Response.json(
        { status: "not_ready", reason: "no provider is enabled" },
        { status: 503 },
      );
    }
    return Response.json({ status: "ready", providers: engine.providers.size });
  };
}
