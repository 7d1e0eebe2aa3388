// `deno task compile` produces a standalone binary that behaves like `deno run main.ts`.
import assert from "node:assert/strict";
import {
  DENO_JSON,
  MAIN_TS,
  PROJECT_ROOT,
  runCli,
  startCli,
  testdata,
  withTempDir,
} from "./cli_support.ts";

const COMPILE_TIMEOUT_MS = 120_000;
/** `deno compile` was fetching its runtime (denort) when it failed... */
const FETCHING_RUNTIME = /dl\.deno\.land|denort|base binary|download/i;
/** ...and the failure is the network's, or the compile was killed by the time limit. */
const NETWORK_FAILURE =
  /failed to fetch|error sending request|dns error|connection refused|connect|network|timed out|killed after/i;

/** Whether the compile failed only because Deno's runtime could not be downloaded. */
function runtimeUnreachable(stderr: string): boolean {
  return FETCHING_RUNTIME.test(stderr) && NETWORK_FAILURE.test(stderr);
}

/** Runs the same `deno compile` as the project's compile task, writing the binary to `output`. */
async function compile(output: string): Promise<{ ok: boolean; stderr: string }> {
  const result = await new Deno.Command(Deno.execPath(), {
    args: [
      "compile",
      "--allow-net",
      "--allow-env",
      "--allow-read",
      "--allow-write=./data",
      `--v8-flags=${(await Deno.readTextFile(`${PROJECT_ROOT}v8_flags`)).trim()}`,
      "--config",
      DENO_JSON,
      "--output",
      output,
      MAIN_TS,
    ],
    cwd: PROJECT_ROOT,
    // Keep the environment: the runtime download may need proxy settings.
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
    signal: AbortSignal.timeout(COMPILE_TIMEOUT_MS),
  }).output();
  const stderr = new TextDecoder().decode(result.stderr);
  // Killed by the timeout: with everything else local, only the download can take this long.
  const timedOut = result.signal !== null;
  return {
    ok: result.success,
    stderr: timedOut ? `killed after ${COMPILE_TIMEOUT_MS / 1000} s\n${stderr}` : stderr,
  };
}

/** The stderr line that explains a failed runtime download best: the first network-ish one. */
function reasonLine(stderr: string): string {
  const lines = stderr.split("\n").map((l) => l.replace(/^\s*(\d+:\s*)?/, "").trim())
    .filter((l) => l !== "");
  return lines.find((l) => /error sending request|dns error|killed after/i.test(l)) ??
    lines.find((l) => NETWORK_FAILURE.test(l)) ?? lines[0] ?? "no output";
}

Deno.test("compiled gateway binary prints its usage and checks a config like main.ts", () =>
  withTempDir(async (dir) => {
    const binary = `${dir}/gw`;
    const compiled = await compile(binary);
    if (!compiled.ok) {
      if (runtimeUnreachable(compiled.stderr)) {
        // The runtime comes from dl.deno.land; without it there is nothing to test.
        console.log(
          "compile skipped: Deno's runtime download is unreachable from this machine " +
            `(${reasonLine(compiled.stderr)})`,
        );
        return;
      }
      assert.fail(`deno compile failed:\n${compiled.stderr}`);
    }

    const help = await runCli(["--help"], { cwd: dir, binary });
    assert.equal(help.code, 0, help.stderr);
    assert.match(help.stdout, /^Usage:/m);

    const check = await runCli(["--check", "--config", testdata("config/original.yaml")], {
      cwd: dir,
      binary,
      env: { OPENAI_API_KEY: "sk-compiled" },
    });
    assert.equal(check.code, 0, check.stderr);
    assert.match(check.stdout, /configuration OK/);
    assert.match(check.stdout, /\b2 enabled provider\(s\)/);

    // The default store opens from the binary, and ./data is writable.
    const served = await startCli(["--port", "0"], { cwd: dir, binary });
    // The dashboard's files are in the binary.
    const page = await fetch(`${served.url}/ui`);
    assert.equal(page.status, 200);
    assert.match(await page.text(), /<title>llm-gateway dashboard<\/title>/);
    const script = await fetch(`${served.url}/ui/app.js`);
    assert.equal(script.status, 200);
    assert.match(await script.text(), /sign-in-form/);
    const stopped = await served.stop("SIGTERM");
    assert.equal(stopped.code, 0, stopped.stderr);
    assert.match(stopped.stdout, /"store: sqlite at \.\/data\/gateway\.db"/);
    assert.ok((await Deno.stat(`${dir}/data/gateway.db`)).isFile);
  }));
