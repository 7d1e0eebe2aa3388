import { SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import type { ExecutionEvents } from "../core/events.ts";

/**
 * OpenTelemetry spans for upstream attempts. With `OTEL_DENO=true`, Deno exports them with its
 * own spans for the inbound request (parent) and the outgoing fetch (child); without it the API
 * is a no-op and this costs next to nothing.
 */
export function tracingEvents(): ExecutionEvents {
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
