// Test-only programs installed from npm into a cache directory (Claude Code, Codex) and run as
// subprocesses: where they go, installing them once, and running them with a time limit.
import { join } from "node:path";

/** What a program run gave; `code` -1 when it could not be started. */
export interface ProgramOutput {
  code: number;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Options for `runProgram`. */
export interface RunOptions {
  /** Killed (SIGKILL) after this long. */
  timeoutMs: number;
  env?: Record<string, string>;
  cwd?: string;
  clearEnv?: boolean;
}

/** Runs a program to its end or `timeoutMs`, with nothing on its stdin; never rejects. */
export async function runProgram(
  command: string,
  args: string[],
  options: RunOptions,
): Promise<ProgramOutput> {
  let child: Deno.ChildProcess;
  try {
    child = new Deno.Command(command, {
      args,
      env: options.env,
      cwd: options.cwd,
      clearEnv: options.clearEnv,
      stdin: "null",
      stdout: "piped",
      stderr: "piped",
    }).spawn();
  } catch (err) {
    return { code: -1, stdout: "", stderr: String(err), timedOut: false };
  }
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, options.timeoutMs);
  try {
    const out = await child.output();
    const decoder = new TextDecoder();
    return {
      code: out.code,
      stdout: decoder.decode(out.stdout),
      stderr: decoder.decode(out.stderr),
      timedOut,
    };
  } finally {
    clearTimeout(timer);
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
  }
}

/** Whether a file or folder exists. */
export async function pathExists(path: string): Promise<boolean> {
  try {
    await Deno.stat(path);
    return true;
  } catch {
    return false;
  }
}

/** The test cache folder for `name` (under `$XDG_CACHE_HOME`, else `~/.cache`). */
export function testCacheDir(name: string): string {
  const base = Deno.env.get("XDG_CACHE_HOME") ??
    join(Deno.env.get("HOME") ?? Deno.makeTempDirSync(), ".cache");
  return join(base, "llm-gateway-tests", name);
}

/** How long an npm install may take. */
const INSTALL_TIMEOUT_MS = 300_000;

/**
 * Finds what `find` looks for in `dir`, installing `spec` there with npm first when it is missing;
 * a reason to skip when it cannot be installed or is not there after.
 */
export async function installFromNpm<T>(
  dir: string,
  spec: string,
  find: (dir: string) => Promise<T | undefined>,
): Promise<T | string> {
  const found = await find(dir);
  if (found !== undefined) return found;
  await Deno.mkdir(dir, { recursive: true });
  const npm = await runProgram(
    "npm",
    ["install", "--prefix", dir, "--no-audit", "--no-fund", "--loglevel=error", spec],
    { timeoutMs: INSTALL_TIMEOUT_MS },
  );
  if (npm.code !== 0) {
    const why = npm.timedOut ? "timed out" : npm.stderr.trim().split("\n").slice(0, 2).join(" ");
    return `npm install ${spec} failed: ${why}`;
  }
  return await find(dir) ?? `npm installed ${spec} but found nothing to run in ${dir}`;
}
