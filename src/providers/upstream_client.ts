import { Http1Client, type UpstreamClient } from "./http1/client.ts";

export type { UpstreamClient, UpstreamInit, UpstreamResponse } from "./http1/client.ts";

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
 * another. The gateway's HTTP/1.1 client serves direct connections; where a proxy is configured
 * in the environment, `fetch` (which honours those variables and NO_PROXY) carries the requests.
 */
export function createUpstreamClient(): UpstreamClient {
  return proxyConfigured() ? fetchClient() : new Http1Client();
}

function fetchClient(): UpstreamClient {
  const client = Deno.createHttpClient({});
  return {
    request: (url, init) => fetch(url, { ...init, client }),
    close: () => client.close(),
  };
}

function proxyConfigured(): boolean {
  try {
    return PROXY_VARIABLES.some((name) => (Deno.env.get(name) ?? "") !== "");
  } catch {
    // Without env access, fetch could not read the variables either.
    return false;
  }
}
