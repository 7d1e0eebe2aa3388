/** Bounded soak: wrk against the gateway for a while, RSS sampled over time, then at rest. */
import { BENCH_DIR, type Server } from "./contenders.ts";
import { rssMb, type RssSample, sampleRss, sleep } from "./procs.ts";
import { heading, int, mb, ms, ratio, table, type TargetCheck } from "./report.ts";
import { round } from "./stats.ts";
import { runWrk } from "./wrk.ts";

/** One soak run. */
export interface SoakRun {
  duration_s: number;
  before_mb: number | null;
  /** RSS 10 s after the load (the sample point). */
  after_10s_mb: number | null;
  /** RSS at the end of the rest: what the verdict uses. */
  after_mb: number | null;
  /** after / before. */
  ratio: number | null;
  rps: number;
  p99_ms: number;
  errors: number;
  /** RSS every 5 s during the load and the rest after it. */
  series: RssSample[];
}

/** The soak section's data. */
export interface SoakResult {
  connections: number;
  rest_s: number;
  runs: SoakRun[];
  /**
   * The last run's `after` over the first run's RSS at rest, the higher of its `before` and
   * `after`: growth from run to run. (V8 gives memory back when its memory reducer runs, not
   * after every run, so a run may end at the level it started from or below it; against a first
   * run that ended below, a last one back at the starting level looked like growth.)
   */
  growth_ratio: number | null;
}

/** After a soak and its rest, RSS is within this ratio of before it. */
export const SOAK_RATIO_TARGET = 1.2;
/** Repeated runs may not grow RSS by more than this ratio. */
export const GROWTH_RATIO_TARGET = 1.1;

const SAMPLE_MS = 5000;
/** The sample point after the load. */
const FIRST_REST_MS = 10_000;
/**
 * The whole rest. V8 gives freed heap back to the OS only when its memory reducer runs, a few
 * seconds after the process goes idle, sometimes just after 10 s: judged at 10 s, the same
 * gateway passes or fails by luck. At 30 s it has had its chance; both figures are reported.
 */
const REST_MS = 30_000;

/** Runs `runs` soaks of `durationS` seconds on `gateway`, each followed by a rest. */
export async function measureSoak(
  gateway: Server,
  options: { durationS: number; runs: number; connections: number },
): Promise<SoakResult> {
  const pid = gateway.proc.pid;
  const runs: SoakRun[] = [];
  // "Before" is measured at rest, like "after": the same rest follows whatever ran last.
  await sleep(REST_MS);
  for (let i = 0; i < options.runs; i++) {
    const before = rssMb(pid);
    const sampler = sampleRss(pid, SAMPLE_MS);
    const wrk = await runWrk(`${gateway.url}/v1/chat/completions`, {
      connections: options.connections,
      durationS: options.durationS,
      script: `${BENCH_DIR}post.lua`,
    });
    await sleep(FIRST_REST_MS);
    const after10 = rssMb(pid);
    await sleep(REST_MS - FIRST_REST_MS);
    const series = sampler.stop().map((s) => ({
      t_s: round(s.t_s, 1) ?? 0,
      rss_mb: round(s.rss_mb, 1) ?? NaN,
    }));
    const after = rssMb(pid);
    runs.push({
      duration_s: options.durationS,
      before_mb: round(before, 1),
      after_10s_mb: round(after10, 1),
      after_mb: round(after, 1),
      ratio: round(after / before, 3),
      rps: wrk.rps,
      p99_ms: wrk.p99_ms,
      errors: wrk.errors,
      series,
    });
  }
  return {
    connections: options.connections,
    rest_s: REST_MS / 1000,
    runs,
    growth_ratio: growthRatio(runs),
  };
}

/** See `SoakResult.growth_ratio`; null with fewer than two runs. */
export function growthRatio(
  runs: readonly Pick<SoakRun, "before_mb" | "after_mb">[],
): number | null {
  if (runs.length < 2) return null;
  const first = Math.max(runs[0]!.before_mb ?? NaN, runs[0]!.after_mb ?? NaN);
  const last = runs.at(-1)!.after_mb ?? NaN;
  return round(last / first, 3);
}

/** The soak section of the report. */
export function renderSoak(r: SoakResult): { text: string; checks: TargetCheck[] } {
  const rows = r.runs.map((run, i) => [
    String(i + 1),
    `${run.duration_s} s`,
    int(run.rps),
    ms(run.p99_ms),
    int(run.errors),
    mb(run.before_mb),
    mb(run.after_10s_mb),
    mb(run.after_mb),
    ratio(run.ratio ?? NaN),
  ]);
  const checks: TargetCheck[] = r.runs.map((run, i) => ({
    section: "soak",
    target: `soak ${i + 1}: RSS ${r.rest_s} s after a ${run.duration_s} s load within ` +
      `${Math.round((SOAK_RATIO_TARGET - 1) * 100)}% of before it`,
    measured: `${mb(run.before_mb)} -> ${mb(run.after_mb)} (${ratio(run.ratio ?? NaN)}; at ` +
      `${FIRST_REST_MS / 1000} s: ${mb(run.after_10s_mb)})`,
    pass: run.ratio !== null && run.ratio <= SOAK_RATIO_TARGET,
  }));
  if (r.growth_ratio !== null) {
    checks.push({
      section: "soak",
      target: `no growth across repeated runs: last run's after <= ${GROWTH_RATIO_TARGET}x ` +
        "the first's at rest (before or after, the higher)",
      measured: ratio(r.growth_ratio),
      pass: r.growth_ratio <= GROWTH_RATIO_TARGET,
    });
  }
  const series = r.runs.map((run, i) =>
    `run ${i + 1} RSS over time (s: MB): ` +
    run.series.map((s) => `${s.t_s.toFixed(0)}: ${s.rss_mb.toFixed(1)}`).join(", ")
  );
  const text = [
    heading(
      `Soak: ${r.runs.length} run(s) of wrk -c${r.connections} on the same gateway, RSS every ` +
        `${SAMPLE_MS / 1000} s, then ${r.rest_s} s at rest`,
    ),
    table([
      "run",
      "load",
      "req/s",
      "p99",
      "errors",
      "RSS before",
      `RSS ${FIRST_REST_MS / 1000} s after`,
      `RSS ${r.rest_s} s after`,
      `${r.rest_s} s after/before`,
    ], rows),
    ...series,
  ].join("\n");
  return { text, checks };
}
