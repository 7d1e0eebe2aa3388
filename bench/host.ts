/**
 * How much CPU the host took away during a run. On a virtual machine, "steal" in /proc/stat is
 * time a virtual CPU was ready to run but the hypervisor ran another guest instead: every process
 * on that CPU stops for it, whatever it was doing. A bench section with a lot of it measured the
 * host as much as the contenders, so each section reports it beside its figures.
 */
import { round } from "./stats.ts";

/** CPU steal over one section of the run. */
export interface StealSummary {
  /** Stolen share of all CPU time in the section, percent. */
  percent: number;
  /** The largest stolen share in any one sample interval, percent. */
  worst_percent: number;
  /** The sample interval, ms. */
  sample_ms: number;
}

/** Cumulative CPU ticks (all CPUs) from /proc/stat's first line. */
export interface CpuTicks {
  steal: number;
  total: number;
}

/** Parses the aggregate `cpu` line of /proc/stat; null when it is not there. */
export function parseProcStat(text: string): CpuTicks | null {
  const line = /^cpu\s+([\d\s]+)$/m.exec(text)?.[1];
  if (line === undefined) return null;
  const fields = line.trim().split(/\s+/).map(Number);
  if (fields.length < 8 || fields.some((n) => !Number.isFinite(n))) return null;
  // user nice system idle iowait irq softirq steal (guest time is already counted in user).
  const total = fields.slice(0, 8).reduce((sum, n) => sum + n, 0);
  return { steal: fields[7]!, total };
}

function readProcStat(): CpuTicks | null {
  try {
    return parseProcStat(Deno.readTextFileSync("/proc/stat"));
  } catch {
    return null;
  }
}

/**
 * Samples /proc/stat every `sampleMs` from `start` to `stop`; `between` sums any stretch of it.
 * Where /proc/stat cannot be read (not Linux), every summary is null.
 */
export class StealSampler {
  readonly #sampleMs: number;
  readonly #read: () => CpuTicks | null;
  readonly #now: () => number;
  readonly #samples: { at: number; ticks: CpuTicks }[] = [];
  #interval: ReturnType<typeof setInterval> | undefined;

  constructor(
    options: { sampleMs?: number; read?: () => CpuTicks | null; now?: () => number } = {},
  ) {
    this.#sampleMs = options.sampleMs ?? 100;
    this.#read = options.read ?? readProcStat;
    this.#now = options.now ?? (() => performance.now());
  }

  /** Takes one sample now (the interval calls this). */
  sample(): void {
    const ticks = this.#read();
    if (ticks !== null) this.#samples.push({ at: this.#now(), ticks });
  }

  start(): void {
    if (this.#interval !== undefined) return;
    this.sample();
    this.#interval = setInterval(() => this.sample(), this.#sampleMs);
    Deno.unrefTimer(this.#interval);
  }

  stop(): void {
    if (this.#interval === undefined) return;
    clearInterval(this.#interval);
    this.#interval = undefined;
  }

  /** Steal between two `performance.now()` times; null with fewer than two samples in it. */
  between(from: number, to: number): StealSummary | null {
    const inside = this.#samples.filter((s) => s.at >= from && s.at <= to);
    if (inside.length < 2) return null;
    const first = inside[0]!.ticks;
    const last = inside[inside.length - 1]!.ticks;
    const total = last.total - first.total;
    if (total <= 0) return null;
    let worst = 0;
    for (let i = 1; i < inside.length; i++) {
      const a = inside[i - 1]!.ticks;
      const b = inside[i]!.ticks;
      if (b.total > a.total) worst = Math.max(worst, (b.steal - a.steal) / (b.total - a.total));
    }
    return {
      percent: round((100 * (last.steal - first.steal)) / total, 1) ?? NaN,
      worst_percent: round(100 * worst, 0) ?? NaN,
      sample_ms: this.#sampleMs,
    };
  }
}

/** One report line: `host: CPU steal 3.7% of CPU time (worst 100 ms: 40%)`. */
export function renderSteal(steal: StealSummary | null): string {
  if (steal === null) return "host: CPU steal n/a (no /proc/stat)";
  return `host: CPU steal ${steal.percent.toFixed(1)}% of CPU time in this section (worst ` +
    `${steal.sample_ms} ms: ${steal.worst_percent}%): time the hypervisor ran other guests`;
}
