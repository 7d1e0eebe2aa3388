// Loaded only when Deno's OpenTelemetry is on: the API module costs start-up time otherwise.
const api = otelEnabled() ? await import("@opentelemetry/api") : null;
import { type ExecutionEvents, NO_EVENTS } from "../core/events.ts";

/**
 * OpenTelemetry spans for upstream attempts. With `OTEL_DENO=true`, Deno exports them with its
 * own spans for the inbound request (parent) and the outgoing fetch (child); without it the API
 * is a no-op and this costs next to nothing.
 */
export function tracingEvents(): ExecutionEvents {
  // Without Deno's exporter every span would be a no-op: skip building them per attempt.
  if (api === null) return NO_EVENTS;
  const { SpanKind, SpanStatusCode, trace } = api;
  const tracer = trace.getTracer("llm-gateway");
  return {
    attempt(info) {
      const span = tracer.startSpan(`upstream ${info.provider}`, {
        kind: SpanKind.CLIENT,
        attributes: {
          "gateway.provider": info.provider,
          "gateway.model": info.model,
          "gateway.attempt": info.attempt,
          "gateway.retry": info.retry,
          "gateway.stream": info.stream,
          "gateway.request_id": info.requestId,
        },
      });
      return (result) => {
        span.setAttribute("gateway.outcome", result.outcome);
        if (result.status !== undefined) {
          span.setAttribute("http.response.status_code", result.status);
        }
        if (result.outcome !== "success") {
          span.setStatus({ code: SpanStatusCode.ERROR, message: result.outcome });
        }
        span.end();
      };
    },
    retry: () => {},
    fallback: (from, to) => {
      trace.getActiveSpan()?.addEvent("fallback", { "gateway.from": from, "gateway.to": to });
    },
  };
}

/** Whether Deno's built-in OpenTelemetry is on (`OTEL_DENO=true` or `1`). */
function otelEnabled(): boolean {
  try {
    const value = Deno.env.get("OTEL_DENO")?.toLowerCase();
    return value === "true" || value === "1";
  } catch {
    // No --allow-env: then Deno cannot have been told to export either.
    return false;
  }
}
