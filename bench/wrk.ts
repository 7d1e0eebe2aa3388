/** Runs `wrk` (Debian's package, installed on demand) and reads its report. */
import { spawn } from "./procs.ts";

/** What one wrk run measured. */
export interface WrkResult {
  rps: number;
  p50_ms: number;
  p99_ms: number;
  requests: number;
  non_2xx: number;
  socket_errors: number;
  /** non-2xx plus socket errors. */
  errors: number;
}

/** Options for one wrk run. */
export interface WrkOptions {
  connections: number;
  durationS: number;
  /** Lua script setting method, headers and body. */
  script: string;
}

/** Makes sure `wrk` is installed: apt-get as root, else a message saying how. */
export async function ensureWrk(): Promise<string> {
  const version = await wrkVersion();
  if (version !== null) return version;
  if (Deno.uid() !== 0) {
    throw new Error(
      "wrk is not installed. Install Debian's package and rerun: sudo apt-get install -y wrk",
    );
  }
  console.log("wrk not found; installing it: apt-get install -y wrk");
  const env = { DEBIAN_FRONTEND: "noninteractive" };
  const install = () =>
    new Deno.Command("apt-get", { args: ["install", "-y", "-qq", "wrk"], env }).output();
  if (!(await install()).success) {
    await new Deno.Command("apt-get", { args: ["update", "-qq"], env }).output();
    const second = await install();
    if (!second.success) {
      throw new Error(`apt-get install -y wrk failed:\n${new TextDecoder().decode(second.stderr)}`);
    }
  }
  const installed = await wrkVersion();
  if (installed === null) throw new Error("wrk still not found after apt-get install");
  return installed;
}

async function wrkVersion(): Promise<string | null> {
  try {
    // `wrk -v` prints the version and the usage, and exits 1.
    const out = await new Deno.Command("wrk", { args: ["-v"], stdout: "piped", stderr: "piped" })
      .output();
    const text = new TextDecoder().decode(out.stdout) + new TextDecoder().decode(out.stderr);
    return /^wrk (\S+)/m.exec(text)?.[1] ?? "unknown";
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return null;
    throw err;
  }
}

/** Runs wrk against `url` with two threads; throws when wrk fails. */
export async function runWrk(url: string, options: WrkOptions): Promise<WrkResult> {
  const threads = Math.min(2, options.connections);
  const proc = spawn("wrk", [
    "wrk",
    `-t${threads}`,
    `-c${options.connections}`,
    `-d${options.durationS}s`,
    "--latency",
    "-s",
    options.script,
    url,
  ], { output: "piped" });
  const out = await proc.child.output();
  const text = new TextDecoder().decode(out.stdout);
  if (!out.success) throw new Error(`wrk failed (${out.code}):\n${text}`);
  return parseWrk(text);
}

/** Reads wrk's `--latency` report. */
export function parseWrk(text: string): WrkResult {
  const rps = /^Requests\/sec:\s+([\d.]+)/m.exec(text);
  const p50 = /^\s+50%\s+([\d.]+)(us|ms|s|m)\b/m.exec(text);
  const p99 = /^\s+99%\s+([\d.]+)(us|ms|s|m)\b/m.exec(text);
  const requests = /^\s+(\d+) requests in/m.exec(text);
  if (rps === null || p50 === null || p99 === null || requests === null) {
    throw new Error(`cannot read wrk's report:\n${text}`);
  }
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(text)?.[1] ?? 0);
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(text);
  const socketErrors = socket === null ? 0 : socket.slice(1).reduce((sum, n) => sum + Number(n), 0);
  return {
    rps: Number(rps[1]),
    p50_ms: toMs(Number(p50[1]), p50[2]!),
    p99_ms: toMs(Number(p99[1]), p99[2]!),
    requests: Number(requests[1]),
    non_2xx: non2xx,
    socket_errors: socketErrors,
    errors: non2xx + socketErrors,
  };
}

function toMs(value: number, unit: string): number {
  switch (unit) {
    case "us":
      return value / 1000;
    case "s":
      return value * 1000;
    case "m":
      return value * 60_000;
    default:
      return value;
  }
}
