/**
 * Streaming probe, run as its own process so the measuring loop shares nothing with the bench or
 * the contenders. Prints one JSON object on stdout.
 *
 * - `latency`: `--streams K` streams, `--concurrency C` at a time; per stream the time to the first
 *   SSE event and every gap between events as the client sees them, and reads that carried more
 *   than one event (coalesced). Each of the C clients starts its next stream when its last one
 *   ends. With `--arrivals burst` they all start together, and as every stream lasts as long,
 *   they go on arriving C at a time. With `--arrivals spread` client i starts i/C of a stream's
 *   length after the first, so streams arrive one at a time, as from independent clients, while
 *   C stay open.
 * - `hold`: opens `--streams K` streams, at most `--ramp R` connecting at once, and keeps them all
 *   open; checks that each gets every event and `[DONE]` (none lost), none goes silent for more
 *   than twice the upstream gap (none stalled), and reports the peak number open at once.
 *
 * Usage: `deno run -A bench/stream_probe.ts latency|hold --url URL [--streams K] [--concurrency C]
 *   [--ramp R] [--chunks N] [--gap-ms G] [--deadline-ms D] [--model M] [--warmup W]
 *   [--arrivals burst|spread]`
 */
import { exitWithParent } from "./lifeline.ts";
import { sleep } from "./procs.ts";
import { max, percentile, round } from "./stats.ts";
import { type StreamTrace, traceStream } from "./sse_client.ts";

/** How the `latency` clients' streams arrive: C at once, or spread over a stream's length. */
export type Arrivals = "burst" | "spread";

/** Result of a `latency` run. */
export interface LatencyResult {
  arrivals: Arrivals;
  streams: number;
  failed: number;
  /** Time to first chunk per successful stream, ms. */
  ttfc_ms: number[];
  /** Every gap between consecutive events, ms. */
  gaps_ms: number[];
  reads: number;
  coalesced_reads: number;
  errors: string[];
}

/** Result of a `hold` run. */
export interface HoldResult {
  streams: number;
  completed: number;
  lost: number;
  /** Streams with a gap over twice the upstream's, or cut off by the deadline. */
  stalled: number;
  /** Streams still open at the deadline. */
  unfinished: number;
  peak_open: number;
  /** Ms from the start until every stream had its first event (null if some never did). */
  all_open_ms: number | null;
  duration_ms: number;
  max_gap_ms: number | null;
  p99_gap_ms: number | null;
  errors: string[];
}

interface ProbeArgs {
  mode: string;
  url: URL;
  streams: number;
  concurrency: number;
  ramp: number;
  chunks: number;
  gapMs: number;
  deadlineMs: number;
  model: string;
  /** Streams run and discarded before measuring, to warm both sides up. */
  warmup: number;
  arrivals: Arrivals;
}

function parseArgs(args: readonly string[]): ProbeArgs {
  const get = (name: string, fallback: string): string => {
    const at = args.indexOf(`--${name}`);
    return at >= 0 && args[at + 1] !== undefined ? args[at + 1]! : fallback;
  };
  const num = (name: string, fallback: number) => Number(get(name, String(fallback)));
  return {
    mode: args[0] ?? "latency",
    url: new URL(get("url", "http://127.0.0.1:8080/v1/chat/completions")),
    streams: num("streams", 200),
    concurrency: num("concurrency", 10),
    ramp: num("ramp", 100),
    chunks: num("chunks", 20),
    gapMs: num("gap-ms", 20),
    deadlineMs: num("deadline-ms", 120_000),
    model: get("model", "mock/gpt-4o"),
    warmup: num("warmup", 20),
    arrivals: arrivalsOf(get("arrivals", "burst")),
  };
}

function arrivalsOf(value: string): Arrivals {
  if (value === "burst" || value === "spread") return value;
  throw new Error(`--arrivals must be burst or spread, not ${JSON.stringify(value)}`);
}

function requestBody(args: ProbeArgs): string {
  return JSON.stringify({
    model: args.model,
    messages: [{ role: "user", content: "Count slowly." }],
    stream: true,
    bench_chunks: args.chunks,
    bench_gap_ms: args.gapMs,
  });
}

function gapsOf(trace: StreamTrace): number[] {
  const gaps: number[] = [];
  for (let i = 1; i < trace.eventMs.length; i++) {
    gaps.push(trace.eventMs[i]! - trace.eventMs[i - 1]!);
  }
  return gaps;
}

/** Whether a stream delivered every chunk and `[DONE]`, with no error. */
function complete(trace: StreamTrace, chunks: number): boolean {
  return trace.status === 200 && trace.done && !trace.errorEvent &&
    trace.error === undefined && trace.eventMs.length === chunks + 1;
}

function describe(trace: StreamTrace, chunks: number): string {
  return trace.error ??
    (trace.errorEvent ? "error event" : `${trace.eventMs.length}/${chunks + 1} events`);
}

/** Runs `latency` mode. */
export async function runLatency(args: ProbeArgs): Promise<LatencyResult> {
  const body = requestBody(args);
  const result: LatencyResult = {
    arrivals: args.arrivals,
    streams: args.streams,
    failed: 0,
    ttfc_ms: [],
    gaps_ms: [],
    reads: 0,
    coalesced_reads: 0,
    errors: [],
  };
  let warm = 0;
  await Promise.all(Array.from({ length: args.concurrency }, async () => {
    while (warm++ < args.warmup) {
      await traceStream(args.url, body, { signal: AbortSignal.timeout(args.deadlineMs) });
    }
  }));
  let next = 0;
  // A stream lasts about (chunks + 1) gaps: the upstream's chunks, then [DONE] one gap later.
  const streamMs = (args.chunks + 1) * args.gapMs;
  const worker = async (_: unknown, client: number) => {
    if (args.arrivals === "spread") await sleep((client * streamMs) / args.concurrency);
    while (next < args.streams) {
      next++;
      const trace = await traceStream(args.url, body, {
        signal: AbortSignal.timeout(args.deadlineMs),
      });
      result.reads += trace.reads;
      result.coalesced_reads += trace.coalescedReads;
      if (!complete(trace, args.chunks)) {
        result.failed++;
        if (result.errors.length < 5) result.errors.push(describe(trace, args.chunks));
        continue;
      }
      result.ttfc_ms.push(round(trace.eventMs[0]!, 3) ?? NaN);
      result.gaps_ms.push(...gapsOf(trace).map((g) => round(g, 3) ?? NaN));
    }
  };
  await Promise.all(Array.from({ length: args.concurrency }, worker));
  return result;
}

/** Runs `hold` mode. */
export async function runHold(args: ProbeArgs): Promise<HoldResult> {
  const body = requestBody(args);
  const start = performance.now();
  const deadline = AbortSignal.timeout(args.deadlineMs);
  let open = 0;
  let peak = 0;
  let firstEvents = 0;
  let allOpenMs: number | null = null;
  let connecting = 0;
  const waiters: (() => void)[] = [];
  const slot = async () => {
    while (connecting >= args.ramp) await new Promise<void>((r) => waiters.push(r));
    connecting++;
  };
  const release = () => {
    connecting--;
    waiters.shift()?.();
  };

  const one = async (): Promise<StreamTrace> => {
    await slot();
    let released = false;
    const trace = await traceStream(args.url, body, {
      signal: deadline,
      onFirstEvent: () => {
        released = true;
        release();
        open++;
        peak = Math.max(peak, open);
        if (++firstEvents === args.streams) allOpenMs = performance.now() - start;
      },
    });
    if (released) open--;
    else release();
    return trace;
  };
  const traces = await Promise.all(Array.from({ length: args.streams }, one));

  const stallLimit = 2 * args.gapMs;
  let completed = 0;
  let stalled = 0;
  let unfinished = 0;
  const allGaps: number[] = [];
  const errors: string[] = [];
  for (const trace of traces) {
    const gaps = gapsOf(trace);
    allGaps.push(...gaps);
    const ok = complete(trace, args.chunks);
    if (ok) completed++;
    else if (errors.length < 5) errors.push(describe(trace, args.chunks));
    // A stream cut off by the deadline is stalled too (it did not finish in time).
    const cut = trace.error?.startsWith("aborted") === true;
    if (cut) unfinished++;
    if (max(gaps) > stallLimit || cut) stalled++;
  }
  return {
    streams: args.streams,
    completed,
    lost: args.streams - completed,
    stalled,
    unfinished,
    peak_open: peak,
    all_open_ms: allOpenMs === null ? null : round(allOpenMs, 1),
    duration_ms: round(performance.now() - start, 1) ?? 0,
    max_gap_ms: round(max(allGaps), 1),
    p99_gap_ms: round(percentile(allGaps, 99), 1),
    errors,
  };
}

if (import.meta.main) {
  exitWithParent();
  const args = parseArgs(Deno.args);
  const result = args.mode === "hold" ? await runHold(args) : await runLatency(args);
  console.log(JSON.stringify(result));
  Deno.exit(0);
}
