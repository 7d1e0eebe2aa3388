/** Start-up time: from spawning the process to its first served chat completion. */
import { baselineArgv, gatewayArgv, ROOT, type Server, untilServing } from "./contenders.ts";
import { freePort, spawn } from "./procs.ts";
import { heading, ms, table, type TargetCheck } from "./report.ts";
import { median, round } from "./stats.ts";

/** Start-up times, ms. */
export interface StartupResult {
  /** Discarded starts per contender, made first so Deno's module and code caches are warm. */
  warmup_starts: number;
  gateway_ms: number[];
  baseline_ms: number[];
  gateway_median_ms: number | null;
  baseline_median_ms: number | null;
}

/** Target: the gateway serves its first request within this long of being spawned. */
export const STARTUP_TARGET_MS = 300;

async function startOnce(kind: "gateway" | "baseline", config: string, upstream: string) {
  const port = freePort();
  const argv = kind === "gateway" ? gatewayArgv(config, port) : baselineArgv(port, upstream);
  const since = performance.now();
  // Spawned directly (no shell in between) with stdout to /dev/null: the log lines are still
  // built and written.
  // The gateway runs in its config's folder: its default store goes there, not into the checkout.
  const cwd = kind === "gateway" ? config.slice(0, config.lastIndexOf("/")) : ROOT;
  const proc = spawn(`${kind}-start`, argv, { cwd, output: "null" });
  const server: Server = { proc, port, url: `http://127.0.0.1:${port}`, output: "/dev/null" };
  try {
    return await untilServing(server, since, `${kind} start-up`);
  } finally {
    await proc.stop();
  }
}

/** Starts each contender `1 + starts` times, alternating, and keeps all but the first. */
export async function measureStartup(
  config: string,
  upstream: string,
  starts: number,
): Promise<StartupResult> {
  await startOnce("gateway", config, upstream);
  await startOnce("baseline", config, upstream);
  const gateway: number[] = [];
  const baseline: number[] = [];
  for (let i = 0; i < starts; i++) {
    gateway.push(await startOnce("gateway", config, upstream));
    baseline.push(await startOnce("baseline", config, upstream));
  }
  return {
    warmup_starts: 1,
    gateway_ms: gateway.map((v) => round(v, 1) ?? NaN),
    baseline_ms: baseline.map((v) => round(v, 1) ?? NaN),
    gateway_median_ms: round(median(gateway), 1),
    baseline_median_ms: round(median(baseline), 1),
  };
}

/** The start-up section of the report. */
export function renderStartup(r: StartupResult): { text: string; checks: TargetCheck[] } {
  const row = (name: string, values: number[], med: number | null) => [
    name,
    ms(med),
    ms(Math.min(...values)),
    ms(Math.max(...values)),
    values.map((v) => v.toFixed(0)).join(", "),
  ];
  const check: TargetCheck = {
    section: "start-up",
    target: `gateway start-up to first served request < ${STARTUP_TARGET_MS} ms (median)`,
    measured: ms(r.gateway_median_ms),
    pass: r.gateway_median_ms !== null && r.gateway_median_ms < STARTUP_TARGET_MS,
  };
  const text = [
    heading(
      `Start-up: spawn -> first served POST /v1/chat/completions (median of ${r.gateway_ms.length}, ` +
        `after ${r.warmup_starts} discarded warm-up start each; polled every 5 ms)`,
    ),
    table(["contender", "median", "min", "max", "starts (ms)"], [
      row("baseline", r.baseline_ms, r.baseline_median_ms),
      row("gateway", r.gateway_ms, r.gateway_median_ms),
    ]),
    "note: `deno run` transpiles and caches modules on a first start; the discarded warm-up start",
    "      fills that cache, as it is filled for a gateway restarted in production.",
  ].join("\n");
  return { text, checks: [check] };
}
