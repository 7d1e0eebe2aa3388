import type { Engine } from "../core/engine.ts";
import type { ExecutionEvents } from "../core/events.ts";
import type { Usage } from "../core/usage.ts";
import type { UsageWriterStats } from "../store/writer.ts";
import { Registry } from "./prometheus.ts";

/** What became of the Responses API responses the gateway was given to keep. */
type StoredOutcome = "saved" | "failed" | "too_large" | "purged";
const STORED_OUTCOMES: readonly StoredOutcome[] = ["saved", "failed", "too_large", "purged"];

/** Circuit states as gauge values. */
const CIRCUIT_VALUE = { closed: 0, half_open: 1, open: 2 } as const;

/** A finished request as the metrics count it: plain facts, told by the transport layer. */
export interface RequestRecord {
  /** A path of the route table, or "other": the teller keeps the label bounded. */
  route: string;
  status: number;
  /** From arrival to the end of the response body (streams: to their end). */
  seconds: number;
  /** The provider that served it, if one did. */
  provider: string | undefined;
  /** The model at that provider. */
  model: string | undefined;
  /** A proxied answer's facts, once its body has been sent. */
  answer?: { stream: boolean; ttfb_ms: number; usage: Usage | null; cost_usd: number | null };
}

/** The gateway's metrics, and the hooks that feed them. */
export interface GatewayMetrics {
  registry: Registry;
  /** A request arrived (in-flight gauge). */
  requestStarted(): void;
  /**
   * A request's response is done: requests by route/provider/model/status, durations, and for
   * proxied answers tokens, cost and time to first token.
   */
  requestEnded(record: RequestRecord): void;
  /** Executor observers: upstream attempts, retries, fallbacks. */
  events: ExecutionEvents;
  /** Records the outcome of a configuration reload. */
  reload(result: "success" | "rejected"): void;
  /** Counts a client connection closed or refused by the gateway, or a failed accept. */
  connection(event: string): void;
  /** Where the number of open client connections is read from (set once the server listens). */
  openConnections: () => number;
  /** Where the usage writer's counts are read from; null without a store. */
  usageWriter: () => UsageWriterStats | null;
  /** Where the stored responses' counts are read from; null without a store. */
  storedResponses: () => Record<StoredOutcome, number> | null;
}

/**
 * Builds the metrics. Label values are bounded: providers come from the config (others are
 * counted as "none"), routes from the route table, and a model not in the model list is counted
 * as "other", so clients sending random model names cannot create unbounded series.
 */
export function createGatewayMetrics(
  engine: () => Engine,
  options: { version: string },
): GatewayMetrics {
  const registry = new Registry();
  const info = registry.gauge("llm_gateway_info", "Gateway build information.", ["version"]);
  info.set({ version: options.version }, 1);
  const requests = registry.counter(
    "llm_gateway_requests_total",
    "HTTP requests by route, serving provider and model, and status.",
    ["route", "provider", "model", "status"],
  );
  const duration = registry.histogram(
    "llm_gateway_request_duration_seconds",
    "Time from request to the end of the response body (streams: to their end).",
    ["route", "provider"],
  );
  const inflight = registry.gauge("llm_gateway_inflight_requests", "Requests being served.");
  const openStreams = registry.gauge("llm_gateway_open_streams", "Streams being relayed.");
  const upstream = registry.histogram(
    "llm_gateway_upstream_duration_seconds",
    "Duration of one upstream attempt (streams: until the first chunk).",
    ["provider", "outcome"],
  );
  const attempts = registry.counter(
    "llm_gateway_upstream_attempts_total",
    "Upstream attempts by provider and outcome.",
    ["provider", "outcome"],
  );
  const retries = registry.counter(
    "llm_gateway_retries_total",
    "Retries of the same provider after a retryable failure.",
    ["provider"],
  );
  const fallbacks = registry.counter(
    "llm_gateway_fallbacks_total",
    "Moves from one provider to the next in a plan.",
    ["from", "to"],
  );
  const ttft = registry.histogram(
    "llm_gateway_time_to_first_token_seconds",
    "For streams: time from request to the first chunk sent to the client.",
    ["provider", "model"],
  );
  const tokens = registry.counter(
    "llm_gateway_tokens_total",
    "Tokens reported by providers, by kind (prompt, completion).",
    ["provider", "model", "kind"],
  );
  const cost = registry.counter(
    "llm_gateway_cost_usd_total",
    "Cost in USD of the answers whose model has a price (see docs/configuration.md).",
    ["provider", "model"],
  );
  const circuit = registry.gauge(
    "llm_gateway_circuit_state",
    "Circuit breaker state per provider: 0 closed, 1 half-open, 2 open.",
    ["provider"],
  );
  const reloads = registry.counter(
    "llm_gateway_config_reloads_total",
    "Configuration reloads by result.",
    ["result"],
  );

  const connections = registry.gauge(
    "llm_gateway_open_connections",
    "Client connections open (see server.max_connections).",
  );
  const connectionEvents = registry.counter(
    "llm_gateway_connection_events_total",
    "Client connections the gateway closed (header_timeout, idle_timeout, evicted) or refused, " +
      "and failed accepts (accept_failed).",
    ["event"],
  );

  const usageWritten = registry.counter(
    "llm_gateway_usage_records_written_total",
    "Usage records written to the store.",
  );
  const usageDropped = registry.counter(
    "llm_gateway_usage_records_dropped_total",
    "Usage records dropped: the queue was full while the store was down, or the gateway stopped.",
  );
  const usagePending = registry.gauge(
    "llm_gateway_usage_records_pending",
    "Usage records queued or being written.",
  );
  /** The writer's counts at the last scrape: the counters grow by the difference. */
  let usageSeen = { written: 0, dropped: 0 };
  const storedResponses = registry.counter(
    "llm_gateway_stored_responses_total",
    "Responses API responses the gateway kept (saved), lost (failed: the store did not take " +
      "them), did not keep for their size (too_large), and deleted when expired (purged).",
    ["outcome"],
  );
  let storedSeen: Record<StoredOutcome, number> = { saved: 0, failed: 0, too_large: 0, purged: 0 };

  const metrics: GatewayMetrics = {
    registry,
    requestStarted: () => inflight.inc(),
    requestEnded(record) {
      inflight.dec();
      count(record);
    },
    events: {
      attempt(info) {
        const started = performance.now();
        return (result) => {
          const p = provider(info.provider);
          attempts.inc({ provider: p, outcome: result.outcome });
          upstream.observe(
            { provider: p, outcome: result.outcome },
            (performance.now() - started) / 1000,
          );
        };
      },
      retry: (name) => retries.inc({ provider: provider(name) }),
      fallback(from, to) {
        fallbacks.inc({
          from: provider(from.slice(0, from.indexOf("/"))),
          to: provider(to.slice(0, to.indexOf("/"))),
        });
      },
    },
    reload: (result) => reloads.inc({ result }),
    connection: (event) => connectionEvents.inc({ event }),
    openConnections: () => 0,
    usageWriter: () => null,
    storedResponses: () => null,
  };

  registry.beforeCollect(() => {
    const current = engine();
    connections.set({}, metrics.openConnections());
    openStreams.set({}, current.executor.activeStreams);
    const usage = metrics.usageWriter();
    if (usage !== null) {
      usageWritten.inc({}, Math.max(0, usage.written - usageSeen.written));
      usageDropped.inc({}, Math.max(0, usage.dropped - usageSeen.dropped));
      usagePending.set({}, usage.pending);
      usageSeen = { written: usage.written, dropped: usage.dropped };
    }
    const stored = metrics.storedResponses();
    if (stored !== null) {
      for (const outcome of STORED_OUTCOMES) {
        storedResponses.inc({ outcome }, Math.max(0, stored[outcome] - storedSeen[outcome]));
      }
      storedSeen = { ...stored };
    }
    circuit.reset();
    for (const name of current.providers.keys()) {
      circuit.set({ provider: name }, CIRCUIT_VALUE[current.executor.breaker(name).state]);
    }
  });

  function provider(name: string | undefined): string {
    return name !== undefined && engine().providers.has(name) ? name : "none";
  }

  function model(providerName: string, name: string | undefined): string {
    if (name === undefined) return "none";
    return engine().catalog.get(`${providerName}/${name}`) !== undefined ? name : "other";
  }

  function count(record: RequestRecord): void {
    const { route, answer } = record;
    const p = provider(record.provider);
    const m = model(p, record.model);
    requests.inc({ route, provider: p, model: m, status: String(record.status) });
    duration.observe({ route, provider: p }, record.seconds);
    if (answer === undefined) return;
    if (answer.stream) ttft.observe({ provider: p, model: m }, answer.ttfb_ms / 1000);
    if (answer.usage !== null) {
      tokens.inc({ provider: p, model: m, kind: "prompt" }, answer.usage.prompt_tokens);
      tokens.inc({ provider: p, model: m, kind: "completion" }, answer.usage.completion_tokens);
    }
    if (answer.cost_usd !== null) cost.inc({ provider: p, model: m }, answer.cost_usd);
  }

  return metrics;
}
