/**
 * Redis rate-limit store: every gateway instance pointed at the same Redis enforces one shared
 * limit. Each check is one Lua script (one round trip, atomic); see redis_scripts.ts.
 */
import { Redis } from "ioredis";
import type { LimitRule } from "../config/types.ts";
import { type LimitDecision, RateLimitBackendError, type RateLimiter } from "./limiter.ts";
import { ADD_TOKENS_SCRIPT, CHECK_SCRIPT } from "./redis_scripts.ts";
import { windowPosition } from "./sliding_window.ts";

/** Options for `createRedisLimiter`. */
export interface RedisLimiterOptions {
  /** `host:port`. */
  address: string;
  password: string | null;
  db: number;
  /** Prepended to every key (default `llmgw:rl:`). */
  prefix?: string;
  /**
   * Clock in epoch milliseconds (default `Date.now`). Windows are keyed by
   * `floor(now / window_ms)` from the gateway's clock rather than Redis's `TIME`, so tests can
   * inject a clock; the price is that instances sharing a Redis must keep their clocks in step
   * (run NTP): skew of a few hundred ms only shifts which window a request lands in near a boundary.
   */
  now?: () => number;
  /** Called with connection errors, e.g. to log them; ioredis keeps reconnecting on its own. */
  onError?: (error: Error) => void;
}

/** Bounds how long a call can wait on a dead or unreachable Redis before it is reported. */
const CONNECT_TIMEOUT_MS = 1000;
const COMMAND_TIMEOUT_MS = 1000;
const RECONNECT_MAX_DELAY_MS = 2000;
/** How long a closing socket gets to shut down gracefully before it is destroyed. */
const DISCONNECT_TIMEOUT_MS = 100;

/** The scripts `defineCommand` adds to the client, which ioredis's types cannot know about. */
interface ScriptCommands {
  llmgwRateCheck(...args: (string | number)[]): Promise<unknown>;
  llmgwAddTokens(...args: (string | number)[]): Promise<unknown>;
}

/** Creates a limiter on Redis; it connects on first use and fails fast while Redis is away. */
export function createRedisLimiter(options: RedisLimiterOptions): RateLimiter {
  const { host, port } = parseAddress(options.address);
  const prefix = options.prefix ?? "llmgw:rl:";
  const now = options.now ?? Date.now;
  const client = new Redis({
    host,
    port,
    password: options.password ?? undefined,
    db: options.db,
    lazyConnect: true,
    connectTimeout: CONNECT_TIMEOUT_MS,
    commandTimeout: COMMAND_TIMEOUT_MS,
    // Calls must not pile up while Redis is away: no offline queue, at most one retry of an
    // in-flight command across a reconnect. The middleware then applies `on_backend_error`.
    enableOfflineQueue: false,
    maxRetriesPerRequest: 1,
    retryStrategy: (attempt: number) => Math.min(100 * 2 ** (attempt - 1), RECONNECT_MAX_DELAY_MS),
    disconnectTimeout: DISCONNECT_TIMEOUT_MS,
  });
  // Without a listener ioredis prints every reconnect failure to the console; the failures that
  // matter already reach callers as rejected calls.
  client.on("error", (error: Error) => options.onError?.(error));
  client.defineCommand("llmgwRateCheck", { numberOfKeys: 2, lua: CHECK_SCRIPT });
  client.defineCommand("llmgwAddTokens", { numberOfKeys: 1, lua: ADD_TOKENS_SCRIPT });
  const scripts = client as unknown as ScriptCommands;

  let connecting: Promise<void> | null = null;
  let closed = false;

  const call = async <T>(run: () => Promise<T>): Promise<T> => {
    try {
      if (closed) throw new Error("limiter is closed");
      // With the offline queue off, a command sent before the first connect would fail at once;
      // so the first callers wait for the (lazy) connect, which connectTimeout bounds.
      if (client.status === "wait") connecting = client.connect().finally(() => connecting = null);
      if (connecting !== null) await connecting;
      return await run();
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      throw new RateLimitBackendError(`redis at ${options.address}: ${reason}`, { cause: error });
    }
  };

  // Both windows share a hash tag, so the script's two keys land in the same Redis Cluster slot.
  // The rule's window is part of the key so that changing it does not mix old and new counts.
  const windowKey = (key: string, rule: LimitRule, index: number): string =>
    `${prefix}{${rule.window_ms}:${key}}:${index}`;

  return {
    check(key: string, rule: LimitRule): Promise<LimitDecision> {
      const { index, elapsed_ms } = windowPosition(now(), rule.window_ms);
      return call(async () => {
        const reply = await scripts.llmgwRateCheck(
          windowKey(key, rule, index),
          windowKey(key, rule, index - 1),
          rule.window_ms,
          elapsed_ms,
          rule.requests,
          rule.tokens ?? -1,
          2 * rule.window_ms,
        );
        return toDecision(reply, rule);
      });
    },
    async addTokens(key: string, rule: LimitRule, tokens: number): Promise<void> {
      // Without a token budget nobody reads the count: save the round trip.
      if (rule.tokens === null || !(tokens > 0)) return;
      const { index } = windowPosition(now(), rule.window_ms);
      await call(() =>
        scripts.llmgwAddTokens(
          windowKey(key, rule, index),
          Math.round(tokens),
          2 * rule.window_ms,
        )
      );
    },
    async close(): Promise<void> {
      if (closed) return;
      closed = true;
      await connecting?.catch(() => {});
      if (client.status === "ready") {
        // QUIT lets Redis finish replies still in flight; disconnect below is the fallback.
        await client.quit().catch(() => {});
      }
      if (client.status === "end") return;
      if (client.status === "reconnecting") {
        // The socket is already gone. disconnect() cancels the pending reconnect but, in this
        // state, never emits "end" and leaves its socket-destroy timer (a no-op on a closed
        // socket) running for disconnectTimeout (ioredis issue #1247): outwait that timer so
        // nothing of ours outlives close().
        client.disconnect();
        await new Promise((resolve) => setTimeout(resolve, DISCONNECT_TIMEOUT_MS + 10));
        return;
      }
      const ended = new Promise((resolve) => client.once("end", resolve));
      client.disconnect();
      await ended;
    },
  };
}

/** Splits `host:port` (`[v6]:port` too). */
function parseAddress(address: string): { host: string; port: number } {
  const colon = address.lastIndexOf(":");
  const port = Number(address.slice(colon + 1));
  let host = address.slice(0, colon);
  if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
  if (colon <= 0 || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new Error(`ratelimit.redis_address: expected "host:port", got "${address}"`);
  }
  return { host, port };
}

/** Validates the check script's `{exceeded, remaining, reset_ms}` reply. */
function toDecision(reply: unknown, rule: LimitRule): LimitDecision {
  if (
    !Array.isArray(reply) || reply.length !== 3 || !reply.every((n) => typeof n === "number")
  ) {
    throw new Error(`unexpected reply from the rate-limit script: ${JSON.stringify(reply)}`);
  }
  const [exceeded, remaining, reset_ms] = reply as [number, number, number];
  const base = { limit: rule.requests, remaining, reset_ms };
  if (exceeded === 0) return { allowed: true, ...base };
  return { allowed: false, ...base, exceeded: exceeded === 1 ? "requests" : "tokens" };
}
