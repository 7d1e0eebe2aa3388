import type { ExecutionEvents } from "../core/events.ts";
import type { Logger } from "./logger.ts";

/**
 * A debug line for each failed upstream attempt, with why it failed, as it happens (the access
 * log says the same once the request is over). Built only when the log level is debug.
 */
export function attemptLogEvents(logger: Logger): ExecutionEvents {
  return {
    attempt(info) {
      return (result) => {
        if (result.outcome === "success") return;
        logger.debug("upstream attempt failed", {
          "gateway.provider": info.provider,
          "gateway.model": info.model,
          "gateway.attempt": info.attempt,
          "gateway.outcome": result.outcome,
          "http.response.status_code": result.status,
          "error.message": result.cause,
          "trace.id": info.requestId,
        });
      };
    },
    retry: () => {},
    fallback: () => {},
  };
}
