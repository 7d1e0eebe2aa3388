// A local OIDC issuer on a real socket: discovery metadata and a swappable JWKS, with hit counters.
import type { JWK } from "jose";

/** A running mock identity provider. */
export interface IssuerServer {
  /** The issuer URL (also the discovery base), e.g. "http://127.0.0.1:41234/realms/test". */
  issuer: string;
  /** Where the JWKS is served; discovery points here. */
  jwksUrl: string;
  /** Keys served by the JWKS endpoint (replace to rotate). */
  keys: JWK[];
  /** When set, both endpoints answer with this HTTP status instead. */
  failStatus: number | null;
  /** Requests to the discovery endpoint so far. */
  discoveryHits: number;
  /** Requests to the JWKS endpoint so far. */
  jwksHits: number;
  /** Stops the server. */
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

/** Starts a mock issuer on 127.0.0.1 with an OS-assigned port, serving `keys`. */
export function startIssuer(keys: JWK[]): IssuerServer {
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen: () => {} },
    (request) => handle(state, request),
  );
  const origin = `http://127.0.0.1:${server.addr.port}`;
  const state: IssuerServer = {
    issuer: `${origin}/realms/test`,
    jwksUrl: `${origin}/realms/test/protocol/openid-connect/certs`,
    keys,
    failStatus: null,
    discoveryHits: 0,
    jwksHits: 0,
    close: () => server.shutdown(),
    [Symbol.asyncDispose]: () => server.shutdown(),
  };
  return state;
}

function handle(state: IssuerServer, request: Request): Response {
  const url = new URL(request.url, state.issuer);
  const href = `${url.origin}${url.pathname}`;
  if (href === `${state.issuer}/.well-known/openid-configuration`) {
    state.discoveryHits++;
    if (state.failStatus !== null) return new Response("unavailable", { status: state.failStatus });
    return Response.json({ issuer: state.issuer, jwks_uri: state.jwksUrl });
  }
  if (href === state.jwksUrl) {
    state.jwksHits++;
    if (state.failStatus !== null) return new Response("unavailable", { status: state.failStatus });
    return Response.json({ keys: state.keys });
  }
  return new Response("not found", { status: 404 });
}
