/**
 * The admin API: virtual keys (create, list, change, revoke) and usage summaries and series, on
 * the store; the live stats and the last requests, from memory (`admin_live.ts`). Its callers
 * present a key from `auth.admin_keys` (or a token in `auth.admin_groups`); it is outside the
 * gateway's authentication and rate limits, and its requests are not accounted as usage.
 */

import type { Caller } from "../../auth/caller.ts";
import { digestsEqual, loadKeyHasher } from "../../auth/key_hash.ts";
import type { AuthConfig } from "../../config/types.ts";
import { GatewayError } from "../../core/errors.ts";
import type { JsonObject } from "../../core/json.ts";
import { credentialOf } from "../../middleware/auth.ts";
import type { Logger } from "../../observability/logger.ts";
import { StoreConflictError, type VirtualKey } from "../../store/store.ts";
import { readJsonBody } from "../body.ts";
import type { Context, Handler } from "../context.ts";
import { REQUEST_ID_HEADER } from "../entry.ts";
import type { StoreService } from "../store_service.ts";
import {
  keyView,
  parseCreateKey,
  parsePatchKey,
  parseUsageQuery,
  parseUsageSeriesQuery,
} from "./admin_input.ts";
import { type LiveDeps, requestsView, statsView } from "./admin_live.ts";

/** Prefix of the keys the admin API issues, so a leaked one is recognisable (secret scanners). */
export const VIRTUAL_KEY_PREFIX = "gwk_";
/** Largest admin request body. */
const MAX_BODY_BYTES = 64 * 1024;
const MAX_BODY_DEPTH = 16;

/** What the admin API needs. */
export interface AdminDeps {
  /** `auth.admin_keys` (who may call), and `auth.keys` (names a virtual key may not take). */
  auth: AuthConfig;
  /** Identifies a non-admin credential, to tell "not an admin" (403) from "not a key" (401). */
  identify: (credential: string) => Promise<Caller>;
  /** Null when the gateway runs without a store: every call that reads it is a 503. */
  store: StoreService | null;
  /** The live stats and the generation they are read with. */
  live: LiveDeps;
  logger: Logger;
  /** Epoch milliseconds (default `Date.now`). */
  now?: () => number;
  /**
   * Set when auth is off entirely (no `auth.enabled`, no admin keys or groups), for the
   * dashboard: reads (GET) are answered without credentials to the clients it accepts; every
   * other call is refused, since keys can be changed only with an admin key.
   */
  openReads?: (ctx: Context) => boolean;
}

/** The admin API's handlers, each checking the caller's admin key first. */
export interface AdminHandlers {
  listKeys: Handler;
  createKey: Handler;
  getKey: Handler;
  updateKey: Handler;
  revokeKey: Handler;
  usage: Handler;
  usageSeries: Handler;
  stats: Handler;
  requests: Handler;
}

/**
 * Builds the admin handlers; `auth.admin_keys` or `auth.admin_groups` must not be empty, unless
 * `openReads` is set.
 */
export function adminHandlers(deps: AdminDeps): AdminHandlers {
  const now = deps.now ?? Date.now;
  const authorize = deps.openReads === undefined ? adminCheck(deps) : openCheck(deps.openReads);
  const configKeyNames = new Set(deps.auth.keys.map((k) => k.name));

  /** Wraps a handler: the admin check, then the store check, then the handler. */
  const admin = (fn: (ctx: Context, service: StoreService) => Promise<Response>): Handler =>
    async function adminHandler(ctx: Context): Promise<Response> {
      await authorize(ctx);
      const service = deps.store;
      if (service === null) {
        throw new GatewayError(
          "store_unavailable",
          "the admin API needs a store, and this gateway runs without one: see its start-up log " +
            "and storage: in its configuration",
        );
      }
      return await fn(ctx, service);
    };

  /** Wraps a handler that needs no store: the admin check, then the handler. */
  const live = (fn: (ctx: Context) => object): Handler =>
    async function liveHandler(ctx: Context): Promise<Response> {
      await authorize(ctx);
      return json(ctx, 200, fn(ctx));
    };

  /** Runs a store call; a store that fails is a 503 (logged), a name taken a 409. */
  async function stored<T>(call: () => Promise<T>): Promise<T> {
    try {
      return await call();
    } catch (error) {
      if (error instanceof StoreConflictError) {
        throw new GatewayError(
          "key_name_taken",
          error.field === "name" ? "name: a key with this name exists" : error.message,
          { param: error.field === "name" ? "name" : null },
        );
      }
      deps.logger.error("admin API: store call failed", {
        "error.message": error instanceof Error ? error.message : String(error),
      });
      throw new GatewayError("store_unavailable", "the store did not answer; try again");
    }
  }

  function checkName(name: string | undefined): void {
    if (name !== undefined && configKeyNames.has(name)) {
      throw new GatewayError(
        "key_name_taken",
        "name: a key in the configuration (auth.keys) has this name; usage is reported by name",
        { param: "name" },
      );
    }
  }

  async function findKey(service: StoreService, id: string): Promise<VirtualKey> {
    const key = (await stored(() => service.store.listKeys())).find((k) => k.id === id);
    if (key === undefined) throw noKey(id);
    return key;
  }

  return {
    listKeys: admin(async (ctx, service) => {
      const keys = await stored(() => service.store.listKeys());
      return json(ctx, 200, { data: keys.map((key) => keyView(key, now())) });
    }),

    createKey: admin(async (ctx, service) => {
      const input = parseCreateKey(await readBody(ctx));
      checkName(input.name);
      const secret = newSecret();
      const hash = (await loadKeyHasher())(secret).toHex();
      const key = await stored(() => service.store.createKey({ ...input, key_hash: hash }));
      // This instance accepts the key at once; others within their next poll.
      await service.keys.refresh();
      deps.logger.info("admin API: key created", { "gateway.key.id": key.id });
      return json(ctx, 201, { ...keyView(key, now()), key: secret });
    }),

    getKey: admin(async (ctx, service) => {
      return json(ctx, 200, keyView(await findKey(service, ctx.params.id!), now()));
    }),

    updateKey: admin(async (ctx, service) => {
      const patch = parsePatchKey(await readBody(ctx));
      checkName(patch.name);
      const key = await stored(() => service.store.updateKey(ctx.params.id!, patch));
      if (key === null) throw noKey(ctx.params.id!);
      await service.keys.refresh();
      deps.logger.info("admin API: key changed", { "gateway.key.id": key.id });
      return json(ctx, 200, keyView(key, now()));
    }),

    revokeKey: admin(async (ctx, service) => {
      const key = await stored(() => service.store.revokeKey(ctx.params.id!));
      if (key === null) throw noKey(ctx.params.id!);
      await service.keys.refresh();
      deps.logger.info("admin API: key revoked", { "gateway.key.id": key.id });
      return json(ctx, 200, keyView(key, now()));
    }),

    usage: admin(async (ctx, service) => {
      const query = parseUsageQuery(new URL(ctx.request.url).searchParams, now());
      const rows = await stored(() => service.store.usageSummary(query));
      return json(ctx, 200, {
        group_by: query.groupBy,
        from: new Date(query.from).toISOString(),
        to: new Date(query.to).toISOString(),
        data: rows.map((row) => ({
          [query.groupBy]: row.value,
          requests: row.requests,
          input_tokens: row.input_tokens,
          output_tokens: row.output_tokens,
          cost_usd: roundUsd(row.cost_usd),
        })),
      });
    }),

    usageSeries: admin(async (ctx, service) => {
      const query = parseUsageSeriesQuery(new URL(ctx.request.url).searchParams, now());
      const rows = await stored(() => service.store.usageSeries(query));
      return json(ctx, 200, {
        group_by: query.groupBy,
        bucket: query.bucket,
        from: new Date(query.from).toISOString(),
        to: new Date(query.to).toISOString(),
        data: rows.map((row) => ({
          t: row.t,
          [query.groupBy]: row.value,
          requests: row.requests,
          input_tokens: row.input_tokens,
          output_tokens: row.output_tokens,
          cost_usd: roundUsd(row.cost_usd),
        })),
      });
    }),

    stats: live((ctx) => statsView(deps.live, new URL(ctx.request.url).searchParams)),

    requests: live((ctx) => requestsView(deps.live.stats, new URL(ctx.request.url).searchParams)),
  };
}

/**
 * The admin check: a key from `auth.admin_keys` passes; any other valid credential (a gateway
 * key, a token) is refused with 403, anything else with 401.
 */
function adminCheck(deps: AdminDeps): (ctx: Context) => Promise<void> {
  const admins = deps.auth.admin_keys.map((k) => ({
    name: k.name,
    hash: Uint8Array.fromHex(k.sha256),
  }));
  const adminGroups = new Set(deps.auth.admin_groups);
  const hasher = loadKeyHasher();
  return async function authorize(ctx: Context): Promise<void> {
    const credential = credentialOf(ctx.request.headers);
    if (credential === null) {
      throw new GatewayError(
        "invalid_api_key",
        "missing credentials: the admin API takes Authorization: Bearer <admin key>",
      );
    }
    const digest = (await hasher)(credential);
    let admin: string | undefined;
    // Every admin hash is compared, in constant time, as for gateway keys.
    for (const k of admins) {
      if (digestsEqual(k.hash, digest) && admin === undefined) admin = k.name;
    }
    if (admin !== undefined) {
      ctx.state["user.name"] = admin;
      return;
    }
    const caller = await deps.identify(credential).catch(() => null);
    if (caller !== null) {
      // A token (not a key, whose groups an admin may have chosen) in an admin group.
      if (caller.kind === "jwt" && caller.groups.some((g) => adminGroups.has(g))) {
        ctx.state["user.name"] = caller.name;
        return;
      }
      throw new GatewayError(
        "forbidden",
        `caller "${caller.name}" may not use the admin API: it takes a key from auth.admin_keys` +
          (adminGroups.size > 0 ? " or a token in one of auth.admin_groups" : ""),
      );
    }
    throw new GatewayError("invalid_api_key", "invalid admin key");
  };
}

/** The check with auth off entirely: reads from the dashboard's clients, nothing else. */
function openCheck(accepts: (ctx: Context) => boolean): (ctx: Context) => Promise<void> {
  return function authorize(ctx: Context): Promise<void> {
    const read = ctx.request.method === "GET" || ctx.request.method === "HEAD";
    if (!read) {
      return Promise.reject(
        new GatewayError(
          "forbidden",
          "auth is off and no admin key is set: the admin API only answers reads; creating or " +
            "changing keys takes a key from auth.admin_keys",
        ),
      );
    }
    if (!accepts(ctx)) {
      return Promise.reject(
        new GatewayError(
          "forbidden",
          "auth is off and no admin key is set: the admin API answers clients on this host only " +
            "(ui.public: true opens it to others, auth.admin_keys to holders of an admin key)",
        ),
      );
    }
    return Promise.resolve();
  };
}

/** A new key: the prefix and 256 random bits, base64url. */
function newSecret(): string {
  return VIRTUAL_KEY_PREFIX + crypto.getRandomValues(new Uint8Array(32)).toBase64({
    alphabet: "base64url",
    omitPadding: true,
  });
}

function readBody(ctx: Context): Promise<JsonObject> {
  return readJsonBody(ctx.request, MAX_BODY_BYTES, { maxDepth: MAX_BODY_DEPTH });
}

function noKey(id: string): GatewayError {
  return new GatewayError("not_found", `no key with id "${id}"`);
}

/** Sums of floating-point costs, rounded as single costs are: to 1e-10 USD. */
function roundUsd(usd: number): number {
  return Math.round(usd * 1e10) / 1e10;
}

function json(ctx: Context, status: number, body: object): Response {
  ctx.requestIdSent = true;
  return new Response(JSON.stringify(body), {
    status,
    headers: {
      "content-type": "application/json",
      // Answers hold key details, and a new key's secret.
      "cache-control": "no-store",
      [REQUEST_ID_HEADER]: ctx.requestId,
    },
  });
}
