/**
 * `deno task bench`: the gateway against a direct call to the upstream and against a minimal
 * Deno passthrough proxy (bench/baseline.ts), all in one run on one machine, so the ratios mean
 * something even on a shared, noisy host. Prints tables with each target's verdict and writes
 * the same data as JSON. `deno task bench --help` lists the flags.
 */
import { type BenchFlags, parseBenchFlags, USAGE } from "./cli.ts";
import {
  baselineArgv,
  type Contender,
  gatewayArgv,
  ROOT,
  type Server,
  startMock,
  startServer,
  writeGatewayConfig,
} from "./contenders.ts";
import { renderSteal, StealSampler, type StealSummary } from "./host.ts";
import { killAll, rssMb, sleep, stopAll } from "./procs.ts";
import { heading, mb, table, type TargetCheck, targetTable } from "./report.ts";
import { round } from "./stats.ts";
import { measureSoak, renderSoak, type SoakResult } from "./soak.ts";
import { measureStartup, renderStartup, type StartupResult } from "./startup.ts";
import { HOLD_RAMP, type HoldTestResult, measureHold, renderHold } from "./stream_hold.ts";
import { measureStreaming, renderStreaming, type StreamingResult } from "./stream_latency.ts";
import { measureThroughput, renderThroughput, type ThroughputResult } from "./throughput.ts";
import { ensureWrk } from "./wrk.ts";

/** The machine the numbers come from. */
export interface MachineInfo {
  date: string;
  cpus: number;
  cpu_model: string;
  memory_gb: number;
  kernel: string;
  loadavg_at_start: number[];
  deno: string;
  v8: string;
  wrk: string;
  /** The gateway's code: commit, and whether the working tree differs from it. */
  gateway_source: string;
}

/** Gateway and baseline RSS around the non-streaming load, MB. */
export interface MemoryResult {
  rest_s: number;
  gateway: { idle: number | null; under_load: number | null; after_load: number | null };
  baseline: { idle: number | null; under_load: number | null; after_load: number | null };
}

/** What the gateway logged (to a file, as shipped: info level, JSON lines). */
export interface LogResult {
  bytes: number;
  access_lines_seen: boolean;
  avg_line_bytes: number | null;
}

/** The whole JSON report. */
export interface BenchReport {
  machine: MachineInfo;
  settings: Omit<BenchFlags, "help"> & {
    latency_concurrency: number;
    latency_chunks: number;
    latency_gap_ms: number;
  };
  startup: StartupResult;
  throughput: ThroughputResult;
  memory: MemoryResult;
  streaming: StreamingResult;
  soak: SoakResult | null;
  concurrency: HoldTestResult | null;
  gateway_log: LogResult;
  /** CPU steal per section, and over the whole run (null where /proc/stat is not there). */
  host_steal: Record<
    "run" | "throughput" | "streaming" | "soak" | "concurrency",
    StealSummary | null
  >;
  targets: TargetCheck[];
}

const LATENCY_CONCURRENCY = 10;
const LATENCY_CHUNKS = 20;
const LATENCY_GAP_MS = 20;
/** Spread streams per contender before the counted rounds (a fifth of that with --quick). */
const LATENCY_WARMUP_STREAMS = 100;
const REST_MS = 5000;

function progress(message: string): void {
  console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${message}`);
}

async function gitSource(): Promise<string> {
  const git = async (...args: string[]) => {
    const out = await new Deno.Command("git", { args: ["-C", ROOT, ...args], stdout: "piped" })
      .output();
    return out.success ? new TextDecoder().decode(out.stdout).trim() : null;
  };
  try {
    const head = await git("rev-parse", "--short", "HEAD");
    if (head === null) return "unknown (not a git checkout)";
    const dirty = (await git("status", "--porcelain", "--", "main.ts", "src")) ?? "";
    const changed = dirty.split("\n").filter((l) => l.trim() !== "").length;
    return changed === 0 ? head : `${head} + ${changed} uncommitted change(s) in main.ts/src`;
  } catch {
    return "unknown (git not available)";
  }
}

async function machineInfo(wrk: string): Promise<MachineInfo> {
  const cpuinfo = await Deno.readTextFile("/proc/cpuinfo").catch(() => "");
  const meminfo = await Deno.readTextFile("/proc/meminfo").catch(() => "");
  const memKb = Number(/^MemTotal:\s+(\d+)/m.exec(meminfo)?.[1] ?? NaN);
  return {
    date: new Date().toISOString(),
    cpus: navigator.hardwareConcurrency,
    cpu_model: /^model name\s*:\s*(.+)$/m.exec(cpuinfo)?.[1]?.trim() ?? "unknown",
    memory_gb: round(memKb / 1024 / 1024, 1) ?? NaN,
    kernel: Deno.osRelease(),
    loadavg_at_start: Deno.loadavg().map((v) => round(v, 2) ?? NaN),
    deno: Deno.version.deno,
    v8: Deno.version.v8,
    wrk,
    gateway_source: await gitSource(),
  };
}

/** Reads what the gateway logged since the last call, then empties the file (it is appended to). */
async function drainLog(path: string, log: LogResult): Promise<void> {
  const size = (await Deno.stat(path)).size;
  log.bytes += size;
  const file = await Deno.open(path, { read: true });
  const buf = new Uint8Array(64 * 1024);
  const n = (await file.read(buf)) ?? 0;
  file.close();
  const lines = new TextDecoder().decode(buf.subarray(0, n)).split("\n").slice(0, -1);
  const access = lines.filter((l) => l.includes('"message":"request"'));
  if (access.length > 0) {
    log.access_lines_seen = true;
    log.avg_line_bytes = Math.round(access.reduce((s, l) => s + l.length + 1, 0) / access.length);
  }
  await Deno.truncate(path, 0);
}

function memoryResult(
  idle: Record<"gateway" | "baseline", number>,
  throughput: ThroughputResult,
  after: Record<"gateway" | "baseline", number>,
): MemoryResult {
  const of = (c: "gateway" | "baseline") => ({
    idle: round(idle[c], 1),
    under_load: throughput.median[c].rss_max_mb,
    after_load: round(after[c], 1),
  });
  return { rest_s: REST_MS / 1000, gateway: of("gateway"), baseline: of("baseline") };
}

function renderMemory(m: MemoryResult): string {
  const row = (name: string, v: MemoryResult["gateway"]) => [
    name,
    mb(v.idle),
    mb(v.under_load),
    mb(v.after_load),
  ];
  return [
    heading("Memory (RSS from /proc/<pid>/status) around the non-streaming load"),
    table(
      [
        "process",
        "idle after start-up",
        "under load (max, median of rounds)",
        `after ${m.rest_s} s rest`,
      ],
      [row("baseline", m.baseline), row("gateway", m.gateway)],
    ),
  ].join("\n");
}

function renderHeader(machine: MachineInfo, flags: BenchFlags): string {
  return [
    `llm-gateway bench, ${machine.date}${flags.quick ? " (--quick smoke run)" : ""}`,
    `machine: ${machine.cpus} CPU(s), ${machine.cpu_model}, ${machine.memory_gb} GB RAM, ` +
    `Linux ${machine.kernel}, load average at start ${machine.loadavg_at_start.join(" ")}`,
    `tools: deno ${machine.deno} (V8 ${machine.v8}), wrk ${machine.wrk}; gateway source: ` +
    machine.gateway_source,
    `settings: wrk ${flags.duration} s x ${flags.rounds} round(s) at ${flags.connections} ` +
    `connections, soak ${flags.soak} s x ${flags.soakRuns}, ${flags.streams} concurrent streams`,
    "Contenders: direct (the mock upstream itself), baseline (bench/baseline.ts: parse, rewrite",
    "model, fetch, return the body), gateway (main.ts as shipped: info logs to a file, metrics on,",
    flags.noStore
      ? "and storage: false, so no usage records). Each runs in its own process."
      : "usage records to its SQLite store). Each runs in its own process.",
    "The host is shared: compare ratios within this run only.",
  ].join("\n");
}

function withoutHelp(flags: BenchFlags): Omit<BenchFlags, "help"> {
  const { help: _, ...rest } = flags;
  return rest;
}

/**
 * Holds the streams through a fresh gateway, then through a fresh baseline for comparison.
 * Each stream lasts 30 s (5 s in --quick), longer than the ramp-up takes, so that all of them
 * are open at once.
 */
async function holdStreams(
  flags: BenchFlags,
  tmp: string,
  ctx: { config: string; upstream: string; log: LogResult },
): Promise<HoldTestResult> {
  const shape = flags.quick ? { chunks: 5, gapMs: 1000 } : { chunks: 30, gapMs: 1000 };
  const options = { streams: flags.streams, ...shape, restMs: REST_MS };
  progress(`${flags.streams} concurrent streams through a fresh gateway`);
  const gateway: Server = await startServer(
    "gateway-hold",
    tmp,
    (port) => gatewayArgv(ctx.config, port),
  );
  const gatewayRun = await measureHold(gateway, { ...options, metrics: true });
  await drainLog(gateway.output, ctx.log);
  await gateway.proc.stop(15_000);
  progress(`${flags.streams} concurrent streams through a fresh baseline`);
  const baseline = await startServer(
    "baseline-hold",
    tmp,
    (port) => baselineArgv(port, ctx.upstream),
  );
  const baselineRun = await measureHold(baseline, { ...options, metrics: false });
  await baseline.proc.stop();
  return {
    streams: flags.streams,
    chunks: shape.chunks,
    gap_ms: shape.gapMs,
    ramp: HOLD_RAMP,
    rest_s: REST_MS / 1000,
    gateway: gatewayRun,
    baseline: baselineRun,
  };
}

async function run(flags: BenchFlags, tmp: string): Promise<BenchReport> {
  const wrk = await ensureWrk();
  const machine = await machineInfo(wrk);
  console.log(renderHeader(machine, flags));
  const checks: TargetCheck[] = [];
  const show = (part: { text: string; checks: TargetCheck[] }) => {
    console.log(part.text);
    checks.push(...part.checks);
  };
  const sampler = new StealSampler();
  sampler.start();
  const runStart = performance.now();
  const steal: BenchReport["host_steal"] = {
    run: null,
    throughput: null,
    streaming: null,
    soak: null,
    concurrency: null,
  };
  /** The steal since `from`, kept as `section`'s and printed under it. */
  const showSteal = (section: keyof BenchReport["host_steal"], from: number) => {
    steal[section] = sampler.between(from, performance.now());
    console.log(renderSteal(steal[section]));
  };

  progress("starting the mock upstream and the baseline");
  const mock = await startMock(tmp);
  const config = await writeGatewayConfig(tmp, mock.url, !flags.noStore);
  const baseline = await startServer("baseline", tmp, (port) => baselineArgv(port, mock.url));

  progress("start-up times (1 warm-up + 3 starts each)");
  const startup = await measureStartup(config, mock.url, 3);
  show(renderStartup(startup));

  const gateway = await startServer("gateway", tmp, (port) => gatewayArgv(config, port));
  const gatewayLog: LogResult = { bytes: 0, access_lines_seen: false, avg_line_bytes: null };
  await sleep(2000);
  const idle = { gateway: rssMb(gateway.proc.pid), baseline: rssMb(baseline.proc.pid) };
  const urls: Record<Contender, string> = {
    direct: mock.url,
    baseline: baseline.url,
    gateway: gateway.url,
  };

  progress(`non-streaming load (${flags.rounds} x 3 x ${flags.duration} s, plus warm-up)`);
  const throughputStart = performance.now();
  const throughput = await measureThroughput(
    { urls, pids: { baseline: baseline.proc.pid, gateway: gateway.proc.pid } },
    {
      connections: flags.connections,
      durationS: flags.duration,
      rounds: flags.rounds,
      warmupS: flags.quick ? 1 : 2,
    },
  );
  show(renderThroughput(throughput));
  showSteal("throughput", throughputStart);
  await sleep(REST_MS);
  const memory = memoryResult(idle, throughput, {
    gateway: rssMb(gateway.proc.pid),
    baseline: rssMb(baseline.proc.pid),
  });
  console.log(renderMemory(memory));
  await drainLog(gateway.output, gatewayLog);

  progress(
    `streaming probe (${flags.latencyStreams} streams x ${flags.rounds} x 2 arrival patterns x 3, ` +
      "after a warm-up)",
  );
  const streamingStart = performance.now();
  const streaming = await measureStreaming(urls, {
    streams: flags.latencyStreams,
    concurrency: LATENCY_CONCURRENCY,
    chunks: LATENCY_CHUNKS,
    gapMs: LATENCY_GAP_MS,
    rounds: flags.rounds,
    warmupStreams: flags.quick ? LATENCY_WARMUP_STREAMS / 5 : LATENCY_WARMUP_STREAMS,
  });
  show(renderStreaming(streaming));
  showSteal("streaming", streamingStart);
  await drainLog(gateway.output, gatewayLog);

  let soak: SoakResult | null = null;
  if (flags.soak > 0) {
    progress(`soak (${flags.soakRuns} x ${flags.soak} s + rest)`);
    const soakStart = performance.now();
    soak = await measureSoak(gateway, {
      durationS: flags.soak,
      runs: flags.soakRuns,
      connections: flags.connections,
    });
    show(renderSoak(soak));
    showSteal("soak", soakStart);
    await drainLog(gateway.output, gatewayLog);
  }
  await gateway.proc.stop();
  await baseline.proc.stop();

  let concurrency: HoldTestResult | null = null;
  if (flags.streams > 0) {
    const holdStart = performance.now();
    concurrency = await holdStreams(flags, tmp, { config, upstream: mock.url, log: gatewayLog });
    show(renderHold(concurrency));
    showSteal("concurrency", holdStart);
  }

  console.log(heading("Gateway log (info level, JSON lines, to a file)"));
  console.log(
    `${mb(gatewayLog.bytes / 1024 / 1024)} written; access lines present: ` +
      `${gatewayLog.access_lines_seen ? "yes" : "NO"}; ~${gatewayLog.avg_line_bytes ?? "n/a"} ` +
      "bytes per access line",
  );
  sampler.stop();
  steal.run = sampler.between(runStart, performance.now());
  console.log(heading("Targets"));
  console.log(targetTable(checks));
  const failed = checks.filter((c) => c.pass === false).length;
  console.log(`${checks.filter((c) => c.pass === true).length} passed, ${failed} failed`);

  return {
    machine,
    settings: {
      ...withoutHelp(flags),
      latency_concurrency: LATENCY_CONCURRENCY,
      latency_chunks: LATENCY_CHUNKS,
      latency_gap_ms: LATENCY_GAP_MS,
    },
    startup,
    throughput,
    memory,
    streaming,
    soak,
    concurrency,
    gateway_log: gatewayLog,
    host_steal: steal,
    targets: checks,
  };
}

async function main(args: string[]): Promise<number> {
  let flags: BenchFlags;
  try {
    flags = parseBenchFlags(args);
  } catch (err) {
    console.error(`error: ${(err as Error).message}`);
    return 2;
  }
  if (flags.help) {
    console.log(USAGE);
    return 0;
  }
  const tmp = await Deno.makeTempDir({ prefix: "llm-gateway-bench-" });
  const onSignal = () => {
    killAll();
    Deno.removeSync(tmp, { recursive: true });
    Deno.exit(130);
  };
  Deno.addSignalListener("SIGINT", onSignal);
  Deno.addSignalListener("SIGTERM", onSignal);
  globalThis.addEventListener("unload", killAll);
  let report: BenchReport;
  try {
    report = await run(flags, tmp);
  } catch (err) {
    killAll();
    console.error(`bench failed: ${err instanceof Error ? err.stack ?? err.message : err}`);
    console.error(`process output kept in ${tmp}`);
    return 1;
  }
  await stopAll();
  await Deno.remove(tmp, { recursive: true });
  const dir = flags.json.includes("/") ? flags.json.slice(0, flags.json.lastIndexOf("/")) : ".";
  await Deno.mkdir(dir, { recursive: true });
  await Deno.writeTextFile(flags.json, JSON.stringify(report, null, 2) + "\n");
  console.log(`JSON report: ${flags.json}`);
  return 0;
}

if (import.meta.main) {
  Deno.exit(await main(Deno.args));
}
