/**
 * Many concurrent open streams through one fresh gateway: none lost, none stalled, memory
 * bounded. The same test through a fresh baseline puts the memory figure in perspective.
 */
import type { Server } from "./contenders.ts";
import { rssMb, sampleRss, sleep } from "./procs.ts";
import { heading, int, mb, ms, table, type TargetCheck } from "./report.ts";
import { max, round } from "./stats.ts";
import type { HoldResult } from "./stream_probe.ts";
import { runProbe } from "./stream_latency.ts";

/** One proxy holding the streams. */
export interface HoldRun {
  probe: HoldResult;
  /** Highest `llm_gateway_open_streams` on /metrics while the streams were open (gateway only). */
  open_streams_gauge_peak: number | null;
  rss_mb: { idle: number | null; peak: number | null; after: number | null };
  /** (peak − idle) / streams, KB. */
  kb_per_stream: number | null;
  /** RSS about every second. */
  rss_series: { t_s: number; rss_mb: number }[];
}

/** The concurrency section's data. */
export interface HoldTestResult {
  streams: number;
  chunks: number;
  gap_ms: number;
  /** Streams connecting at once while ramping up. */
  ramp: number;
  rest_s: number;
  gateway: HoldRun;
  /** The same streams through a fresh baseline process; null when skipped. */
  baseline: HoldRun | null;
}

/** Streams connecting at once while ramping up (more would overflow listen backlogs). */
export const HOLD_RAMP = 200;

async function openStreamsGauge(url: string): Promise<number | null> {
  try {
    const text = await (await fetch(`${url}/metrics`)).text();
    const match = /^llm_gateway_open_streams\s+(\d+)/m.exec(text);
    return match === null ? null : Number(match[1]);
  } catch {
    return null;
  }
}

/** Options for `measureHold`. */
export interface HoldOptions {
  streams: number;
  chunks: number;
  gapMs: number;
  restMs: number;
  /** Poll the gateway's open-streams gauge on /metrics. */
  metrics: boolean;
}

/** Holds `streams` streams open at once through `server` (a fresh process, used for nothing else). */
export async function measureHold(server: Server, options: HoldOptions): Promise<HoldRun> {
  await sleep(2000);
  const idle = rssMb(server.proc.pid);
  const sampler = sampleRss(server.proc.pid, 250);
  let gaugePeak: number | null = null;
  let polling = options.metrics;
  const poller = (async () => {
    while (polling) {
      const open = await openStreamsGauge(server.url);
      if (open !== null) gaugePeak = Math.max(gaugePeak ?? 0, open);
      await sleep(500);
    }
  })();
  // Long enough to open every stream, let each run its course, and then some.
  const deadlineMs = options.chunks * options.gapMs * 2 + options.streams * 10 + 30_000;
  let probe: HoldResult;
  try {
    probe = await runProbe([
      "hold",
      "--url",
      `${server.url}/v1/chat/completions`,
      "--streams",
      String(options.streams),
      "--ramp",
      String(HOLD_RAMP),
      "--chunks",
      String(options.chunks),
      "--gap-ms",
      String(options.gapMs),
      "--deadline-ms",
      String(deadlineMs),
    ]) as HoldResult;
  } finally {
    polling = false;
    await poller;
  }
  const during = sampler.stop();
  await sleep(options.restMs);
  const peak = max(during.map((s) => s.rss_mb));
  return {
    probe,
    open_streams_gauge_peak: gaugePeak,
    rss_mb: { idle: round(idle, 1), peak: round(peak, 1), after: round(rssMb(server.proc.pid), 1) },
    kb_per_stream: round(((peak - idle) * 1024) / options.streams, 1),
    rss_series: during.filter((_, i) => i % 4 === 0).map((s) => ({
      t_s: round(s.t_s, 1) ?? 0,
      rss_mb: round(s.rss_mb, 1) ?? NaN,
    })),
  };
}

function column(run: HoldRun | null): string[] {
  if (run === null) return Array.from({ length: 11 }, () => "skipped");
  const p = run.probe;
  return [
    `${int(p.completed)} / ${int(p.lost)} / ${int(p.stalled)}`,
    int(p.unfinished),
    int(p.peak_open),
    run.open_streams_gauge_peak === null ? "—" : int(run.open_streams_gauge_peak),
    ms(p.all_open_ms),
    ms(p.duration_ms),
    `${ms(p.p99_gap_ms)} / ${ms(p.max_gap_ms)}`,
    mb(run.rss_mb.idle),
    mb(run.rss_mb.peak),
    `${run.kb_per_stream?.toFixed(1) ?? "n/a"} KB`,
    mb(run.rss_mb.after),
  ];
}

/** The concurrency section of the report. */
export function renderHold(r: HoldTestResult): { text: string; checks: TargetCheck[] } {
  const p = r.gateway.probe;
  const checks: TargetCheck[] = [
    {
      section: "concurrency",
      target: `${int(r.streams)} concurrent streams through one gateway: all open at once, ` +
        "none lost or stalled",
      measured: `${int(p.completed)} complete, ${int(p.lost)} lost, ${int(p.stalled)} stalled, ` +
        `peak ${int(p.peak_open)} open`,
      pass: p.lost === 0 && p.stalled === 0 && p.peak_open === r.streams,
    },
    {
      section: "concurrency",
      target: `memory bounded with ${int(r.streams)} open streams (report the figure)`,
      measured:
        `peak ${mb(r.gateway.rss_mb.peak)}, ${
          r.gateway.kb_per_stream?.toFixed(0) ?? "n/a"
        } KB/stream` +
        (r.baseline === null
          ? ""
          : ` (baseline ${r.baseline.kb_per_stream?.toFixed(0) ?? "n/a"} KB/stream)`),
      pass: null,
    },
  ];
  const labels = [
    "streams complete / lost / stalled",
    "still open at the deadline",
    "peak open at once (client)",
    "peak open_streams gauge (/metrics)",
    "all streams open after",
    "total time",
    "inter-chunk gap p99 / max",
    "RSS idle",
    "RSS peak",
    "RSS per open stream (peak − idle)",
    `RSS after ${r.rest_s} s rest`,
  ];
  const gateway = column(r.gateway);
  const baseline = column(r.baseline);
  const text = [
    heading(
      `Concurrent streams: ${int(r.streams)} at once through one fresh process; upstream sends ` +
        `${r.chunks} chunks ${r.gap_ms} ms apart (ramp: ${r.ramp} connecting at once)`,
    ),
    table(
      ["measure", "gateway", "baseline"],
      labels.map((label, i) => [label, gateway[i]!, baseline[i]!]),
    ),
    ...(p.errors.length > 0 ? [`gateway's first errors: ${p.errors.join("; ")}`] : []),
    `stalled: a gap over ${2 * r.gap_ms} ms, or not finished by the deadline. Peak open below ` +
    `${int(r.streams)} means the first streams ended before the last ones opened.`,
  ].join("\n");
  return { text, checks };
}
