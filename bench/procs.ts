/**
 * Child processes of the bench: spawning with a raised file-descriptor limit and output sent to a
 * file, stopping, killing them all on exit, and reading their memory and CPU from /proc.
 */

/** A child process started by the bench. */
export interface Proc {
  name: string;
  pid: number;
  child: Deno.ChildProcess;
  /** SIGTERM, then SIGKILL if it has not exited after `graceMs`. */
  stop(graceMs?: number): Promise<void>;
}

/** How to start a child. */
export interface SpawnOptions {
  cwd?: string;
  env?: Record<string, string>;
  /** File that receives stdout and stderr (appended); "null" discards; "piped" for the caller. */
  output: string | "null" | "piped";
  /** Raise the soft open-files limit (through `bash -c "ulimit -n ...; exec ..."`). */
  raiseFdLimit?: boolean;
  /** The child exits when the bench's end of its stdin closes (see lifeline.ts). */
  lifeline?: boolean;
}

const live = new Set<Proc>();

/**
 * A watchdog shell that outlives the bench only to kill its children: the bench tells it each
 * child's pid as it starts ("+pid") and exits ("-pid"); when the bench dies, even by SIGKILL,
 * its stdin closes and it kills whoever is still listed (the gateway, which has no lifeline).
 */
const REAPER_SCRIPT = `declare -A live
while read -r op pid; do
  if [ "$op" = "+" ]; then live[$pid]=1; else unset "live[$pid]"; fi
done
for pid in "\${!live[@]}"; do kill -9 "$pid" 2>/dev/null; done`;

let reaper: WritableStreamDefaultWriter<Uint8Array> | null = null;

function tellReaper(line: string): void {
  if (reaper === null) {
    const child = new Deno.Command("bash", {
      args: ["-c", REAPER_SCRIPT],
      stdin: "piped",
      stdout: "null",
      stderr: "null",
    }).spawn();
    child.unref();
    reaper = child.stdin.getWriter();
  }
  reaper.write(new TextEncoder().encode(line + "\n")).catch(() => {});
}

/** Wanted open-files limit; the hard limit caps it. */
const FD_LIMIT = 65535;

/** Starts `argv` as a child process the bench will kill on exit. */
export function spawn(name: string, argv: readonly string[], options: SpawnOptions): Proc {
  const redirect = options.output !== "null" && options.output !== "piped";
  const wrap = options.raiseFdLimit || redirect;
  const script = [
    options.raiseFdLimit ? `ulimit -n ${FD_LIMIT} 2>/dev/null || ulimit -n "$(ulimit -Hn)"` : ":",
    redirect ? `exec "$@" >>"$BENCH_OUTPUT" 2>&1` : `exec "$@"`,
  ].join("; ");
  const [command, args] = wrap
    ? ["bash", ["-c", script, "bash", ...argv]]
    : [argv[0]!, argv.slice(1)];
  const env: Record<string, string> = { ...options.env };
  if (redirect) env.BENCH_OUTPUT = options.output;
  if (options.lifeline) env.BENCH_LIFELINE = "1";
  const child = new Deno.Command(command, {
    args,
    cwd: options.cwd,
    env,
    stdin: options.lifeline ? "piped" : "null",
    stdout: options.output === "piped" ? "piped" : "null",
    stderr: options.output === "piped" ? "inherit" : "null",
  }).spawn();
  const proc: Proc = {
    name,
    pid: child.pid,
    child,
    async stop(graceMs = 3000) {
      if (!live.has(proc)) return;
      signal(child.pid, "SIGTERM");
      const timer = setTimeout(() => signal(child.pid, "SIGKILL"), graceMs);
      await child.status;
      clearTimeout(timer);
      live.delete(proc);
    },
  };
  live.add(proc);
  tellReaper(`+ ${child.pid}`);
  child.status.then(() => {
    live.delete(proc);
    tellReaper(`- ${child.pid}`);
  });
  return proc;
}

function signal(pid: number, sig: Deno.Signal): void {
  try {
    Deno.kill(pid, sig);
  } catch {
    // Already gone.
  }
}

/** Kills every child still running, at once (exit paths: errors, Ctrl-C). */
export function killAll(): void {
  for (const proc of live) signal(proc.pid, "SIGKILL");
  live.clear();
}

/** Stops every child still running, politely. */
export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.stop(2000)));
}

/** A free TCP port on 127.0.0.1 (free when asked; the caller binds it right away). */
export function freePort(): number {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const port = (listener.addr as Deno.NetAddr).port;
  listener.close();
  return port;
}

/** Resident memory of a process in MB (VmRSS), or NaN when it is gone. */
export function rssMb(pid: number): number {
  try {
    const status = Deno.readTextFileSync(`/proc/${pid}/status`);
    const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
    return match === null ? NaN : Number(match[1]) / 1024;
  } catch {
    return NaN;
  }
}

const CLOCK_TICKS_PER_S = 100;

/** CPU time (user + system) a process has used so far, in ms, or NaN when it is gone. */
export function cpuMs(pid: number): number {
  try {
    const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(fields[11]) + Number(fields[12]);
    return (ticks * 1000) / CLOCK_TICKS_PER_S;
  } catch {
    return NaN;
  }
}

/** One memory sample. */
export interface RssSample {
  /** Seconds since sampling started. */
  t_s: number;
  rss_mb: number;
}

/** Samples a process's RSS every `intervalMs` until stopped. */
export function sampleRss(
  pid: number,
  intervalMs: number,
): { samples: RssSample[]; stop: () => RssSample[] } {
  const start = performance.now();
  const samples: RssSample[] = [];
  const take = () => samples.push({ t_s: (performance.now() - start) / 1000, rss_mb: rssMb(pid) });
  take();
  const timer = setInterval(take, intervalMs);
  return {
    samples,
    stop: () => {
      clearInterval(timer);
      // A closing sample, unless the interval just took one.
      const last = samples.at(-1)!;
      if ((performance.now() - start) / 1000 - last.t_s > 0.1) take();
      return samples;
    },
  };
}

/** Resolves after `ms`. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Polls with `attempt` every `everyMs` until it answers true; resolves with the ms it took.
 * Throws after `timeoutMs`, or when `proc` exits first (it crashed or could not listen).
 */
export async function pollUntil(
  attempt: () => Promise<boolean>,
  options: { everyMs: number; timeoutMs: number; proc?: Proc; what: string },
): Promise<number> {
  const start = performance.now();
  let exited = false;
  options.proc?.child.status.then(() => exited = true);
  for (;;) {
    if (await attempt().catch(() => false)) return performance.now() - start;
    if (exited) throw new Error(`${options.what}: the process exited before it answered`);
    if (performance.now() - start > options.timeoutMs) {
      throw new Error(`${options.what}: no answer within ${options.timeoutMs} ms`);
    }
    await sleep(options.everyMs);
  }
}
