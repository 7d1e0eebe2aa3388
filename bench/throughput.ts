/** Non-streaming throughput and latency under wrk, rounds in rotating order, medians reported. */
import { BENCH_DIR, type Contender, CONTENDERS } from "./contenders.ts";
import { cpuMs, sampleRss, sleep } from "./procs.ts";
import { deltaMs, heading, int, mb, ms, ratio, table, type TargetCheck } from "./report.ts";
import { max, median, round } from "./stats.ts";
import { runWrk, type WrkResult } from "./wrk.ts";

/** One wrk run of one contender. */
export interface ThroughputRun extends WrkResult {
  contender: Contender;
  round: number;
  /** CPU the contender's own process used per request, µs (null for direct: no process). */
  cpu_us_per_req: number | null;
  /** Highest RSS of the contender's process during the run, MB. */
  rss_max_mb: number | null;
}

/** Medians over the rounds for one contender. */
export interface ThroughputMedian {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  /** Errors summed over the rounds. */
  errors: number;
  cpu_us_per_req: number | null;
  rss_max_mb: number | null;
}

/** The throughput section's data. */
export interface ThroughputResult {
  connections: number;
  duration_s: number;
  rounds: number;
  runs: ThroughputRun[];
  median: Record<Contender, ThroughputMedian>;
  /** Gateway over baseline, from the medians. */
  gateway_vs_baseline: { rps_ratio: number | null; p99_ratio: number | null };
  /** p50 over direct's p50, ms. */
  added_p50_ms: { baseline: number | null; gateway: number | null };
}

/** Targets, as ratios to the baseline in the same run. */
export const RPS_RATIO_TARGET = 0.9;
/** p99 latency may be at most this many times the baseline's. */
export const P99_RATIO_TARGET = 1.2;

/** Where each contender listens and which process serves it (none for direct). */
export interface Targets {
  urls: Record<Contender, string>;
  pids: Partial<Record<Contender, number>>;
}

const SCRIPT = `${BENCH_DIR}post.lua`;

async function oneRun(
  targets: Targets,
  contender: Contender,
  options: { connections: number; durationS: number },
): Promise<Omit<ThroughputRun, "round">> {
  const pid = targets.pids[contender];
  const cpuBefore = pid === undefined ? NaN : cpuMs(pid);
  const sampler = pid === undefined ? null : sampleRss(pid, 500);
  const result = await runWrk(`${targets.urls[contender]}/v1/chat/completions`, {
    ...options,
    script: SCRIPT,
  });
  const samples = sampler?.stop() ?? [];
  const cpu = pid === undefined ? NaN : cpuMs(pid) - cpuBefore;
  return {
    contender,
    ...result,
    cpu_us_per_req: round((cpu * 1000) / result.requests, 1),
    rss_max_mb: round(max(samples.map((s) => s.rss_mb)), 1),
  };
}

/** Warms every contender up, then runs `rounds` rounds of wrk against each, rotating the order. */
export async function measureThroughput(
  targets: Targets,
  options: { connections: number; durationS: number; rounds: number; warmupS: number },
): Promise<ThroughputResult> {
  for (const contender of CONTENDERS) {
    await oneRun(targets, contender, { ...options, durationS: options.warmupS });
    await sleep(500);
  }
  const runs: ThroughputRun[] = [];
  for (let round = 0; round < options.rounds; round++) {
    const order = CONTENDERS.map((_, i) => CONTENDERS[(i + round) % CONTENDERS.length]!);
    for (const contender of order) {
      runs.push({ ...(await oneRun(targets, contender, options)), round: round + 1 });
      await sleep(1000);
    }
  }
  const medians = Object.fromEntries(
    CONTENDERS.map((c) => [c, medianOf(runs.filter((r) => r.contender === c))]),
  ) as Record<Contender, ThroughputMedian>;
  const { direct, baseline, gateway } = medians;
  return {
    connections: options.connections,
    duration_s: options.durationS,
    rounds: options.rounds,
    runs,
    median: medians,
    gateway_vs_baseline: {
      rps_ratio: round(gateway.rps / baseline.rps, 3),
      p99_ratio: round(gateway.p99_ms / baseline.p99_ms, 3),
    },
    added_p50_ms: {
      baseline: round(baseline.p50_ms - direct.p50_ms, 3),
      gateway: round(gateway.p50_ms - direct.p50_ms, 3),
    },
  };
}

function medianOf(runs: readonly ThroughputRun[]): ThroughputMedian {
  const of = (f: (r: ThroughputRun) => number | null) => {
    const values = runs.map(f).filter((v): v is number => v !== null);
    return round(median(values), 3);
  };
  return {
    rps: of((r) => r.rps) ?? NaN,
    p50_ms: of((r) => r.p50_ms) ?? NaN,
    p99_ms: of((r) => r.p99_ms) ?? NaN,
    errors: runs.reduce((n, r) => n + r.errors, 0),
    cpu_us_per_req: of((r) => r.cpu_us_per_req),
    rss_max_mb: of((r) => r.rss_max_mb),
  };
}

/** The throughput section of the report. */
export function renderThroughput(r: ThroughputResult): { text: string; checks: TargetCheck[] } {
  const rows = CONTENDERS.map((c) => {
    const m = r.median[c];
    const perRound = r.runs.filter((x) => x.contender === c).map((x) => int(x.rps)).join(" / ");
    return [
      c,
      int(m.rps),
      ms(m.p50_ms),
      ms(m.p99_ms),
      c === "direct" ? "—" : deltaMs(r.added_p50_ms[c] ?? NaN),
      int(m.errors),
      m.cpu_us_per_req === null ? "—" : `${m.cpu_us_per_req.toFixed(0)} µs`,
      perRound,
    ];
  });
  const { rps_ratio, p99_ratio } = r.gateway_vs_baseline;
  const gatewayErrors = r.median.gateway.errors;
  const checks: TargetCheck[] = [
    {
      section: "throughput",
      target: `gateway throughput >= ${RPS_RATIO_TARGET}x baseline (${r.connections} connections)`,
      measured: ratio(rps_ratio ?? NaN),
      pass: rps_ratio !== null && rps_ratio >= RPS_RATIO_TARGET,
    },
    {
      section: "throughput",
      target: `gateway p99 <= ${P99_RATIO_TARGET}x baseline`,
      measured: ratio(p99_ratio ?? NaN),
      pass: p99_ratio !== null && p99_ratio <= P99_RATIO_TARGET,
    },
    {
      section: "throughput",
      target: "gateway added p50 latency over direct",
      measured: deltaMs(r.added_p50_ms.gateway ?? NaN),
      pass: null,
    },
    {
      section: "throughput",
      target: "no errors through the gateway (non-2xx, socket errors)",
      measured: int(gatewayErrors),
      pass: gatewayErrors === 0,
    },
  ];
  const text = [
    heading(
      `Non-streaming: wrk -t2 -c${r.connections} -d${r.duration_s}s, ${r.rounds} round(s) in ` +
        `rotating order, medians (fixed ~1 KB answer)`,
    ),
    table(
      [
        "contender",
        "req/s",
        "p50",
        "p99",
        "p50 over direct",
        "errors",
        "proxy CPU/req",
        "req/s per round",
      ],
      rows,
    ),
    `gateway/baseline: throughput ${ratio(rps_ratio ?? NaN)}, p99 ${ratio(p99_ratio ?? NaN)}` +
    ` | RSS under load: baseline ${mb(r.median.baseline.rss_max_mb)}, gateway ${
      mb(r.median.gateway.rss_max_mb)
    }`,
  ].join("\n");
  return { text, checks };
}
