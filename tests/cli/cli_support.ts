// Runs the gateway's command line (main.ts or a compiled binary) as a real subprocess.
import { fileURLToPath } from "node:url";

/** Absolute path of the project's deno.json. */
export const DENO_JSON: string = fileURLToPath(new URL("../../deno.json", import.meta.url));
/** Absolute path of main.ts. */
export const MAIN_TS: string = fileURLToPath(new URL("../../main.ts", import.meta.url));
/** Absolute path of the project root (deno.json's folder). */
export const PROJECT_ROOT: string = fileURLToPath(new URL("../../", import.meta.url));

/** Absolute path of a file under tests/testdata/. */
export function testdata(path: string): string {
  return fileURLToPath(new URL(`../testdata/${path}`, import.meta.url));
}

/** Variables the subprocess keeps from ours: enough for Deno to find its cache, nothing else. */
const KEPT_VARIABLES = ["PATH", "HOME", "DENO_DIR", "XDG_CACHE_HOME"];

/** A clean environment (no provider keys leak in from the developer's shell) plus `extra`. */
export function cleanEnv(extra: Record<string, string> = {}): Record<string, string> {
  const env: Record<string, string> = { NO_COLOR: "1" };
  for (const name of KEPT_VARIABLES) {
    const value = Deno.env.get(name);
    if (value !== undefined) env[name] = value;
  }
  return { ...env, ...extra };
}

/** How to run the CLI: `deno run main.ts` by default, or a compiled binary. */
export interface CliOptions {
  cwd: string;
  env?: Record<string, string>;
  /** Path of a compiled gateway binary to run instead of `deno run main.ts`. */
  binary?: string;
  /** Runs the process under `ulimit -n` (soft and hard) of this many descriptors. */
  openFileLimit?: number;
}

function command(args: readonly string[], options: CliOptions, piped: boolean): Deno.Command {
  const [program, programArgs] = options.binary === undefined
    ? [Deno.execPath(), [
      "run",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write=./data",
      "--config",
      DENO_JSON,
      MAIN_TS,
      ...args,
    ]]
    : [options.binary, [...args]];
  const limited: [string, string[]] = options.openFileLimit === undefined
    ? [program, programArgs]
    : ["bash", [
      "-c",
      `ulimit -n ${options.openFileLimit} && exec "$0" "$@"`,
      program,
      ...programArgs,
    ]];
  return new Deno.Command(limited[0], {
    args: limited[1],
    cwd: options.cwd,
    env: cleanEnv(options.env),
    clearEnv: true,
    stdin: "null",
    stdout: piped ? "piped" : "inherit",
    stderr: piped ? "piped" : "inherit",
  });
}

/** What a finished CLI run produced. */
export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to completion. */
export async function runCli(args: readonly string[], options: CliOptions): Promise<CliResult> {
  const output = await command(args, options, true).output();
  const decoder = new TextDecoder();
  return {
    code: output.code,
    stdout: decoder.decode(output.stdout),
    stderr: decoder.decode(output.stderr),
  };
}

/** Runs `fn` in a fresh temporary directory, removed afterwards. */
export async function withTempDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await Deno.makeTempDir({ prefix: "gateway_cli_" });
  try {
    return await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

/** A gateway process that has logged its listening URL. */
export interface RunningCli {
  /** Base URL from the "listening on ..." log line. */
  url: string;
  /** The JSON log events written to stdout so far. */
  events(): Record<string, unknown>[];
  /** Sends `signal` and returns at once (e.g. SIGHUP to reload). */
  signal(signal: Deno.Signal): void;
  /** Sends `signal`, waits for the exit, and returns everything the process wrote. */
  stop(signal?: Deno.Signal): Promise<CliResult>;
}

const LISTENING = /^listening on (https?:\/\/\S+)$/;

/** Parses JSON log lines; a line that is not JSON fails the test, since stdout must be JSON lines. */
function parseEvents(text: string): Record<string, unknown>[] {
  return text.split("\n").filter((line) => line.trim() !== "").map((line) => {
    try {
      return JSON.parse(line) as Record<string, unknown>;
    } catch {
      throw new Error(`stdout line is not a JSON log event: ${line}`);
    }
  });
}

/**
 * Starts the CLI and waits (up to `timeoutMs`) for it to log "listening on <url>".
 * If it exits or times out first, the process is stopped and the promise rejects with its output.
 */
export async function startCli(
  args: readonly string[],
  options: CliOptions & { timeoutMs?: number },
): Promise<RunningCli> {
  const child = command(args, options, true).spawn();
  const stderr = new Response(child.stderr).text();
  let stdout = "";
  const listening = Promise.withResolvers<string>();
  const pump = (async () => {
    for await (const text of child.stdout.pipeThrough(new TextDecoderStream())) {
      stdout += text;
      const url = stdout.split("\n").slice(0, -1).map(logMessage).map((m) => LISTENING.exec(m))
        .find((match) => match !== null)?.[1];
      if (url !== undefined) listening.resolve(url);
    }
  })();
  const status = child.status;
  const finish = async (): Promise<CliResult> => {
    const { code } = await status;
    await pump;
    return { code, stdout, stderr: await stderr };
  };

  const timeoutMs = options.timeoutMs ?? 30_000;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const failure = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`no "listening on" line in ${timeoutMs}ms`)),
      timeoutMs,
    );
    status.then(() => reject(new Error("the gateway exited before it listened")));
  });
  let url: string;
  try {
    url = await Promise.race([listening.promise, failure]);
  } catch (err) {
    try {
      child.kill("SIGKILL");
    } catch {
      // Already exited.
    }
    const result = await finish();
    throw new Error(
      `${
        (err as Error).message
      } (exit ${result.code})\nstdout:\n${result.stdout}\nstderr:\n${result.stderr}`,
    );
  } finally {
    clearTimeout(timer);
  }
  failure.catch(() => {}); // The exit that follows a stop is expected.

  return {
    url,
    events: () => parseEvents(stdout.slice(0, stdout.lastIndexOf("\n") + 1)),
    signal: (signal) => child.kill(signal),
    async stop(signal: Deno.Signal = "SIGTERM") {
      child.kill(signal);
      return await finish();
    },
  };
}

function logMessage(line: string): string {
  try {
    const event: unknown = JSON.parse(line);
    if (typeof event === "object" && event !== null && "message" in event) {
      return String(event.message);
    }
  } catch {
    // Not a JSON line: it cannot be the listening event.
  }
  return "";
}
