import type { Engine } from "../core/engine.ts";
import { GatewayError } from "../core/errors.ts";
import type { Context, Handler } from "./context.ts";
import type { Endpoint } from "../core/provider.ts";
import { healthHandler, readyHandler } from "./handlers/health.ts";
import { type InfoFacts, infoHandler } from "./handlers/info.ts";
import { getModelHandler, listModelsHandler } from "./handlers/models.ts";
import { proxyHandler, type ProxyOptions } from "./handlers/proxy.ts";
import { responseRoutes } from "./handlers/responses.ts";
import type { AdminHandlers } from "./handlers/admin.ts";
import { UI_PATH, type UiHandlers } from "./handlers/ui.ts";
import { errorResponse, errorShapeOf } from "./errors.ts";

/** What the route table needs besides the engine. */
export interface RouteDeps {
  info: InfoFacts;
  proxy: ProxyOptions;
  /** `GET /metrics` */
  metrics: Handler;
  /** The admin API; null leaves it out (its paths answer 404). */
  admin: AdminHandlers | null;
  /** The dashboard; null leaves it out (`ui.enabled: false`). */
  ui: UiHandlers | null;
}

/**
 * The admin API's paths start with this. They skip the gateway's authentication and rate limits
 * (the admin handlers check admin keys themselves), even when the admin API is off.
 */
export const ADMIN_PREFIX = "/admin/";

/** One route: method, path (a trailing `*` takes the rest as `params.id`), handler. */
export interface Route {
  method: string;
  path: string;
  handler: Handler;
  /** Served without credentials or rate limits (status, probes, metrics scrapes). */
  open?: boolean;
  /** Logged at debug only: probes and scrapes would drown the access log. */
  quiet?: boolean;
  /** Calls a provider that charges for it: checked against the caller's budgets. */
  spends?: boolean;
  /** A proxied API call: one usage record per request goes to the store. */
  usage?: boolean;
}

/** The gateway's whole API, in one flat table. */
export function routes(engine: Engine, deps: RouteDeps): Route[] {
  const proxy = (endpoint: Endpoint) => proxyHandler(engine, endpoint, deps.proxy);
  const admin = deps.admin;
  const stored = responseRoutes(engine, deps.proxy.responses);
  // An API call leaves a usage record; one a provider charges for is checked against budgets.
  const api = (path: string, endpoint: Endpoint, spends = true): Route => ({
    method: "POST",
    path,
    handler: proxy(endpoint),
    usage: true,
    spends,
  });
  return [
    api("/v1/chat/completions", "chat"),
    api("/v1/completions", "completions"),
    api("/v1/embeddings", "embeddings"),
    api("/v1/messages", "messages"),
    api("/v1/messages/count_tokens", "count_tokens", false),
    api("/v1/responses", "responses"),
    { method: "GET", path: "/v1/responses/*", handler: stored.get },
    { method: "DELETE", path: "/v1/responses/*", handler: stored.delete },
    { method: "GET", path: "/v1/models", handler: listModelsHandler(engine) },
    { method: "GET", path: "/v1/models/*", handler: getModelHandler(engine) },
    { method: "GET", path: "/v1/info", handler: infoHandler(engine, deps.info), open: true },
    { method: "GET", path: "/health", handler: healthHandler(), open: true, quiet: true },
    // Clients probe the base URL before their first call (Claude Code sends `HEAD /`).
    { method: "GET", path: "/", handler: healthHandler(), open: true, quiet: true },
    { method: "GET", path: "/ready", handler: readyHandler(engine), open: true, quiet: true },
    { method: "GET", path: "/metrics", handler: deps.metrics, open: true, quiet: true },
    ...(deps.ui === null ? [] : [
      { method: "GET", path: UI_PATH, handler: deps.ui.page, open: true },
      // Dispatched as /ui (which redirects it there); listed so that it is open as well.
      { method: "GET", path: `${UI_PATH}/`, handler: deps.ui.page, open: true, quiet: true },
      ...[...deps.ui.files].map(([path, handler]) => ({
        method: "GET",
        path,
        handler,
        open: true,
        quiet: true,
      })),
    ]),
    ...(admin === null ? [] : [
      { method: "GET", path: "/admin/keys", handler: admin.listKeys },
      { method: "POST", path: "/admin/keys", handler: admin.createKey },
      { method: "GET", path: "/admin/keys/*", handler: admin.getKey },
      { method: "PATCH", path: "/admin/keys/*", handler: admin.updateKey },
      { method: "DELETE", path: "/admin/keys/*", handler: admin.revokeKey },
      // Reads the dashboard polls every few seconds: logged at debug, as metrics scrapes are.
      { method: "GET", path: "/admin/usage", handler: admin.usage, quiet: true },
      { method: "GET", path: "/admin/usage/series", handler: admin.usageSeries, quiet: true },
      { method: "GET", path: "/admin/stats", handler: admin.stats, quiet: true },
      { method: "GET", path: "/admin/requests", handler: admin.requests, quiet: true },
    ]),
  ];
}

/**
 * The fixed paths (no `*`) of the routes `which` selects, compared with a request's raw path:
 * the open and quiet paths, and the bounded route labels of the metrics.
 */
export function pathsOf(
  table: readonly Route[],
  which: (route: Route) => boolean = () => true,
): ReadonlySet<string> {
  return new Set(table.filter((r) => !r.path.endsWith("*") && which(r)).map((r) => r.path));
}

/** Builds the dispatcher: exact paths by map lookup, then prefix routes; 404 and 405 as JSON. */
export function router(table: readonly Route[]): Handler {
  const exact = new Map<string, Map<string, Handler>>();
  const prefixed: { prefix: string; methods: Map<string, Handler> }[] = [];
  for (const r of table) {
    let methods: Map<string, Handler> | undefined;
    if (r.path.endsWith("*")) {
      const prefix = r.path.slice(0, -1);
      methods = prefixed.find((p) => p.prefix === prefix)?.methods;
      if (methods === undefined) {
        methods = new Map();
        prefixed.push({ prefix, methods });
      }
    } else {
      methods = exact.get(r.path);
      if (methods === undefined) exact.set(r.path, methods = new Map());
    }
    methods.set(r.method, r.handler);
    if (r.method === "GET") methods.set("HEAD", r.handler);
  }

  return function dispatch(ctx: Context) {
    const path = ctx.path.length > 1 && ctx.path.endsWith("/") ? ctx.path.slice(0, -1) : ctx.path;
    let methods = exact.get(path);
    if (methods === undefined) {
      for (const p of prefixed) {
        if (path.startsWith(p.prefix) && path.length > p.prefix.length) {
          ctx.params.id = decodeURIComponent(path.slice(p.prefix.length));
          methods = p.methods;
          break;
        }
      }
    }
    if (methods === undefined) {
      throw new GatewayError("not_found", `no route for ${ctx.request.method} ${ctx.path}`);
    }
    const handler = methods.get(ctx.request.method);
    if (handler === undefined) {
      const allow = [...methods.keys()].join(", ");
      return errorResponse(
        405,
        {
          message: `method ${ctx.request.method} is not allowed on ${path}; allowed: ${allow}`,
          type: "invalid_request_error",
          code: "method_not_allowed",
        },
        { allow },
        errorShapeOf(ctx.path, ctx.request.headers),
      );
    }
    return handler(ctx);
  };
}
