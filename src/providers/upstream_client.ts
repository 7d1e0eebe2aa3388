import { Http1Client, type UpstreamClient } from "./http1/client.ts";

export type { UpstreamClient, UpstreamInit, UpstreamResponse } from "./http1/client.ts";
export { headerOf } from "./http1/client.ts";

const PROXY_VARIABLES = [
  "HTTPS_PROXY",
  "https_proxy",
  "HTTP_PROXY",
  "http_proxy",
  "ALL_PROXY",
  "all_proxy",
];

/**
 * One provider's upstream client: its own keep-alive pool, so one slow provider cannot starve
 * another. The gateway's HTTP/1.1 client serves direct connections. `fetch` carries the calls
 * where a proxy is configured in the environment (it honours those variables and NO_PROXY) and
 * where Deno's OpenTelemetry is on (it records each call as a span and sends `traceparent`).
 */
export function createUpstreamClient(): UpstreamClient {
  return needsFetch() ? fetchClient() : new Http1Client();
}

function fetchClient(): UpstreamClient {
  const client = Deno.createHttpClient({});
  return {
    request: (url, { requestId, ...init }) =>
      fetch(url, {
        ...init,
        headers: requestId === undefined
          ? init.headers
          : { ...init.headers, "x-request-id": requestId },
        client,
      }),
    close: () => client.close(),
  };
}

function needsFetch(): boolean {
  try {
    const otel = Deno.env.get("OTEL_DENO")?.toLowerCase();
    if (otel === "true" || otel === "1") return true;
    return PROXY_VARIABLES.some((name) => (Deno.env.get(name) ?? "") !== "");
  } catch {
    // Without env access, fetch could read neither the proxy nor the OpenTelemetry settings.
    return false;
  }
}
