/** Streaming: time to first chunk and inter-chunk gaps per contender, seen by a separate probe. */
import { BENCH_DIR, type Contender, CONTENDERS, ROOT } from "./contenders.ts";
import { sleep, spawn } from "./procs.ts";
import { deltaMs, heading, int, ms, table, type TargetCheck } from "./report.ts";
import { percentile, round } from "./stats.ts";
import type { Arrivals, LatencyResult } from "./stream_probe.ts";

/** One contender's streams, pooled over the rounds. */
export interface LatencySummary {
  streams: number;
  failed: number;
  ttfc_p50_ms: number | null;
  ttfc_p99_ms: number | null;
  /** Time to first chunk at p50 in each round, in the order they ran. */
  ttfc_p50_per_round_ms: (number | null)[];
  gap_p50_ms: number | null;
  gap_p99_ms: number | null;
  gap_max_ms: number | null;
  gaps: number;
  /** Gaps under 5 ms: events bunched together on the way. */
  gaps_under_5ms: number;
  /** Gaps over twice the upstream's: an event held back on the way. */
  gaps_over_2x: number;
  reads: number;
  /** Socket reads that carried more than one event. */
  coalesced_reads: number;
  errors: string[];
}

/** Time to first chunk over direct's, ms. */
export interface AddedTtfc {
  baseline_p50: number | null;
  baseline_p99: number | null;
  gateway_p50: number | null;
  gateway_p99: number | null;
}

/** Every contender's streams for one arrival pattern. */
export interface ArrivalsResult {
  per: Record<Contender, LatencySummary>;
  added_ttfc_ms: AddedTtfc;
}

/** Streams run against each contender before the rounds, and not counted in them. */
export interface StreamingWarmup {
  streams: number;
  /** Their time to first chunk at p50: what the first streams of a quiet process cost. */
  ttfc_p50_ms: Record<Contender, number | null>;
}

/** The streaming section's data. */
export interface StreamingResult {
  chunks: number;
  gap_ms: number;
  streams_per_round: number;
  concurrency: number;
  rounds: number;
  warmup: StreamingWarmup;
  /**
   * Streams arriving one at a time, spread over a stream's length, while `concurrency` stay open:
   * what independent clients do, and what the time-to-first-chunk target is checked on.
   */
  spread: ArrivalsResult;
  /**
   * The same streams arriving `concurrency` at once, every time: the last of each burst waits
   * for the others, so this adds the queue to the latency. Reported, not a target.
   */
  burst: ArrivalsResult;
}

/** The arrival patterns, in the order they run and are reported. */
const ARRIVALS: readonly Arrivals[] = ["spread", "burst"];

/** The gateway may add at most this much to the time to first chunk, at p50. */
export const ADDED_TTFC_TARGET_MS = 1;
/** Gaps shorter than this mean events were bunched (coalesced or burst). */
export const BUNCHED_GAP_MS = 5;

/** Runs a probe process and returns what it printed (one JSON object). */
export async function runProbe(args: readonly string[]): Promise<unknown> {
  const proc = spawn("probe", [
    Deno.execPath(),
    "run",
    "-A",
    `${BENCH_DIR}stream_probe.ts`,
    ...args,
  ], {
    cwd: ROOT,
    output: "piped",
    raiseFdLimit: true,
    lifeline: true,
  });
  const out = await proc.child.output();
  const text = new TextDecoder().decode(out.stdout).trim();
  if (!out.success) throw new Error(`stream probe failed (${out.code}): ${text}`);
  return JSON.parse(text.slice(text.lastIndexOf("\n") + 1));
}

/**
 * Runs the probe against every contender for each arrival pattern, `rounds` times in rotating
 * order.
 */
export async function measureStreaming(
  urls: Record<Contender, string>,
  options: {
    streams: number;
    concurrency: number;
    chunks: number;
    gapMs: number;
    rounds: number;
    warmupStreams: number;
  },
): Promise<StreamingResult> {
  const empty = () =>
    Object.fromEntries(CONTENDERS.map((c) => [c, [] as LatencyResult[]])) as Record<
      Contender,
      LatencyResult[]
    >;
  const pooled: Record<Arrivals, Record<Contender, LatencyResult[]>> = {
    spread: empty(),
    burst: empty(),
  };
  const probe = async (contender: Contender, arrivals: Arrivals, streams: number) => {
    const result = await runProbe([
      "latency",
      "--url",
      `${urls[contender]}/v1/chat/completions`,
      "--streams",
      String(streams),
      "--concurrency",
      String(options.concurrency),
      "--chunks",
      String(options.chunks),
      "--gap-ms",
      String(options.gapMs),
      "--arrivals",
      arrivals,
    ]) as LatencyResult;
    await sleep(500);
    return result;
  };
  // As the non-streaming load has its warm-up, the streams have theirs: a contender's first
  // streams compile its streaming path (the load before used none of it). Reported, not counted.
  const warmup: Record<Contender, number | null> = { direct: null, baseline: null, gateway: null };
  if (options.warmupStreams > 0) {
    for (const contender of CONTENDERS) {
      const result = await probe(contender, "spread", options.warmupStreams);
      warmup[contender] = round(percentile(result.ttfc_ms, 50), 3);
    }
  }
  for (let round = 0; round < options.rounds; round++) {
    const order = CONTENDERS.map((_, i) => CONTENDERS[(i + round) % CONTENDERS.length]!);
    for (const arrivals of ARRIVALS) {
      for (const contender of order) {
        pooled[arrivals][contender].push(await probe(contender, arrivals, options.streams));
      }
    }
  }
  const pattern = (arrivals: Arrivals): ArrivalsResult => {
    const per = Object.fromEntries(
      CONTENDERS.map((c) => [c, summarize(pooled[arrivals][c], options.gapMs)]),
    ) as Record<Contender, LatencySummary>;
    const added = (c: Contender, key: "ttfc_p50_ms" | "ttfc_p99_ms") =>
      round((per[c][key] ?? NaN) - (per.direct[key] ?? NaN), 3);
    return {
      per,
      added_ttfc_ms: {
        baseline_p50: added("baseline", "ttfc_p50_ms"),
        baseline_p99: added("baseline", "ttfc_p99_ms"),
        gateway_p50: added("gateway", "ttfc_p50_ms"),
        gateway_p99: added("gateway", "ttfc_p99_ms"),
      },
    };
  };
  return {
    chunks: options.chunks,
    gap_ms: options.gapMs,
    streams_per_round: options.streams,
    concurrency: options.concurrency,
    rounds: options.rounds,
    warmup: { streams: options.warmupStreams, ttfc_p50_ms: warmup },
    spread: pattern("spread"),
    burst: pattern("burst"),
  };
}

function summarize(results: readonly LatencyResult[], gapMs: number): LatencySummary {
  const ttfc = results.flatMap((r) => r.ttfc_ms);
  const gaps = results.flatMap((r) => r.gaps_ms);
  return {
    streams: results.reduce((n, r) => n + r.streams, 0),
    failed: results.reduce((n, r) => n + r.failed, 0),
    ttfc_p50_ms: round(percentile(ttfc, 50), 3),
    ttfc_p99_ms: round(percentile(ttfc, 99), 3),
    ttfc_p50_per_round_ms: results.map((r) => round(percentile(r.ttfc_ms, 50), 3)),
    gap_p50_ms: round(percentile(gaps, 50), 3),
    gap_p99_ms: round(percentile(gaps, 99), 3),
    gap_max_ms: round(percentile(gaps, 100), 3),
    gaps: gaps.length,
    gaps_under_5ms: gaps.filter((g) => g < BUNCHED_GAP_MS).length,
    gaps_over_2x: gaps.filter((g) => g > 2 * gapMs).length,
    reads: results.reduce((n, r) => n + r.reads, 0),
    coalesced_reads: results.reduce((n, r) => n + r.coalesced_reads, 0),
    errors: results.flatMap((r) => r.errors).slice(0, 5),
  };
}

/** The streaming section of the report. */
export function renderStreaming(r: StreamingResult): { text: string; checks: TargetCheck[] } {
  const rows = ARRIVALS.flatMap((arrivals) =>
    CONTENDERS.map((c) => {
      const s = r[arrivals].per[c];
      return [
        arrivals,
        c,
        ms(s.ttfc_p50_ms),
        ms(s.ttfc_p99_ms),
        c === "direct" ? "—" : deltaMs(r[arrivals].added_ttfc_ms[`${c}_p50`] ?? NaN),
        ms(s.gap_p50_ms),
        ms(s.gap_p99_ms),
        ms(s.gap_max_ms),
        int(s.gaps_under_5ms),
        int(s.gaps_over_2x),
        `${int(s.coalesced_reads)}/${int(s.reads)}`,
        `${int(s.failed)}/${int(s.streams)}`,
      ];
    })
  );
  const sum = (
    c: Contender,
    key: "coalesced_reads" | "gaps_under_5ms" | "gaps_over_2x" | "failed",
  ) => r.spread.per[c][key] + r.burst.per[c][key];
  const asSent = sum("gateway", "coalesced_reads") === 0 &&
    sum("gateway", "gaps_under_5ms") === 0 &&
    sum("gateway", "gaps_over_2x") === 0 && sum("gateway", "failed") === 0;
  const addedP50 = r.spread.added_ttfc_ms.gateway_p50;
  const burstP50 = r.burst.added_ttfc_ms.gateway_p50;
  const checks: TargetCheck[] = [
    {
      section: "streaming",
      target: `gateway added time to first chunk < ${ADDED_TTFC_TARGET_MS} ms at p50 ` +
        `(streams arriving spread out, ${r.concurrency} open)`,
      measured: deltaMs(addedP50 ?? NaN),
      pass: addedP50 !== null && addedP50 < ADDED_TTFC_TARGET_MS,
    },
    {
      section: "streaming",
      target: "gateway added time to first chunk at p99 (spread)",
      measured: deltaMs(r.spread.added_ttfc_ms.gateway_p99 ?? NaN),
      pass: null,
    },
    {
      section: "streaming",
      target: `gateway added time to first chunk at p50, streams arriving ${r.concurrency} at once`,
      measured: `${deltaMs(burstP50 ?? NaN)} (baseline ${
        deltaMs(r.burst.added_ttfc_ms.baseline_p50 ?? NaN)
      })`,
      pass: null,
    },
    {
      section: "streaming",
      target: `chunks arrive as sent: no coalesced read, no gap < ${BUNCHED_GAP_MS} ms or > ` +
        `${2 * r.gap_ms} ms, no failed stream (both patterns)`,
      measured:
        `${sum("gateway", "coalesced_reads")} coalesced, ${
          sum("gateway", "gaps_under_5ms")
        } short, ${sum("gateway", "gaps_over_2x")} long, ${sum("gateway", "failed")} failed ` +
        `(direct: ${sum("direct", "coalesced_reads")}, ${sum("direct", "gaps_under_5ms")}, ` +
        `${sum("direct", "gaps_over_2x")}, ${sum("direct", "failed")})`,
      pass: asSent,
    },
  ];
  const text = [
    heading(
      `Streaming: ${r.streams_per_round} streams x ${r.rounds} round(s) per contender and ` +
        `arrival pattern, ${r.concurrency} open at a time; upstream sends ${r.chunks} chunks ` +
        `${r.gap_ms} ms apart + [DONE]`,
    ),
    table(
      [
        "arrivals",
        "contender",
        "TTFC p50",
        "TTFC p99",
        "TTFC p50 over direct",
        "gap p50",
        "gap p99",
        "gap max",
        "gaps<5ms",
        `gaps>${2 * r.gap_ms}ms`,
        "coalesced reads",
        "failed",
      ],
      rows,
    ),
    "TTFC: request written -> first SSE event read, on a fresh connection (raw HTTP/1.1 probe).",
    `TTFC p50 per round (spread): ${
      CONTENDERS.map((c) =>
        `${c} ${r.spread.per[c].ttfc_p50_per_round_ms.map((v) => ms(v)).join(", ")}`
      )
        .join("; ")
    }.`,
    r.warmup.streams > 0
      ? `warm-up, not counted: ${r.warmup.streams} spread streams per contender before the ` +
        `rounds; their TTFC p50: ${
          CONTENDERS.map((c) => `${c} ${ms(r.warmup.ttfc_p50_ms[c])}`).join(", ")
        }.`
      : "no warm-up: the first round includes each contender's first streams.",
    `spread: each of the ${r.concurrency} clients starts its first stream 1/${r.concurrency} of a ` +
    "stream's length after the one before, and its next one when its last ends: streams arrive " +
    "one at a time, as from independent clients.",
    `burst: the ${r.concurrency} clients start together and, as every stream lasts as long, go on ` +
    `arriving ${r.concurrency} at once; the last of each burst queues behind the others.`,
  ].join("\n");
  return { text, checks };
}
